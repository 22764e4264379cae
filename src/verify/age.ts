import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { chownSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';

// `--image-age`: an instance that boots as an image baked that long ago would. systemd decides
// whether a persistent timer missed a run from its stamp's mtime, and apt.systemd.daily
// whether a periodic job is due from its stamp's mtime: both are written into the instance's
// upper layer, aged, before it boots. The image itself is never touched.

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

const TIMER_DIRS = ['etc/systemd/system', 'lib/systemd/system', 'usr/lib/systemd/system'];
const STAMPS = 'var/lib/systemd/timers';
const APT_PERIODIC = 'var/lib/apt/periodic';

function lstat(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/**
 * True when every component of `rel` under `root` is a real directory (never a link out of
 * the image); with `orMissing`, components from the first missing one on may be absent.
 */
function realDir(root: string, rel: string, orMissing = false): boolean {
  let path = root;
  for (const part of rel.split('/')) {
    path = join(path, part);
    const stats = lstat(path);
    if (stats === undefined) return orMissing;
    if (!stats.isDirectory()) return false;
  }
  return true;
}

/** The image's persistent timers (`Persistent=yes` in the [Timer] section), by unit name. */
export function persistentTimers(rootfs: string): string[] {
  const found = new Set<string>();
  for (const dir of TIMER_DIRS) {
    if (!realDir(rootfs, dir)) continue;
    for (const name of readdirSync(join(rootfs, dir))) {
      if (!name.endsWith('.timer') || found.has(name)) continue;
      const path = join(rootfs, dir, name);
      const stats = lstat(path);
      if (stats?.isFile() !== true || stats.size > 65_536) continue;
      let section = '';
      for (const raw of readFileSync(path, 'utf8').split('\n')) {
        const line = raw.trim();
        if (line.startsWith('[')) section = line;
        else if (section === '[Timer]' && /^Persistent\s*=\s*(yes|true|1|on)\s*$/i.test(line))
          found.add(name);
      }
    }
  }
  return [...found].sort();
}

/** Creates `rel` in the upper layer with the image's mode and owner for each directory (overlay shows the upper's). */
function mirrorDirs(lower: string, upper: string, rel: string): void {
  let path = '';
  for (const part of rel.split('/')) {
    path = path === '' ? part : `${path}/${part}`;
    const target = join(upper, path);
    if (lstat(target) !== undefined) continue;
    const source = lstat(join(lower, path));
    mkdirSync(target, { mode: source?.isDirectory() === true ? source.mode & 0o7777 : 0o755 });
    if (source?.isDirectory() === true) chownSync(target, source.uid, source.gid);
  }
}

function writeStamp(upper: string, rel: string, at: Date, like?: Stats): void {
  const path = join(upper, rel);
  closeSync(openSync(path, 'w', like === undefined ? 0o644 : like.mode & 0o7777));
  if (like !== undefined) chownSync(path, like.uid, like.gid);
  utimesSync(path, at, at);
}

/**
 * Writes the stamps of an image aged by `ageMs` into an instance's (still empty) upper layer:
 * a stamp for each persistent timer, and every apt periodic stamp the image has, all with
 * the mtime `now - ageMs`. Empty stamps stand for the image's own (systemd and apt read only
 * their mtime). Returns the paths written, as the instance sees them.
 */
export function ageStamps(lower: string, upper: string, ageMs: number, now = Date.now()): string[] {
  const at = new Date(now - ageMs);
  const written: string[] = [];
  const timers = persistentTimers(lower);
  if (timers.length > 0 && realDir(lower, STAMPS, true)) {
    mirrorDirs(lower, upper, STAMPS);
    for (const timer of timers) {
      const rel = `${STAMPS}/stamp-${timer}`;
      const own = lstat(join(lower, rel));
      if (own !== undefined && !own.isFile()) continue;
      writeStamp(upper, rel, at, own);
      written.push(`/${rel}`);
    }
  }
  if (realDir(lower, APT_PERIODIC)) {
    const stamps = readdirSync(join(lower, APT_PERIODIC))
      .filter((name) => lstat(join(lower, APT_PERIODIC, name))?.isFile() === true)
      .sort();
    if (stamps.length > 0) mirrorDirs(lower, upper, APT_PERIODIC);
    for (const name of stamps) {
      const rel = `${APT_PERIODIC}/${name}`;
      writeStamp(upper, rel, at, lstat(join(lower, rel)));
      written.push(`/${rel}`);
    }
  }
  return written;
}
