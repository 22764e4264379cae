import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import {
  checkStore,
  counts,
  leftovers,
  reapersEnded,
  recordDiskFull,
  runGoldgate,
  smallRawDisk,
  smallRoot,
} from '../test-support/faults.js';
import type { DiskFullRecord } from '../test-support/faults.js';
import { tempDir } from '../test-support/tree.js';
import { mountsUnder } from '../lab/proc.js';

// A full disk during bake and image import, with real parts: GOLDGATE_HOME on a small tmpfs
// mounted here, sized from a first run on a large one so that the command runs out part way:
// out of bytes while it copies the root filesystem, and out of inodes at each of its last
// writes (the files of the image, the remediations, manifest.json, audit.json, image.json).
// Each must end with exit 3 and a message that says the disk is full, names where, with a hint;
// nothing half-written (no staging directory, no half image), the earlier image still listed,
// and once space is freed the same command succeeds.

const work = tempDir('goldgate-disk-full-');
const mounted: string[] = [];

function mountTmpfs(point: string, size: string, inodes: number): void {
  mkdirSync(point, { recursive: true });
  execFileSync('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${size},nr_inodes=${inodes},mode=0755`,
    'goldgate-full',
    point,
  ]);
  mounted.push(point);
}

function unmount(point: string): void {
  try {
    execFileSync('umount', [point]);
  } catch {
    execFileSync('umount', ['-l', point]);
  }
  mounted.splice(mounted.indexOf(point), 1);
  rmdirSync(point);
}

/** Bytes and inodes in use on a file system. */
function used(point: string): { bytes: number; inodes: number } {
  const stats = statfsSync(point);
  return {
    bytes: (Number(stats.blocks) - Number(stats.bfree)) * Number(stats.bsize),
    inodes: Number(stats.files) - Number(stats.ffree),
  };
}

/** A GOLDGATE_HOME on a fresh tmpfs holding one earlier image (a small import). */
async function homeOnTmpfs(name: string, size: string, inodes: number, earlier: string): Promise<string> {
  const point = join(work, name);
  mountTmpfs(point, size, inodes);
  const home = join(point, 'home');
  mkdirSync(home);
  const first = await runGoldgate(['image', 'import', earlier, '--name', 'earlier'], home);
  expect(first.code, first.stderr).toBe(0);
  return home;
}

interface Case {
  label: string;
  size: string;
  inodes: number;
}

/**
 * Runs `args` on a tmpfs home limited as each case says: it must fail cleanly, leave the store
 * whole with the earlier image listed, then succeed once the limits are lifted. `paths` are the
 * command's other paths (its source) whose mounts, loop devices and processes must go too.
 */
async function diskFullCases(
  experiment: string,
  args: string[],
  paths: string[],
  earlier: string,
  cases: Case[],
): Promise<void> {
  const records: DiskFullRecord[] = [];
  for (const [index, limits] of cases.entries()) {
    const where = `${experiment}, ${limits.label} (size ${limits.size}, ${limits.inodes} inodes)`;
    const home = await homeOnTmpfs(`case-${experiment}-${index}`, limits.size, limits.inodes, earlier);
    const point = join(home, '..');
    const full = await runGoldgate(args, home);
    expect(full.code, `${where}: ${full.stderr}`).toBe(3);
    expect(full.stderr, where).toMatch(/(is full|not enough space)/);
    expect(full.stderr, where).toContain(join(home, 'images'));
    expect(full.stderr, where).toMatch(/\n {2}hint: .*(free space|df )/);
    expect(full.stderr, where).not.toMatch(/internal error|\n\s+at /);
    expect(await reapersEnded(home), where).toEqual([]);
    const left = leftovers({ home, paths });
    const store = checkStore(home);
    expect(left, where).toEqual({ mounts: [], loopDevices: [], processes: [], namespaces: [], cgroups: [] });
    expect(store.problems, where).toEqual([]);
    expect(store.staging, where).toEqual([]);
    expect(store.images, where).toHaveLength(1);
    const images = await runGoldgate(['images'], home);
    expect(images.code, where).toBe(0);
    expect(images.stdout, where).toMatch(/ earlier /);
    // Space freed: the same command succeeds.
    execFileSync('mount', ['-o', 'remount,size=2g,nr_inodes=1000000', point]);
    const again = await runGoldgate(args, home);
    expect(again.code, `${where}, after space was freed: ${again.stderr}`).toBe(0);
    const after = checkStore(home);
    expect(after.problems, where).toEqual([]);
    expect(after.images, where).toHaveLength(2);
    records.push({
      ...limits,
      code: full.code,
      error: (full.stderr.split('\n')[0] ?? '').replaceAll(home, '$GOLDGATE_HOME'),
      left: counts(left),
      staging: store.staging.length,
      storeProblems: store.problems.length,
      earlierListed: true,
      afterFreed: again.code,
    });
    unmount(point);
  }
  recordDiskFull(experiment, `goldgate ${args.join(' ')}`.replaceAll(work, '$WORK'), records);
}

