import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  realpathSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { GoldgateError } from '../core/errors.js';
import { DEFAULT_MAX_BYTES } from './types.js';
import { hostOf, walkImagePath } from './walk.js';
import type { FileInfo, FileKind, ReadOptions, RootFs, RootFsProblem } from './types.js';

/** Raised inside the resolver; turned into a recorded problem by the public methods. */
class ResolveError extends GoldgateError {
  constructor(path: string, reason: string) {
    super('ROOTFS_UNREADABLE', `${path}: ${reason}`, { fault: 'user' });
  }
}

export interface DirRootFsOptions {
  label?: string;
  /**
   * Entries known by metadata only (device files, FIFOs, oversized files of a tarball that
   * were never written out). They answer lstat/readdir but are never opened.
   */
  phantoms?: Map<string, FileInfo>;
  /**
   * Writes a phantom regular file to its place under the root when a reader asks for its
   * bytes (a tarball's files are extracted on demand): true when it is there now, false when
   * it can never be read, or the reason it could not be (recorded as a problem). Throws a
   * GoldgateError when reading must stop (an extraction cap, a full disk).
   */
  fetch?: (path: string) => boolean | string;
  onClose?: () => Promise<void>;
  /**
   * Use the root as given instead of its real path: for `/proc/<pid>/root`, the root of a
   * process in another mount namespace, whose real path names a directory of that namespace.
   */
  keepRoot?: boolean;
}

/** Normalise any path to an absolute in-image path; `..` cannot climb above `/`. */
export function normalizeImagePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function kindOf(stats: Stats): FileKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isCharacterDevice()) return 'char-device';
  if (stats.isBlockDevice()) return 'block-device';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  return 'unknown';
}

/**
 * A root filesystem in a host directory, read as if chrooted: each path is resolved one
 * component at a time with lstat, symlinks are expanded by this code (absolute targets
 * restart at the image's root), so no host path outside the root is ever touched.
 */
