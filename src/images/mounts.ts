import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { findExecutable } from '../core/which.js';
import { mountsUnder } from '../lab/proc.js';
import { lastLines, runTool } from './tools.js';

/** mountinfo lists canonical paths: compare against the directory's real path. */
function canonical(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** Mount points at or below `dir` in this process's mount namespace, deepest first. */
export function mountPointsBelow(dir: string): string[] {
  return mountsUnder(canonical(dir));
}

const umountCommand = (): string => findExecutable('umount') ?? 'umount';

/**
 * Unmounts everything mounted at or below `dir`, deepest first; a busy mount is detached
 * lazily. A loop mount made with `mount -o loop` frees its loop device when unmounted.
 * Returns the mount points unmounted.
 */
export async function unmountBelow(dir: string): Promise<string[]> {
  const umount = umountCommand();
  const done: string[] = [];
  for (const point of mountPointsBelow(dir)) {
    let result = await runTool([umount, point], { timeoutMs: 60_000 });
    if (result.code !== 0) result = await runTool([umount, '-l', point], { timeoutMs: 60_000 });
    if (result.code === 0) done.push(point);
  }
  return done;
}

/** unmountBelow for synchronous callers (crash cleanup of the image store). */
export function unmountBelowSync(dir: string): string[] {
  const umount = umountCommand();
  const done: string[] = [];
  for (const point of mountPointsBelow(dir)) {
    let result = spawnSync(umount, [point], { stdio: 'ignore', timeout: 60_000 });
    if (result.status !== 0) result = spawnSync(umount, ['-l', point], { stdio: 'ignore', timeout: 60_000 });
    if (result.status === 0) done.push(point);
  }
  return done;
}

export interface LoopMount {
  /** Filesystem type as blkid names it (ext4, xfs…). */
  type: string;
  /** Byte offset and length of the filesystem inside the file. */
  offset: number;
  size: number;
}

/** Mount options that keep a journaled filesystem from being written while mounted read-only. */
const NO_REPLAY: Record<string, string[]> = {
  ext3: ['noload'],
  ext4: ['noload'],
  xfs: ['norecovery'],
  btrfs: ['rescue=nologreplay'],
};

/**
 * Mounts a filesystem inside a file read-only through a loop device that mount creates with
 * autoclear (unmounting frees it) and read-only (the file is never opened for writing).
 * Resolves to undefined on success, or to mount's error text.
 */
export async function mountLoopReadOnly(
  file: string,
  point: string,
  fs: LoopMount,
): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(fs.type)) return `unexpected filesystem type "${fs.type}"`;
  const options = [
    'ro',
    'loop',
    `offset=${fs.offset}`,
    `sizelimit=${fs.size}`,
    // The filesystem is untrusted: nothing on it is ever executed or opened as a device.
    'nosuid',
    'nodev',
    'noexec',
    ...(NO_REPLAY[fs.type] ?? []),
  ];
  const result = await runTool(
    [findExecutable('mount') ?? 'mount', '-t', fs.type, '-o', options.join(','), file, point],
    {
      timeoutMs: 120_000,
    },
  );
  return result.code === 0 ? undefined : lastLines(result.stderr) || `mount exited with ${result.code}`;
}
