import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { writeAll } from '../core/atomic-write.js';

/** How an archive is compressed, by its first bytes. */
export type Compression = 'none' | 'gzip';

/** One file's content: `size` bytes at `offset` of the uncompressed tar stream, written to `out` (made with `wx`). */
export interface Range {
  offset: number;
  size: number;
  out: string;
  mode: number;
}

/** Why a fetch failed: the errno code when the file system said no (ENOSPC…), and the message. */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const CHUNK = 1024 * 1024;

function copyPlain(archive: string, ranges: Range[]): void {
  const input = openSync(archive, constants.O_RDONLY);
  const buffer = Buffer.alloc(CHUNK);
  try {
    for (const range of ranges) {
      const out = openSync(range.out, 'wx', range.mode);
      try {
        for (let done = 0; done < range.size;) {
          const n = readSync(input, buffer, 0, Math.min(CHUNK, range.size - done), range.offset + done);
          if (n === 0) throw new FetchError('the archive ended before the file did', undefined);
          writeAll(out, buffer.subarray(0, n));
          done += n;
        }
      } finally {
        closeSync(out);
      }
    }
  } catch (error) {
    if (error instanceof FetchError) throw error;
    throw new FetchError((error as Error).message, (error as NodeJS.ErrnoException).code);
  } finally {
    closeSync(input);
  }
}

/*
 * Runs in a child node (the readers are synchronous, gunzip streaming is not): decompresses
 * the archive once up to the last range, writes each range to its file, and stops there.
 */
const GUNZIP_RANGES = `
const fs = require('node:fs');
const zlib = require('node:zlib');
const fail = (error, code) => {
  process.stderr.write(JSON.stringify({ message: String(error && error.message || error), code: code ?? (error && error.code) }));
  process.exit(1);
};
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  const { archive, ranges } = JSON.parse(input);
  const pending = ranges.map((r) => ({ ...r, fd: fs.openSync(r.out, 'wx', r.mode), done: 0 }));
  const finish = (r) => { fs.closeSync(r.fd); r.fd = -1; };
  for (const r of pending) if (r.size === 0) finish(r);
  const last = Math.max(0, ...ranges.map((r) => r.offset + r.size));
  let position = 0;
  const source = fs.createReadStream(archive);
  const gunzip = zlib.createGunzip();
  gunzip.on('data', (chunk) => {
    const start = position;
    position += chunk.length;
    try {
      for (const r of pending) {
        if (r.fd < 0) continue;
        const lo = Math.max(r.offset + r.done, start);
        const hi = Math.min(r.offset + r.size, position);
        if (lo >= hi) continue;
        fs.writeSync(r.fd, chunk, lo - start, hi - lo);
        r.done += hi - lo;
        if (r.done === r.size) finish(r);
      }
    } catch (error) { fail(error); }
    if (position >= last) { source.destroy(); process.exit(0); }
  });
  gunzip.on('end', () => (pending.some((r) => r.fd >= 0) ? fail(new Error('the archive ended before the file did')) : process.exit(0)));
  gunzip.on('error', (error) => fail(error, 'EARCHIVE'));
  source.on('error', (error) => fail(error));
  source.pipe(gunzip);
});
`;

function copyGzip(archive: string, ranges: Range[]): void {
  const result = spawnSync(process.execPath, ['-e', GUNZIP_RANGES], {
    input: JSON.stringify({ archive, ranges }),
    stdio: ['pipe', 'ignore', 'pipe'],
    env: {},
    maxBuffer: 1024 * 1024,
  });
  if (result.error !== undefined) throw new FetchError(result.error.message, undefined);
  if (result.status === 0) return;
  let reported: { message?: string; code?: string } = {};
  try {
    reported = JSON.parse(result.stderr.toString('utf8')) as typeof reported;
  } catch {
    reported = { message: result.stderr.toString('utf8').trim() || `exit ${result.status ?? result.signal}` };
  }
  throw new FetchError(reported.message ?? 'failed', reported.code);
}

/**
 * Writes files of a tar archive out of it by their position, synchronously (the root
 * filesystem readers are synchronous): positional reads for a plain tar, one gunzip pass
 * (stopped after the last range) in a child process for a tar.gz. Throws FetchError.
 */
export function fetchRanges(archive: string, compression: Compression, ranges: Range[]): void {
  if (ranges.length === 0) return;
  if (compression === 'none') copyPlain(archive, ranges);
  else copyGzip(archive, ranges);
}