/**
 * The limits to try: half the bytes the command adds (it runs out while copying), and the
 * inodes it needs less each of `short` (it runs out at one of its last writes, or copying).
 */
function casesFrom(
  before: { bytes: number; inodes: number },
  after: { bytes: number; inodes: number },
  short: number[],
): Case[] {
  const bytes = (n: number) => `${Math.ceil(n / 4096) * 4096}`;
  return [
    {
      label: 'out of bytes half way',
      size: bytes(before.bytes + (after.bytes - before.bytes) / 2),
      inodes: 1_000_000,
    },
    ...short.map((k) => ({
      label: `out of inodes ${k} before the end`,
      size: '2g',
      inodes: after.inodes - k,
    })),
  ];
}

describe('a full disk under GOLDGATE_HOME', { sequential: true }, () => {
  let base = '';
  let earlier = '';
  beforeAll(() => {
    const shared = baseRootfs();
    if (shared === undefined) return;
    base = shared;
    // The earlier image: a small root filesystem imported from a directory.
    earlier = join(work, 'earlier');
    mkdirSync(join(earlier, 'usr/lib'), { recursive: true });
    mkdirSync(join(earlier, 'etc'));
    writeFileSync(join(earlier, 'usr/lib/os-release'), 'ID=debian\nVERSION_ID="12"\n');
    execFileSync('ln', ['-s', '../usr/lib/os-release', join(earlier, 'etc/os-release')]);
  });
  afterAll(() => {
    // Unmounted even when a test failed: nothing of this file stays mounted.
    for (const point of [...mounted].reverse()) unmount(point);
    expect(mountsUnder(work)).toEqual([]);
  });

  itWithBase(
    'bake: out of bytes while copying, out of inodes at each last write: exit 3 DISK_FULL, nothing half-written, then it bakes',
    async () => {
      const parent = smallRoot(base, join(work, 'parent'));
      const spec = join(work, 'full.yaml');
      writeFileSync(
        spec,
        `name: disk-full\nbase:\n  from: ${parent}\nfiles:\n  - path: /etc/goldgate-full\n    content: "x\\n"\n`,
      );
      const args = ['bake', spec, '-q'];
      // Sizing: the same bake on a large tmpfs.
      const home = await homeOnTmpfs('sizing-bake', '2g', 1_000_000, earlier);
      const before = used(home);
      const sized = await runGoldgate(args, home);
      expect(sized.code, sized.stderr).toBe(0);
      // Short of a few inodes it stops at one of its last steps (the remediations, or storing
      // manifest.json, audit.json and image.json), short of more while copying.
      const cases = casesFrom(before, used(home), [1, 2, 3, 4, 5, 6, 7, 8, 50]);
      unmount(join(home, '..'));
      await diskFullCases('bake-disk-full', args, [], earlier, cases);
    },
    600_000,
  );

  itWithBase(
    'image import of a raw disk: out of bytes, out of inodes at each last write: exit 3, nothing mounted or half-written, then it imports',
    async () => {
      const disk = smallRawDisk(base, work);
      const args = ['image', 'import', disk, '--name', 'full'];
      const home = await homeOnTmpfs('sizing-import', '2g', 1_000_000, earlier);
      const before = used(home);
      const sized = await runGoldgate(args, home);
      expect(sized.code, sized.stderr).toBe(0);
      const cases = casesFrom(before, used(home), [1, 2, 3, 50]);
      unmount(join(home, '..'));
      await diskFullCases('import-disk-full', args, [disk], earlier, cases);
    },
    600_000,
  );
});
