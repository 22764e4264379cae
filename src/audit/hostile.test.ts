import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dpkgStatus } from '../test-support/audit.js';
import { makeTree } from '../test-support/tree.js';
import { auditSource } from './report.js';

// A host directory holding the incident's configuration: a reader that leaks out of the
// image would find it through the image's absolute links and report it.
const host = mkdtempSync(join(tmpdir(), 'goldgate-host-canary-'));
afterAll(() => rmSync(host, { recursive: true, force: true }));
mkdirSync(join(host, 'apt.conf.d'));
writeFileSync(
  join(host, 'apt.conf.d/20auto-upgrades'),
  'APT::Periodic::Unattended-Upgrade "1";\nAPT::Periodic::Update-Package-Lists "1";\n',
);
mkdirSync(join(host, 'system/timers.target.wants'), { recursive: true });
writeFileSync(
  join(host, 'system/apt-daily.timer'),
  '[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n',
);

describe('hostile images never lead the audit to the host', () => {
  it('reads absolute links inside the image, where they lead nowhere', async () => {
    const root = makeTree({
      '/var/lib/dpkg/status': dpkgStatus({ 'unattended-upgrades': '2.9.1+nmu3' }),
      '/etc/apt/apt.conf.d': { link: join(host, 'apt.conf.d') },
      '/etc/systemd/system': { link: join(host, 'system') },
      '/etc/os-release': { link: '/etc/os-release' },
    });
    const report = await auditSource(root);
    expect(report.findings).toEqual([]);
    expect(report.image.os).toBeNull();
    expect(report.problems).toContainEqual({
      path: '/etc/os-release',
      reason: 'cannot be read: too many levels of symbolic links (loop?)',
    });
  });

  it('survives loops, FIFOs, devices and a huge sparse file where the audit reads', async () => {
    const root = makeTree({
      '/etc/apt/apt.conf.d/10loop': { link: '/etc/apt/apt.conf.d/10loop' },
      '/etc/apt/apt.conf': { link: '../../etc/apt/apt.conf' },
      '/etc/systemd/system/multi-user.target.wants/a.service': {
        link: '/etc/systemd/system/multi-user.target.wants/b.service',
      },
      '/etc/systemd/system/multi-user.target.wants/b.service': {
        link: '/etc/systemd/system/multi-user.target.wants/a.service',
      },
      '/etc/cloud/cloud.cfg.d/x': { dir: true },
    });
    execFileSync('mkfifo', [join(root, 'etc/apt/apt.conf.d/20auto-upgrades')]);
    execFileSync('mkfifo', [join(root, 'etc/cloud/cloud.cfg')]);
    execFileSync('mknod', [join(root, 'etc/rc.local'), 'c', '1', '3']);
    mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
    writeFileSync(join(root, 'var/lib/dpkg/status'), '');
    truncateSync(join(root, 'var/lib/dpkg/status'), 64 * 1024 ** 3);
    const report = await auditSource(root);
    expect(report.findings).toEqual([]);
    const reasons = report.problems.map((p) => `${p.path}: ${p.reason}`);
    // APT itself skips what is not a regular file in apt.conf.d; cloud-init's reader is told it is a FIFO.
    expect(reasons).toContain('/etc/apt/apt.conf.d/20auto-upgrades: ignored by APT: not a regular file');
    expect(reasons.filter((r) => r.startsWith('/etc/cloud/cloud.cfg:'))).toEqual([
      '/etc/cloud/cloud.cfg: cannot be read: is a fifo, not a regular file',
    ]);
    expect(
      reasons.some((r) =>
        r.startsWith('/var/lib/dpkg/status: 68719476736 bytes, larger than the read limit'),
      ),
    ).toBe(true);
  });

  it('refuses a tarball with .. entries before reading anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-evil-tar-'));
    try {
      mkdirSync(join(dir, 'a'));
      writeFileSync(join(dir, 'evil'), 'x');
      const archive = join(dir, 'evil.tar');
      // GNU tar keeps a leading ../ when told to with -P.
      execFileSync('tar', ['-C', join(dir, 'a'), '-P', '-cf', archive, '../evil']);
      await expect(auditSource(archive)).rejects.toMatchObject({ code: 'TAR_UNSAFE_ENTRY', fault: 'user' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
