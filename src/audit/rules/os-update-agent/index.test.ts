import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree } from '../../../test-support/audit.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';

const RULE = 'os-update-agent';
const lines = (...text: string[]) => `${text.join('\n')}\n`;
const LIB = '/usr/lib/systemd/system';
const WANTS = `${LIB}/multi-user.target.wants`;

const UPDATE_ENGINE = lines(
  '[Unit]',
  'Description=Update Engine',
  'ConditionVirtualization=!container',
  'ConditionPathExists=!/usr/.noupdate',
  '',
  '[Service]',
  'Type=dbus',
  'BusName=com.coreos.update1',
  'ExecStart=/usr/sbin/update_engine -foreground -logtostderr',
  'Restart=always',
  'RestartSec=30',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
);
const LOCKSMITHD = lines(
  '[Unit]',
  'Description=Cluster reboot manager',
  'Requires=update-engine.service',
  'After=update-engine.service',
  '',
  '[Service]',
  'EnvironmentFile=-/usr/share/flatcar/update.conf',
  'EnvironmentFile=-/etc/flatcar/update.conf',
  'ExecStart=/usr/lib/locksmith/locksmithd',
  'Restart=on-failure',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
);

/** A Flatcar image as shipped: both agents enabled by vendor links in /usr. */
function flatcar(entries: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  return {
    '/etc/os-release': { link: '../usr/lib/os-release' },
    '/usr/lib/os-release': lines(
      'NAME="Flatcar Container Linux by Kinvolk"',
      'ID=flatcar',
      'ID_LIKE=coreos',
      'VERSION=3975.2.2',
      'VERSION_ID=3975.2.2',
    ),
    '/usr/share/flatcar/update.conf': lines(
      'SERVER=https://public.update.flatcar-linux.net/v1/update/',
      'GROUP=stable',
    ),
    '/etc/coreos': { link: 'flatcar' },
    '/etc/flatcar/.keep': '',
    '/etc/systemd/system': { dir: true },
    [`${LIB}/update-engine.service`]: UPDATE_ENGINE,
    [`${LIB}/locksmithd.service`]: LOCKSMITHD,
    [`${WANTS}/update-engine.service`]: { link: '../update-engine.service' },
    [`${WANTS}/locksmithd.service`]: { link: '../locksmithd.service' },
    ...entries,
  };
}
/** A unit with an [Install] section, enabled by a link in /etc. */
function enabled(
  name: string,
  target = 'multi-user.target',
  exec = '/usr/bin/true',
): Record<string, TreeEntry> {
  const section = name.endsWith('.timer')
    ? lines('[Timer]', 'OnBootSec=1h', 'OnUnitInactiveSec=1d')
    : lines('[Service]', `ExecStart=${exec}`);
  return {
    [`${LIB}/${name}`]: `[Unit]\nDescription=${name}\n\n${section}\n[Install]\nWantedBy=${target}\n`,
    [`/etc/systemd/system/${target}.wants/${name}`]: { link: `${LIB}/${name}` },
  };
}

