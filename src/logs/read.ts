import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { LogParser, LogProblem, LogRecordBase } from './types.js';
import { isGzipFile } from '../core/gzip.js';

/** Lines longer than this are cut and reported: a log line is never megabytes long. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** The bytes of a log file, gunzipped when it is gzip (by content, not name). */
export async function openLogStream(path: string): Promise<Readable> {
  const raw = createReadStream(path, { highWaterMark: 1024 * 1024 });
  if (!(await isGzipFile(path))) return raw;
  const gunzip = createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}

/**
 * Reads a stream line by line with constant memory: `\n` and `\r\n` endings, a last line
 * without an ending, over-long lines cut at MAX_LINE_BYTES (reported through `onLong`), and
 * a truncated gzip stream reported (through `onError`) after the lines it did hold.
 */
export async function forEachLine(
  stream: Readable,
  onLine: (text: string, lineNumber: number) => void,
  options: {
    onLong?: (lineNumber: number) => void;
    onError?: (error: Error, lineNumber: number) => void;
  } = {},
): Promise<number> {
  // The line in progress: the pieces kept (at most MAX_LINE_BYTES) and how long it really is.
  let parts: Buffer[] = [];
  let kept = 0;
  let total = 0;
  let lineNumber = 0;
  const add = (piece: Buffer, copy: boolean) => {
    total += piece.length;
    const keep = piece.subarray(0, Math.max(0, MAX_LINE_BYTES - kept));
    if (keep.length > 0) {
      parts.push(copy ? Buffer.from(keep) : keep);
      kept += keep.length;
    }
  };
  const emit = () => {
    lineNumber += 1;
    const buffer = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    let end = buffer.length;
    if (end > 0 && buffer[end - 1] === 0x0d) end -= 1;
    if (total > MAX_LINE_BYTES) options.onLong?.(lineNumber);
    parts = [];
    kept = 0;
    total = 0;
    // A byte order mark (a file saved by a Windows tool) is not part of the first line.
    const start =
      lineNumber === 1 && end >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
    onLine(buffer.toString('utf8', start, end), lineNumber);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) break;
        add(chunk.subarray(start, nl), false);
        emit();
        start = nl + 1;
      }
      // The rest of the chunk starts the next line; copied, as the stream may reuse its buffer.
      if (start < chunk.length) add(chunk.subarray(start), true);
    }
  } catch (error) {
    if (total > 0) emit();
    options.onError?.(error as Error, lineNumber + 1);
    return lineNumber;
  }
  if (total > 0) emit();
  return lineNumber;
}

/** Parses a whole file into records and problems (for tests and small files; diagnose streams). */
export async function parseFile<R extends LogRecordBase>(
  path: string,
  parser: LogParser<R>,
  label: string = path,
): Promise<{ records: R[]; problems: LogProblem[] }> {
  const records: R[] = [];
  const problems: LogProblem[] = [];
  await streamFile(
    path,
    parser,
    (r) => records.push(r),
    (p) => problems.push(p),
    label,
  );
  return { records, problems };
}

/** Streams a file through a parser; records and problems go to the callbacks as they come. */
export async function streamFile<R extends LogRecordBase>(
  path: string,
  parser: LogParser<R>,
  onRecord: (record: R) => void,
  onProblem: (problem: LogProblem) => void,
  label: string = path,
): Promise<void> {
  const lines = parser.open(label, {
    record: onRecord,
    problem: (line, reason) => onProblem({ file: label, line, reason }),
  });
  const stream = await openLogStream(path);
  await forEachLine(stream, (text, n) => lines.line(text, n), {
    onLong: (n) =>
      onProblem({ file: label, line: n, reason: `line longer than ${MAX_LINE_BYTES} bytes, cut` }),
    onError: (error, n) =>
      onProblem({ file: label, line: n, reason: `unreadable from here: ${error.message}` }),
  });
  lines.end();
}

/** Parses text given in memory (tests, fuzzing). */
export function parseText<R extends LogRecordBase>(
  text: string,
  parser: LogParser<R>,
  label = 'text',
): { records: R[]; problems: LogProblem[] } {
  const records: R[] = [];
  const problems: LogProblem[] = [];
  const lines = parser.open(label, {
    record: (r) => records.push(r),
    problem: (line, reason) => problems.push({ file: label, line, reason }),
  });
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  all.forEach((line, i) => lines.line(line.endsWith('\r') ? line.slice(0, -1) : line, i + 1));
  lines.end();
  return { records, problems };
}
