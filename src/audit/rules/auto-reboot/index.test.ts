import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree, dpkgStatus } from '../../../test-support/audit.js';
import { APT_DAILY_UPGRADE_TIMER, AUTO_UPGRADES } from '../../../test-support/debian-files.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';
import { withChanges } from '../../../test-support/tree.js';

const RULE = 'auto-reboot';
const fixture = (name: string): string =>
  readFileSync(new URL(`__fixtures__/${name}`, import.meta.url), 'utf8');
const PARTS = '/etc/apt/apt.conf.d';
const UNITS = '/usr/lib/systemd/system';
const WANTS = '/etc/systemd/system/timers.target.wants';

type Changes = Record<string, TreeEntry | null>;

function tree(base: Changes, changes: Changes): Record<string, TreeEntry> {
  return withChanges(base, changes);
}

/** Applies a finding's steps to the tree it was found in and audits again. */
function afterFix(entries: Record<string, TreeEntry>) {
  const root = makeTree(entries);
  const findings = auditDir(root, RULE);
  expect(findings.length).toBeGreaterThan(0);
  expect(applyRemediations(root, remediationSteps(findings)).every((step) => step.applied)).toBe(true);
  return auditDir(root, RULE);
}

describe('auto-reboot: unattended-upgrades', () => {
  // Debian bookworm with unattended-upgrades as installed, the stock 50unattended-upgrades
  // (Automatic-Reboot commented out on line 115) and apt-daily-upgrade.timer enabled.
  const BOOKWORM: Changes = {
    '/lib': { link: 'usr/lib' },
    '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1', 'unattended-upgrades': '2.9.1+nmu3' }),
    [`${PARTS}/20auto-upgrades`]: AUTO_UPGRADES,
    [`${PARTS}/50unattended-upgrades`]: fixture('50unattended-upgrades'),
    [`${UNITS}/apt-daily-upgrade.timer`]: APT_DAILY_UPGRADE_TIMER,
    [`${UNITS}/apt-daily-upgrade.service`]:
      '[Unit]\nDescription=Daily apt upgrade and clean activities\n\n[Service]\nType=oneshot\nExecStart=/usr/lib/apt/apt.systemd.daily install\n',
    [`${WANTS}/apt-daily-upgrade.timer`]: { link: '/lib/systemd/system/apt-daily-upgrade.timer' },
  };
  const bookworm = (changes: Changes = {}) => tree(BOOKWORM, changes);
  const LOCAL = `${PARTS}/52unattended-upgrades-local`;
  const KEY = 'Unattended-Upgrade::Automatic-Reboot';
  const STEP = {
    action: 'set-line',
    path: `${PARTS}/99goldgate-immutable`,
    match: `${KEY} `,
    line: `${KEY} "false";`,
  };

  it('reports Automatic-Reboot "true" with unattended-upgrades active', () => {
    expect(auditTree(bookworm({ [LOCAL]: `${KEY} "true";\n` }), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'Updates reboot instances on their own',
        message: `${KEY} is "true" (${LOCAL}): unattended-upgrades reboots the instance when an update asks for it (right after the upgrade).`,
        evidence: [{ path: LOCAL, line: 1, text: `${KEY} "true";` }],
        remediation: { summary: `Set ${KEY} "false".`, steps: [STEP] },
      },
    ]);
  });

  it('reports the stock line uncommented and set to "true", with Automatic-Reboot-Time', () => {
    const stock = fixture('50unattended-upgrades')
      .replace(`//${KEY} "false";`, `${KEY} "true";`)
      .replace(`//${KEY}-Time "02:00";`, `${KEY}-Time "02:00";`);
    const findings = auditTree(bookworm({ [`${PARTS}/50unattended-upgrades`]: stock }), RULE);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toBe(
      `${KEY} is "true" (${PARTS}/50unattended-upgrades): unattended-upgrades reboots the instance when an update asks for it, at 02:00.`,
    );
    expect(findings[0]?.evidence).toEqual([
      { path: `${PARTS}/50unattended-upgrades`, line: 115, text: `${KEY} "true";` },
      { path: `${PARTS}/50unattended-upgrades`, line: 124, text: `${KEY}-Time "02:00";` },
    ]);
    expect(findings[0]?.remediation.steps).toEqual([STEP]);
  });

  it.each(['yes', '1', 'on', 'TRUE'])('reads "%s" as true, as APT’s FindB does', (value) => {
    expect(auditTree(bookworm({ [LOCAL]: `${KEY} "${value}";\n` }), RULE)).toHaveLength(1);
  });

  it('reads the block form and reports it even when apt-daily-upgrade.timer is off (the setting waits for any run)', () => {
    const findings = auditTree(
      bookworm({
        [LOCAL]: 'Unattended-Upgrade {\n  Automatic-Reboot "true";\n};\n',
        [`${WANTS}/apt-daily-upgrade.timer`]: null,
      }),
      RULE,
    );
    expect(findings.map((f) => [f.severity, f.evidence])).toEqual([
      ['high', [{ path: LOCAL, line: 2, text: 'Automatic-Reboot "true";' }]],
    ]);
  });

  it.each<[string, Changes]>([
    ['commented out, as Debian ships it', {}],
    ['commented out with #', { [LOCAL]: `# ${KEY} "true";\n` }],
    ['"false"', { [LOCAL]: `${KEY} "false";\n` }],
    [
      '"true" but overridden by a later part',
      { [LOCAL]: `${KEY} "true";\n`, [`${PARTS}/99-noreboot`]: `${KEY} "0";\n` },
    ],
    [
      '"true" but overridden in /etc/apt/apt.conf',
      { [LOCAL]: `${KEY} "true";\n`, '/etc/apt/apt.conf': `${KEY} "no";\n` },
    ],
    ['"true" in a file APT ignores', { [`${LOCAL}.dpkg-dist`]: `${KEY} "true";\n` }],
    ['only Automatic-Reboot-Time', { [LOCAL]: `${KEY}-Time "02:00";\n` }],
    ['only Automatic-Reboot-WithUsers', { [LOCAL]: `${KEY}-WithUsers "true";\n` }],
    [
      '"true" with APT::Periodic::Unattended-Upgrade "0"',
      {
        [LOCAL]: `${KEY} "true";\n`,
        [`${PARTS}/20auto-upgrades`]: 'APT::Periodic::Unattended-Upgrade "0";\n',
      },
    ],
    [
      '"true" with APT::Periodic::Enable "0"',
      { [LOCAL]: `${KEY} "true";\n`, [`${PARTS}/10off`]: 'APT::Periodic::Enable "0";\n' },
    ],
    [
      '"true" with unattended-upgrades not installed',
      { [LOCAL]: `${KEY} "true";\n`, '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }) },
    ],
    [
      '"true" with unattended-upgrades removed but not purged',
      {
        [LOCAL]: `${KEY} "true";\n`,
        '/var/lib/dpkg/status':
          'Package: unattended-upgrades\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 2.9.1+nmu3\n',
      },
    ],
  ])('does not report Automatic-Reboot %s', (_name, changes) => {
    expect(auditTree(bookworm(changes), RULE)).toEqual([]);
  });

  it.each<[string, Changes]>([
    ['a local part', { [LOCAL]: `${KEY} "true";\n` }],
    ['a part sorting after the override', { [`${PARTS}/zz-site`]: `${KEY} "true";\n` }],
    [
      '/etc/apt/apt.conf, Automatic-Reboot-Time first',
      { '/etc/apt/apt.conf': `${KEY}-Time "02:00";\n${KEY}-WithUsers "true";\n${KEY} "true";\n` },
    ],
  ])('leaves nothing to report once its fix is applied to %s', (_name, changes) => {
    expect(afterFix(bookworm(changes))).toEqual([]);
  });
});

