import { spawn } from 'node:child_process';
import { createReadStream, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { open, rm, rmdir } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { Header } from 'tar-stream';
import { z } from 'zod';
import { EnvironmentError, GoldgateError, UsageError } from '../core/errors.js';
import { silent } from '../core/events.js';
import type { EventSink } from '../core/events.js';
import { openDirRootFs } from '../rootfs/dir.js';
import { extractBudget, extractLimits, formatBytes, freeBytes, shownName } from '../rootfs/limits.js';
import type { ExtractBudget, ExtractLimits, StatFs } from '../rootfs/limits.js';
import { safeEntryPath } from '../rootfs/tar.js';
import { isNonFilesystemType, isRootPartitionType, readPartitionTable } from './disk.js';
import type { DiskPartition } from './disk.js';
import { mountLoopReadOnly, mountPointsBelow, unmountBelow } from './mounts.js';
import { dieWithParent, lastLines, runTool, tool } from './tools.js';

export { unmountBelow } from './mounts.js';

export type SourceKind = 'directory' | 'tar' | 'raw' | 'qcow2';

export interface OpenedSource {
  kind: SourceKind;
  /** A directory holding the root filesystem (read-only: never write below it). */
  root: string;
  /** For a disk: the partition number the root was found on (1-based, as in the partition table), or null when the disk is one filesystem without a partition table. */
  partition?: number | null;
  /** For a disk: the root's filesystem type (ext4, xfs, btrfs, vfat...). */
  filesystem?: string;
  /** Unmounts, detaches, removes temporary files. Idempotent. */
  close(): Promise<void>;
}

export interface OpenSourceOptions {
  /** A private directory the caller made; everything temporary goes below it. */
  workDir: string;
  events?: EventSink;
  /** Caps on what extracting a tarball writes; default `extractLimits` of its size (GOLDGATE_MAX_EXTRACT_BYTES, GOLDGATE_MAX_EXTRACT_ENTRIES). */
  limits?: ExtractLimits;
  /** Free bytes of a directory's file system, for the space check before a tarball is extracted (tests inject a full disk). */
  statfs?: StatFs;
}

const SOURCE_HINT =
  'give a root filesystem directory, a tar archive (.tar, .tar.gz, .tar.zst), a raw disk image or a qcow2 image';

type Detected =
  | { kind: 'tar'; compression: 'none' | 'gzip' | 'zstd' }
  | { kind: 'qcow2' }
  | { kind: 'raw' }
  | { kind: 'unsupported'; format: string; hint: string };

/** What a file is, by its first bytes (never by its name). */
async function detect(file: string): Promise<Detected> {
  let head: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(512);
      const { bytesRead } = await handle.read(buffer, 0, 512, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    // A file that stats as regular and fails its reads (a kernel file such as /proc/self/mem).
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError('IMPORT_UNREADABLE', `${file} cannot be read (${code})`, { hint: SOURCE_HINT });
  }
  const starts = (...bytes: number[]): boolean => bytes.every((byte, i) => head[i] === byte);
  if (starts(0x51, 0x46, 0x49, 0xfb)) return { kind: 'qcow2' };
  if (starts(0x1f, 0x8b)) return { kind: 'tar', compression: 'gzip' };
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return { kind: 'tar', compression: 'zstd' };
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar')
    return { kind: 'tar', compression: 'none' };
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00))
    return {
      kind: 'unsupported',
      format: 'xz',
      hint: 'recompress it: xz -dc IMAGE.tar.xz | zstd -o IMAGE.tar.zst',
    };
  if (starts(0x42, 0x5a, 0x68))
    return {
      kind: 'unsupported',
      format: 'bzip2',
      hint: 'recompress it: bzip2 -dc IMAGE.tar.bz2 | zstd -o IMAGE.tar.zst',
    };
  return { kind: 'raw' };
}

