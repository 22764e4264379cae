/** What kind of thing a path is inside the image. Device files, FIFOs and sockets are never opened. */
export type FileKind =
  'file' | 'dir' | 'symlink' | 'char-device' | 'block-device' | 'fifo' | 'socket' | 'unknown';

export interface FileInfo {
  /** Absolute path inside the image, normalised (`/etc/apt/apt.conf.d/20auto-upgrades`). */
  path: string;
  /** Last component of `path`. */
  name: string;
  kind: FileKind;
  size: number;
  /** Permission bits (`0o755`), without the file type. */
  mode: number;
  mtimeMs: number;
  /** For symlinks: the link text as stored, not resolved. */
  target?: string;
}

/** Why a path could not be read; kept as a value so one bad file never stops an audit. */
export interface RootFsProblem {
  path: string;
  reason: string;
}

/**
 * A root filesystem read as if chrooted into it: every path is inside the image,
 * symlinks (absolute or relative) resolve inside the root, `..` stops at `/`.
 */
export interface RootFs {
  /** What was opened, for messages (`dir:/srv/images/web` or `tar:web.tar.gz`). */
  readonly label: string;
  /** Problems met while reading (loops, unreadable or oversized files), in the order met. */
  readonly problems: RootFsProblem[];
  /** The final, symlink-free path a path leads to inside the image, or undefined if it does not exist. */
  resolve(path: string): string | undefined;
  /** Information about the path itself (a symlink is reported as a symlink). */
  lstat(path: string): FileInfo | undefined;
  /** Information about what the path leads to, following symlinks inside the image. */
  stat(path: string): FileInfo | undefined;
  /** The text of a symlink, or undefined if the path is not a symlink. */
  readlink(path: string): string | undefined;
  /** Entries of a directory sorted by name (byte order), without following them; [] when it is not a directory. */
  readdir(path: string): FileInfo[];
  /** The bytes of a regular file (after following symlinks), at most `maxBytes`; undefined when it is missing or unreadable (recorded in `problems`). */
  readFile(path: string, options?: ReadOptions): Buffer | undefined;
  /** Like readFile, decoded as UTF-8. */
  readText(path: string, options?: ReadOptions): string | undefined;
  /** Whether the path leads to something (following symlinks). */
  exists(path: string): boolean;
  /** Releases what opening the image took (a tarball's extraction). Safe to call twice. */
  close(): Promise<void>;
}

export interface ReadOptions {
  /** Larger files are not read: a problem is recorded. Default 8 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
/** Linux's own limit on symlinks followed while resolving one path. */
export const MAX_SYMLINK_HOPS = 40;
