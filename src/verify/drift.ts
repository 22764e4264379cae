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
  statSync,
  statfsSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { DpkgPackage } from '../debian/dpkg-status.js';
import { isPresent, parseDpkgStatus } from '../debian/dpkg-status.js';
import { compareDebianVersions } from '../debian/version.js';
import { openDirRootFs } from '../rootfs/dir.js';
import type { RootFs } from '../rootfs/types.js';
import { COPY_UP_UNCHANGED, matchNoise } from './noise.js';
import type {
  FileChangeKind,
  FileClass,
  FileDrift,
  InstanceDrift,
  NoiseDrift,
  PackageAction,
  PackageDrift,
} from './types.js';

export interface CollectDriftOptions {
  /** The image's root filesystem: the overlay's read-only lower layer. */
  lower: string;
  /** The instance's upper layer (`<home>/instances/<id>/upper`). */
  upper: string;
  /**
   * The live merged view of the overlay, while the instance runs (the lab mounts it in the
   * instance's own mount namespace: `/proc/<init pid>/root` reaches it from the host). With
   * it, lower entries hidden by an opaque directory are reported as removed; without it they
   * are not seen (Node cannot read the `trusted.overlay.opaque` xattr). Must be an overlay.
   */
  merged?: string;
  /**
   * A file present in both layers with the same size is compared byte by byte up to this
   * size; a larger one is reported as modified without reading it. Default 256 MiB.
   */
  maxCompareBytes?: number;
}

export const DEFAULT_MAX_COMPARE_BYTES = 256 * 1024 * 1024;
/** Deeper directories of the upper layer are reported but not entered (no image is this deep; the top of such a tree is always reported as added). */
export const MAX_DEPTH = 256;
const DB_MAX_BYTES = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const OVERLAYFS_SUPER_MAGIC = 0x794c7630;
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: a file swapped for a FIFO after lstat fails instead of hanging.
const O_FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const BINARY_TOPS = new Set(['usr', 'lib', 'lib32', 'lib64', 'libx32', 'bin', 'sbin', 'opt', 'boot']);
// merged /usr (Debian 12): these are symlinks into /usr, and dpkg lists name either side.
const USR_ALIASES = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const NON_ASCII = /[\u0080-\uffff]/;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/*
 * Paths inside the walk are "binary strings": one char per byte (latin1), as readdir gives
 * them with `encoding: 'latin1'`, so names that are not UTF-8 survive the round trip to the
 * file system. They become readable strings only for the report (`display`).
 */

/** A path relative to an open directory: `/proc/self/fd/N/name` is openat(2) for Node, immune to a parent swapped for a symlink. */
function at(fd: number, name: string): string | Buffer {
  const prefix = `/proc/self/fd/${fd}/`;
  return PRINTABLE_ASCII.test(name)
    ? prefix + name
    : Buffer.concat([Buffer.from(prefix), Buffer.from(name, 'latin1')]);
}

function hostPath(root: string, rel: string): string | Buffer {
  return PRINTABLE_ASCII.test(rel)
    ? root + rel
    : Buffer.concat([Buffer.from(root), Buffer.from(rel, 'latin1')]);
}

/** UTF-8 names as they are (newlines included: JSON escapes them); bytes that are not UTF-8 as `\xNN`. */
export function displayPath(rel: string): string {
  if (rel === '') return '/';
  if (!NON_ASCII.test(rel)) return rel;
  const bytes = Buffer.from(rel, 'latin1');
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    let out = '';
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i] as number;
      const len =
        b < 0x80
          ? 1
          : b >= 0xc2 && b <= 0xdf
            ? 2
            : b >= 0xe0 && b <= 0xef
              ? 3
              : b >= 0xf0 && b <= 0xf4
                ? 4
                : 0;
      if (len > 0 && i + len <= bytes.length) {
        try {
          out += fatalUtf8.decode(bytes.subarray(i, i + len));
          i += len;
          continue;
        } catch {
          // not a valid sequence: escape its first byte
        }
      }
      out += `\\x${b.toString(16).padStart(2, '0')}`;
      i += 1;
    }
    return out;
  }
}

function tryLstat(path: string | Buffer): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    // ENAMETOOLONG, ENOTDIR, ELOOP: nothing readable there.
    return undefined;
  }
}

