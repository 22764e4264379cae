import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRootFs } from '../rootfs/index.js';
import { APT_DAILY_TIMER, AUTO_UPGRADES } from '../test-support/debian-files.js';
import { dpkgStatus } from '../test-support/audit.js';
import { makeTree } from '../test-support/tree.js';
import { buildManifest } from './manifest.js';

const work = mkdtempSync(join(tmpdir(), 'goldgate-manifest-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function digestOf(source: string): Promise<string> {
  const fs = await openRootFs(source);
  try {
    return buildManifest(fs).digest;
  } finally {
    await fs.close();
  }
}

describe('the manifest digest', () => {
  it('is the same for a directory and its tarball, even with sub-second timer stamps', async () => {
    const root = makeTree({
      '/var/lib/dpkg/status': dpkgStatus({ 'unattended-upgrades': '2.9.1+nmu3' }),
      '/etc/apt/apt.conf.d/20auto-upgrades': AUTO_UPGRADES,
      '/usr/lib/systemd/system/apt-daily.timer': APT_DAILY_TIMER,
      '/etc/systemd/system/timers.target.wants/apt-daily.timer': {
        link: '/usr/lib/systemd/system/apt-daily.timer',
      },
      '/var/lib/systemd/timers/stamp-apt-daily.timer': '',
    });
    // systemd writes stamps with sub-second times; tar keeps whole seconds.
    const stamp = join(root, 'var/lib/systemd/timers/stamp-apt-daily.timer');
    utimesSync(stamp, 1_795_765_618.594957, 1_795_765_618.594957);
    const archive = join(work, 'image.tar.gz');
    execFileSync('tar', ['-C', root, '-czf', archive, '.']);
    expect(await digestOf(archive)).toBe(await digestOf(root));
  });

  it('changes when what decides the image’s behaviour changes', async () => {
    const a = makeTree({ '/etc/apt/apt.conf.d/20auto-upgrades': AUTO_UPGRADES });
    const b = makeTree({
      '/etc/apt/apt.conf.d/20auto-upgrades': AUTO_UPGRADES.replace(
        'Unattended-Upgrade "1"',
        'Unattended-Upgrade "0"',
      ),
    });
    expect(await digestOf(a)).not.toBe(await digestOf(b));
  });
});