describe('os-update-agent: Flatcar', () => {
  it('finds update-engine and locksmithd enabled, with the channel and the default strategy', () => {
    expect(auditTree(flatcar(), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'An OS update agent replaces the OS on running instances',
        message:
          'locksmithd.service starts at boot: locksmithd reboots into staged OS updates (default strategy reboots).',
        evidence: [{ path: `${WANTS}/locksmithd.service` }],
        remediation: {
          summary: 'Mask locksmithd.service; roll out new OS versions as new images.',
          steps: [
            { action: 'mask-units', units: ['locksmithd.service'] },
            {
              action: 'set-line',
              path: '/etc/flatcar/update.conf',
              match: 'REBOOT_STRATEGY=',
              line: 'REBOOT_STRATEGY=off',
            },
          ],
        },
      },
      {
        rule: RULE,
        severity: 'high',
        title: 'An OS update agent replaces the OS on running instances',
        message:
          'update-engine.service starts at boot: Flatcar/CoreOS update_engine downloads and stages new OS versions from the stable channel.',
        evidence: [
          { path: `${WANTS}/update-engine.service` },
          { path: '/usr/share/flatcar/update.conf', line: 2, text: 'GROUP=stable' },
        ],
        remediation: {
          summary: 'Mask update-engine.service; roll out new OS versions as new images.',
          steps: [
            { action: 'mask-units', units: ['update-engine.service'] },
            {
              action: 'set-line',
              path: '/etc/flatcar/update.conf',
              match: 'SERVER=',
              line: 'SERVER=disabled',
            },
          ],
        },
      },
    ]);
  });

  it('does not find either agent with SERVER=disabled and REBOOT_STRATEGY=off in /etc/flatcar/update.conf', () => {
    expect(
      auditTree(flatcar({ '/etc/flatcar/update.conf': 'SERVER=disabled\nREBOOT_STRATEGY=off\n' }), RULE),
    ).toEqual([]);
  });

  it('judges each agent by its own key', () => {
    const rebootOff = auditTree(flatcar({ '/etc/flatcar/update.conf': 'REBOOT_STRATEGY=off\n' }), RULE);
    expect(rebootOff.map((f) => f.message)).toEqual([
      'update-engine.service starts at boot: Flatcar/CoreOS update_engine downloads and stages new OS versions from the stable channel.',
    ]);
    const etcdLock = auditTree(
      flatcar({ '/etc/flatcar/update.conf': 'SERVER=disabled\nREBOOT_STRATEGY=etcd-lock\n' }),
      RULE,
    );
    expect(etcdLock.map((f) => [f.message, f.evidence])).toEqual([
      [
        'locksmithd.service starts at boot: locksmithd reboots into staged OS updates (REBOOT_STRATEGY=etcd-lock).',
        [
          { path: `${WANTS}/locksmithd.service` },
          { path: '/etc/flatcar/update.conf', line: 2, text: 'REBOOT_STRATEGY=etcd-lock' },
        ],
      ],
    ]);
  });

  it('reads /etc/coreos/update.conf through the compatibility link', () => {
    expect(
      auditTree(flatcar({ '/etc/flatcar/update.conf': 'SERVER=disabled\nREBOOT_STRATEGY=off\n' }), RULE),
    ).toEqual([]);
    const findings = auditTree(
      flatcar({ '/etc/flatcar/update.conf': 'GROUP=beta\nREBOOT_STRATEGY=off\n' }),
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [
        { path: `${WANTS}/update-engine.service` },
        { path: '/etc/flatcar/update.conf', line: 1, text: 'GROUP=beta' },
      ],
    ]);
  });

  it('does not find agents that are masked', () => {
    expect(
      auditTree(
        flatcar({
          '/etc/systemd/system/update-engine.service': { link: '/dev/null' },
          '/etc/systemd/system/locksmithd.service': { link: '/dev/null' },
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('makes the rule quiet once its steps are applied', () => {
    const root = makeTree(flatcar());
    expect(applyRemediations(root, remediationSteps(auditDir(root, RULE))).every((a) => a.applied)).toBe(
      true,
    );
    expect(auditDir(root, RULE)).toEqual([]);
    expect(readFileSync(join(root, '/etc/flatcar/update.conf'), 'utf8')).toBe(
      'REBOOT_STRATEGY=off\nSERVER=disabled\n',
    );
  });
});

describe('os-update-agent: other agents', () => {
  it('finds zincati enabled', () => {
    expect(
      auditTree(enabled('zincati.service', 'multi-user.target', '/usr/libexec/zincati agent -v'), RULE),
    ).toEqual([
      expect.objectContaining({
        message: 'zincati.service starts at boot: Fedora CoreOS zincati updates and reboots the OS.',
        evidence: [{ path: '/etc/systemd/system/multi-user.target.wants/zincati.service' }],
        remediation: {
          summary: 'Mask zincati.service; roll out new OS versions as new images.',
          steps: [{ action: 'mask-units', units: ['zincati.service'] }],
        },
      }),
    ]);
  });

  it('does not find zincati turned off by a config fragment, and finds it turned back on by a later one', () => {
    const zincati = enabled('zincati.service');
    const off = { '/etc/zincati/config.d/90-disable-auto-updates.toml': '[updates]\nenabled = false\n' };
    expect(auditTree({ ...zincati, ...off }, RULE)).toEqual([]);
    const dotted = {
      '/etc/zincati/config.d/90-disable-auto-updates.toml': 'updates.enabled = false # fleet-managed\n',
    };
    expect(auditTree({ ...zincati, ...dotted }, RULE)).toEqual([]);
    const findings = auditTree(
      { ...zincati, ...off, '/etc/zincati/config.d/95-on.toml': '# re-enable\n[updates]\nenabled = true\n' },
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [
        { path: '/etc/systemd/system/multi-user.target.wants/zincati.service' },
        { path: '/etc/zincati/config.d/95-on.toml', line: 3, text: 'enabled = true' },
      ],
    ]);
    // The same name in /etc hides the vendor fragment.
    expect(
      auditTree(
        {
          ...zincati,
          '/usr/lib/zincati/config.d/50-updates.toml': '[updates]\nenabled = true\n',
          '/etc/zincati/config.d/50-updates.toml': '[updates]\nenabled = false\n',
        },
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds rpm-ostreed-automatic.timer only with a policy that stages updates', () => {
    const timer = enabled('rpm-ostreed-automatic.timer', 'timers.target');
    const conf = (policy: string) => ({
      '/etc/rpm-ostreed.conf': `# rpm-ostreed configuration\n[Daemon]\nAutomaticUpdatePolicy=${policy}\n#IdleExitTimeout=60\n`,
    });
    expect(auditTree({ ...timer, ...conf('stage') }, RULE)).toEqual([
      expect.objectContaining({
        message:
          'rpm-ostreed-automatic.timer starts at boot: rpm-ostree stages OS updates automatically (AutomaticUpdatePolicy=stage).',
        evidence: [
          { path: '/etc/systemd/system/timers.target.wants/rpm-ostreed-automatic.timer' },
          { path: '/etc/rpm-ostreed.conf', line: 3, text: 'AutomaticUpdatePolicy=stage' },
        ],
      }),
    ]);
    expect(auditTree({ ...timer, ...conf('none') }, RULE)).toEqual([]);
    expect(auditTree({ ...timer, ...conf('check') }, RULE)).toEqual([]);
    expect(auditTree(timer, RULE)).toEqual([]);
  });

  it('finds the PackageKit offline update only when one is prepared (/system-update)', () => {
    const unit = enabled(
      'packagekit-offline-update.service',
      'system-update.target',
      '/usr/libexec/pk-offline-update',
    );
    expect(auditTree(unit, RULE)).toEqual([]);
    const findings = auditTree(
      { ...unit, '/system-update': { link: '/var/lib/PackageKit/prepared-update' } },
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        'packagekit-offline-update.service starts at boot: PackageKit applies prepared offline updates at boot.',
        [
          { path: '/etc/systemd/system/system-update.target.wants/packagekit-offline-update.service' },
          { path: '/system-update' },
        ],
      ],
    ]);
  });

  it('finds openSUSE transactional-update.timer', () => {
    expect(
      auditTree(enabled('transactional-update.timer', 'timers.target'), RULE).map((f) => f.message),
    ).toEqual([
      'transactional-update.timer starts at boot: openSUSE transactional-update installs updates into a new snapshot.',
    ]);
  });

  it('does not find agents that are installed but not enabled, nor an image without any', () => {
    expect(
      auditTree(
        {
          [`${LIB}/zincati.service`]:
            '[Service]\nExecStart=/usr/libexec/zincati agent\n[Install]\nWantedBy=multi-user.target\n',
          [`${LIB}/update-engine.service`]: UPDATE_ENGINE,
        },
        RULE,
      ),
    ).toEqual([]);
    expect(auditTree({ '/etc/os-release': 'ID=debian\nVERSION_ID="12"\n' }, RULE)).toEqual([]);
  });
});
