import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { openDirRootFs } from '../rootfs/dir.js';
import type { RootFs } from '../rootfs/types.js';

/**
 * One entry of a test tree: a string is a file's content; `{ link }` a symlink;
 * `{ content, mode, mtime }` a file with mode and modification time (Date or ms).
 */
export type TreeEntry =
  string | { link: string } | { content: string; mode?: number; mtime?: Date | number } | { dir: true };

/**
 * Directories made by this test file. One hook at import time removes them all: a hook
 * registered inside a running test is never called, which leaked a directory per tree.
 */
const created: string[] = [];
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test file. */
export function tempDir(prefix = 'goldgate-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Writes a root filesystem tree into a fresh temporary directory (removed after the test file). */
export function makeTree(entries: Record<string, TreeEntry>): string {
  const root = tempDir('goldgate-tree-');
  writeTree(root, entries);
  return root;
}

/** Adds entries to an existing tree. Paths are in-image paths (`/etc/apt/apt.conf.d/20auto-upgrades`). */
export function writeTree(root: string, entries: Record<string, TreeEntry>): void {
  for (const [path, entry] of Object.entries(entries)) {
    const host = join(root, path);
    mkdirSync(dirname(host), { recursive: true });
    if (typeof entry === 'string') writeFileSync(host, entry);
    else if ('link' in entry) symlinkSync(entry.link, host);
    else if ('dir' in entry) mkdirSync(host, { recursive: true });
    else {
      writeFileSync(host, entry.content, { mode: entry.mode ?? 0o644 });
      if (entry.mtime !== undefined) utimesSync(host, new Date(entry.mtime), new Date(entry.mtime));
    }
  }
}

/** A RootFs over a fresh test tree. */
export function treeFs(entries: Record<string, TreeEntry>): RootFs {
  return openDirRootFs(makeTree(entries));
}

/** Entries to lay over a test tree: an entry replaces or adds a path, null removes it. */
export type TreeChanges = Record<string, TreeEntry | null>;

/** A base tree with changes laid over it, the removed (null) paths left out. */
export function withChanges(base: TreeChanges, changes: TreeChanges = {}): Record<string, TreeEntry> {
  return Object.fromEntries(
    Object.entries({ ...base, ...changes }).filter(
      (entry): entry is [string, TreeEntry] => entry[1] !== null,
    ),
  );
}
