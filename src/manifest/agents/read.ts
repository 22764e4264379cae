import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem } from '../types.js';

/**
 * Reads a file of the image as bytes. Missing is not a problem; a file that exists but cannot
 * be read (too large, a device, a loop) is reported in `problems` with the reader's reason.
 */
export function readImageFile(
  fs: RootFs,
  path: string,
  problems: ManifestProblem[],
  maxBytes?: number,
): Buffer | undefined {
  const before = fs.problems.length;
  const data = fs.readFile(path, maxBytes === undefined ? undefined : { maxBytes });
  if (data !== undefined) return data;
  const reported = fs.problems.slice(before).find((p) => p.path === path) ?? fs.problems[before];
  if (reported !== undefined) problems.push({ path, reason: `cannot be read: ${reported.reason}` });
  return undefined;
}

/** Like readImageFile, decoded as UTF-8. */
export function readImageText(
  fs: RootFs,
  path: string,
  problems: ManifestProblem[],
  maxBytes?: number,
): string | undefined {
  return readImageFile(fs, path, problems, maxBytes)?.toString('utf8');
}

/** Regular files (following symlinks) of a directory whose names end with `suffix`, in byte order. */
export function listFiles(fs: RootFs, dir: string, suffix: string): string[] {
  return fs
    .readdir(dir)
    .filter((entry) => entry.name.endsWith(suffix) && fs.stat(entry.path)?.kind === 'file')
    .map((entry) => entry.path);
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Splits text into lines (LF or CRLF), without a phantom empty last line. */
export function splitLines(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