function requireRoot(what: string): void {
  if (process.getuid?.() === 0) return;
  throw new EnvironmentError('IMPORT_NOT_ROOT', `importing ${what} needs root`, {
    hint: 'run goldgate image import as root (sudo): it mounts disk images and keeps file owners',
  });
}

/** Memoises a cleanup: a second call waits for the first; a failed one may be retried. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= fn().catch((error: unknown) => {
      running = undefined;
      throw error;
    });
    return running;
  };
}

function progress(events: EventSink, step: string, message: string, done?: boolean): void {
  events.emit({ type: 'progress', step: `import.${step}`, message, ...(done ? { done } : {}) });
}

/** A directory that holds `etc/` or `usr/` as real directories (not symlinks). */
function looksLikeRoot(dir: string): boolean {
  return ['etc', 'usr'].some(
    (name) => lstatSync(join(dir, name), { throwIfNoEntry: false })?.isDirectory() === true,
  );
}

/**
 * Detects the kind of an image source by content and opens it as a root filesystem
 * directory: a directory as is; a tar archive (plain, gzip, zstd) checked entry by entry
 * then extracted with owners, modes and xattrs; a raw or qcow2 disk whose root partition is
 * mounted read-only. Close the result when done, even after a failure of the caller.
 */
export async function openImageSource(source: string, options: OpenSourceOptions): Promise<OpenedSource> {
  const events = options.events ?? silent;
  const path = resolve(source);
  const workDir = resolve(options.workDir);
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined)
    throw new UsageError('IMPORT_NOT_FOUND', `${path} does not exist`, { hint: SOURCE_HINT });
  if (stats.isDirectory()) return openDirectory(path);
  if (!stats.isFile())
    throw new UsageError('IMPORT_UNSUPPORTED_SOURCE', `${path} is neither a directory nor a regular file`, {
      hint: `${SOURCE_HINT}; copy a block device to a file first (dd if=/dev/… of=disk.raw)`,
    });
  const detected = await detect(path);
  switch (detected.kind) {
    case 'tar':
      return openTar(path, detected.compression, workDir, events, options);
    case 'qcow2':
      return openQcow2(path, workDir, events);
    case 'raw':
      return openDisk(path, 'raw', workDir, events);
    case 'unsupported':
      throw new UsageError('IMPORT_UNSUPPORTED_FORMAT', `${path} is ${detected.format}-compressed`, {
        hint: detected.hint,
      });
  }
}

function openDirectory(path: string): OpenedSource {
  if (!looksLikeRoot(path))
    throw new UsageError(
      'IMPORT_NOT_A_ROOTFS',
      `${path} does not look like a root filesystem: no etc/ and no usr/`,
      {
        hint: 'give the directory that holds etc/ and usr/ (the image root)',
      },
    );
  return { kind: 'directory', root: path, close: async () => undefined };
}

// ---- tar ----

/** An entry name as an in-image path, refusing absolute names and `..` with IMPORT_UNSAFE_TAR. */
function entryPath(name: string, context: { archive: string; linkOf?: string }): string {
  try {
    return safeEntryPath(name, context);
  } catch (error) {
    if (!(error instanceof GoldgateError)) throw error;
    throw new UsageError('IMPORT_UNSAFE_TAR', `${error.message}: refusing the whole archive`, {
      hint: 'create the archive with relative names from the image root: tar -C ROOT --numeric-owner -czf image.tar.gz .',
      cause: error,
    });
  }
}

/**
 * Checks one entry against what the archive made before it: nothing may be written below a
 * path the archive made a symlink (or a hard link to one), whatever the path became later.
 */
