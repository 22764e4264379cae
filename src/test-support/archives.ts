import { lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** A ustar header block for a regular file or directory (enough for generated test archives). */
export function ustarHeader(name: string, size: number, type: 'file' | 'directory' = 'file'): Buffer {
  const block = Buffer.alloc(512);
  const field = (offset: number, length: number, text: string): void => {
    block.write(text, offset, length, 'latin1');
  };
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(0, 100, name);
  field(100, 8, octal(type === 'directory' ? 0o755 : 0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(type === 'directory' ? 0 : size, 12));
  field(136, 12, octal(Math.floor(Date.parse('2026-01-01T00:00:00Z') / 1000), 12));
  field(148, 8, '        ');
  field(156, 1, type === 'directory' ? '5' : '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of block) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

const MiB = 1024 * 1024;

/**
 * A tar.gz bomb written fast: gzip members concatenated (as gunzip and tar read them), the
 * member of 8 MiB of zeros compressed once and repeated. `files` lists [name, size in MiB];
 * `dirs` are written first. The result is a few KiB per 8 MiB.
 */
export function writeZeroBomb(path: string, files: Array<[string, number]>, dirs: string[] = []): void {
  const zeros = gzipSync(Buffer.alloc(MiB));
  const members: Buffer[] = dirs.map((dir) => gzipSync(ustarHeader(dir, 0, 'directory')));
  for (const [name, mib] of files) {
    members.push(gzipSync(ustarHeader(name, mib * MiB)));
    for (let i = 0; i < mib; i += 1) members.push(zeros);
  }
  members.push(gzipSync(Buffer.alloc(1024)));
  writeFileSync(path, Buffer.concat(members));
}

/** Bytes of the regular files below a directory (what an extraction wrote), not following links. */
export function bytesBelow(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stats = lstatSync(path);
    if (stats.isDirectory()) total += bytesBelow(path);
    else if (stats.isFile()) total += stats.blocks * 512;
  }
  return total;
}
