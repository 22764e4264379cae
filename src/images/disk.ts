import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { UsageError } from '../core/errors.js';

/** One partition of a disk image, as its table describes it. */
export interface DiskPartition {
  /** 1-based, as the table numbers it (MBR logical partitions start at 5). */
  number: number;
  /** Byte offset and length inside the file. */
  offset: number;
  size: number;
  /** GPT type GUID (upper case) or MBR type byte (`0x83`). */
  type: string;
  /** GPT partition name, when set. */
  name?: string;
}

export interface DiskLayout {
  table: 'gpt' | 'mbr' | 'none';
  sectorSize: number;
  partitions: DiskPartition[];
  /** Entries that could not be used (beyond the end of the file…), for messages. */
  notes: string[];
}

/** GPT partition types of root filesystems (the Discoverable Partitions Specification): tried first. */
const GPT_ROOT_TYPES = new Set([
  '44479540-F297-41B2-9AF7-D131D5F0458A', // x86
  '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', // x86-64
  '69DAD710-2CE4-4E3C-B16C-21A1D49ABED3', // arm
  'B921B045-1DF0-41C3-AF44-4C6F280D3FAE', // arm64
  '72EC70A6-CF74-40E6-BD49-4BDA08E8F224', // riscv64
]);

/** Types that never hold a filesystem worth mounting (BIOS boot, swap, LVM, RAID, LUKS). */
const GPT_NO_FILESYSTEM = new Set([
  '21686148-6449-6E6F-744E-656564454649',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928',
  'A19D880F-05FC-4D3B-A006-743F0F84911E',
  'CA7D7CCB-63ED-4C53-861C-1742536059CC',
]);

/** Whether a partition's type says it is a root filesystem (so it is probed before the others). */
export function isRootPartitionType(type: string): boolean {
  return GPT_ROOT_TYPES.has(type);
}

/** Whether a partition's type says it holds no filesystem (BIOS boot, swap, LVM…). */
export function isNonFilesystemType(type: string): boolean {
  return GPT_NO_FILESYSTEM.has(type) || ['0x82', '0x8e', '0xfd'].includes(type);
}

const MAX_GPT_TABLE_BYTES = 4 * 1024 * 1024;
const MAX_LOGICAL = 128;
const EXTENDED = new Set([0x05, 0x0f, 0x85]);

function badTable(file: string, why: string): UsageError {
  return new UsageError('IMPORT_BAD_PARTITION_TABLE', `${file}: ${why}`, {
    hint: 'check the image with sfdisk -l; a damaged table can be repaired with gdisk or sgdisk -e',
  });
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

function guid(bytes: Buffer): string {
  const hex = (b: Buffer): string => b.toString('hex');
  const le = (b: Buffer): string => hex(Buffer.from(b).reverse());
  return [
    le(bytes.subarray(0, 4)),
    le(bytes.subarray(4, 6)),
    le(bytes.subarray(6, 8)),
    hex(bytes.subarray(8, 10)),
    hex(bytes.subarray(10, 16)),
  ]
    .join('-')
    .toUpperCase();
}

const crc32 = (data: Buffer): number | undefined =>
  typeof zlib.crc32 === 'function' ? zlib.crc32(data) : undefined;

async function readGpt(
  handle: FileHandle,
  file: string,
  fileSize: number,
  sectorSize: number,
): Promise<DiskLayout | undefined> {
  const header = await readAt(handle, sectorSize, sectorSize);
  if (header.length < 92 || header.toString('latin1', 0, 8) !== 'EFI PART') return undefined;
  const headerSize = header.readUInt32LE(12);
  if (headerSize < 92 || headerSize > sectorSize)
    throw badTable(file, `GPT header size ${headerSize} is invalid`);
  const copy = Buffer.from(header.subarray(0, headerSize));
  copy.writeUInt32LE(0, 16);
  const headerCrc = crc32(copy);
  if (headerCrc !== undefined && headerCrc !== header.readUInt32LE(16))
    throw badTable(file, 'the GPT header checksum does not match');
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (entrySize < 128 || entrySize % 8 !== 0 || count * entrySize > MAX_GPT_TABLE_BYTES)
    throw badTable(file, `GPT partition entries (${count} of ${entrySize} bytes) are invalid`);
  const table = await readAt(handle, entriesLba * sectorSize, count * entrySize);
  if (table.length < count * entrySize)
    throw badTable(file, 'the GPT partition entries lie beyond the end of the file');
  const tableCrc = crc32(table);
  if (tableCrc !== undefined && tableCrc !== header.readUInt32LE(88))
    throw badTable(file, 'the GPT partition entries checksum does not match');

  const partitions: DiskPartition[] = [];
  const notes: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const entry = table.subarray(index * entrySize, (index + 1) * entrySize);
    if (entry.subarray(0, 16).every((byte) => byte === 0)) continue;
    const first = Number(entry.readBigUInt64LE(32));
    const last = Number(entry.readBigUInt64LE(40));
    const number = index + 1;
    if (last < first) {
      notes.push(`partition ${number}: ends before it starts`);
      continue;
    }
    const offset = first * sectorSize;
    const size = (last - first + 1) * sectorSize;
    if (offset + size > fileSize) {
      notes.push(`partition ${number}: lies beyond the end of the file (a truncated image?)`);
      continue;
    }
    const name = entry.subarray(56, 128).toString('utf16le').replace(/\0.*$/s, '');
    partitions.push({ number, offset, size, type: guid(entry.subarray(0, 16)), ...(name ? { name } : {}) });
  }
  return { table: 'gpt', sectorSize, partitions, notes };
}

