import { lstatSync, realpathSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { UsageError } from '../core/errors.js';
import { openDirRootFs } from '../rootfs/dir.js';
import type { RootFs } from '../rootfs/types.js';
import { openRootWriter } from '../rootfs/write.js';
import type { Ownership } from '../rootfs/write.js';

// `--image-age`: an instance that boots as an image baked that long ago would. systemd decides
// whether a persistent timer missed a run from its stamp's mtime, and apt.systemd.daily
// whether a periodic job is due from its stamp's mtime: both are written into the instance's
// upper layer, aged, before it boots. The image itself is never touched, and nothing is
// written outside the upper layer.

const UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const DAY = UNITS.d;

/** `90d`, `12h`, `2w`, `30m`, or a number of days, as milliseconds. */
export function parseAge(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([mhdw]?)$/.exec(text.trim());
  const value = Number(match?.[1]);
  if (match === null || !Number.isFinite(value) || value <= 0 || value > 3650)
    throw new UsageError('VERIFY_BAD_AGE', `--image-age "${text}" is not an age such as 90d, 12h or 2w`, {
      hint: 'a positive number followed by m (minutes), h (hours), d (days) or w (weeks); days when no unit',
    });
  return value * UNITS[(match[2] || 'd') as keyof typeof UNITS];
}

export const ageInDays = (ms: number): number => Math.round((ms / DAY) * 1000) / 1000;

const TIMER_DIRS = ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const STAMPS = '/var/lib/systemd/timers';
const APT_PERIODIC = '/var/lib/apt/periodic';

/** The image's persistent timers (`Persistent=yes` in the [Timer] section), by unit name. Read as if chrooted. */
export function persistentTimers(rootfs: string): string[] {
  const fs = openDirRootFs(rootfs);
  const found = new Set<string>();
  for (const dir of TIMER_DIRS) {
    for (const entry of fs.readdir(dir)) {
      if (!entry.name.endsWith('.timer') || found.has(entry.name) || entry.kind !== 'file') continue;
      let section = '';
      for (const raw of (fs.readText(entry.path, { maxBytes: 65_536 }) ?? '').split('\n')) {
        const line = raw.trim();
        if (line.startsWith('[')) section = line;
        else if (section === '[Timer]' && /^Persistent\s*=\s*(yes|true|1|on)\s*$/i.test(line))
          found.add(entry.name);
      }
    }
  }
  return [...found].sort();
}

/**
 * The directory `dir` is in the image, its links followed inside the image as the reader
 * (and the instance) would: its directories that exist resolved, those missing kept as
 * named. Undefined when a link on the way leads nowhere in the image or to something that
 * is not a directory: nothing is written for it.
 */
function imageDir(fs: RootFs, dir: string): string | undefined {
  let base = '/';
  const parts = dir.split('/').filter((p) => p !== '');
  for (const [index, part] of parts.entries()) {
    const here = base === '/' ? `/${part}` : `${base}/${part}`;
    if (fs.lstat(here) === undefined) return [here, ...parts.slice(index + 1)].join('/');
    const resolved = fs.resolve(here);
    if (resolved === undefined || fs.stat(resolved)?.kind !== 'dir') return undefined;
    base = resolved;
  }
  return base;
}

/**
 * Writes the stamps of an image aged by `ageMs` into an instance's (still empty) upper layer:
 * a stamp for each persistent timer, and every apt periodic stamp the image has, all with
 * the mtime `now - ageMs`. Empty stamps stand for the image's own (systemd and apt read only
 * their mtime). Paths are resolved in the image (the lower layer) as the reader does and
 * written through the confined writer into the upper layer, whose new directories take the
 * image's mode and owner (overlay shows the upper's). Returns the paths written, as the
 * instance sees them.
 */
export function ageStamps(lower: string, upper: string, ageMs: number, now = Date.now()): string[] {
  const at = new Date(now - ageMs);
  const fs = openDirRootFs(lower);
  const lowerRoot = realpathSync(lower);
  const writer = openRootWriter(upper, { label: 'verify --image-age' });
  // Resolved paths have no link in them: a plain lstat under the lower root stays inside it.
  const lowerStats = (path: string): Stats | undefined =>
    lstatSync(lowerRoot + path, { throwIfNoEntry: false });
  const like = (path: string): Ownership | undefined => {
    const stats = lowerStats(path);
    return stats?.isDirectory() === true
      ? { mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid }
      : undefined;
  };
  const stamp = (path: string, own: Stats | undefined): void => {
    writer.mkdirp(posix.dirname(path), { like });
    writer.writeFile(path, '', {
      mtime: at,
      ...(own === undefined ? { mode: 0o644 } : { mode: own.mode & 0o7777, uid: own.uid, gid: own.gid }),
    });
  };
  const written: string[] = [];
  const timers = persistentTimers(lower);
  const stamps = timers.length > 0 ? imageDir(fs, STAMPS) : undefined;
  if (stamps !== undefined) {
    for (const timer of timers) {
      const path = `${stamps}/stamp-${timer}`;
      const own = lowerStats(path);
      if (own !== undefined && !own.isFile()) continue;
      stamp(path, own);
      written.push(path);
    }
  }
  const periodic = imageDir(fs, APT_PERIODIC);
  if (periodic !== undefined && fs.stat(periodic)?.kind === 'dir') {
    for (const entry of fs.readdir(periodic)) {
      if (entry.kind !== 'file') continue;
      stamp(entry.path, lowerStats(entry.path));
      written.push(entry.path);
    }
  }
  return written;
}
