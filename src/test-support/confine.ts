import { lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { tempDir } from './tree.js';

/**
 * The directory and every entry under it with mode, size and mtime: what "unchanged" means in
 * the confinement tests (the directory's own mtime shows a file made and removed again).
 */
export function snapshot(dir: string): string[] {
  const top = lstatSync(dir);
  const out: string[] = [`/ ${top.mode.toString(8)} ${top.mtimeMs}`];
  const walk = (path: string, rel: string): void => {
    for (const name of readdirSync(path).sort()) {
      const stats = lstatSync(join(path, name));
      out.push(`${rel}/${name} ${stats.mode.toString(8)} ${stats.size} ${stats.mtimeMs}`);
      if (stats.isDirectory()) walk(join(path, name), `${rel}/${name}`);
    }
  };
  walk(dir, '');
  return out;
}

/** A host directory outside every image, holding one file; `untouched()` asserts nothing in it was created or changed. */
export function sentinel(): { dir: string; untouched: () => void } {
  const dir = tempDir('goldgate-outside-');
  writeFileSync(join(dir, 'keep'), 'host\n');
  const before = snapshot(dir);
  return { dir, untouched: () => expect(snapshot(dir)).toEqual(before) };
}
