import { EnvironmentError, UsageError } from '../core/errors.js';
import type { GoldgateError } from '../core/errors.js';

// System errors whose cause is the machine, not goldgate: a full disk, a read-only mount, a
// path the user may not write. Anything else from the system stays a bug (exit 4).
const ENVIRONMENT: Record<string, { what: string; hint: string }> = {
  ENOSPC: { what: 'no space left on the device', hint: 'free some space, or write somewhere else' },
  EDQUOT: { what: 'disk quota exceeded', hint: 'free some space, or write somewhere else' },
  EROFS: { what: 'read-only file system', hint: 'write somewhere writable' },
  EACCES: { what: 'permission denied', hint: 'check the permissions, or run as a user that may do this' },
  EPERM: { what: 'operation not permitted', hint: 'check the permissions, or run as root' },
  EMFILE: { what: 'too many open files', hint: 'raise the limit (ulimit -n) and try again' },
  ENFILE: { what: 'too many open files on the system', hint: 'try again when the system is less busy' },
};

export function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/**
 * The error a system error is for the person: an environment error (exit 3) for a full disk,
 * a read-only file system or a permission; undefined for anything else (goldgate's bug).
 * `subject` names what was being done ("--output report.json"); default the error's own path.
 */
export function environmentError(error: unknown, subject?: string): GoldgateError | undefined {
  const code = errnoCode(error);
  const known = code === undefined ? undefined : ENVIRONMENT[code];
  if (known === undefined) return undefined;
  const path = (error as NodeJS.ErrnoException).path;
  const about = subject ?? path;
  return new EnvironmentError(`SYSTEM_${code}`, `${about === undefined ? '' : `${about}: `}${known.what}`, {
    hint: known.hint,
    cause: error,
  });
}

// System errors that say a path someone gave cannot name a file at all: the user's mistake.
const PATH_NAME: Record<string, string> = {
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many levels of symbolic links (a loop?)',
  ENAMETOOLONG: 'the name is too long',
};

/**
 * The error a path that cannot name a file is for the person: a usage error (exit 2) naming
 * the path (or `subject`); undefined for any other error.
 */
export function pathError(error: unknown, subject?: string): GoldgateError | undefined {
  const code = errnoCode(error);
  const what = code === undefined ? undefined : PATH_NAME[code];
  if (what === undefined) return undefined;
  const about = subject ?? (error as NodeJS.ErrnoException).path;
  return new UsageError(`PATH_${code}`, `${about === undefined ? '' : `${about}: `}${what}`, {
    hint: 'check the path: every folder on the way must exist and be a folder, each name at most 255 bytes',
    cause: error,
  });
}

/** A system error from writing an output file the user named: whose fault, and what to do. */
export function outputError(error: unknown, flag: string, path: string): GoldgateError | undefined {
  const subject = `${flag} ${path}`;
  switch (errnoCode(error)) {
    case 'ENOENT':
      return new UsageError('OUTPUT_NO_FOLDER', `${subject}: its folder does not exist`, {
        hint: 'create the folder first, or give a path in an existing one',
        cause: error,
      });
    case 'ENOTDIR':
      return new UsageError('OUTPUT_NO_FOLDER', `${subject}: a part of the path is not a folder`, {
        hint: 'give a path whose folders exist',
        cause: error,
      });
    case 'EISDIR':
      return new UsageError('OUTPUT_IS_FOLDER', `${subject} is a directory`, {
        hint: `give a file name, e.g. ${path.replace(/\/+$/, '')}/report`,
        cause: error,
      });
    default:
      return environmentError(error, subject) ?? pathError(error, subject);
  }
}
