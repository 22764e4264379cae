import {
  createReadStream,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { chmodSync, linkSync, lutimesSync, symlinkSync, utimesSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { Header } from 'tar-stream';
import { GoldgateError, UsageError } from '../core/errors.js';
import { openDirRootFs } from './dir.js';
import { DEFAULT_MAX_BYTES } from './types.js';
import type { FileInfo, FileKind, RootFs } from './types.js';
import { isGzipFile } from '../core/gzip.js';
import { fetchRanges } from './fetch.js';
import type { Compression } from './fetch.js';
import { extractBudget, extractLimits, shownName } from './limits.js';
import type { ExtractLimits, StatFs } from './limits.js';

export interface TarOptions {
  /** Regular files larger than this are never written out: they are known by size only and never read. */
  maxFileBytes?: number;
  /** Where the extraction goes (a fresh directory is made inside). Default: the OS temporary directory. */
  workDir?: string;
  /**
   * `lazy` (the default, for root filesystems): only files readers are likely to read are
   * written during the pass (see `isLikelyRead`), the others are fetched when read.
   * `all`: every regular file is written (evidence bundles, whose every log is read).
   */
  content?: 'lazy' | 'all';
  /** Caps on bytes written and entries; default `extractLimits` of the archive's size. */
  limits?: ExtractLimits;
  /** Free bytes of a directory's file system (tests inject a full disk). */
  statfs?: StatFs;
}

/** Regular files written during the first pass are at most this large. */
export const INLINE_MAX_BYTES = 1024 * 1024;
/** Most siblings fetched with a file of a tar.gz. */
const MAX_SIBLINGS = 256;

/** Configuration and state that goldgate's readers (audit rules, manifest agents) look at. */
const LIKELY_READ_TREES = [
  '/etc/',
  '/var/lib/',
  '/run/',
  '/usr/lib/systemd/',
  '/lib/systemd/',
  '/usr/local/lib/systemd/',
];
const LIKELY_READ_FILES = new Set(['/usr/lib/os-release']);
/** Unit files linked from elsewhere and shell scripts sourced by boot commands are read wherever they are. */
const LIKELY_READ_SUFFIXES = /\.(service|timer|socket|mount|automount|path|target|sh)$/;

/**
 * Whether a regular file of a root filesystem tarball is written out during the first
 * pass: at most 1 MiB, and either configuration or state (`/etc`, `/var/lib`, `/run`,
 * systemd's unit trees, os-release), an executable (boot commands are read to see what they
 * run), a unit file or a shell script. Everything else (libraries, documentation, data)
 * stays in the archive until read.
 */
export function isLikelyRead(path: string, size: number, mode: number): boolean {
  if (size > INLINE_MAX_BYTES) return false;
  if ((mode & 0o111) !== 0 || LIKELY_READ_FILES.has(path) || LIKELY_READ_SUFFIXES.test(path)) return true;
  return LIKELY_READ_TREES.some((tree) => path.startsWith(tree));
}

/**
 * A tar entry's name as an in-image path, or an error when it would land outside the root.
 * `linkOf` names the hard link whose target `name` is, `archive` the user's archive: both for messages.
 */
export function safeEntryPath(name: string, context: { archive?: string; linkOf?: string } = {}): string {
  const where = context.archive === undefined ? '' : `${context.archive}: `;
  const entry =
    context.linkOf === undefined
      ? `tar entry "${shownName(name)}"`
      : `tar entry "${shownName(context.linkOf)}" is a hard link to "${shownName(name)}", which`;
  if (name.startsWith('/')) {
    throw new UsageError(
      'TAR_UNSAFE_ENTRY',
      `${where}${entry} ${context.linkOf === undefined ? 'has' : 'is'} an absolute name`,
      {
        hint: 'refusing an archive whose entries could land outside the root; create it with relative names (tar -C ROOT -czf image.tar.gz .)',
      },
    );
  }
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new UsageError('TAR_UNSAFE_ENTRY', `${where}${entry} contains ".."`, {
      hint: 'refusing an archive whose entries could land outside the root',
    });
  }
  return `/${parts.join('/')}`;
}

const SPECIAL_KINDS: Partial<Record<Header['type'] & string, FileKind>> = {
  'character-device': 'char-device',
  'block-device': 'block-device',
  fifo: 'fifo',
};

const PREFIX = 'goldgate-tar-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes extractions left behind by goldgate processes that were killed (kill -9 skips every cleanup). */
export function removeStaleExtractions(workDir: string = tmpdir()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(workDir)) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (match === null || alive(Number(match[1]))) continue;
    rmSync(join(workDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

export interface Extraction {
  /** Host directory holding the archive's tree. */
  root: string;
  /** Entries known by metadata only: devices, FIFOs, files not written out (yet). */
  phantoms: Map<string, FileInfo>;
  /** Writes a phantom regular file out of the archive now (see DirRootFsOptions.fetch). */
  fetch(path: string): boolean | string;
  /** Bytes written to disk so far (first pass and fetches). */
  written(): number;
  /** Removes the extraction. */
  cleanup(): Promise<void>;
}

/** Where a not-yet-written regular file's content lies in the uncompressed tar stream. */
interface Position {
  offset: number;
  size: number;
  mode: number;
  mtime: number;
}

type EntryStream = AsyncIterable<Buffer> & { resume(): unknown };

/** What an fs error means for an entry, without naming the private extraction directory. */
function entryError(archive: string, name: string, error: NodeJS.ErrnoException): UsageError {
  const why =
    error.code === 'ENAMETOOLONG'
      ? 'its name is too long (or too deep) to be extracted'
      : `it cannot be extracted (${error.code ?? error.message})`;
  return new UsageError('TAR_UNEXTRACTABLE', `${archive}: tar entry "${shownName(name)}": ${why}`, {
    hint: 'give the root filesystem as a directory instead, or an archive without such entries',
    cause: error,
  });
}

/**
 * Streams a tar or tar.gz (detected by content) once into a private directory: entries with
 * `..` or absolute names refuse the whole archive, nothing is ever written through a symlink,
 * device files and FIFOs are recorded but never created, ownership and set-id bits are dropped.
 * Every entry's metadata is kept; only likely-read files are written (all with `content: 'all'`),
 * the others are phantoms until `fetch` writes them. Caps on bytes written and entries, and the
 * free space of the work directory, are checked before each write.
 */
export async function extractTar(archive: string, options: TarOptions = {}): Promise<Extraction> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_BYTES;
  const lazy = (options.content ?? 'lazy') === 'lazy';
  const workDir = options.workDir ?? tmpdir();
  const archiveBytes = statSync(archive).size;
  const budget = extractBudget({
    archive,
    dir: workDir,
    limits: options.limits ?? extractLimits(archiveBytes),
    ...(options.statfs === undefined ? {} : { statfs: options.statfs }),
  });
  const compression: Compression = (await isGzipFile(archive)) ? 'gzip' : 'none';
  removeStaleExtractions(workDir);
  const dir = mkdtempSync(join(workDir, `${PREFIX}${process.pid}-`));
  const root = join(dir, 'root');
  mkdirSync(root);
  const phantoms = new Map<string, FileInfo>();
  const positions = new Map<string, Position>();
  // Directories this extraction made itself: writing below them can never go through a symlink.
  const realDirs = new Set<string>(['/']);
  const dirTimes: Array<[string, number]> = [];

  const host = (imagePath: string): string => join(root, imagePath);

  function ensureDir(imagePath: string): void {
    if (realDirs.has(imagePath)) return;
    ensureDir(posix.dirname(imagePath));
    const existing = lstatSync(host(imagePath), { throwIfNoEntry: false });
    if ((existing !== undefined && !existing.isDirectory()) || phantoms.has(imagePath)) {
      throw new UsageError(
        'TAR_UNSAFE_ENTRY',
        `${archive}: tar entries are written below "${shownName(imagePath)}", which the archive made a ${existing?.isSymbolicLink() === true ? 'symlink' : 'file'}`,
        {
          hint: 'refusing an archive that writes through a link it created',
        },
      );
    }
    if (existing === undefined) mkdirSync(host(imagePath), { mode: 0o755 });
    realDirs.add(imagePath);
  }

  function clearSlot(imagePath: string): void {
    const existing = lstatSync(host(imagePath), { throwIfNoEntry: false });
    phantoms.delete(imagePath);
    positions.delete(imagePath);
    if (existing === undefined) return;
    if (existing.isDirectory()) {
      rmSync(host(imagePath), { recursive: true, force: true });
      for (const known of realDirs)
        if (known === imagePath || known.startsWith(`${imagePath}/`)) realDirs.delete(known);
      for (const known of [...phantoms.keys()])
        if (known.startsWith(`${imagePath}/`)) {
          phantoms.delete(known);
          positions.delete(known);
        }
    } else unlinkSync(host(imagePath));
  }

  async function writeFile(path: string, mode: number, mtime: number, stream: EntryStream): Promise<void> {
    const handle = await open(host(path), 'wx', mode);
    try {
      for await (const chunk of stream) await handle.write(chunk);
      // The archive's permission bits, not the umask's: as a phantom of the same file reports them.
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    utimesSync(host(path), mtime / 1000, mtime / 1000);
  }

  function placeHardLink(header: Header, path: string): void {
    const target = safeEntryPath(header.linkname ?? '', { archive, linkOf: header.name });
    // A hard link to a path the archive made a symlink would link the symlink itself; refuse anything but regular files.
    const targetStats = lstatSync(host(target), { throwIfNoEntry: false });
    const phantom = phantoms.get(target);
    if (phantom !== undefined && phantom.kind === 'file') {
      phantoms.set(path, { ...phantom, path, name: posix.basename(path) });
      const position = positions.get(target);
      if (position !== undefined) positions.set(path, position);
    } else if (phantom === undefined && targetStats?.isFile() === true) linkSync(host(target), host(path));
    else
      throw new UsageError(
        'TAR_UNSAFE_ENTRY',
        `${archive}: tar entry "${shownName(header.name)}" is a hard link to "${shownName(header.linkname ?? '')}", which is not a regular file in the archive`,
        { hint: 'refusing an archive whose hard links lead to links, directories or nothing' },
      );
  }

  async function writeEntry(header: Header, stream: EntryStream): Promise<void> {
    budget.entry();
    const path = safeEntryPath(header.name, { archive });
    const mtime = (header.mtime ?? new Date(0)).getTime();
    const mode = (header.mode ?? 0o644) & 0o777;
    if (path === '/') {
      stream.resume();
      return;
    }
    ensureDir(posix.dirname(path));
    const kind = header.type ?? 'file';
    if (kind === 'directory') {
      const existing = lstatSync(host(path), { throwIfNoEntry: false });
      if ((existing !== undefined && !existing.isDirectory()) || phantoms.has(path)) clearSlot(path);
      ensureDir(path);
      dirTimes.push([path, mtime]);
      stream.resume();
      return;
    }
    clearSlot(path);
    if (kind === 'file' || kind === 'contiguous-file') {
      const size = header.size ?? 0;
      const sparse = Object.keys(header.pax ?? {}).some((key) => key.startsWith('GNU.sparse'));
      if (size <= maxFileBytes && (!lazy || sparse || isLikelyRead(path, size, mode))) {
        budget.reserve(size);
        await writeFile(path, mode, mtime, stream);
        return;
      }
      phantoms.set(path, { path, name: posix.basename(path), kind: 'file', size, mode, mtimeMs: mtime });
      // tar-stream records where an entry's data starts in the uncompressed stream.
      const offset = (header as Header & { byteOffset?: unknown }).byteOffset;
      if (size <= maxFileBytes && typeof offset === 'number')
        positions.set(path, { offset, size, mode, mtime });
      for await (const _chunk of stream) void _chunk;
      return;
    }
    stream.resume();
    if (kind === 'symlink') {
      symlinkSync(header.linkname ?? '', host(path));
      lutimesSync(host(path), mtime / 1000, mtime / 1000);
    } else if (kind === 'link') {
      placeHardLink(header, path);
    } else {
      const special = SPECIAL_KINDS[kind];
      if (special !== undefined)
        phantoms.set(path, {
          path,
          name: posix.basename(path),
          kind: special,
          size: 0,
          mode,
          mtimeMs: mtime,
        });
      // pax headers and other metadata-only entries carry nothing to place.
    }
  }

  /**
   * The files fetched with `path`: for a tar.gz, whose every fetch is a pass over the archive,
   * also its small phantom siblings (readers tend to read a directory's files together, and
   * tar keeps them together), as far as the caps and the disk allow.
   */
  function batchOf(path: string, position: Position): string[] {
    if (compression !== 'gzip') {
      budget.reserve(position.size);
      return [path];
    }
    const prefix = `${posix.dirname(path)}/`.replace('//', '/');
    const siblings = [...positions.entries()]
      .filter(
        ([other, at]) =>
          other !== path &&
          other.startsWith(prefix) &&
          !other.slice(prefix.length).includes('/') &&
          at.size <= INLINE_MAX_BYTES,
      )
      .slice(0, MAX_SIBLINGS)
      .map(([other]) => other);
    const extra = siblings.reduce((sum, other) => sum + (positions.get(other)?.size ?? 0), 0);
    // The siblings are a bonus: past a cap or the free space, the file alone is fetched (or refused).
    try {
      budget.reserve(position.size + extra);
      return [path, ...siblings];
    } catch {
      budget.reserve(position.size);
      return [path];
    }
  }

  function fetch(path: string): boolean | string {
    const position = positions.get(path);
    if (position === undefined) return false;
    const batch = batchOf(path, position);
    try {
      fetchRanges(
        archive,
        compression,
        batch.map((each) => ({ ...(positions.get(each) as Position), out: host(each) })),
      );
      for (const each of batch) {
        const at = positions.get(each) as Position;
        chmodSync(host(each), at.mode);
        utimesSync(host(each), at.mtime / 1000, at.mtime / 1000);
      }
    } catch (error) {
      for (const each of batch) rmSync(host(each), { force: true });
      const failure = budget.spaceError(error);
      if (failure !== error) throw failure;
      return `could not be read from the archive: ${(error as Error).message}`;
    }
    for (const each of batch) {
      positions.delete(each);
      phantoms.delete(each);
    }
    return true;
  }

  const cleanup = async (): Promise<void> => rm(dir, { recursive: true, force: true });
  // The first entry's failure is the one to report: the streams torn down after it fail too.
  let entryFailure: Error | undefined;
  try {
    const extractor = extract();
    extractor.on('entry', (header, stream, next) => {
      writeEntry(header, stream as unknown as EntryStream).then(
        () => next(),
        (error: unknown) => {
          // next(error) destroys the entry's stream with the error too: the pipeline reports it once.
          stream.on('error', () => undefined);
          stream.resume();
          const failure = budget.spaceError(error);
          entryFailure ??= (
            failure !== error ||
            error instanceof GoldgateError ||
            (error as NodeJS.ErrnoException).code === undefined
              ? failure
              : entryError(archive, header.name, error as NodeJS.ErrnoException)
          ) as Error;
          next(entryFailure);
        },
      );
    });
    const source = createReadStream(archive);
    if (compression === 'gzip') await pipeline(source, createGunzip(), extractor);
    else await pipeline(source, extractor);
    for (const [path, mtime] of dirTimes.reverse()) utimesSync(host(path), mtime / 1000, mtime / 1000);
  } catch (caught) {
    await cleanup();
    const error = entryFailure ?? caught;
    if (error instanceof GoldgateError) throw error;
    const failure = budget.spaceError(error);
    if (failure !== error) throw failure;
    throw new UsageError(
      'TAR_UNREADABLE',
      `${archive} is not a readable tar archive: ${(error as Error).message}`,
      {
        hint: 'give a root filesystem directory, a .tar or a .tar.gz',
        cause: error,
      },
    );
  }
  return { root, phantoms, fetch, written: () => budget.written, cleanup };
}

/** Opens a tar or tar.gz as a RootFs (see extractTar); `close()` removes the extraction. */
export async function openTarRootFs(archive: string, options: TarOptions = {}): Promise<RootFs> {
  const { root, phantoms, fetch, cleanup } = await extractTar(archive, options);
  return openDirRootFs(root, { label: `tar:${archive}`, phantoms, fetch, onClose: cleanup });
}