export function openDirRootFs(rootDir: string, options: DirRootFsOptions = {}): RootFs {
  const root = options.keepRoot === true ? rootDir.replace(/\/+$/, '') : realpathSync(rootDir);
  const phantoms = options.phantoms ?? new Map<string, FileInfo>();
  const problems: RootFsProblem[] = [];
  // Directories resolve the same way every time while the image is read: cache them.
  const dirCache = new Map<string, string | null>();
  let closed = false;

  const host = (imagePath: string): string => hostOf(root, imagePath);

  function lstatHost(imagePath: string): Stats | undefined {
    return lstatSync(host(imagePath), { throwIfNoEntry: false });
  }

  /** Resolve to a symlink-free in-image path; undefined when something on the way is missing. */
  function resolvePath(path: string, followLast: boolean): string | undefined {
    const walked = walkImagePath(root, path, {
      followLast,
      cache: dirCache,
      phantom: (candidate) => phantoms.has(candidate),
    });
    if (walked.ok) return walked.stats !== undefined || walked.phantom === true ? walked.path : undefined;
    if (walked.reason === 'loop')
      throw new ResolveError(normalizeImagePath(path), `too many levels of symbolic links (loop?)`);
    return undefined;
  }

  function guard<T>(path: string, fallback: T, fn: () => T): T {
    if (closed) throw new GoldgateError('ROOTFS_CLOSED', `${options.label ?? root} was closed`);
    try {
      return fn();
    } catch (error) {
      // A cap or a full disk met while extracting on demand stops the reading, as it would have stopped the extraction.
      if (error instanceof GoldgateError && !(error instanceof ResolveError)) throw error;
      const reason =
        error instanceof ResolveError
          ? error.message.slice(error.message.indexOf(': ') + 2)
          : ((error as NodeJS.ErrnoException).code ?? String(error));
      problems.push({ path: normalizeImagePath(path), reason });
      return fallback;
    }
  }

  function info(imagePath: string): FileInfo | undefined {
    const phantom = phantoms.get(imagePath);
    if (phantom !== undefined) return phantom;
    const stats = lstatHost(imagePath);
    if (stats === undefined) return undefined;
    const kind = kindOf(stats);
    const result: FileInfo = {
      path: imagePath,
      name: posix.basename(imagePath) || '/',
      kind,
      size: stats.size,
      mode: stats.mode & 0o7777,
      mtimeMs: stats.mtimeMs,
    };
    if (kind === 'symlink') result.target = readlinkSync(host(imagePath), 'utf8');
    return result;
  }

  function readBytes(path: string, maxBytes: number): Buffer | undefined {
    const resolved = resolvePath(path, true);
    if (resolved === undefined) return undefined;
    const meta = info(resolved);
    if (meta === undefined) return undefined;
    if (meta.kind !== 'file') throw new ResolveError(path, `is a ${meta.kind}, not a regular file`);
    if (meta.size > maxBytes)
      throw new ResolveError(path, `${meta.size} bytes, larger than the read limit of ${maxBytes}`);
    if (phantoms.has(resolved)) {
      const fetched = options.fetch?.(resolved) ?? false;
      if (typeof fetched === 'string') throw new ResolveError(path, fetched);
      if (!fetched) throw new ResolveError(path, `${meta.size} bytes, larger than the read limit`);
    }
    // O_NOFOLLOW and O_NONBLOCK: if the file was swapped for a symlink or FIFO since lstat, fail instead of following or hanging.
    const fd = openSync(host(resolved), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) throw new ResolveError(path, 'is not a regular file');
      const size = Math.min(stats.size, maxBytes);
      const buffer = Buffer.alloc(size);
      let offset = 0;
      while (offset < size) {
        const n = readSync(fd, buffer, offset, size - offset, offset);
        if (n === 0) break;
        offset += n;
      }
      return buffer.subarray(0, offset);
    } finally {
      closeSync(fd);
    }
  }

  const fs: RootFs = {
    label: options.label ?? `dir:${root}`,
    problems,
    resolve: (path) => guard(path, undefined, () => resolvePath(path, true)),
    lstat: (path) =>
      guard(path, undefined, () => {
        const resolved = resolvePath(path, false);
        return resolved === undefined ? undefined : info(resolved);
      }),
    stat: (path) =>
      guard(path, undefined, () => {
        const resolved = resolvePath(path, true);
        return resolved === undefined ? undefined : info(resolved);
      }),
    readlink: (path) =>
      guard(path, undefined, () => {
        const resolved = resolvePath(path, false);
        return resolved === undefined ? undefined : info(resolved)?.target;
      }),
    readdir: (path) =>
      guard(path, [], () => {
        const resolved = resolvePath(path, true);
        if (resolved === undefined || phantoms.has(resolved)) return [];
        const stats = lstatHost(resolved);
        if (stats === undefined || !stats.isDirectory()) return [];
        const prefix = resolved === '/' ? '/' : `${resolved}/`;
        const names = readdirSync(host(resolved));
        for (const phantom of phantoms.keys()) {
          if (phantom.startsWith(prefix) && !phantom.slice(prefix.length).includes('/'))
            names.push(phantom.slice(prefix.length));
        }
        return [...new Set(names)]
          .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
          .map((name) => info(prefix + name))
          .filter((entry): entry is FileInfo => entry !== undefined);
      }),
    readFile: (path, opts?: ReadOptions) =>
      guard(path, undefined, () => readBytes(path, opts?.maxBytes ?? DEFAULT_MAX_BYTES)),
    readText: (path, opts?: ReadOptions) =>
      guard(path, undefined, () => readBytes(path, opts?.maxBytes ?? DEFAULT_MAX_BYTES)?.toString('utf8')),
    exists: (path) => guard(path, false, () => resolvePath(path, true) !== undefined),
    close: async () => {
      if (closed) return;
      closed = true;
      await options.onClose?.();
    },
  };
  return fs;
}
