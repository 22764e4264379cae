import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { writeAll } from '../core/atomic-write.js';
import { UsageError } from '../core/errors.js';
import { normalizeImagePath } from './dir.js';
import { hostOf, walkImagePath } from './walk.js';

/** Mode and owner a created directory or written file gets. */
export interface Ownership {
  mode: number;
  uid: number;
  gid: number;
}

export interface WriteOptions {
  /** Permission bits; default those of the regular file being replaced, else 0644. */
  mode?: number;
  /** Numeric owner; default that of the regular file being replaced, else the writer's. */
  uid?: number;
  gid?: number;
  /** Access and modification time of the written file. */
  mtime?: Date;
  /**
   * A symlink at the path is replaced by the file (default: written beside and renamed over
   * it, never written through), or refused with a UsageError naming the path.
   */
  onSymlink?: 'replace' | 'refuse';
}

export interface MkdirOptions {
  /** Mode of each directory created (default 0755); `like` wins where it answers. */
  mode?: number;
  /** Mode and owner for a directory created at this in-image path (mirroring another layer). */
  like?: (imagePath: string) => Ownership | undefined;
  /** Collects the in-image paths of the directories created, parents first. */
  created?: string[];
}

/**
 * Writes into an image's root filesystem, confined to it. Every path is resolved one
 * component at a time exactly as the reader does (`walkImagePath`: symlinks expanded inside
 * the root, absolute targets restart at the image's root, `..` stops at `/`), so a link in
 * the image never leads a write onto the host. Missing directories are created inside the
 * root; the last component is never followed: a symlink there is replaced (or refused), a
 * directory refused. Files are written beside their path (`O_CREAT|O_EXCL|O_NOFOLLOW`) and
 * renamed into place. Refusals are UsageErrors naming the in-image path.
 */
export interface RootWriter {
  /** The real host path of the image's root. */
  readonly root: string;
  /** mkdir -p inside the image (links on the way followed inside it); the host path of the directory. */
  mkdirp(imagePath: string, options?: MkdirOptions): string;
  /**
   * An empty directory just made by this writer at the path (whatever was there removed
   * without following it), every directory above it a real one inside the root: a host
   * path safe to hand to a tool that writes into a directory (`cp -a`).
   */
  freshDir(imagePath: string, mode?: number): string;
  writeFile(imagePath: string, data: string | Buffer, options?: WriteOptions): void;
  /** Copies a host file into the image (same rules as writeFile). */
  copyIn(hostFile: string, imagePath: string, options?: WriteOptions): void;
  /** Makes `imagePath` a symlink to `target` (unchanged when it already is); a directory there is refused. */
  symlink(imagePath: string, target: string): void;
  /** Removes a file, link or (with `recursive`) tree at the path; links are removed, never followed. */
  remove(imagePath: string, options?: { recursive?: boolean }): void;
  /** Moves an entry (not following it) to another path of the image; a directory at `to` is refused. */
  rename(from: string, to: string): void;
  /** lstat of the path itself (directories on the way resolved inside the image); undefined when missing. */
  lstat(imagePath: string): Stats | undefined;
}

export interface RootWriterOptions {
  /** Names the operation in messages: `files`, `fix`, `repositories`. */
  label?: string;
}

const HINT =
  "goldgate resolves the image's links inside the image and never writes through them to the host: correct the path in the image (or its parent image)";

