import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes all of `data` to an open descriptor (writeSync may write less than it is given). */
export function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
}

/**
 * Writes a file so that a reader sees the whole new content or the previous one, never half:
 * a temporary file beside it, fsynced, renamed over the target, and the folder fsynced so that
 * the rename survives a crash. The temporary file is removed when anything fails.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): void {
  const temp = `${target}.${process.pid}.tmp`;
  let renamed = false;
  try {
    const fd = openSync(temp, 'w', mode);
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
    renamed = true;
    const dir = openSync(dirname(target), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } finally {
    if (!renamed) rmSync(temp, { force: true });
  }
}
