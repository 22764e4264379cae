import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { readPartitionTable } from './disk.js';

const LINUX = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
const ROOT_X86_64 = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';

function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  // The first three fields are stored little-endian.
  return Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]);
}

/** A disk image with a GPT written by hand: protective MBR, header at LBA 1, entries at LBA 2. */
function gptDisk(
  sectorSize: number,
  parts: Array<{ type: string; first: number; last: number; name: string }>,
) {
  const sectors = 4096;
  const disk = Buffer.alloc(sectors * sectorSize);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  disk[446 + 4] = 0xee;
  disk.writeUInt32LE(1, 446 + 8);
  disk.writeUInt32LE(sectors - 1, 446 + 12);
  const entries = Buffer.alloc(128 * 128);
  parts.forEach((part, i) => {
    const entry = entries.subarray(i * 128, (i + 1) * 128);
    guidBytes(part.type).copy(entry, 0);
    entry.writeBigUInt64LE(BigInt(part.first), 32);
    entry.writeBigUInt64LE(BigInt(part.last), 40);
    Buffer.from(part.name, 'utf16le').copy(entry, 56);
  });
  entries.copy(disk, 2 * sectorSize);
  const header = disk.subarray(sectorSize, sectorSize + 92);
  header.write('EFI PART', 0, 'latin1');
  header.writeUInt32LE(0x00010000, 8);
  header.writeUInt32LE(92, 12);
  header.writeBigUInt64LE(1n, 24);
  header.writeBigUInt64LE(2n, 72);
  header.writeUInt32LE(128, 80);
  header.writeUInt32LE(128, 84);
  header.writeUInt32LE(zlib.crc32(entries), 88);
  header.writeUInt32LE(zlib.crc32(header), 16);
  return disk;
}

describe('readPartitionTable', () => {
  it('reads a GPT with 4096-byte sectors, numbering partitions by their entry', async () => {
    const file = join(tempDir(), 'disk.raw');
    writeFileSync(
      file,
      gptDisk(4096, [
        { type: LINUX, first: 256, last: 511, name: 'boot' },
        { type: ROOT_X86_64, first: 512, last: 4000, name: 'root' },
      ]),
    );
    expect(await readPartitionTable(file)).toEqual({
      table: 'gpt',
      sectorSize: 4096,
      notes: [],
      partitions: [
        { number: 1, offset: 256 * 4096, size: 256 * 4096, type: LINUX, name: 'boot' },
        { number: 2, offset: 512 * 4096, size: 3489 * 4096, type: ROOT_X86_64, name: 'root' },
      ],
    });
  });

  it('skips a partition beyond the end of the file and refuses a damaged GPT', async () => {
    const dir = tempDir();
    const truncated = join(dir, 'truncated.raw');
    writeFileSync(truncated, gptDisk(512, [{ type: LINUX, first: 2048, last: 9999, name: '' }]));
    expect(await readPartitionTable(truncated)).toMatchObject({
      table: 'gpt',
      partitions: [],
      notes: ['partition 1: lies beyond the end of the file (a truncated image?)'],
    });
    const damaged = gptDisk(512, [{ type: LINUX, first: 34, last: 99, name: '' }]);
    damaged[2 * 512 + 40] = 0x7f;
    const file = join(dir, 'damaged.raw');
    writeFileSync(file, damaged);
    await expect(readPartitionTable(file)).rejects.toMatchObject({ code: 'IMPORT_BAD_PARTITION_TABLE' });
    // A protective MBR alone is a GPT disk that lost its header.
    damaged.fill(0, 512, 1024);
    writeFileSync(file, damaged);
    await expect(readPartitionTable(file)).rejects.toMatchObject({
      code: 'IMPORT_BAD_PARTITION_TABLE',
      message: expect.stringContaining('protective MBR'),
    });
  });

  it('reads MBR primary and logical partitions, and ignores a FAT-like boot sector', async () => {
    const disk = Buffer.alloc(4096 * 512);
    disk[510] = 0x55;
    disk[511] = 0xaa;
    const primary = (i: number, type: number, start: number, sectors: number): void => {
      disk[446 + i * 16 + 4] = type;
      disk.writeUInt32LE(start, 446 + i * 16 + 8);
      disk.writeUInt32LE(sectors, 446 + i * 16 + 12);
    };
    primary(0, 0x83, 2048, 1000);
    primary(1, 0x05, 3048, 1000);
    // The extended partition's first EBR: one logical partition 8 sectors into it.
    const ebr = 3048 * 512;
    disk[ebr + 510] = 0x55;
    disk[ebr + 511] = 0xaa;
    disk[ebr + 446 + 4] = 0x83;
    disk.writeUInt32LE(8, ebr + 446 + 8);
    disk.writeUInt32LE(500, ebr + 446 + 12);
    const file = join(tempDir(), 'mbr.raw');
    writeFileSync(file, disk);
    expect(await readPartitionTable(file)).toMatchObject({
      table: 'mbr',
      partitions: [
        { number: 1, offset: 2048 * 512, size: 1000 * 512, type: '0x83' },
        { number: 5, offset: 3056 * 512, size: 500 * 512, type: '0x83' },
      ],
    });
    disk[446] = 0x42; // boot code, not a status byte
    writeFileSync(file, disk);
    expect((await readPartitionTable(file)).table).toBe('none');
  });
});
