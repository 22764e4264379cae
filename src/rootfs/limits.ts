import { statfsSync } from 'node:fs';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { printable } from '../core/printable.js';

/** Environment variables that raise (or lower) the extraction caps, for every command that unpacks an archive. */
export const MAX_BYTES_VARIABLE = 'GOLDGATE_MAX_EXTRACT_BYTES';
export const MAX_ENTRIES_VARIABLE = 'GOLDGATE_MAX_EXTRACT_ENTRIES';

/** The byte cap is at least this, and otherwise this many times the archive's own size. */
export const MIN_EXTRACT_BYTES = 1024 ** 3;
export const EXTRACT_RATIO = 20;
export const DEFAULT_MAX_ENTRIES = 1_000_000;
/** Space left free on the target file system after an extraction, for everything else on it. */
export const FREE_SPACE_RESERVE = 64 * 1024 ** 2;

export interface ExtractLimits {
  /** Most bytes written to disk by one extraction. */
  maxBytes: number;
  /** Most entries (files, directories, links...) in one archive. */
  maxEntries: number;
}

/** Free bytes for an unprivileged writer on the file system holding `dir`. */
export type StatFs = (dir: string) => number;

export const freeBytes: StatFs = (dir) => {
  const stats = statfsSync(dir);
  return Number(stats.bavail) * Number(stats.bsize);
};

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

function parseCount(variable: string, text: string, withUnits: boolean): number {
  const match = /^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const value = match === null ? NaN : Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? NaN);
  if (!Number.isSafeInteger(value) || value <= 0 || (!withUnits && match?.[2] !== ''))
    throw new UsageError(
      'EXTRACT_BAD_LIMIT',
      `${variable}="${text}" is not a positive ${withUnits ? 'size' : 'number'}`,
      {
        hint: withUnits
          ? `give bytes, or a number with K, M, G or T (powers of 1024): ${variable}=8G`
          : `give a whole number: ${variable}=2000000`,
      },
    );
  return value;
}

/**
 * The caps for extracting an archive of `archiveBytes` bytes: the byte cap is the larger of
 * 1 GiB and 20 times the archive (a root filesystem compresses about 3 to 5 times, a bomb
 * a thousand times), the entry cap one million; either set by its environment variable.
 */
export function extractLimits(archiveBytes: number, env: NodeJS.ProcessEnv = process.env): ExtractLimits {
  const bytes = env[MAX_BYTES_VARIABLE];
  const entries = env[MAX_ENTRIES_VARIABLE];
  return {
    maxBytes:
      bytes !== undefined && bytes !== ''
        ? parseCount(MAX_BYTES_VARIABLE, bytes, true)
        : Math.max(MIN_EXTRACT_BYTES, EXTRACT_RATIO * archiveBytes),
    maxEntries:
      entries !== undefined && entries !== ''
        ? parseCount(MAX_ENTRIES_VARIABLE, entries, false)
        : DEFAULT_MAX_ENTRIES,
  };
}

/** `1.5 GiB`, for messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

const MAX_SHOWN = 200;

/**
 * A name from an archive as it may appear in a message: control characters escaped
 * (`\n`, `\x1b`), and at most about 200 characters, the middle replaced by an ellipsis.
 */
export function shownName(name: string): string {
  const escaped = printable(name, { oneLine: true });
  if (escaped.length <= MAX_SHOWN) return escaped;
  const keep = (MAX_SHOWN - 1) / 2;
  return `${escaped.slice(0, Math.ceil(keep))}…${escaped.slice(-Math.floor(keep))}`;
}

export interface BudgetOptions {
  /** The user's archive, as they named it: every message names it. */
  archive: string;
  /** The directory written into (the user's temporary directory or store), named in space errors. */
  dir: string;
  limits: ExtractLimits;
  statfs?: StatFs;
  /** The hint of a space error, when TMPDIR is not where the extraction goes. */
  spaceHint?: string;
}

/** Counts what an extraction writes against its caps and the free space of its file system. */
export interface ExtractBudget {
  readonly limits: ExtractLimits;
  /** Bytes counted so far. */
  readonly written: number;
  /** Counts one archive entry; throws a UsageError past the entry cap. */
  entry(): void;
  /** Counts `bytes` more against the byte cap (a UsageError past it), without looking at the disk. */
  count(bytes: number): void;
  /** Throws an EnvironmentError unless `bytes` fit in the free space, the reserve kept. */
  ensureFree(bytes: number): void;
  /** Before writing `bytes` more: count them, and check that everything counted fits on the disk. */
  reserve(bytes: number): void;
  /** The error for an ENOSPC/EDQUOT met while writing anyway (another writer filled the disk); other errors unchanged. */
  spaceError(error: unknown): unknown;
}

/** A budget for one extraction into `dir`: free space is read once, at the start. */
export function extractBudget(options: BudgetOptions): ExtractBudget {
  const { archive, dir, limits } = options;
  const statfs = options.statfs ?? freeBytes;
  let available: number;
  try {
    available = statfs(dir);
  } catch (error) {
    throw new EnvironmentError(
      'EXTRACT_NO_WORKDIR',
      `cannot extract ${archive} into ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { hint: 'point TMPDIR at an existing, writable directory', cause: error },
    );
  }
  let written = 0;
  let entries = 0;
  const hint =
    options.spaceHint ?? `free space in ${dir}, or point TMPDIR at a directory on a larger file system`;
  const budget: ExtractBudget = {
    limits,
    get written() {
      return written;
    },
    entry() {
      entries += 1;
      if (entries > limits.maxEntries)
        throw new UsageError(
          'EXTRACT_TOO_MANY_ENTRIES',
          `${archive} holds more than ${limits.maxEntries} entries, the cap on entries for one archive`,
          {
            hint: `if the archive is trusted, raise the cap: ${MAX_ENTRIES_VARIABLE}=${limits.maxEntries * 2} goldgate …`,
          },
        );
    },
    count(bytes) {
      if (written + bytes > limits.maxBytes) {
        const suggested = Math.ceil(Math.max(limits.maxBytes * 2, written + bytes) / 1024 ** 3);
        throw new UsageError(
          'EXTRACT_TOO_LARGE',
          `${archive} expands to more than ${formatBytes(limits.maxBytes)} (${limits.maxBytes} bytes), the cap on what one extraction writes`,
          {
            hint: `if the archive is trusted, raise the cap: ${MAX_BYTES_VARIABLE}=${suggested}G goldgate … (the default is the larger of 1 GiB and ${EXTRACT_RATIO} times the archive's size)`,
          },
        );
      }
      written += bytes;
    },
    ensureFree(bytes) {
      if (bytes + FREE_SPACE_RESERVE <= available) return;
      throw new EnvironmentError(
        'EXTRACT_NO_SPACE',
        `extracting ${archive} needs at least ${formatBytes(bytes)} in ${dir}, with ${formatBytes(FREE_SPACE_RESERVE)} kept free there, but ${formatBytes(available)} are free`,
        { hint },
      );
    },
    reserve(bytes) {
      budget.count(bytes);
      try {
        budget.ensureFree(written);
      } catch (error) {
        written -= bytes;
        throw error;
      }
    },
    spaceError(error) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
      return new EnvironmentError(
        'EXTRACT_NO_SPACE',
        `no space left in ${dir} while extracting ${archive} (what was extracted is removed)`,
        { hint, cause: error },
      );
    },
  };
  return budget;
}
