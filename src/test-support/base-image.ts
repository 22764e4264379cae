import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { inject, it } from 'vitest';
import { tempDir } from './tree.js';

/** The shared base root filesystem; undefined in the fast tier. */
export function baseRootfs(): string | undefined {
  return inject('baseRootfs') ?? undefined;
}

/** Runs a test that needs the real base image; skipped in the fast tier. */
export function itWithBase(name: string, fn: () => unknown, timeout?: number): void {
  if (inject('baseRootfs') === null) it.skip(`${name} (needs the base image: not in the fast tier)`, fn);
  else it(name, fn, timeout);
}

/** A private copy of the base image the test may change; removed after the test file. */
export function copyOfBase(): string {
  const base = baseRootfs();
  if (base === undefined) throw new Error('the base image is not available in the fast tier');
  const dir = tempDir('goldgate-base-copy-');
  const copy = join(dir, 'rootfs');
  // cp -a keeps device nodes, links, modes and times exactly as the image has them.
  execFileSync('cp', ['-a', base, copy]);
  return copy;
}
