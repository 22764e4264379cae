import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forEachLine, MAX_LINE_BYTES } from './read.js';

async function lines(chunks: Array<string | Buffer>) {
  const seen: Array<[number, number]> = [];
  const long: number[] = [];
  await forEachLine(
    Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))),
    (text, n) => seen.push([n, text.length]),
    {
      onLong: (n) => long.push(n),
    },
  );
  return { seen, long };
}

describe('reading lines', () => {
  it('handles CRLF, a last line without an ending, and lines across chunks', async () => {
    const got: string[] = [];
    await forEachLine(Readable.from([Buffer.from('a\r\nb'), Buffer.from('c\nd')]), (text) => got.push(text));
    expect(got).toEqual(['a', 'bc', 'd']);
  });

  it('drops a UTF-8 byte order mark at the start of a file (logs copied through Windows tools)', async () => {
    const got: string[] = [];
    await forEachLine(Readable.from([Buffer.from('\ufeffStart-Date: x\r\n\ufeffb\n')]), (text) =>
      got.push(text),
    );
    expect(got).toEqual(['Start-Date: x', '\ufeffb']);
  });

  it('cuts and reports a line over the limit, also when it spans chunks', async () => {
    const big = 'x'.repeat(MAX_LINE_BYTES + 200 * 1024);
    const { seen, long } = await lines([big.slice(0, 900 * 1024), `${big.slice(900 * 1024)}\nok\n`]);
    expect(seen).toEqual([
      [1, MAX_LINE_BYTES],
      [2, 2],
    ]);
    expect(long).toEqual([1]);
  });

  it('does not report a line of exactly the limit that spans chunks', async () => {
    const exact = 'y'.repeat(MAX_LINE_BYTES);
    const { seen, long } = await lines([exact.slice(0, 1000), exact.slice(1000), '\n']);
    expect(seen).toEqual([[1, MAX_LINE_BYTES]]);
    expect(long).toEqual([]);
  });
});