function checkEntry(header: Header, symlinks: Set<string>, archive: string): void {
  const pax = (header.pax ?? {}) as Record<string, string | undefined>;
  // GNU tar names a PAX sparse file by this key, not by the header's placeholder name.
  const name = pax['GNU.sparse.name'] ?? header.name;
  const path = entryPath(name, { archive });
  const refuseBelowLink = (entry: string, imagePath: string): void => {
    for (let dir = posix.dirname(imagePath); dir !== '/'; dir = posix.dirname(dir)) {
      if (symlinks.has(dir))
        throw new UsageError(
          'IMPORT_UNSAFE_TAR',
          `${archive}: ${entry} lies below "${shownName(dir)}", which the archive made a symlink: refusing the whole archive`,
          { hint: 'refusing an archive that writes through a link it created' },
        );
    }
  };
  refuseBelowLink(`tar entry "${shownName(name)}"`, path);
  if (header.type === 'symlink') symlinks.add(path);
  else if (header.type === 'link') {
    const linkname = header.linkname ?? '';
    const target = entryPath(linkname, { archive, linkOf: name });
    refuseBelowLink(
      `tar entry "${shownName(name)}" is a hard link to "${shownName(linkname)}", which`,
      target,
    );
    if (symlinks.has(target)) symlinks.add(path);
  }
}

/**
 * Reads every entry header of an archive without writing anything, counting entries (as
 * they come) and file bytes (at the end) against the budget's caps; returns the number of entries.
 */
async function scanTar(
  archive: string,
  compression: 'none' | 'gzip' | 'zstd',
  budget: ExtractBudget,
): Promise<number> {
  const symlinks = new Set<string>();
  let entries = 0;
  let bytes = 0;
  const extractor = extract();
  extractor.on('entry', (header, stream, next) => {
    try {
      budget.entry();
      checkEntry(header, symlinks, archive);
      if (header.type === 'file' || header.type === 'contiguous-file') bytes += header.size ?? 0;
      entries += 1;
    } catch (error) {
      // next(error) destroys the entry's stream with the error too: the pipeline reports it once.
      stream.on('error', () => undefined);
      stream.resume();
      next(error as Error);
      return;
    }
    stream.on('end', () => next());
    stream.resume();
  });
  try {
    if (compression === 'zstd') {
      const child = spawn(tool('zstd'), ['-dc', '--', archive], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((done, fail) => {
        child.on('error', fail);
        child.on('close', done);
      });
      try {
        await pipeline(child.stdout, extractor);
      } catch (error) {
        child.kill('SIGKILL');
        await exited.catch(() => undefined);
        throw error;
      }
      const code = await exited;
      if (code !== 0) throw new Error(`zstd -d failed: ${lastLines(stderr) || `exit ${code}`}`);
    } else if (compression === 'gzip') await pipeline(createReadStream(archive), createGunzip(), extractor);
    else await pipeline(createReadStream(archive), extractor);
  } catch (error) {
    if (error instanceof GoldgateError) throw error;
    throw new UsageError(
      'IMPORT_TAR_UNREADABLE',
      `${archive} is not a readable tar archive: ${(error as Error).message}`,
      {
        hint: 'a compressed disk image is not a tarball: decompress it first (gunzip, zstd -d)',
        cause: error,
      },
    );
  }
  // Counted once all headers are read, so that the message can say what the whole archive needs.
  budget.count(bytes);
  return entries;
}

/** Where the root is inside an extraction: its top, or the one top directory holding etc/ or usr/. */
function findExtractedRoot(dir: string, archive: string): string {
  if (looksLikeRoot(dir)) return dir;
  const below = readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => lstatSync(path).isDirectory() && looksLikeRoot(path));
  if (below.length === 1) return below[0] as string;
  throw new UsageError(
    'IMPORT_NO_ROOT',
    below.length === 0
      ? `${archive} holds no root filesystem: no etc/ or usr/ at its top or in a top directory`
      : `${archive} holds several root filesystems (${below.map((p) => posix.basename(p)).join(', ')})`,
    { hint: 'archive one root filesystem: tar -C ROOT --numeric-owner -czf image.tar.gz .' },
  );
}

