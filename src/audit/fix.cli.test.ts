import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dpkgStatus } from '../test-support/audit.js';
import { runCli } from '../test-support/cli.js';
import { sentinel } from '../test-support/confine.js';
import { APT_DAILY_TIMER, AUTO_UPGRADES } from '../test-support/debian-files.js';
import { makeTree } from '../test-support/tree.js';
import type { TreeEntry } from '../test-support/tree.js';

// `goldgate fix` on trees someone else built: the remediations (an apt.conf override, a
// masked timer, an edited line) land where the image's own links lead inside the image,
// never on the host, and a hostile tree never ends as an internal error.

/** The incident's configuration, with the image's links laid over it. */
function hostileTree(entries: Record<string, TreeEntry>): string {
  return makeTree({
    '/etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
    '/var/lib/dpkg/status': dpkgStatus({ 'unattended-upgrades': '2.9.1+nmu3', apt: '2.6.1' }),
    '/lib/systemd/system/apt-daily.timer': APT_DAILY_TIMER,
    // Enabled by the vendor: found whatever /etc/systemd/system is.
    '/lib/systemd/system/timers.target.wants/apt-daily.timer': { link: '../apt-daily.timer' },
    ...entries,
  });
}

describe('goldgate fix confined to the image', () => {
  it('masks timers inside the image when /etc/systemd/system is a link leading out of it (no EEXIST)', async () => {
    const outside = sentinel();
    const root = hostileTree({
      '/etc/apt/apt.conf.d/20auto-upgrades': AUTO_UPGRADES,
      '/etc/systemd/system': { link: outside.dir },
    });
    const { code, stdout, stderr } = await runCli('fix', root, '--fail-on', 'none');
    expect(stderr).not.toContain('internal error');
    expect(code).toBe(0);
    expect(stdout).toContain('apt-daily.timer');
    outside.untouched();
    // Where the image's link leads, inside the image: what its own systemd would read.
    expect(readlinkSync(join(root, outside.dir, 'apt-daily.timer'))).toBe('/dev/null');
    expect(readlinkSync(join(root, 'etc/systemd/system'))).toBe(outside.dir);
  });

  it('edits apt.conf.d inside the image when it is a link out of it, and replaces a file link', async () => {
    const outside = sentinel();
    const root = hostileTree({
      '/etc/apt/apt.conf.d': { link: outside.dir },
      [`${outside.dir}/20auto-upgrades`]: AUTO_UPGRADES,
      '/etc/systemd/system/apt-daily.timer': { link: join(outside.dir, 'keep') },
    });
    const { code, stderr } = await runCli('fix', root, '--fail-on', 'none');
    expect(stderr).not.toContain('internal error');
    expect(code).toBe(0);
    outside.untouched();
    expect(readFileSync(join(root, outside.dir, '99goldgate-immutable'), 'utf8')).toContain(
      'APT::Periodic::Unattended-Upgrade "0";',
    );
    expect(readlinkSync(join(root, 'etc/systemd/system/apt-daily.timer'))).toBe('/dev/null');
  });

  it('climbing links stop at the root, and a loop is exit 2 naming the path', async () => {
    const outside = sentinel();
    const climbing = hostileTree({
      '/etc/apt/apt.conf.d/20auto-upgrades': AUTO_UPGRADES,
      '/etc/systemd': { link: '../../../../../../..' },
    });
    expect((await runCli('fix', climbing, '--fail-on', 'none')).code).toBe(0);
    expect(readlinkSync(join(climbing, 'system/apt-daily.timer'))).toBe('/dev/null');
    expect(lstatSync(join(climbing, 'etc/systemd')).isSymbolicLink()).toBe(true);

    const looping = hostileTree({
      '/etc/apt/apt.conf.d/20auto-upgrades': AUTO_UPGRADES,
      '/etc/systemd/system': { link: '/etc/systemd/loop' },
      '/etc/systemd/loop': { link: '/etc/systemd/system' },
    });
    const { code, stderr } = await runCli('fix', looping, '--fail-on', 'none');
    expect(code).toBe(2);
    expect(stderr).toContain(
      '/etc/systemd/system/apt-daily.timer in the image: too many levels of symbolic links',
    );
    outside.untouched();
  });
});
