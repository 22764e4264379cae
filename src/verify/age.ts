import type { Stats } from 'node:fs';
import { DURATION_UNITS, parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { openDirRootFs } from '../rootfs/dir.js';
import { openLayerWriter } from '../rootfs/layer.js';

// `--image-age`: an instance that boots as an image baked that long ago would. systemd decides
// whether a persistent timer missed a run from its stamp's mtime, and apt.systemd.daily
// whether a periodic job is due from its stamp's mtime: both are written into the instance's
// upper layer, aged, before it boots. The image itself is never touched, and nothing is
// written outside the upper layer.

const DAY = DURATION_UNITS.d;

/** `90d`, `12h`, `2w`, `30m`, or a number of days, as milliseconds. */
export function parseAge(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0 || ms > 3650 * DAY)
    throw new UsageError('VERIFY_BAD_AGE', `--image-age "${text}" is not an age such as 90d, 12h or 2w`, {
      hint: 'a positive number followed by m (minutes), h (hours), d (days) or w (weeks); days when no unit',
    });
  return ms;
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
  const layer = openLayerWriter(lower, upper, 'verify --image-age');
  const stamp = (path: string, own: Stats | undefined): void =>
    layer.writeFile(path, '', {
      mtime: at,
      ...(own === undefined ? { mode: 0o644 } : { mode: own.mode & 0o7777, uid: own.uid, gid: own.gid }),
    });
  const written: string[] = [];
  const timers = persistentTimers(lower);
  const stamps = timers.length > 0 ? layer.imageDir(STAMPS) : undefined;
  if (stamps !== undefined) {
    for (const timer of timers) {
      const path = `${stamps}/stamp-${timer}`;
      const own = layer.imageStats(path);
      if (own !== undefined && !own.isFile()) continue;
      stamp(path, own);
      written.push(path);
    }
  }
  const periodic = layer.imageDir(APT_PERIODIC);
  if (periodic !== undefined && layer.image.stat(periodic)?.kind === 'dir') {
    for (const entry of layer.image.readdir(periodic)) {
      if (entry.kind !== 'file') continue;
      stamp(entry.path, layer.imageStats(entry.path));
      written.push(entry.path);
    }
  }
  return written;
}