function tryOpen(path: string | Buffer, flags: number): number {
  try {
    return openSync(path, flags);
  } catch {
    return -1;
  }
}

function tryReaddir(path: string | Buffer): string[] {
  try {
    return readdirSync(path, { encoding: 'latin1' });
  } catch {
    return [];
  }
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

function kindOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

const metadataDiffers = (a: Stats, b: Stats): boolean =>
  (a.mode & 0o7777) !== (b.mode & 0o7777) || a.uid !== b.uid || a.gid !== b.gid;

/** Reads a regular file whole, at most `maxBytes`; undefined when it is not a readable regular file or is larger. */
function readRegular(path: string | Buffer, maxBytes: number): Buffer | undefined {
  const fd = tryOpen(path, O_FILE);
  if (fd < 0) return undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    const buffer = Buffer.allocUnsafe(st.size);
    let offset = 0;
    while (offset < st.size) {
      const n = readSync(fd, buffer, offset, st.size - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return buffer.subarray(0, offset);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Opens `root/a/b/c` one component at a time, never through a symlink; -1 when any is missing or not a directory. */
function openDirChain(root: string, parts: string[]): number {
  let fd = tryOpen(root, constants.O_RDONLY | constants.O_DIRECTORY);
  for (const part of parts) {
    if (fd < 0) return -1;
    const next = tryOpen(at(fd, part), O_DIR);
    closeSync(fd);
    fd = next;
  }
  return fd;
}

function fileClass(path: string): FileClass {
  const slash = path.indexOf('/', 1);
  const top = slash === -1 ? path.slice(1) : path.slice(1, slash);
  if (top === 'etc') return 'config';
  return BINARY_TOPS.has(top) ? 'binary' : 'data';
}

interface Frame {
  rel: string;
  name: string;
  parent: Frame | undefined;
  depth: number;
  lowerIsDir: boolean;
  fd: number;
  /** The same directory in the merged view, when opaque directories are looked for here; else -1. */
  mergedFd: number;
  /** The merged view may hide image entries here: compare its listing with the image's. */
  maybeOpaque: boolean;
  /** Child frames not finished yet: the directory stays open until they are (they are opened relative to it). */
  pending: number;
}

/** What the upper layer holds of dpkg's database, noted during the walk. */
interface DpkgInUpper {
  /** `var/lib/dpkg/status` in upper: its bytes, or null when it is there but unreadable, removed or not a file. */
  status: Buffer | null | undefined;
  /** Entries of `var/lib/dpkg/info` in upper that end in `.list`: true for a regular file, false for anything else (whiteouts). */
  lists: Map<string, boolean>;
  /** True when upper's info directory hides the image's (it replaced something that was not a directory). */
  listsReplaceImage: boolean;
}

/**
 * Reads an instance's drift from its overlay layers: walks the upper layer only (the cost
 * grows with what the instance changed, not with the image), compares each entry with the
 * image's, sorts the changes into noise (`noise.ts`) and config, binary or data drift, diffs
 * dpkg's status database, and names the package owning each config or binary path.
 *
 * Synchronous on purpose: the work is many small lstat/readdir/open calls, and the
 * synchronous API spares each a round trip through libuv's thread pool. It blocks the event
 * loop for its duration: milliseconds for a booted instance (bench/drift.mjs).
 *
 * The upper layer is hostile: nothing in it is followed (lstat only; every path is opened
 * relative to an already open directory with O_NOFOLLOW, so a directory swapped for a
 * symlink while the instance runs leads nowhere), only regular files are opened, and never
 * FIFOs or devices. Names that are not UTF-8 are reported with `\xNN` escapes.
 *
 * Overlay semantics: a character device 0/0 is a whiteout (the image's path was removed; a
 * removed directory is reported with everything it held). A directory that was removed and
 * made again is opaque: the image's entries under it are hidden. That is only visible
 * through `merged`; without it those entries are not reported. Assumes the lab's mount
 * options (no `metacopy`, no `redirect_dir`). File capabilities and other xattrs are not
 * compared.
 */
export function collectDrift(options: CollectDriftOptions): InstanceDrift {
  const upperRoot = resolve(options.upper);
  const maxCompare = options.maxCompareBytes ?? DEFAULT_MAX_COMPARE_BYTES;
  // The roots are the caller's: followed if they are links. Nothing below them is.
  const upperTop = statSync(upperRoot, { throwIfNoEntry: false });
  const lowerTop = statSync(resolve(options.lower), { throwIfNoEntry: false });
  if (upperTop === undefined || !upperTop.isDirectory())
    throw new UsageError('VERIFY_NO_UPPER', `${upperRoot} is not a directory: no upper layer to read`);
  if (lowerTop === undefined || !lowerTop.isDirectory())
    throw new UsageError('VERIFY_NO_LOWER', `${options.lower} is not a directory: no image to compare with`);
  const lowerRoot = realpathSync(resolve(options.lower));
  const upperFd = tryOpen(upperRoot, constants.O_RDONLY | constants.O_DIRECTORY);
  if (upperFd < 0) throw new UsageError('VERIFY_NO_UPPER', `${upperRoot} cannot be opened`);

  let mergedRootFd = -1;
  let mergedDev = -1;
  if (options.merged !== undefined) {
    const merged = resolve(options.merged);
    let type = -1;
    try {
      type = statfsSync(merged).type;
    } catch {
      // missing: reported below
    }
    if (type !== OVERLAYFS_SUPER_MAGIC) {
      closeSync(upperFd);
      throw new UsageError('VERIFY_MERGED_NOT_OVERLAY', `${merged} is not a mounted overlay`, {
        hint: "the lab mounts an instance's overlay in its own mount namespace: give /proc/<pid>/root of its running init",
      });
    }
    mergedRootFd = tryOpen(merged, constants.O_RDONLY | constants.O_DIRECTORY);
    if (mergedRootFd < 0) {
      closeSync(upperFd);
      throw new UsageError('VERIFY_MERGED_UNREADABLE', `${merged} cannot be opened as a directory`);
    }
    mergedDev = fstatSync(mergedRootFd).dev;
  }

  const changes: Array<{ rel: string; change: FileChangeKind }> = [];
  const unchanged: string[] = [];
  const dpkg: DpkgInUpper = { status: undefined, lists: new Map(), listsReplaceImage: false };
  let bufA: Buffer | undefined;
  let bufB: Buffer | undefined;

  const lowerPath = (rel: string): string | Buffer => hostPath(lowerRoot, rel);

  /** The image's path is gone from the instance: report it, and everything below it. */
  function removedFromImage(rel: string): void {
    const first = tryLstat(lowerPath(rel));
    if (first === undefined) return;
    changes.push({ rel, change: 'removed' });
    if (!first.isDirectory()) return;
    const dirs = [rel];
    for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
      for (const name of tryReaddir(lowerPath(dir))) {
        const child = `${dir}/${name}`;
        changes.push({ rel: child, change: 'removed' });
        if (tryLstat(lowerPath(child))?.isDirectory() === true) dirs.push(child);
      }
    }
  }

  function sameContent(dirFd: number, name: string, rel: string, size: number): boolean {
    if (size > maxCompare) return false;
    let a = -1;
    let b = -1;
    try {
      a = openSync(at(dirFd, name), O_FILE);
      b = openSync(lowerPath(rel), O_FILE);
      const sa = fstatSync(a);
      const sb = fstatSync(b);
      if (!sa.isFile() || !sb.isFile() || sa.size !== size || sb.size !== size) return false;
      const one = (bufA ??= Buffer.allocUnsafe(CHUNK));
      const two = (bufB ??= Buffer.allocUnsafe(CHUNK));
      for (let pos = 0; pos < size; pos += CHUNK) {
        const want = Math.min(CHUNK, size - pos);
        if (!readExactly(a, one, want, pos) || !readExactly(b, two, want, pos)) return false;
        if (one.compare(two, 0, want, 0, want) !== 0) return false;
      }
      return true;
    } catch {
      // Unreadable on either side: not proven the same.
      return false;
    } finally {
      if (a >= 0) closeSync(a);
      if (b >= 0) closeSync(b);
    }
  }

  /** Compares one non-directory entry present in both layers. */
  function compareEntry(dirFd: number, name: string, rel: string, st: Stats, low: Stats): void {
    const kind = kindOf(st);
    let modified = kind !== kindOf(low);
    if (!modified) {
      if (kind === 'file') modified = st.size !== low.size || !sameContent(dirFd, name, rel, st.size);
      else if (kind === 'symlink') {
        try {
          modified = !readlinkSync(at(dirFd, name), 'buffer').equals(readlinkSync(lowerPath(rel), 'buffer'));
        } catch {
          modified = true;
        }
      } else if (kind === 'char' || kind === 'block') modified = st.rdev !== low.rdev;
    }
    if (modified) changes.push({ rel, change: 'modified' });
    else if (metadataDiffers(st, low)) changes.push({ rel, change: 'metadata' });
    else unchanged.push(rel);
  }

  function noteDpkg(frame: Frame, name: string, st: Stats): void {
    if (frame.rel === '/var/lib/dpkg' && name === 'status') {
      dpkg.status = st.isFile() ? (readRegular(at(frame.fd, name), DB_MAX_BYTES) ?? null) : null;
    } else if (frame.rel === '/var/lib/dpkg/info' && name.endsWith('.list')) {
      dpkg.lists.set(name, st.isFile());
    }
  }

  function processFrame(frame: Frame): Frame[] {
    const names = tryReaddir(`/proc/self/fd/${frame.fd}`);
    const children: Frame[] = [];
    if (frame.rel === '/var/lib/dpkg/info') dpkg.listsReplaceImage = !frame.lowerIsDir;
    for (const name of names) {
      const rel = `${frame.rel}/${name}`;
      const st = tryLstat(at(frame.fd, name));
      if (st === undefined) continue;
      if (frame.rel.startsWith('/var/lib/dpkg')) noteDpkg(frame, name, st);
      if (isWhiteout(st)) {
        if (frame.lowerIsDir) removedFromImage(rel);
        continue;
      }
      const low = frame.lowerIsDir ? tryLstat(lowerPath(rel)) : undefined;
      if (st.isDirectory()) {
        if (low === undefined) changes.push({ rel, change: 'added' });
        else if (!low.isDirectory()) changes.push({ rel, change: 'modified' });
        else if (metadataDiffers(st, low)) changes.push({ rel, change: 'metadata' });
        if (frame.depth < MAX_DEPTH)
          children.push({
            rel,
            name,
            parent: frame,
            depth: frame.depth + 1,
            lowerIsDir: low?.isDirectory() === true,
            fd: -1,
            mergedFd: -1,
            maybeOpaque: false,
            pending: 0,
          });
      } else if (low === undefined) changes.push({ rel, change: 'added' });
      else compareEntry(frame.fd, name, rel, st, low);
    }
    if (frame.mergedFd >= 0 && frame.maybeOpaque) {
      // Opaque directories: image entries neither in upper nor visible in the merged view.
      const inUpper = new Set(names);
      const visible = new Set(tryReaddir(`/proc/self/fd/${frame.mergedFd}`));
      for (const name of tryReaddir(lowerPath(frame.rel))) {
        if (!inUpper.has(name) && !visible.has(name)) removedFromImage(`${frame.rel}/${name}`);
      }
    }
    return children;
  }

  function openFrame(frame: Frame): boolean {
    const parent = frame.parent as Frame;
    frame.fd = tryOpen(at(parent.fd, frame.name), O_DIR);
    if (frame.fd < 0) return false;
    if (parent.mergedFd >= 0 && frame.lowerIsDir) {
      frame.mergedFd = tryOpen(at(parent.mergedFd, frame.name), O_DIR);
      if (frame.mergedFd >= 0) {
        const st = fstatSync(frame.mergedFd);
        if (st.dev !== mergedDev) {
          // Another mount there (tmpfs on /run, a bind mount): the overlay is not visible through it.
          closeSync(frame.mergedFd);
          frame.mergedFd = -1;
        } else {
          // overlayfs reports one link for a directory merged with the image's; an opaque one
          // (or one only in upper) has its real count. Any other count costs two listings, never a miss.
          frame.maybeOpaque = st.nlink !== 1;
        }
      }
    }
    return true;
  }

  function finish(frame: Frame | undefined): void {
    for (let f = frame; f !== undefined && f.pending === 0;) {
      if (f.fd >= 0) closeSync(f.fd);
      if (f.mergedFd >= 0) closeSync(f.mergedFd);
      f.fd = -1;
      f.mergedFd = -1;
      const parent = f.parent;
      if (parent === undefined) break;
      parent.pending -= 1;
      f = parent;
    }
  }

  const root: Frame = {
    rel: '',
    name: '',
    parent: undefined,
    depth: 0,
    lowerIsDir: true,
    fd: upperFd,
    mergedFd: mergedRootFd,
    maybeOpaque: mergedRootFd >= 0 && fstatSync(mergedRootFd).nlink !== 1,
    pending: 0,
  };
  if (metadataDiffers(upperTop, lowerTop)) changes.push({ rel: '', change: 'metadata' });
  const stack: Frame[] = [root];
  let current: Frame | undefined;
  try {
    for (current = stack.pop(); current !== undefined; current = stack.pop()) {
      if (current !== root && !openFrame(current)) {
        finish(current);
        continue;
      }
      const children = processFrame(current);
      current.pending = children.length;
      // One at a time: a directory may hold more entries than a call takes arguments.
      for (const child of children) stack.push(child);
      finish(current);
    }
  } finally {
    // Only after an exception: on success every frame closed itself.
    for (const frame of current === undefined ? stack : [current, ...stack]) {
      for (let f: Frame | undefined = frame; f !== undefined; f = f.parent) {
        if (f.fd >= 0) closeSync(f.fd);
        if (f.mergedFd >= 0) closeSync(f.mergedFd);
        f.fd = -1;
        f.mergedFd = -1;
      }
    }
  }

  // The whole database removed: the instance's dpkg knows no package.
  if (
    dpkg.status === undefined &&
    changes.some((c) => c.rel === '/var/lib/dpkg/status' && c.change === 'removed')
  )
    dpkg.status = null;

  // Classify.
  const files: FileDrift[] = [];
  const noise: NoiseDrift[] = unchanged.map((rel) => ({
    path: displayPath(rel),
    change: 'metadata',
    rule: COPY_UP_UNCHANGED,
  }));
  const image = openDirRootFs(lowerRoot);
  const context = { cloudInit: image.exists('/usr/bin/cloud-init') };
  for (const { rel, change } of changes) {
    const path = displayPath(rel);
    const rule = matchNoise(path, context);
    if (rule !== undefined) noise.push({ path, change, rule });
    else files.push({ path, class: fileClass(path), change, package: null });
  }

  const packages = dpkg.status === undefined ? [] : diffPackages(image, dpkg.status);
  const owned = files.filter((f) => f.class !== 'data');
  if (owned.length > 0) attributePackages(owned, packages, image, lowerRoot, upperRoot, dpkg);

  files.sort((a, b) => compareText(a.path, b.path));
  noise.sort((a, b) => compareText(a.path, b.path) || compareText(a.rule, b.rule));
  return { packages, files, noise };
}

function readExactly(fd: number, buffer: Buffer, length: number, position: number): boolean {
  let offset = 0;
  while (offset < length) {
    const n = readSync(fd, buffer, offset, length - offset, position + offset);
    if (n === 0) return false;
    offset += n;
  }
  return true;
}

// Locale-independent, so the order is the same on every machine.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * dpkg writes one paragraph per package, separated by one empty line; the ones equal in both
 * files are the same package in the same state. Any other spacing only makes more
 * paragraphs differ, and those are parsed.
 */
function paragraphs(text: string): string[] {
  const list = text.split('\n\n');
  const last = list.length - 1;
  if (last >= 0) list[last] = (list[last] as string).replace(/\n+$/, '');
  return list;
}

/**
 * Packages whose dpkg status differs between the image and the instance. Only the paragraphs
 * that differ are parsed: dpkg rewrites the file keeping unchanged entries byte for byte.
 * A package counts while its files are on disk (`isPresent`: installed, or unpacked or
 * half-configured by an upgrade that stopped half-way); config-files means removed.
 * An unreadable instance database (`null`) counts as one without any package.
 */
function diffPackages(image: RootFs, upperStatus: Buffer | null): PackageDrift[] {
  const before = paragraphs(image.readText('/var/lib/dpkg/status', { maxBytes: DB_MAX_BYTES }) ?? '');
  const after = paragraphs(upperStatus === null ? '' : upperStatus.toString('utf8'));
  const beforeSet = new Set(before);
  const afterSet = new Set(after);
  const parse = (list: string[], other: Set<string>): Map<string, DpkgPackage> =>
    new Map(
      parseDpkgStatus(list.filter((p) => !other.has(p)).join('\n\n'))
        .packages.filter(isPresent)
        .map((pkg) => [`${pkg.name}:${pkg.architecture}`, pkg]),
    );
  const was = parse(before, afterSet);
  const now = parse(after, beforeSet);

  const drift: PackageDrift[] = [];
  const change = (from: DpkgPackage | undefined, to: DpkgPackage | undefined): void => {
    const action = actionOf(from, to);
    if (action === undefined) return;
    drift.push({
      name: (to ?? from)?.name ?? '',
      arch: (to ?? from)?.architecture || null,
      from: from?.version ?? null,
      to: to?.version ?? null,
      action,
    });
  };
  for (const [key, from] of was) {
    const to = now.get(key);
    if (to === undefined) continue;
    change(from, to);
    was.delete(key);
    now.delete(key);
  }
  // A package that became (or stopped being) Architecture: all keeps its name, not its key.
  const byName = (map: Map<string, DpkgPackage>): Map<string, DpkgPackage[]> => {
    const out = new Map<string, DpkgPackage[]>();
    for (const pkg of map.values()) out.set(pkg.name, [...(out.get(pkg.name) ?? []), pkg]);
    return out;
  };
  const nowByName = byName(now);
  for (const [name, [from, ...more]] of byName(was)) {
    const [to, ...others] = nowByName.get(name) ?? [];
    if (from === undefined || to === undefined || more.length > 0 || others.length > 0) continue;
    if (from.architecture !== 'all' && to.architecture !== 'all') continue;
    change(from, to);
    was.delete(`${name}:${from.architecture}`);
    now.delete(`${name}:${to.architecture}`);
  }
  for (const from of was.values()) change(from, undefined);
  for (const to of now.values()) change(undefined, to);
  return drift.sort((a, b) => compareText(a.name, b.name) || compareText(a.arch ?? '', b.arch ?? ''));
}

function actionOf(from: DpkgPackage | undefined, to: DpkgPackage | undefined): PackageAction | undefined {
  if (from === undefined) return to === undefined ? undefined : 'installed';
  if (to === undefined) return 'removed';
  if (from.version === to.version) return undefined;
  try {
    const order = compareDebianVersions(from.version, to.version);
    return order < 0 ? 'upgraded' : order > 0 ? 'downgraded' : undefined;
  } catch {
    // A version dpkg would refuse cannot be ordered; it still differs.
    return 'upgraded';
  }
}

/** dpkg's file lists as one side sees them: list file names (`name[:arch].list`), read on demand. */
interface ListView {
  /** Every list's name, sorted; listed only when a path is not found in the drifted packages' lists. */
  names(): string[];
  read(name: string): Buffer | undefined;
}

/**
 * Names the package owning each config or binary path: the instance's file lists (the
 * image's, with the upper layer's over them) for paths it has, the image's for removed
 * ones. Lists of the packages in the package drift are read first, and the others only for
 * paths those do not name; the first list naming a path owns it. Under merged /usr,
 * `/usr/bin/x` is also looked up as `/bin/x` and the other way round.
 */
function attributePackages(
  files: FileDrift[],
  packages: PackageDrift[],
  image: RootFs,
  lowerRoot: string,
  upperRoot: string,
  dpkg: DpkgInUpper,
): void {
  // The image's own symlinks resolved inside it, once: then each list is opened directly.
  const infoDir = image.resolve('/var/lib/dpkg/info');
  const lowerInfo = infoDir === undefined ? undefined : lowerRoot + infoDir;
  let imageNames: string[] | undefined;
  const imageCache = new Map<string, Buffer | undefined>();
  const imageView: ListView = {
    names() {
      imageNames ??=
        lowerInfo === undefined
          ? []
          : tryReaddir(lowerInfo)
              .filter((n) => n.endsWith('.list'))
              .sort();
      return imageNames;
    },
    read(name) {
      if (lowerInfo === undefined) return undefined;
      if (!imageCache.has(name))
        imageCache.set(name, readRegular(hostPath(lowerInfo, `/${name}`), DB_MAX_BYTES));
      return imageCache.get(name);
    },
  };
  let infoFd: number | undefined;
  const instanceView: ListView =
    dpkg.lists.size === 0 && !dpkg.listsReplaceImage
      ? imageView
      : {
          names() {
            const names = new Set(dpkg.listsReplaceImage ? [] : imageView.names());
            for (const [name, isFile] of dpkg.lists) {
              if (isFile) names.add(name);
              else names.delete(name);
            }
            return [...names].sort();
          },
          read(name) {
            const inUpper = dpkg.lists.get(name);
            if (inUpper === false || (inUpper === undefined && dpkg.listsReplaceImage)) return undefined;
            if (inUpper === undefined) return imageView.read(name);
            infoFd ??= openDirChain(upperRoot, ['var', 'lib', 'dpkg', 'info']);
            return infoFd < 0 ? undefined : readRegular(at(infoFd, name), DB_MAX_BYTES);
          },
        };
  const aliases = USR_ALIASES.filter((dir) => tryLstat(`${lowerRoot}/${dir}`)?.isSymbolicLink() === true);
  const first = packages.flatMap((p) => [
    `${p.name}.list`,
    ...(p.arch === null ? [] : [`${p.name}:${p.arch}.list`]),
  ]);
  try {
    assignOwners(
      files.filter((f) => f.change !== 'removed'),
      instanceView,
      first,
      aliases,
    );
    assignOwners(
      files.filter((f) => f.change === 'removed'),
      imageView,
      first,
      aliases,
    );
  } finally {
    if (infoFd !== undefined && infoFd >= 0) closeSync(infoFd);
  }
}

/** Whether a dpkg list (one path a line) names a path; `line` is `\npath\n`. */
function listNames(list: Buffer, line: Buffer): boolean {
  if (list.indexOf(line) !== -1) return true;
  // The first line, and a last line without its newline.
  const n = line.length - 2;
  if (list.length < n) return false;
  if (list.compare(line, 1, n + 1, 0, n) === 0 && (list.length === n || list[n] === 0x0a)) return true;
  return (
    list.length > n &&
    list[list.length - n - 1] === 0x0a &&
    list.compare(line, 1, n + 1, list.length - n) === 0
  );
}

function assignOwners(files: FileDrift[], view: ListView, first: string[], aliases: string[]): void {
  if (files.length === 0) return;
  /** Each name a path may have in a list (as `\nname\n` bytes), with the files waiting for it. */
  const wanted = new Map<string, { line: Buffer; files: FileDrift[] }>();
  const want = (name: string, file: FileDrift): void => {
    const entry = wanted.get(name);
    if (entry === undefined) wanted.set(name, { line: Buffer.from(`\n${name}\n`), files: [file] });
    else entry.files.push(file);
  };
  for (const file of files) {
    want(file.path, file);
    for (const dir of aliases) {
      if (file.path === `/usr/${dir}` || file.path.startsWith(`/usr/${dir}/`)) want(file.path.slice(4), file);
      else if (file.path === `/${dir}` || file.path.startsWith(`/${dir}/`)) want(`/usr${file.path}`, file);
    }
  }
  let left = files.length;
  const own = (name: string, pkg: string): void => {
    for (const file of wanted.get(name)?.files ?? []) {
      if (file.package !== null) continue;
      file.package = pkg;
      left -= 1;
    }
    wanted.delete(name);
  };
  const search = (list: string): void => {
    const bytes = view.read(list);
    if (bytes === undefined) return;
    const pkg = list.slice(0, -'.list'.length).split(':')[0] ?? '';
    // A few paths: a byte search each. Many (a removed tree): one pass over the lines.
    if (wanted.size <= 32) {
      for (const [name, { line }] of [...wanted]) if (listNames(bytes, line)) own(name, pkg);
    } else {
      for (const line of bytes.toString('utf8').split('\n')) if (wanted.has(line)) own(line, pkg);
    }
  };
  const searched = new Set<string>();
  for (const list of first) {
    if (left === 0) return;
    searched.add(list);
    search(list);
  }
  for (const list of view.names()) {
    if (left === 0) return;
    if (!searched.has(list)) search(list);
  }
}
