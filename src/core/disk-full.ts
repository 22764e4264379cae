import { statfsSync } from 'node:fs';
import { EnvironmentError, isGoldgateError } from './errors.js';

const ERRNO = new Set(['ENOSPC', 'EDQUOT']);
/** What tools (cp, tar, dpkg, mmdebstrap) print for the same errors, in the C locale. */
const TOOL_TEXT = /No space left on device|Disk quota exceeded/;
/** Less than this free counts as full: a file system refuses writes before its last byte. */
const FULL_BYTES = 1024 * 1024;
/** Fewer inodes than this left is called out: a file's extended attributes may need more than one's room. */
const FEW_INODES = 64;

/** Free bytes and inodes of the file system holding `dir` (inodes null where it keeps no count). */
function freeSpace(dir: string): { bytes: number; inodes: number | null } | undefined {
  try {
    const stats = statfsSync(dir);
    return {
      bytes: Number(stats.bfree) * Number(stats.bsize),
      inodes: Number(stats.files) > 0 ? Number(stats.ffree) : null,
    };
  } catch {
    return undefined;
  }
}

function saysDiskFull(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    if (ERRNO.has((cause as NodeJS.ErrnoException).code ?? '')) return true;
    if (TOOL_TEXT.test(cause.message)) return true;
    cause = cause.cause;
  }
  return false;
}

/**
 * When `error` came from a full disk (ENOSPC or EDQUOT, a tool saying so, or the file system
 * holding `dir` out of space or inodes now), the EnvironmentError `DISK_FULL` that says so,
 * names `dir` and what was being done; else undefined. Call it before removing the partial
 * output, which would free the space it looks at.
 */
export function diskFullError(error: unknown, dir: string, what: string): EnvironmentError | undefined {
  if (isGoldgateError(error) && error.code === 'DISK_FULL') return undefined;
  const free = freeSpace(dir);
  const full = free !== undefined && (free.bytes < FULL_BYTES || free.inodes === 0);
  // A mistake of the user's is theirs even on a full disk, unless the full disk is what it says.
  const userFault = isGoldgateError(error) && error.fault === 'user';
  if (!saysDiskFull(error) && (!full || userFault)) return undefined;
  const mib = free === undefined ? 0 : Math.floor(free.bytes / 2 ** 20);
  const left =
    free === undefined
      ? ''
      : free.inodes !== null && free.inodes < FEW_INODES
        ? ` (out of inodes: ${free.inodes} left, ${mib} MiB free)`
        : ` (${mib} MiB free)`;
  return new EnvironmentError('DISK_FULL', `${what}: the disk holding ${dir} is full${left}`, {
    hint: `what was written so far is removed; free space there (df -h ${dir}, df -i for inodes) or set GOLDGATE_HOME to a larger file system, then run the command again`,
    cause: error,
  });
}
