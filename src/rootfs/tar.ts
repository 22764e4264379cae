import {
  createReadStream,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { linkSync, lutimesSync, symlinkSync, utimesSync } from 'node:fs';
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

export interface TarOptions {
  /** Regular files larger than this are not written out: they are known by size only and never read. */
  maxFileBytes?: number;
  /** Where the extraction goes (a fresh directory is made inside). Default: the OS temporary directory. */
  workDir?: string;
}

/** A tar entry's name as an in-image path, or an error when it would land outside the root. */
export function safeEntryPath(name: string): string {
  if (name.startsWith('/')) {
    throw new UsageError('TAR_UNSAFE_ENTRY', `tar entry "${name}" has an absolute name`, {
      hint: 'refusing an archive whose entries could land outside the root; create it with relative names (tar -C ROOT -czf image.tar.gz .)',
    });
  }
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new UsageError('TAR_UNSAFE_ENTRY', `tar entry "${name}" contains ".."`, {
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
  /** Entries known by metadata only: devices, FIFOs, files over the bound. */
  phantoms: Map<string, FileInfo>;
  /** Removes the extraction. */
  cleanup(): Promise<void>;
}

/**
 * Streams a tar or tar.gz (detected by content) once into a private directory: entries with
 * `..` or absolute names refuse the whole archive, nothing is ever written through a symlink,
 * device files and FIFOs are recorded but never created, ownership and set-id bits are dropped.
 */
export async function extractTar(archive: string, options: TarOptions = {}): Promise<Extraction> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_BYTES;
  const workDir = options.workDir ?? tmpdir();
  removeStaleExtractions(workDir);
  const dir = mkdtempSync(join(workDir, `${PREFIX}${process.pid}-`));
  const root = join(dir, 'root');
  mkdirSync(root);
  const phantoms = new Map<string, FileInfo>();
  // Directories this extraction made itself: writing below them can never go through a symlink.
  const realDirs = new Set<string>(['/']);
  const dirTimes: Array<[string, number]> = [];

  const host = (imagePath: string): string => join(root, imagePath);

  function ensureDir(imagePath: string): void {
    if (realDirs.has(imagePath)) return;
    ensureDir(posix.dirname(imagePath));
    const existing = lstatSync(host(imagePath), { throwIfNoEntry: false });
    if (existing !== undefined && !existing.isDirectory()) {
      throw new UsageError(
        'TAR_UNSAFE_ENTRY',
        `tar entries are written below "${imagePath}", which the archive made a ${existing.isSymbolicLink() ? 'symlink' : 'file'}`,
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
    if (existing === undefined) return;
    if (existing.isDirectory()) {
      rmSync(host(imagePath), { recursive: true, force: true });
      for (const known of realDirs)
        if (known === imagePath || known.startsWith(`${imagePath}/`)) realDirs.delete(known);
    } else unlinkSync(host(imagePath));
  }

  async function writeEntry(
    header: Header,
    stream: AsyncIterable<Buffer> & { resume(): unknown },
  ): Promise<void> {
    const path = safeEntryPath(header.name);
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
      if (existing !== undefined && !existing.isDirectory()) clearSlot(path);
      ensureDir(path);
      dirTimes.push([path, mtime]);
      stream.resume();
      return;
    }
    clearSlot(path);
    if (kind === 'file' || kind === 'contiguous-file') {
      const size = header.size ?? 0;
      if (size > maxFileBytes) {
        phantoms.set(path, { path, name: posix.basename(path), kind: 'file', size, mode, mtimeMs: mtime });
        for await (const _chunk of stream) void _chunk;
        return;
      }
      const handle = await open(host(path), 'wx', mode);
      try {
        for await (const chunk of stream) await handle.write(chunk);
      } finally {
        await handle.close();
      }
      utimesSync(host(path), mtime / 1000, mtime / 1000);
      return;
    }
    stream.resume();
    if (kind === 'symlink') {
      symlinkSync(header.linkname ?? '', host(path));
      lutimesSync(host(path), mtime / 1000, mtime / 1000);
    } else if (kind === 'link') {
      const target = safeEntryPath(header.linkname ?? '');
      // A hard link to a path the archive made a symlink would link the symlink itself; refuse anything but regular files.
      const targetStats = lstatSync(host(target), { throwIfNoEntry: false });
      if (phantoms.has(target))
        phantoms.set(path, { ...(phantoms.get(target) as FileInfo), path, name: posix.basename(path) });
      else if (targetStats?.isFile() === true) linkSync(host(target), host(path));
      else
        throw new UsageError(
          'TAR_UNSAFE_ENTRY',
          `tar entry "${header.name}" is a hard link to "${header.linkname}", which is not a regular file in the archive`,
        );
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

  const cleanup = async (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const extractor = extract();
    extractor.on('entry', (header, stream, next) => {
      writeEntry(header, stream as unknown as AsyncIterable<Buffer> & { resume(): unknown }).then(
        () => next(),
        (error: unknown) => {
          stream.resume();
          next(error as Error);
        },
      );
    });
    const source = createReadStream(archive);
    if (await isGzipFile(archive)) await pipeline(source, createGunzip(), extractor);
    else await pipeline(source, extractor);
    for (const [path, mtime] of dirTimes.reverse()) utimesSync(host(path), mtime / 1000, mtime / 1000);
  } catch (error) {
    await cleanup();
    if (error instanceof GoldgateError) throw error;
    throw new UsageError(
      'TAR_UNREADABLE',
      `${archive} is not a readable tar archive: ${(error as Error).message}`,
      {
        hint: 'give a root filesystem directory, a .tar or a .tar.gz',
        cause: error,
      },
    );
  }
  return { root, phantoms, cleanup };
}

/** Opens a tar or tar.gz as a RootFs (see extractTar); `close()` removes the extraction. */
export async function openTarRootFs(archive: string, options: TarOptions = {}): Promise<RootFs> {
  const { root, phantoms, cleanup } = await extractTar(archive, options);
  return openDirRootFs(root, { label: `tar:${archive}`, phantoms, onClose: cleanup });
}
