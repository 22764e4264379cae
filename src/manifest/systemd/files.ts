import { posix } from 'node:path';
import { normalizeImagePath } from '../../rootfs/dir.js';
import type { FileInfo, RootFs } from '../../rootfs/types.js';
import { MAX_SYMLINK_HOPS } from '../../rootfs/types.js';

/** Where a path leads: a real file (or dir), a mask (/dev/null, a device, an empty file), or nowhere. */
export type Chased = { kind: 'masked' } | { kind: 'found'; info: FileInfo } | { kind: 'missing' };

/**
 * Follows symlinks one hop at a time so that a link to /dev/null is seen as such even though an
 * image has no /dev/null. Masks follow systemd's null_or_empty(): a character or block device, or
 * an empty regular file.
 */
export function chase(fs: RootFs, path: string): Chased {
  let current = normalizeImagePath(path);
  for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop++) {
    if (current === '/dev/null') return { kind: 'masked' };
    const info = fs.lstat(current);
    if (info === undefined) return { kind: 'missing' };
    if (info.kind === 'symlink') {
      const target = info.target ?? '';
      current = normalizeImagePath(target.startsWith('/') ? target : `${posix.dirname(info.path)}/${target}`);
      continue;
    }
    if (info.kind === 'char-device' || info.kind === 'block-device') return { kind: 'masked' };
    if (info.kind === 'file' && info.size === 0) return { kind: 'masked' };
    return { kind: 'found', info };
  }
  return { kind: 'missing' };
}

/**
 * Lists configuration files like systemd's conf_files_list_strv(): every file ending in `suffix`
 * (any name when empty) in `dirs`; a name found in an earlier directory hides the same name in
 * later ones; the result is sorted by file name. Directories that resolve to one already read
 * (/lib → /usr/lib on merged-/usr images) are read once. Masked winners are kept (callers decide).
 */
export function confFiles(fs: RootFs, dirs: readonly string[], suffix: string): string[] {
  const byName = new Map<string, string>();
  const seen = new Set<string>();
  for (const dir of dirs) {
    const real = fs.resolve(dir);
    if (real === undefined || seen.has(real)) continue;
    seen.add(real);
    for (const entry of fs.readdir(dir)) {
      if (!entry.name.endsWith(suffix) || byName.has(entry.name)) continue;
      if (entry.kind === 'dir') continue;
      byName.set(entry.name, entry.path);
    }
  }
  return [...byName.keys()].sort(byteOrder).map((name) => byName.get(name) as string);
}

/** Byte-order comparison of ASCII-ish names, the order systemd sorts with strcmp. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