interface MbrEntry {
  status: number;
  type: number;
  start: number;
  sectors: number;
}

function mbrEntries(sector: Buffer): MbrEntry[] | undefined {
  if (sector.length < 512 || sector[510] !== 0x55 || sector[511] !== 0xaa) return undefined;
  return [0, 1, 2, 3].map((i) => {
    const base = 446 + i * 16;
    return {
      status: sector[base] ?? 0,
      type: sector[base + 4] ?? 0,
      start: sector.readUInt32LE(base + 8),
      sectors: sector.readUInt32LE(base + 12),
    };
  });
}

async function readMbr(handle: FileHandle, file: string, fileSize: number): Promise<DiskLayout | undefined> {
  const entries = mbrEntries(await readAt(handle, 0, 512));
  if (entries === undefined) return undefined;
  const used = entries.filter((e) => e.type !== 0);
  // Called once no GPT header was found at either sector size.
  if (used.some((e) => e.type === 0xee))
    throw badTable(file, 'a protective MBR (type 0xee) but no GPT header');
  // A FAT boot sector also ends in 55 AA: its "entries" are boot code with nonsense status bytes.
  if (used.length === 0) return undefined;
  if (used.some((e) => (e.status !== 0 && e.status !== 0x80) || e.start === 0 || e.sectors === 0))
    return undefined;
  const partitions: DiskPartition[] = [];
  const notes: string[] = [];
  const add = (number: number, start: number, sectors: number, type: number): void => {
    const offset = start * 512;
    const size = sectors * 512;
    if (offset + size > fileSize) {
      notes.push(`partition ${number}: lies beyond the end of the file (a truncated image?)`);
      return;
    }
    partitions.push({ number, offset, size, type: `0x${type.toString(16).padStart(2, '0')}` });
  };
  entries.forEach((entry, index) => {
    if (entry.type !== 0 && !EXTENDED.has(entry.type)) add(index + 1, entry.start, entry.sectors, entry.type);
  });
  const extended = entries.find((e) => EXTENDED.has(e.type));
  if (extended !== undefined) {
    // Logical partitions: a chain of extended boot records, each relative to the extended partition.
    const seen = new Set<number>();
    let ebr = extended.start;
    for (let number = 5; number < 5 + MAX_LOGICAL && !seen.has(ebr); number += 1) {
      seen.add(ebr);
      const links = mbrEntries(await readAt(handle, ebr * 512, 512));
      if (links === undefined) break;
      const [logical, next] = links;
      if (logical !== undefined && logical.type !== 0 && logical.sectors > 0)
        add(number, ebr + logical.start, logical.sectors, logical.type);
      if (next === undefined || !EXTENDED.has(next.type) || next.sectors === 0) break;
      ebr = extended.start + next.start;
    }
  }
  return { table: 'mbr', sectorSize: 512, partitions, notes };
}

/**
 * Reads the partition table of a disk image (opened read-only): GPT with 512- or 4096-byte
 * sectors, else an MBR with its primary and logical partitions, else `none` (the file may be
 * one filesystem). A protective MBR without a GPT header is a damaged table.
 */
export async function readPartitionTable(file: string, name: string = file): Promise<DiskLayout> {
  // `name` is the file as the user gave it, for messages (a converted qcow2 is read from a copy).
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    for (const sectorSize of [512, 4096]) {
      const gpt = await readGpt(handle, name, size, sectorSize);
      if (gpt !== undefined) return gpt;
    }
    const mbr = await readMbr(handle, name, size);
    return mbr ?? { table: 'none', sectorSize: 512, partitions: [], notes: [] };
  } finally {
    await handle.close();
  }
}
