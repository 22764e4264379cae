import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

// Flag parsers shared by the commands: a flag a user mistyped is a usage error naming it.

/** For a repeatable flag: each use adds one value. */
export const repeat = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

/** A whole number from `min` to `max`. */
export function wholeNumber(
  flag: string,
  value: string,
  min: number,
  max: number,
  code = 'BAD_FLAG',
): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max)
    throw new UsageError(code, `${flag} "${value}" must be a whole number from ${min} to ${max}`);
  return n;
}

/** A number of seconds (fractions allowed) from `min` to `max`. */
export function seconds(flag: string, value: string, min: number, max: number, code = 'BAD_FLAG'): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || n < min || n > max)
    throw new UsageError(code, `${flag} "${value}" must be a number of seconds from ${min} to ${max}`);
  return n;
}

const USER_DATA_LIMIT = 16 * 1024 * 1024;

/** `--user-data FILE` (lab launch, verify): a regular file of at most 16 MiB, given to cloud-init as it is. */
export function userDataFile(path: string): { path: string; data: Buffer } {
  const hint = 'give a cloud-config (#cloud-config), a script (#!) or a MIME multipart file';
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined)
    throw new UsageError('NO_USER_DATA', `--user-data ${path}: no such file`, { hint });
  if (!stats.isFile())
    throw new UsageError('NO_USER_DATA', `--user-data ${path} is not a regular file`, { hint });
  const tooBig = () =>
    new UsageError('USER_DATA_TOO_BIG', `--user-data ${path} is larger than 16 MiB`, {
      hint: 'cloud-init user-data is at most 16 MiB; fetch big files from the instance instead',
    });
  if (stats.size > USER_DATA_LIMIT) throw tooBig();
  // Read no further than the cap: a kernel file (/proc/self/pagemap) stats as an empty
  // regular file and reads on for ever, another (/proc/self/mem) fails its reads.
  const buffer = Buffer.alloc(USER_DATA_LIMIT + 1);
  let length = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const n = readSync(fd, buffer, length, buffer.length - length, null);
        if (n === 0) break;
        length += n;
        if (length > USER_DATA_LIMIT) throw tooBig();
      }
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError('NO_USER_DATA', `--user-data ${path} cannot be read (${code})`, {
      hint,
      cause: error,
    });
  }
  return { path: resolve(path), data: Buffer.from(buffer.subarray(0, length)) };
}
