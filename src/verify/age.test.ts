import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sentinel } from '../test-support/confine.js';
import { makeTree, tempDir, writeTree } from '../test-support/tree.js';
import { ageStamps } from './age.js';

// verify --image-age writes stamps into an instance's upper layer: their directories are
// resolved in the image as the instance will see them, and nothing lands outside the layer.

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27, 12);
const TIMER = '[Timer]\nOnCalendar=daily\nPersistent=true\n';

describe('aged stamps confined to the upper layer', () => {
  it("follows the image's links inside it: a stamp directory linked elsewhere in the image gets the stamps", () => {
    const lower = makeTree({
      '/lib/systemd/system/apt-daily.timer': TIMER,
      '/var/lib': { link: '../../../../srv/lib' },
      '/srv/lib/systemd': { link: '/data/systemd' },
      '/data/systemd/timers': { dir: true },
      '/srv/lib/apt/periodic/update-success-stamp': '',
    });
    const upper = tempDir('goldgate-upper-');
    const written = ageStamps(lower, upper, 90 * DAY, NOW);
    expect(written).toEqual([
      '/data/systemd/timers/stamp-apt-daily.timer',
      '/srv/lib/apt/periodic/update-success-stamp',
    ]);
    for (const path of written) expect(statSync(join(upper, path)).mtimeMs).toBe(NOW - 90 * DAY);
    expect(statSync(join(upper, 'srv/lib/apt')).mode & 0o7777).toBe(
      statSync(join(lower, 'srv/lib/apt')).mode & 0o7777,
    );
  });

  it('writes nothing for a link that leads out of the image, even to a host directory that exists', () => {
    const outside = sentinel();
    const lower = makeTree({
      '/lib/systemd/system/apt-daily.timer': TIMER,
      '/var/lib/systemd/timers': { link: outside.dir },
      '/var/lib/apt/periodic': { link: outside.dir },
    });
    const upper = tempDir('goldgate-upper-');
    expect(ageStamps(lower, upper, DAY, NOW)).toEqual([]);
    expect(readdirSync(upper)).toEqual([]);
    outside.untouched();
  });

  it('never follows a link planted in the upper layer out of it', () => {
    const outside = sentinel();
    const lower = makeTree({ '/var/lib/apt/periodic/upgrade-stamp': '' });
    const upper = tempDir('goldgate-upper-');
    writeTree(upper, { '/var': { link: outside.dir } });
    expect(ageStamps(lower, upper, DAY, NOW)).toEqual(['/var/lib/apt/periodic/upgrade-stamp']);
    outside.untouched();
    expect(lstatSync(join(upper, outside.dir, 'lib/apt/periodic/upgrade-stamp')).isFile()).toBe(true);
  });
});