async function openTar(
  archive: string,
  compression: 'none' | 'gzip' | 'zstd',
  workDir: string,
  events: EventSink,
  options: Pick<OpenSourceOptions, 'limits' | 'statfs'>,
): Promise<OpenedSource> {
  requireRoot('a tar archive (to keep owners, set-id bits and device nodes)');
  const tar = tool('tar');
  if (compression === 'zstd') tool('zstd');
  const budget = extractBudget({
    archive,
    dir: workDir,
    limits: options.limits ?? extractLimits(statSync(archive).size),
    ...(options.statfs === undefined ? {} : { statfs: options.statfs }),
    spaceHint: 'free space there, or set GOLDGATE_HOME to a directory on a larger file system',
  });
  progress(events, 'scan', `checking the entries of ${archive}`);
  const entries = await scanTar(archive, compression, budget);
  // Checked before anything is written: what the entries say they hold must fit.
  budget.ensureFree(budget.written);
  progress(events, 'scan', `${entries} entries (${formatBytes(budget.written)}), none unsafe`, true);

  const dest = join(workDir, 'rootfs');
  mkdirSync(dest, { mode: 0o755 });
  const cleanup = once(() => rm(dest, { recursive: true, force: true }));
  try {
    progress(events, 'extract', `extracting ${archive}`);
    const flag = { none: [], gzip: ['--gzip'], zstd: ['--zstd'] }[compression];
    const result = await runTool(
      dieWithParent([
        tar,
        '--extract',
        '--force-local',
        '--numeric-owner',
        '--same-owner',
        '--preserve-permissions',
        '--xattrs',
        '--xattrs-include=*',
        ...flag,
        '-f',
        archive,
        '-C',
        dest,
      ]),
    );
    // GNU tar reports a full disk as ENOSPC, or as a short write ("Wrote only 2560 of 10240 bytes").
    if (
      result.code !== 0 &&
      /No space left on device|Disk quota exceeded|Wrote only \d+ of \d+ bytes/.test(result.stderr)
    )
      throw budget.spaceError(Object.assign(new Error(lastLines(result.stderr)), { code: 'ENOSPC' }));
    if (result.code !== 0)
      throw new UsageError(
        'IMPORT_TAR_FAILED',
        `tar could not extract ${archive}: ${shownName(lastLines(result.stderr))}`,
        {
          hint: 'check the archive with tar -tvf',
        },
      );
    progress(events, 'extract', `extracted ${archive}`, true);
    return { kind: 'tar', root: findExtractedRoot(dest, archive), close: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

// ---- qcow2 ----

const QemuInfo = z.object({
  'virtual-size': z.number().int().nonnegative(),
  'backing-filename': z.string().optional(),
  'format-specific': z
    .object({ data: z.object({ 'data-file': z.string().optional() }).passthrough().optional() })
    .passthrough()
    .optional(),
});

async function openQcow2(file: string, workDir: string, events: EventSink): Promise<OpenedSource> {
  requireRoot('a disk image (it is mounted read-only)');
  const qemuImg = tool('qemu-img');
  const info = await runTool([qemuImg, 'info', '--output=json', '-f', 'qcow2', file]);
  const parsed = info.code === 0 ? QemuInfo.safeParse(safeJson(info.stdout)) : undefined;
  if (parsed === undefined || !parsed.success)
    throw new UsageError(
      'IMPORT_QCOW2_UNREADABLE',
      `${file} is not a readable qcow2 image: ${lastLines(info.stderr)}`,
      {
        hint: 'check it with qemu-img check',
      },
    );
  const external = parsed.data['backing-filename'] ?? parsed.data['format-specific']?.data?.['data-file'];
  if (external !== undefined)
    throw new UsageError('IMPORT_QCOW2_EXTERNAL', `${file} reads another file (${external})`, {
      hint: 'flatten it into one self-contained image first: qemu-img convert -O qcow2 IMAGE flat.qcow2',
    });
  const needed = parsed.data['virtual-size'];
  const free = freeBytes(workDir);
  if (free < needed)
    throw new EnvironmentError(
      'IMPORT_NO_SPACE',
      `converting ${file} needs up to ${formatBytes(needed)} in ${workDir}, which has ${formatBytes(free)} free`,
      {
        hint: `free ${formatBytes(needed - free)} or more there, or set GOLDGATE_HOME on a larger filesystem`,
      },
    );

  const raw = join(workDir, 'disk.raw');
  const removeRaw = (): Promise<void> => rm(raw, { force: true });
  progress(events, 'convert', `converting ${file} (${formatBytes(needed)}) to a raw disk`);
  const result = await runTool(dieWithParent([qemuImg, 'convert', '-f', 'qcow2', '-O', 'raw', file, raw]));
  if (result.code !== 0) {
    await removeRaw();
    throw new UsageError(
      'IMPORT_QCOW2_UNREADABLE',
      `qemu-img could not convert ${file}: ${lastLines(result.stderr)}`,
      {
        hint: 'check it with qemu-img check',
      },
    );
  }
  progress(events, 'convert', `converted ${file}`, true);
  try {
    return await openDisk(raw, 'qcow2', workDir, events, removeRaw, file);
  } catch (error) {
    await removeRaw();
    throw error;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---- raw disks ----

interface Probe {
  type?: string;
  usage?: string;
  error?: string;
}

/** blkid's view of the bytes [offset, offset+size) of a file: filesystem type and usage. */
async function probeFilesystem(file: string, offset: number, size: number): Promise<Probe> {
  const argv = [tool('blkid'), '-p', '-o', 'export', '-s', 'TYPE', '-s', 'USAGE'];
  const result = await runTool([...argv, '-O', String(offset), '-S', String(size), file]);
  if (result.code === 2) return {};
  if (result.code === 8) return { error: 'several filesystem signatures (ambivalent)' };
  if (result.code !== 0) return { error: lastLines(result.stderr) || `blkid exited with ${result.code}` };
  const fields = Object.fromEntries(
    result.stdout
      .split('\n')
      .map((line) => line.split('='))
      .filter((parts) => parts.length === 2)
      .map(([key, value]) => [key, value]),
  ) as Record<string, string | undefined>;
  return { type: fields.TYPE, usage: fields.USAGE };
}

/** The reason a mounted filesystem is not a Linux root, or undefined when it is one. */
async function whyNotRoot(dir: string): Promise<string | undefined> {
  // Read as if chrooted: symlinks (/etc/os-release -> ../usr/lib/os-release) resolve inside it.
  const fs = openDirRootFs(dir);
  try {
    if (fs.stat('/etc/os-release')?.kind !== 'file') return 'no /etc/os-release';
    if (fs.stat('/usr')?.kind !== 'dir') return 'no /usr';
    return undefined;
  } finally {
    await fs.close();
  }
}

interface Candidate {
  number: number | null;
  offset: number;
  size: number;
  type?: string;
}

async function unmountPoint(point: string): Promise<void> {
  await unmountBelow(point);
  if (mountPointsBelow(point).length > 0)
    throw new EnvironmentError('IMPORT_UNMOUNT_FAILED', `could not unmount ${point}`, {
      hint: `umount -l ${point}`,
    });
  await rmdir(point).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

async function openDisk(
  file: string,
  kind: 'raw' | 'qcow2',
  workDir: string,
  events: EventSink,
  removeTemporary?: () => Promise<void>,
  /** The file as the user gave it, named in messages (a qcow2 is read from a raw copy). */
  name: string = file,
): Promise<OpenedSource> {
  requireRoot('a disk image (it is mounted read-only)');
  tool('mount');
  const fileSize = statSync(file).size;
  const layout = await readPartitionTable(file, name);
  let candidates: Candidate[];
  let wholeProbe: Probe | undefined;
  if (layout.table !== 'gpt') wholeProbe = await probeFilesystem(file, 0, fileSize);
  // A filesystem at offset 0 wins over an MBR look-alike (a FAT boot sector ends in 55 AA too).
  if (layout.table === 'none' || wholeProbe?.usage === 'filesystem') {
    if (wholeProbe?.type === undefined)
      throw new UsageError(
        'IMPORT_UNRECOGNIZED',
        `${name} is not a disk image: no partition table and no filesystem${wholeProbe?.error ? ` (${wholeProbe.error})` : ''}`,
        { hint: SOURCE_HINT },
      );
    candidates = [{ number: null, offset: 0, size: fileSize }];
  } else {
    const ordered = [...layout.partitions].sort(
      (a: DiskPartition, b: DiskPartition) =>
        Number(isRootPartitionType(b.type)) - Number(isRootPartitionType(a.type)) || a.number - b.number,
    );
    candidates = ordered.map((p) => ({ number: p.number, offset: p.offset, size: p.size, type: p.type }));
  }
  progress(
    events,
    'probe',
    layout.table === 'none' || candidates[0]?.number === null
      ? `${name}: one filesystem, no partition table`
      : `${name}: ${layout.table.toUpperCase()} with ${candidates.length} partition(s)`,
  );

  const findings: string[] = [...layout.notes];
  const unmountable: string[] = [];
  let mountedAny = false;
  for (const candidate of candidates) {
    const label = candidate.number === null ? 'the disk' : `partition ${candidate.number}`;
    if (candidate.type !== undefined && isNonFilesystemType(candidate.type)) {
      findings.push(`${label}: type ${candidate.type}, no filesystem`);
      continue;
    }
    const probe =
      candidate.number === null && wholeProbe !== undefined
        ? wholeProbe
        : await probeFilesystem(file, candidate.offset, candidate.size);
    if (probe.type === undefined) {
      findings.push(`${label}: ${probe.error ?? 'no filesystem'}`);
      continue;
    }
    if (probe.usage !== 'filesystem') {
      findings.push(`${label}: ${probe.type} (not a filesystem)`);
      continue;
    }
    const point = join(workDir, `mnt-${candidate.number ?? 'disk'}`);
    mkdirSync(point, { recursive: true });
    progress(events, 'mount', `mounting ${label} (${probe.type}) read-only`);
    const error = await mountLoopReadOnly(file, point, {
      type: probe.type,
      offset: candidate.offset,
      size: candidate.size,
    });
    if (error !== undefined) {
      await unmountPoint(point);
      findings.push(`${label}: ${probe.type} (could not mount: ${error})`);
      unmountable.push(probe.type);
      continue;
    }
    mountedAny = true;
    let why: string | undefined;
    try {
      why = await whyNotRoot(point);
    } catch (failure) {
      await unmountPoint(point);
      throw failure;
    }
    if (why !== undefined) {
      await unmountPoint(point);
      findings.push(`${label}: ${probe.type} (${why})`);
      continue;
    }
    progress(events, 'mount', `root filesystem found on ${label} (${probe.type})`, true);
    const close = once(async () => {
      await unmountPoint(point);
      await removeTemporary?.();
    });
    return { kind, root: point, partition: candidate.number, filesystem: probe.type, close };
  }

  const details = findings.length > 0 ? findings.join('; ') : 'the partition table is empty';
  if (!mountedAny && unmountable.length > 0)
    throw new UsageError(
      'IMPORT_UNSUPPORTED_FS',
      `${name}: could not mount the ${[...new Set(unmountable)].join(', ')} filesystem(s) (${details})`,
      { hint: 'the running kernel must support the filesystem (modprobe it), or convert the image to ext4' },
    );
  throw new UsageError(
    'IMPORT_NO_ROOT',
    `${name}: no partition holds a Linux root filesystem (/etc/os-release and /usr): ${details}`,
    {
      hint: 'give an image with its root filesystem on a partition (separate /usr partitions and LVM are not supported)',
    },
  );
}
