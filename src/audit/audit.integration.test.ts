import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { buildManifest } from '../manifest/manifest.js';
import { openRootFs } from '../rootfs/index.js';
import { baseRootfs, copyOfBase, itWithBase } from '../test-support/base-image.js';
import { auditDir } from '../test-support/audit.js';
import { auditSource } from './report.js';

const APT_RULES = ['apt-unattended-upgrades', 'apt-periodic-update', 'apt-timers-enabled'];
const work = mkdtempSync(join(tmpdir(), 'goldgate-audit-it-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('audit of a real Debian root filesystem (mmdebstrap minbase + unattended-upgrades)', () => {
  itWithBase('reports the incident’s three sources with their evidence', async () => {
    const report = await auditSource(baseRootfs() as string);
    expect(report.image.os).toBe('Debian GNU/Linux 12 (bookworm)');
    expect([...new Set(report.findings.map((f) => f.rule))].sort()).toEqual([...APT_RULES].sort());
    const uu = report.findings.find((f) => f.rule === 'apt-unattended-upgrades');
    expect(uu?.severity).toBe('high');
    expect(uu?.evidence[0]).toEqual({
      path: '/etc/apt/apt.conf.d/20auto-upgrades',
      line: 2,
      text: 'APT::Periodic::Unattended-Upgrade "1";',
    });
    const update = report.findings.find((f) => f.rule === 'apt-periodic-update');
    expect(update?.evidence[0]).toMatchObject({ path: '/etc/apt/apt.conf.d/20auto-upgrades', line: 1 });
    const timers = report.findings.filter((f) => f.rule === 'apt-timers-enabled');
    expect(timers.map((f) => f.evidence[0]?.path).sort()).toEqual([
      '/etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer',
      '/etc/systemd/system/timers.target.wants/apt-daily.timer',
    ]);
    expect(report.problems).toEqual([]);
  });

  itWithBase('reports none of them once both APT::Periodic values are "0" and both timers are masked', () => {
    const root = copyOfBase();
    writeFileSync(
      join(root, 'etc/apt/apt.conf.d/20auto-upgrades'),
      'APT::Periodic::Update-Package-Lists "0";\nAPT::Periodic::Unattended-Upgrade "0";\n',
    );
    for (const timer of ['apt-daily.timer', 'apt-daily-upgrade.timer'])
      symlinkSync('/dev/null', join(root, 'etc/systemd/system', timer));
    expect(auditDir(root)).toEqual([]);
    // The real tools agree with the audit's reading of the fixed image.
    const dump = execFileSync('chroot', [root, 'apt-config', 'dump'], { encoding: 'utf8' });
    expect(dump).toContain('APT::Periodic::Unattended-Upgrade "0";');
    // is-enabled exits non-zero for anything but enabled; what it prints is the state.
    expect(
      spawnSync('chroot', [root, 'systemctl', 'is-enabled', 'apt-daily.timer'], {
        encoding: 'utf8',
      }).stdout.trim(),
    ).toBe('masked');
  });

  itWithBase('reads a tarball of the image to the same manifest digest as the directory', async () => {
    const base = baseRootfs() as string;
    const archive = join(work, 'base.tar.gz');
    execFileSync('tar', ['-C', base, '-I', 'gzip -1', '-cf', archive, '.']);
    const fromDir = await openRootFs(base);
    const fromTar = await openRootFs(archive);
    try {
      const a = buildManifest(fromDir);
      const b = buildManifest(fromTar);
      expect(b.digest).toBe(a.digest);
      expect(b.packages.length).toBeGreaterThan(100);
      expect(JSON.stringify(b.apt.config.values)).toBe(JSON.stringify(a.apt.config.values));
    } finally {
      await fromDir.close();
      await fromTar.close();
    }
  });

  itWithBase('lists the packages dpkg lists', async () => {
    const base = baseRootfs() as string;
    const fs = await openRootFs(base);
    const manifest = buildManifest(fs);
    const dpkg = execFileSync(
      'dpkg-query',
      ['--admindir', join(base, 'var/lib/dpkg'), '-W', '-f', '${Package}:${Architecture}=${Version}\n'],
      {
        encoding: 'utf8',
      },
    );
    expect(manifest.packages.map((p) => `${p.name}:${p.architecture}=${p.version}`).sort()).toEqual(
      dpkg.trim().split('\n').sort(),
    );
    expect(readFileSync(join(base, 'etc/debian_version'), 'utf8')).toMatch(/^12\./);
  });
});
