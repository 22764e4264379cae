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