describe('auto-reboot: dnf-automatic', () => {
  const CONF = '/etc/dnf/automatic.conf';
  const timer = (name: string) =>
    `[Unit]\nDescription=${name} timer\n# See comment in dnf-makecache.service\nConditionPathExists=!/run/ostree-booted\nWants=network-online.target\n\n[Timer]\nOnCalendar=*-*-* 6:00\nRandomizedDelaySec=60m\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`;
  const service = (command: string) =>
    `[Unit]\nDescription=dnf automatic\nConditionPathExists=!/run/ostree-booted\nWants=network-online.target\nAfter=network-online.target\n\n[Service]\nType=oneshot\nNice=19\nIOSchedulingClass=2\nIOSchedulingPriority=7\nEnvironment="ABRT_IGNORE_PYTHON=1"\nExecStart=${command}\n`;
  const automatic = (apply: string, reboot: string) =>
    fixture('automatic.conf')
      .replace('apply_updates = no', `apply_updates = ${apply}`)
      .replace('reboot = never', `reboot = ${reboot}`);
  // A Rocky Linux 9 image with dnf-automatic installed, its timer enabled.
  const ROCKY: Changes = {
    '/etc/os-release':
      'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
    '/usr/bin/dnf-3': '#!/usr/bin/python3\n',
    '/usr/bin/dnf': { link: 'dnf-3' },
    [CONF]: automatic('yes', 'when-needed'),
    [`${UNITS}/dnf-automatic.timer`]: timer('dnf-automatic'),
    [`${UNITS}/dnf-automatic.service`]: service('/usr/bin/dnf-automatic /etc/dnf/automatic.conf --timer'),
    [`${UNITS}/dnf-automatic-install.timer`]: timer('dnf-automatic-install'),
    [`${UNITS}/dnf-automatic-install.service`]: service(
      '/usr/bin/dnf-automatic /etc/dnf/automatic.conf --timer --installupdates',
    ),
    [`${WANTS}/dnf-automatic.timer`]: { link: `${UNITS}/dnf-automatic.timer` },
  };
  const rocky = (changes: Changes = {}) => tree(ROCKY, changes);

  it('reports reboot = when-needed with apply_updates = yes and dnf-automatic.timer enabled', () => {
    expect(auditTree(rocky(), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'Updates reboot instances on their own',
        message: `reboot = when-needed (${CONF}) and dnf-automatic.timer starts at boot: dnf-automatic reboots the instance after installing updates.`,
        evidence: [{ path: CONF, line: 28, text: 'reboot = when-needed' }],
        remediation: {
          summary: 'Set reboot = never in the dnf-automatic configuration.',
          steps: [{ action: 'set-line', path: CONF, match: 'reboot = when-needed', line: 'reboot = never' }],
        },
      },
    ]);
  });

  it('reports reboot = when-changed, with apply_updates written True', () => {
    const findings = auditTree(rocky({ [CONF]: automatic('True', 'when-changed') }), RULE);
    expect(findings.map((f) => f.evidence)).toEqual([
      [{ path: CONF, line: 28, text: 'reboot = when-changed' }],
    ]);
  });

  it('reports dnf-automatic-install.timer whatever apply_updates says (it passes --installupdates)', () => {
    const findings = auditTree(
      rocky({
        [CONF]: automatic('no', 'when-needed'),
        [`${WANTS}/dnf-automatic.timer`]: null,
        [`${WANTS}/dnf-automatic-install.timer`]: { link: `${UNITS}/dnf-automatic-install.timer` },
      }),
      RULE,
    );
    expect(findings.map((f) => f.message)).toEqual([
      `reboot = when-needed (${CONF}) and dnf-automatic-install.timer starts at boot: dnf-automatic reboots the instance after installing updates.`,
    ]);
  });

  it('reports dnf5 automatic configured in /etc/dnf/dnf5-plugins over the vendor defaults', () => {
    const vendor = '/usr/share/dnf5/dnf5-plugins/automatic.conf';
    const local = '/etc/dnf/dnf5-plugins/automatic.conf';
    const findings = auditTree(
      {
        '/usr/bin/dnf5': '',
        [vendor]:
          '[commands]\nupgrade_type = default\ndownload_updates = yes\napply_updates = no\nreboot = never\n',
        [local]: '[commands]\napply_updates = yes\nreboot = when-needed\n',
        [`${UNITS}/dnf5-automatic.timer`]: timer('dnf5-automatic'),
        [`${UNITS}/dnf5-automatic.service`]: service('/usr/bin/dnf5 automatic --timer'),
        [`${WANTS}/dnf5-automatic.timer`]: { link: `${UNITS}/dnf5-automatic.timer` },
      },
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        `reboot = when-needed (${local}) and dnf5-automatic.timer starts at boot: dnf-automatic reboots the instance after installing updates.`,
        [{ path: local, line: 3, text: 'reboot = when-needed' }],
      ],
    ]);
  });

  it.each<[string, Changes]>([
    ['reboot = never', { [CONF]: automatic('yes', 'never') }],
    [
      'no reboot setting (dnf’s default is never)',
      { [CONF]: automatic('yes', 'never').replace('reboot = never\n', '') },
    ],
    [
      'reboot commented out',
      { [CONF]: automatic('yes', 'never').replace('reboot = never', '#reboot = when-needed') },
    ],
    ['apply_updates = no with dnf-automatic.timer', { [CONF]: automatic('no', 'when-needed') }],
    [
      'apply_updates absent (default no)',
      { [CONF]: automatic('yes', 'when-needed').replace('apply_updates = yes\n', '') },
    ],
    ['the timer not enabled', { [`${WANTS}/dnf-automatic.timer`]: null }],
    ['the timer masked', { '/etc/systemd/system/dnf-automatic.timer': { link: '/dev/null' } }],
    ['the service masked', { '/etc/systemd/system/dnf-automatic.service': { link: '/dev/null' } }],
    [
      'reboot set in another section',
      {
        [CONF]: automatic('yes', 'never').replace(
          'emit_via = stdio',
          'emit_via = stdio\nreboot = when-needed',
        ),
      },
    ],
    ['no dnf-automatic configuration at all', { [CONF]: null }],
  ])('does not report %s', (_name, changes) => {
    expect(auditTree(rocky(changes), RULE)).toEqual([]);
  });

  it.each<[string, Changes]>([
    ['the stock layout', {}],
    [
      'reboot_command written before reboot',
      { [CONF]: '[commands]\napply_updates = yes\nreboot_command = "shutdown -r +5"\nreboot=when-needed\n' },
    ],
  ])('leaves nothing to report once its fix is applied to %s', (_name, changes) => {
    expect(afterFix(rocky(changes))).toEqual([]);
  });
});

