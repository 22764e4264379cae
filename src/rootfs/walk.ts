import { lstatSync, readlinkSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { MAX_SYMLINK_HOPS } from './types.js';

/** Where a walk through an image path ended. */
export type WalkResult =
  | {
      ok: true;
      /** The symlink-free in-image path the walk led to. */
      path: string;
      /** lstat of that path on the host; undefined when it does not exist. */
      stats: Stats | undefined;
      /** The path is a phantom of the reader (known by metadata only). */
      phantom?: boolean;
    }
  | {
      ok: false;
      /** `missing`: a directory on the way does not exist; `not-a-directory`: something else is there; `loop`: too many links. */
      reason: 'missing' | 'not-a-directory' | 'loop';
      /** The in-image path where the walk stopped. */
      at: string;
    };

export interface WalkOptions {
  /** Follow a symlink in the last component too (stat rather than lstat). */
  followLast: boolean;
  /** Resolved directories by in-image path (null: known missing), for a reader of a tree that does not change. */
  cache?: Map<string, string | null>;
  /** Entries known by metadata only: a phantom is never a directory. */
  phantom?: (imagePath: string) => boolean;
  /**
   * Called with each missing component (the last one included) when the whole path is to be
   * a directory: it must create the directory. Only the writer passes it.
   */
  create?: (imagePath: string) => void;
}

/** The host path of an in-image path under `root` (a real path without a trailing slash). */
export const hostOf = (root: string, imagePath: string): string =>
  imagePath === '/' ? root : root + imagePath;

/**
 * Walks an in-image path under `root` one component at a time with lstat, as if chrooted:
 * symlinks are expanded here (an absolute target restarts at the image's root, `..` stops at
 * `/`), so the host path of every step is inside the root. The one resolver of the image
 * reader and the image writer.
 */
export function walkImagePath(root: string, path: string, options: WalkOptions): WalkResult {
  const { cache, phantom, create } = options;
  const queue = path.split('/').filter((p) => p !== '' && p !== '.');
  const stack: string[] = [];
  let hops = 0;
  // What the walk stands on: null when not known yet (the root, after `..` or a link), looked up once at the end.
  let last: Stats | undefined | null = null;
  let lastIsPhantom = false;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '..') {
      stack.pop();
      last = null;
      lastIsPhantom = false;
      continue;
    }
    const candidate = `/${[...stack, part].join('/')}`;
    const isLast = queue.length === 0;
    if (!isLast && cache !== undefined) {
      const cached = cache.get(candidate);
      if (cached === null) return { ok: false, reason: 'missing', at: candidate };
      if (cached !== undefined) {
        stack.length = 0;
        if (cached !== '/') stack.push(...cached.slice(1).split('/'));
        continue;
      }
    }
    if (phantom?.(candidate) === true) {
      if (!isLast) return { ok: false, reason: 'not-a-directory', at: candidate };
      stack.push(part);
      last = undefined;
      lastIsPhantom = true;
      continue;
    }
    let stats = lstatSync(hostOf(root, candidate), { throwIfNoEntry: false });
    if (stats === undefined && create !== undefined) {
      create(candidate);
      stats = lstatSync(hostOf(root, candidate), { throwIfNoEntry: false });
      if (stats?.isDirectory() !== true) return { ok: false, reason: 'not-a-directory', at: candidate };
    }
    if (stats === undefined) {
      if (isLast) return { ok: true, path: candidate, stats: undefined };
      cache?.set(candidate, null);
      return { ok: false, reason: 'missing', at: candidate };
    }
    if (stats.isSymbolicLink() && (!isLast || options.followLast || create !== undefined)) {
      hops += 1;
      if (hops > MAX_SYMLINK_HOPS) return { ok: false, reason: 'loop', at: candidate };
      const target = readlinkSync(hostOf(root, candidate), 'utf8');
      if (target.startsWith('/')) stack.length = 0;
      queue.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      last = null;
      lastIsPhantom = false;
      continue;
    }
    if ((!isLast || create !== undefined) && !stats.isDirectory())
      return { ok: false, reason: 'not-a-directory', at: candidate };
    stack.push(part);
    last = stats;
    lastIsPhantom = false;
    if (!isLast) cache?.set(candidate, candidate);
  }
  const resolved = `/${stack.join('/')}`;
  if (lastIsPhantom) return { ok: true, path: resolved, stats: undefined, phantom: true };
  // A link to the root itself (`/`, `..`) ends the walk on the directory it leads to.
  if (last === null) last = lstatSync(hostOf(root, resolved), { throwIfNoEntry: false });
  return { ok: true, path: resolved, stats: last };
}
