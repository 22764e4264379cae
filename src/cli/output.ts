import { closeSync, openSync, realpathSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeAll, writeFileAtomic } from '../core/atomic-write.js';
import { UsageError } from '../core/errors.js';
import { outputError } from './errno.js';

// The one way a command writes a file the user named (-o, --html): checked before the work
// starts, written whole or not at all. A device or a pipe (/dev/stdout) is written as it is.

interface OutputOptions {
  /** The file must be a regular file (or not exist yet): a tarball is renamed into place. */
  regular?: boolean;
}

/**
 * Fails early, before a long run, when `path` cannot be an output file: its folder is missing,
 * it is a directory, or (with `regular`) a device or pipe. Errors name the flag and the path.
 */
export function checkOutput(flag: string, path: string, options: OutputOptions = {}): void {
  if (path === '')
    throw new UsageError('OUTPUT_EMPTY', `${flag} needs a file name`, { hint: `e.g. ${flag} report.txt` });
  const target = statOutput(flag, path);
  if (target?.isDirectory() === true)
    throw new UsageError('OUTPUT_IS_FOLDER', `${flag} ${path} is a directory`, {
      hint: `give a file name, e.g. ${path.replace(/\/+$/, '')}/report`,
    });
  if (target !== undefined && !target.isFile() && options.regular === true)
    throw new UsageError('OUTPUT_NOT_FILE', `${flag} ${path} is not a regular file`, {
      hint: 'give the path of a file to create or replace',
    });
  if (target !== undefined) return;
  const folder = dirname(resolve(path));
  const parent = statOutput(flag, path, folder);
  if (parent === undefined)
    throw new UsageError('OUTPUT_NO_FOLDER', `${flag} ${path}: the folder ${folder} does not exist`, {
      hint: 'create the folder first, or give a path in an existing one',
    });
  if (!parent.isDirectory())
    throw new UsageError('OUTPUT_NO_FOLDER', `${flag} ${path}: ${folder} is not a folder`, {
      hint: 'give a path whose folders exist',
    });
}

/** stat of an output path (or its folder); a path that cannot name a file is a usage error naming the flag. */
function statOutput(flag: string, path: string, at = path): Stats | undefined {
  try {
    return statSync(at, { throwIfNoEntry: false });
  } catch (error) {
    throw outputError(error, flag, path) ?? error;
  }
}

/**
 * Writes an output file: a new or regular file atomically (the old content stays until the new
 * one is complete), a device or pipe directly. A full disk is exit 3, a bad path exit 2.
 */
export function writeOutput(flag: string, path: string, data: string | Uint8Array): void {
  checkOutput(flag, path);
  try {
    const existing = statSync(path, { throwIfNoEntry: false });
    if (existing === undefined) writeFileAtomic(path, data);
    // Through a link to the file it names, as a plain write would: the link stays.
    else if (existing.isFile()) writeFileAtomic(realpathSync(path), data);
    else writeDirect(path, data);
  } catch (error) {
    throw outputError(error, flag, path) ?? error;
  }
}

function writeDirect(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}