describe('auto-reboot: cloud-init', () => {
  const DROP_IN = '/etc/cloud/cloud.cfg.d/90-updates.cfg';
  const SEED = '/var/lib/cloud/seed/nocloud/user-data';
  // Debian's cloud.cfg: package-update-upgrade-install runs in the final stage.
  const DEBIAN: Changes = {
    '/usr/bin/cloud-init': '#!/usr/bin/python3\n',
    '/etc/cloud/cloud.cfg': fixture('cloud.cfg'),
    '/etc/cloud/cloud.cfg.d/05_logging.cfg':
      '## This yaml formated config file handles setting\n_log:\n - &log_base |\n   [loggers]\n   keys=root\n',
  };
  const debian = (changes: Changes = {}) => tree(DEBIAN, changes);
  const OVERRIDE = '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg';

  it('reports package_reboot_if_required with package_upgrade in the configuration', () => {
    expect(
      auditTree(
        debian({
          [DROP_IN]: 'package_update: true\npackage_upgrade: true\npackage_reboot_if_required: true\n',
        }),
        RULE,
      ),
    ).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'Updates reboot instances on their own',
        message: `package_reboot_if_required: true (${DROP_IN}): cloud-init reboots the instance during first boot when an upgrade needs it.`,
        evidence: [{ path: DROP_IN, line: 3, text: 'package_reboot_if_required: true' }],
        remediation: {
          summary: 'Set package_reboot_if_required: false.',
          steps: [
            {
              action: 'set-line',
              path: OVERRIDE,
              match: 'package_reboot_if_required:',
              line: 'package_reboot_if_required: false',
            },
          ],
        },
      },
    ]);
  });

  it('reports baked user-data, fixing it in place', () => {
    const findings = auditTree(
      debian({ [SEED]: '#cloud-config\npackage_upgrade: true\npackage_reboot_if_required: true\n' }),
      RULE,
    );
    expect(findings.map((f) => [f.evidence, f.remediation.steps])).toEqual([
      [
        [{ path: SEED, line: 3, text: 'package_reboot_if_required: true' }],
        [
          {
            action: 'set-line',
            path: SEED,
            match: 'package_reboot_if_required:',
            line: 'package_reboot_if_required: false',
          },
        ],
      ],
    ]);
  });

  it('reads the deprecated apt_* names', () => {
    const findings = auditTree(
      debian({ [DROP_IN]: 'apt_upgrade: true\napt_reboot_if_required: "yes"\n' }),
      RULE,
    );
    expect(findings.map((f) => f.message)).toEqual([
      `apt_reboot_if_required: "yes" (${DROP_IN}): cloud-init reboots the instance during first boot when an upgrade needs it.`,
    ]);
  });

  it('reports either name being true, as cloud-init ORs the old and new names', () => {
    const findings = auditTree(
      debian({
        [DROP_IN]:
          'package_upgrade: false\napt_upgrade: true\npackage_reboot_if_required: false\napt_reboot_if_required: true\n',
      }),
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [{ path: DROP_IN, line: 4, text: 'apt_reboot_if_required: true' }],
    ]);
  });

  it('reports a reboot after installing the packages list, even without an upgrade', () => {
    const findings = auditTree(
      debian({
        [SEED]:
          '#cloud-config\npackages:\n  - nginx\n  - linux-image-cloud-amd64\npackage_reboot_if_required: true\n',
      }),
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        `package_reboot_if_required: true (${SEED}): cloud-init reboots the instance during first boot when a package it installs needs it.`,
        [{ path: SEED, line: 5, text: 'package_reboot_if_required: true' }],
      ],
    ]);
  });

  it.each<[string, Changes]>([
    ['without package_upgrade', { [DROP_IN]: 'package_update: true\npackage_reboot_if_required: true\n' }],
    [
      'with package_upgrade: false',
      { [DROP_IN]: 'package_upgrade: false\npackage_reboot_if_required: true\n' },
    ],
    ['with an empty packages list', { [DROP_IN]: 'packages: []\npackage_reboot_if_required: true\n' }],
    [
      'with package_reboot_if_required: false',
      { [DROP_IN]: 'package_upgrade: true\npackage_reboot_if_required: false\n' },
    ],
    [
      'with the reboot turned off by later user-data',
      {
        [DROP_IN]: 'package_upgrade: true\npackage_reboot_if_required: true\n',
        [SEED]: '#cloud-config\npackage_reboot_if_required: false\n',
      },
    ],
    ['commented out', { [DROP_IN]: 'package_upgrade: true\n# package_reboot_if_required: true\n' }],
    [
      'with cloud-init disabled',
      {
        [DROP_IN]: 'package_upgrade: true\npackage_reboot_if_required: true\n',
        '/etc/cloud/cloud-init.disabled': '',
      },
    ],
    [
      'with package-update-upgrade-install in no stage',
      {
        [DROP_IN]: 'package_upgrade: true\npackage_reboot_if_required: true\n',
        '/etc/cloud/cloud.cfg': fixture('cloud.cfg').replace(' - package-update-upgrade-install\n', ''),
      },
    ],
    [
      'with cloud-init.target masked',
      {
        [DROP_IN]: 'package_upgrade: true\npackage_reboot_if_required: true\n',
        '/etc/systemd/system/cloud-init.target': { link: '/dev/null' },
      },
    ],
    [
      'without cloud-init',
      {
        [DROP_IN]: 'package_upgrade: true\npackage_reboot_if_required: true\n',
        '/usr/bin/cloud-init': null,
        '/etc/cloud/cloud.cfg': null,
      },
    ],
  ])('does not report package_reboot_if_required %s', (_name, changes) => {
    expect(auditTree(debian(changes), RULE)).toEqual([]);
  });

  it.each<[string, Changes]>([
    ['a cloud.cfg.d file', { [DROP_IN]: 'package_upgrade: true\npackage_reboot_if_required: true\n' }],
    ['user-data', { [SEED]: '#cloud-config\npackage_upgrade: true\npackage_reboot_if_required: true\n' }],
    [
      'both names, in two layers',
      {
        [DROP_IN]: 'apt_upgrade: true\napt_reboot_if_required: true\n',
        [SEED]: '#cloud-config\npackage_reboot_if_required: true\n',
      },
    ],
  ])('leaves nothing to report once its fix is applied to %s', (_name, changes) => {
    expect(afterFix(debian(changes))).toEqual([]);
  });
});
