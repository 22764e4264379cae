import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { readCappedFile } from '../core/read-capped.js';

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
  // Read no further than the cap: a kernel file (/proc/self/pagemap) stats as an empty
  // regular file and reads on for ever, another (/proc/self/mem) fails its reads.
  const read = readCappedFile(path, USER_DATA_LIMIT);
  if (read.ok) return { path: resolve(path), data: read.data };
  switch (read.reason) {
    case 'missing':
      throw new UsageError('NO_USER_DATA', `--user-data ${path}: no such file`, { hint });
    case 'directory':
    case 'not-a-file':
      throw new UsageError('NO_USER_DATA', `--user-data ${path} is not a regular file`, { hint });
    case 'too-big':
      throw new UsageError('USER_DATA_TOO_BIG', `--user-data ${path} is larger than 16 MiB`, {
        hint: 'cloud-init user-data is at most 16 MiB; fetch big files from the instance instead',
      });
    case 'stat-failed':
      throw read.error;
    case 'unreadable':
      throw new UsageError('NO_USER_DATA', `--user-data ${path} cannot be read (${read.code})`, {
        hint,
        cause: read.error,
      });
  }
}