/** Opens a writer confined to the root filesystem at `rootDir`. */
export function openRootWriter(rootDir: string, options: RootWriterOptions = {}): RootWriter {
  const root = realpathSync(rootDir);
  const label = options.label === undefined ? '' : `${options.label}: `;
  const host = (imagePath: string): string => hostOf(root, imagePath);

  function refuse(imagePath: string, reason: string): never {
    throw new UsageError('ROOTFS_WRITE_REFUSED', `${label}${imagePath} in the image: ${reason}`, {
      hint: HINT,
    });
  }

  function describe(at: string, reason: 'missing' | 'not-a-directory' | 'loop'): string {
    if (reason === 'loop') return `too many levels of symbolic links at ${at} (a loop?)`;
    if (reason === 'missing') return `${at} does not exist`;
    const kind = lstatSync(host(at), { throwIfNoEntry: false });
    return `${at} is ${kind === undefined ? 'missing' : 'not a directory'}`;
  }

  /** Sets mode and owner of a directory this writer just made, through a descriptor (no path followed). */
  function settle(imagePath: string, ownership: Ownership | undefined, mode: number): void {
    const fd = openSync(host(imagePath), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      if (ownership !== undefined) fchownSync(fd, ownership.uid, ownership.gid);
      fchmodSync(fd, ownership?.mode ?? mode);
    } finally {
      closeSync(fd);
    }
  }

  /** The symlink-free in-image path of a directory, made (with its parents) when missing. */
  function resolveDir(imagePath: string, options: MkdirOptions = {}, forPath?: string): string {
    const wanted = normalizeImagePath(imagePath);
    const walked = walkImagePath(root, wanted, {
      followLast: true,
      create: (candidate) => {
        const ownership = options.like?.(candidate);
        mkdirSync(host(candidate), { mode: 0o700 });
        settle(candidate, ownership, options.mode ?? 0o755);
        options.created?.push(candidate);
      },
    });
    if (!walked.ok) refuse(forPath ?? wanted, describe(walked.at, walked.reason));
    return walked.path;
  }

  /** The symlink-free in-image path of an existing directory, or undefined when it is missing. */
  function existingDir(imagePath: string, forPath: string): string | undefined {
    const walked = walkImagePath(root, imagePath, { followLast: true });
    if (!walked.ok) {
      if (walked.reason === 'loop') refuse(forPath, describe(walked.at, walked.reason));
      return undefined;
    }
    return walked.stats?.isDirectory() === true ? walked.path : undefined;
  }

  function split(imagePath: string): { path: string; dir: string; name: string } {
    const path = normalizeImagePath(imagePath);
    if (path === '/') refuse(imagePath, 'names the root itself, not a file');
    return { path, dir: posix.dirname(path), name: posix.basename(path) };
  }

  const inDir = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);
  const tempName = (): string => `.goldgate-tmp-${randomBytes(6).toString('hex')}`;

  /** Writes a file beside the path through `fill` and renames it over the path. */
  function place(imagePath: string, fill: (fd: number) => void, options: WriteOptions): void {
    const { path, dir, name } = split(imagePath);
    const resolvedDir = resolveDir(dir, {}, path);
    const target = inDir(resolvedDir, name);
    const existing = lstatSync(host(target), { throwIfNoEntry: false });
    if (existing?.isDirectory() === true) refuse(path, 'is a directory');
    if (existing?.isSymbolicLink() === true && options.onSymlink === 'refuse')
      refuse(path, `is a symbolic link (to ${readlinkSync(host(target), 'utf8')})`);
    const keep = existing?.isFile() === true ? existing : undefined;
    const temp = inDir(resolvedDir, tempName());
    const fd = openSync(
      host(temp),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      try {
        fill(fd);
        const uid = options.uid ?? keep?.uid;
        const gid = options.gid ?? keep?.gid;
        if (uid !== undefined || gid !== undefined) fchownSync(fd, uid ?? -1, gid ?? -1);
        // After chown, which clears set-id bits.
        fchmodSync(fd, options.mode ?? (keep === undefined ? 0o644 : keep.mode & 0o7777));
        if (options.mtime !== undefined) futimesSync(fd, options.mtime, options.mtime);
      } finally {
        closeSync(fd);
      }
      renameSync(host(temp), host(target));
    } catch (error) {
      rmSync(host(temp), { force: true });
      throw error;
    }
  }

  /** The in-image path of an existing entry (its directory resolved, itself not followed), or undefined. */
  function existingEntry(imagePath: string): { path: string; stats: Stats } | undefined {
    const { path: wanted, dir, name } = split(imagePath);
    const resolvedDir = existingDir(dir, wanted);
    if (resolvedDir === undefined) return undefined;
    const path = inDir(resolvedDir, name);
    const stats = lstatSync(host(path), { throwIfNoEntry: false });
    return stats === undefined ? undefined : { path, stats };
  }

  const writer: RootWriter = {
    root,
    mkdirp: (imagePath, options) => host(resolveDir(imagePath, options)),
    freshDir(imagePath, mode = 0o755) {
      writer.remove(imagePath, { recursive: true });
      const { path: wanted, dir, name } = split(imagePath);
      const path = inDir(resolveDir(dir, {}, wanted), name);
      mkdirSync(host(path), { mode: 0o700 });
      settle(path, undefined, mode);
      return host(path);
    },
    writeFile(imagePath, data, options = {}) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      place(imagePath, (fd) => writeAll(fd, bytes), options);
    },
    copyIn(hostFile, imagePath, options = {}) {
      place(
        imagePath,
        (fd) => {
          const source = openSync(hostFile, constants.O_RDONLY);
          try {
            const buffer = Buffer.alloc(1024 * 1024);
            for (;;) {
              const n = readSync(source, buffer, 0, buffer.length, null);
              if (n === 0) break;
              writeAll(fd, buffer.subarray(0, n));
            }
          } finally {
            closeSync(source);
          }
        },
        options,
      );
    },
    symlink(imagePath, target) {
      const { path, dir, name } = split(imagePath);
      const resolvedDir = resolveDir(dir, {}, path);
      const at = inDir(resolvedDir, name);
      const existing = lstatSync(host(at), { throwIfNoEntry: false });
      if (existing?.isDirectory() === true) refuse(path, 'is a directory');
      if (existing?.isSymbolicLink() === true && readlinkSync(host(at), 'utf8') === target) return;
      const temp = inDir(resolvedDir, tempName());
      symlinkSync(target, host(temp));
      try {
        renameSync(host(temp), host(at));
      } catch (error) {
        rmSync(host(temp), { force: true });
        throw error;
      }
    },
    remove(imagePath, options = {}) {
      const entry = existingEntry(imagePath);
      if (entry === undefined) return;
      if (!entry.stats.isDirectory()) unlinkSync(host(entry.path));
      // rm's recursion lstats each entry: links inside the tree are unlinked, never followed.
      else if (options.recursive === true) rmSync(host(entry.path), { recursive: true, force: true });
      else rmdirSync(host(entry.path));
    },
    rename(from, to) {
      const entry = existingEntry(from);
      if (entry === undefined) refuse(normalizeImagePath(from), 'does not exist');
      const { path, dir, name } = split(to);
      const target = inDir(resolveDir(dir, {}, path), name);
      if (lstatSync(host(target), { throwIfNoEntry: false })?.isDirectory() === true)
        refuse(path, 'is a directory');
      renameSync(host(entry.path), host(target));
    },
    lstat: (imagePath) => existingEntry(imagePath)?.stats,
  };
  return writer;
}
