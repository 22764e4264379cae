import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** What reading a file a user named gave: its bytes, or why not (each caller words it). */
export type CappedRead =
  | { ok: true; data: Buffer }
  | { ok: false; reason: 'missing' | 'directory' | 'not-a-file' | 'too-big' }
  | { ok: false; reason: 'stat-failed' | 'unreadable'; code: string; error: unknown };

const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

/**
 * Reads a regular file of at most `maxBytes`, never further. It stats first: a FIFO would wait
 * for a writer and /dev/zero never ends. It reads one byte past the cap to tell a file that
 * grew, or a kernel file that stats as empty and reads on for ever (/proc/self/pagemap); one
 * that fails its reads (/proc/self/mem) is `unreadable`.
 */
export function readCappedFile(path: string, maxBytes: number): CappedRead {
  let stats;
  try {
    stats = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    return { ok: false, reason: 'stat-failed', code: codeOf(error), error };
  }
  if (stats === undefined) return { ok: false, reason: 'missing' };
  if (stats.isDirectory()) return { ok: false, reason: 'directory' };
  if (!stats.isFile()) return { ok: false, reason: 'not-a-file' };
  if (stats.size > maxBytes) return { ok: false, reason: 'too-big' };
  // Sized for what the file says it holds (plus the byte that tells growth), grown when a
  // kernel file reads past its size: never the whole cap up front for a small file.
  let buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(stats.size + 1, 64 * 1024)));
  let length = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        if (length === buffer.length) {
          const grown = Buffer.alloc(Math.min(maxBytes + 1, buffer.length * 2));
          buffer.copy(grown, 0, 0, length);
          buffer = grown;
        }
        const n = readSync(fd, buffer, length, buffer.length - length, null);
        if (n === 0) break;
        length += n;
        if (length > maxBytes) return { ok: false, reason: 'too-big' };
      }
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return { ok: false, reason: 'unreadable', code: codeOf(error), error };
  }
  return { ok: true, data: Buffer.from(buffer.subarray(0, length)) };
}
