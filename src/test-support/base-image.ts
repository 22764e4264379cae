import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, inject, it } from 'vitest';

/** The shared base root filesystem; undefined in the fast tier. */
export function baseRootfs(): string | undefined {
  return inject('baseRootfs') ?? undefined;
}

/** `it` for tests that need the real base image: skipped, with the reason in its name, in the fast tier. */
export const itWithBase = inject('baseRootfs') === null ? it.skip : it;

/** A private copy of the base image the test may change; removed after the test file. */
export function copyOfBase(): string {
  const base = baseRootfs();
  if (base === undefined) throw new Error('the base image is not available in the fast tier');
  const dir = mkdtempSync(join(tmpdir(), 'goldgate-base-copy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'rootfs');
  // cp -a keeps device nodes, links, modes and times exactly as the image has them.
  execFileSync('cp', ['-a', base, copy]);
  return copy;
}
