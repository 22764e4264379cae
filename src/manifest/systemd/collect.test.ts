import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import type { TreeEntry } from '../../test-support/tree.js';
import {
  APT_DAILY_SERVICE,
  APT_DAILY_TIMER,
  APT_DAILY_UPGRADE_SERVICE,
  APT_DAILY_UPGRADE_TIMER,
  UNATTENDED_UPGRADES_SERVICE,
} from '../../test-support/debian-files.js';
import { collectSystemd, findUnit } from './index.js';
import type { SystemdSection, Unit } from './index.js';

const LIB = '/usr/lib/systemd/system';

// The other units as Debian bookworm ships them (openssh, systemd 252), abridged.
const SSH_SERVICE = `[Unit]
Description=OpenBSD Secure Shell server
After=network.target auditd.service
ConditionPathExists=!/etc/ssh/sshd_not_to_be_run

[Service]
EnvironmentFile=-/etc/default/ssh
ExecStartPre=/usr/sbin/sshd -t
ExecStart=/usr/sbin/sshd -D $SSHD_OPTS
ExecReload=/usr/sbin/sshd -t
Type=notify

[Install]
WantedBy=multi-user.target
Alias=sshd.service
`;
const GETTY_TEMPLATE = `[Unit]
Description=Getty on %I
ConditionPathExists=/dev/tty0

[Service]
ExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear - $TERM
Type=idle

[Install]
WantedBy=getty.target
DefaultInstance=tty1
`;
const JOURNALD_SERVICE = `[Unit]
Description=Journal Service
DefaultDependencies=no

[Service]
Type=notify
ExecStart=/lib/systemd/systemd-journald
`;
const TARGET = (d: string): string => `[Unit]\nDescription=${d}\n`;

const STAMP_MTIME = new Date('2024-05-01T06:12:34Z');

/** A merged-/usr Debian bookworm root with unattended-upgrades installed and its timers enabled. */
function bookworm(extra: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  return {
    '/lib': { link: 'usr/lib' },
    [`${LIB}/apt-daily.timer`]: APT_DAILY_TIMER,
    [`${LIB}/apt-daily.service`]: APT_DAILY_SERVICE,
    [`${LIB}/apt-daily-upgrade.timer`]: APT_DAILY_UPGRADE_TIMER,
    [`${LIB}/apt-daily-upgrade.service`]: APT_DAILY_UPGRADE_SERVICE,
    [`${LIB}/unattended-upgrades.service`]: UNATTENDED_UPGRADES_SERVICE,
    [`${LIB}/ssh.service`]: SSH_SERVICE,
    [`${LIB}/getty@.service`]: GETTY_TEMPLATE,
    [`${LIB}/systemd-journald.service`]: JOURNALD_SERVICE,
    [`${LIB}/sysinit.target.wants/systemd-journald.service`]: { link: '../systemd-journald.service' },
    [`${LIB}/timers.target`]: TARGET('Timer Units'),
    [`${LIB}/multi-user.target`]: TARGET('Multi-User System'),
    [`${LIB}/getty.target`]: TARGET('Login Prompts'),
    [`${LIB}/sysinit.target`]: TARGET('System Initialization'),
    '/etc/systemd/system/timers.target.wants/apt-daily.timer': {
      link: '/lib/systemd/system/apt-daily.timer',
    },
    '/etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer': {
      link: '/lib/systemd/system/apt-daily-upgrade.timer',
    },
    '/etc/systemd/system/multi-user.target.wants/unattended-upgrades.service': {
      link: '/lib/systemd/system/unattended-upgrades.service',
    },
    '/etc/systemd/system/multi-user.target.wants/ssh.service': { link: '/lib/systemd/system/ssh.service' },
    '/etc/systemd/system/sshd.service': { link: '/lib/systemd/system/ssh.service' },
    '/etc/systemd/system/getty.target.wants/getty@tty1.service': {
      link: '/lib/systemd/system/getty@.service',
    },
    '/var/lib/systemd/timers/stamp-apt-daily.timer': { content: '', mtime: STAMP_MTIME },
    '/etc/machine-id': '',
    ...extra,
  };
}

function unit(section: SystemdSection, name: string): Unit {
  const found = findUnit(section, name);
  if (found === undefined) throw new Error(`no unit ${name}`);
  return found;
}

const noInstall = { wantedBy: [], requiredBy: [], upheldBy: [], alias: [], also: [], defaultInstance: null };

describe('collectSystemd on a Debian bookworm tree', () => {
  const section = collectSystemd(treeFs(bookworm()));

  it('lists every unit once, sorted, on a merged-/usr image', () => {
    expect(section.units.map((u) => u.name)).toEqual([
      'apt-daily-upgrade.service',
      'apt-daily-upgrade.timer',
      'apt-daily.service',
      'apt-daily.timer',
      'getty.target',
      'getty@.service',
      'getty@tty1.service',
      'multi-user.target',
      'ssh.service',
      'sysinit.target',
      'systemd-journald.service',
      'timers.target',
      'unattended-upgrades.service',
    ]);
    expect(section.problems).toEqual([]);
    expect(section.presets).toEqual([]);
    expect(section.firstBoot).toBe(false);
    expect(section.machineId).toBe('empty');
  });

  it('reads apt-daily.timer as enabled, persistent, with its stamp', () => {
    const timer = `${LIB}/apt-daily.timer`;
    expect(unit(section, 'apt-daily.timer')).toEqual({
      name: 'apt-daily.timer',
      type: 'timer',
      template: null,
      fragment: { path: timer },
      masked: false,
      aliases: [],
      dropIns: [],
      hasInstall: true,
      install: { ...noInstall, wantedBy: [{ value: 'timers.target', source: { path: timer, line: 10 } }] },
      enablement: 'enabled',
      wantedBy: [
        {
          unit: 'timers.target',
          dependency: 'wants',
          via: '/etc/systemd/system/timers.target.wants/apt-daily.timer',
        },
      ],
      triggeredBy: [],
      activeAtBoot: true,
      preset: { action: 'enable', rule: null },
      conditions: [],
      timer: {
        unit: 'apt-daily.service',
        unitSource: null,
        onCalendar: [{ value: '*-*-* 6,18:00', source: { path: timer, line: 5 } }],
        onBootSec: [],
        onStartupSec: [],
        onActiveSec: [],
        onUnitActiveSec: [],
        onUnitInactiveSec: [],
        persistent: true,
        persistentSource: { path: timer, line: 7 },
        randomizedDelaySec: { text: '12h', seconds: 43_200, source: { path: timer, line: 6 } },
        accuracySec: null,
        stamp: { path: '/var/lib/systemd/timers/stamp-apt-daily.timer', mtime: '2024-05-01T06:12:34.000Z' },
        catchUpAtBoot: true,
      },
    });
  });

  it('reads apt-daily-upgrade.timer without a stamp: no catch-up at boot', () => {
    const timer = unit(section, 'apt-daily-upgrade.timer');
    expect(timer.enablement).toBe('enabled');
    expect(timer.activeAtBoot).toBe(true);
    expect(timer.timer).toMatchObject({
      unit: 'apt-daily-upgrade.service',
      onCalendar: [{ value: '*-*-* 6:00', source: { path: `${LIB}/apt-daily-upgrade.timer`, line: 6 } }],
      randomizedDelaySec: { text: '60m', seconds: 3600 },
      persistent: true,
      stamp: null,
      catchUpAtBoot: false,
    });
  });

  it('reads the services the timers start, with their Exec lines and conditions', () => {
    const service = `${LIB}/apt-daily-upgrade.service`;
    expect(unit(section, 'apt-daily-upgrade.service')).toEqual({
      name: 'apt-daily-upgrade.service',
      type: 'service',
      template: null,
      fragment: { path: service },
      masked: false,
      aliases: [],
      dropIns: [],
      hasInstall: false,
      install: noInstall,
      enablement: 'static',
      wantedBy: [],
      triggeredBy: ['apt-daily-upgrade.timer'],
      activeAtBoot: false,
      preset: { action: 'enable', rule: null },
      conditions: [{ key: 'ConditionACPower', value: 'true', source: { path: service, line: 4 } }],
      service: {
        type: { value: 'oneshot', source: { path: service, line: 8 } },
        execCondition: [],
        execStartPre: [{ value: '-/usr/lib/apt/apt-helper wait-online', source: { path: service, line: 9 } }],
        execStart: [{ value: '/usr/lib/apt/apt.systemd.daily install', source: { path: service, line: 10 } }],
        execStartPost: [],
        environment: [],
        environmentFile: [],
      },
    });
    expect(unit(section, 'apt-daily.service').triggeredBy).toEqual(['apt-daily.timer']);
  });

  it('sees unattended-upgrades.service enabled from multi-user.target', () => {
    const u = unit(section, 'unattended-upgrades.service');
    expect([u.enablement, u.activeAtBoot, u.wantedBy]).toEqual([
      'enabled',
      true,
      [
        {
          unit: 'multi-user.target',
          dependency: 'wants',
          via: '/etc/systemd/system/multi-user.target.wants/unattended-upgrades.service',
        },
      ],
    ]);
    expect(u.service?.execStart).toEqual([
      {
        value: '/usr/share/unattended-upgrades/unattended-upgrade-shutdown --wait-for-signal',
        source: { path: `${LIB}/unattended-upgrades.service`, line: 8 },
      },
    ]);
  });

  it('records an alias symlink on its unit and finds the unit by the alias', () => {
    const ssh = unit(section, 'sshd.service');
    expect(ssh.name).toBe('ssh.service');
    expect(ssh.aliases).toEqual(['sshd.service']);
    expect(ssh.enablement).toBe('enabled');
    expect(ssh.install.alias).toEqual([
      { value: 'sshd.service', source: { path: `${LIB}/ssh.service`, line: 15 } },
    ]);
    expect(ssh.service?.environmentFile).toEqual([
      { value: '-/etc/default/ssh', source: { path: `${LIB}/ssh.service`, line: 7 } },
    ]);
    expect(ssh.conditions).toEqual([
      {
        key: 'ConditionPathExists',
        value: '!/etc/ssh/sshd_not_to_be_run',
        source: { path: `${LIB}/ssh.service`, line: 4 },
      },
    ]);
  });

  it('instantiates a template from a wants link', () => {
    const instance = unit(section, 'getty@tty1.service');
    expect(instance).toMatchObject({
      name: 'getty@tty1.service',
      template: 'getty@.service',
      fragment: { path: `${LIB}/getty@.service` },
      enablement: 'enabled',
      activeAtBoot: true,
      wantedBy: [
        {
          unit: 'getty.target',
          dependency: 'wants',
          via: '/etc/systemd/system/getty.target.wants/getty@tty1.service',
        },
      ],
    });
    expect(instance.preset).toBeUndefined();
    expect(instance.install.defaultInstance).toEqual({
      value: 'tty1',
      source: { path: `${LIB}/getty@.service`, line: 11 },
    });
    const template = unit(section, 'getty@.service');
    expect([template.enablement, template.activeAtBoot, template.wantedBy]).toEqual(['indirect', false, []]);
  });

  it('marks a unit linked only from /usr/lib as vendor-enabled', () => {
    const journald = unit(section, 'systemd-journald.service');
    expect([journald.enablement, journald.activeAtBoot, journald.hasInstall, journald.wantedBy]).toEqual([
      'vendor-enabled',
      true,
      false,
      [
        {
          unit: 'sysinit.target',
          dependency: 'wants',
          via: `${LIB}/sysinit.target.wants/systemd-journald.service`,
        },
      ],
    ]);
  });

  it('gives the same result on a split-/usr image, with /lib paths', () => {
    const split: Record<string, TreeEntry> = {};
    for (const [path, entry] of Object.entries(bookworm())) {
      if (path === '/lib') continue;
      split[path.startsWith(LIB) ? path.replace('/usr/lib/', '/lib/') : path] = entry;
    }
    const other = collectSystemd(treeFs(split));
    expect(other.units.map((u) => u.name)).toEqual(section.units.map((u) => u.name));
    expect(unit(other, 'apt-daily.timer').fragment).toEqual({ path: '/lib/systemd/system/apt-daily.timer' });
    expect(unit(other, 'systemd-journald.service').wantedBy[0]?.via).toBe(
      '/lib/systemd/system/sysinit.target.wants/systemd-journald.service',
    );
  });
});

describe('collectSystemd: masks, drop-ins, presets and problems', () => {
  it('sees a timer masked in /etc as masked and not active at boot', () => {
    const section = collectSystemd(
      treeFs(bookworm({ '/etc/systemd/system/apt-daily-upgrade.timer': { link: '/dev/null' } })),
    );
    expect(unit(section, 'apt-daily-upgrade.timer')).toEqual({
      name: 'apt-daily-upgrade.timer',
      type: 'timer',
      template: null,
      fragment: null,
      masked: true,
      maskedBy: { path: '/etc/systemd/system/apt-daily-upgrade.timer' },
      aliases: [],
      dropIns: [],
      hasInstall: false,
      install: noInstall,
      enablement: 'masked',
      wantedBy: [
        {
          unit: 'timers.target',
          dependency: 'wants',
          via: '/etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer',
        },
      ],
      triggeredBy: [],
      activeAtBoot: false,
      conditions: [],
    });
    // A masked timer triggers nothing.
    expect(unit(section, 'apt-daily-upgrade.service').triggeredBy).toEqual([]);
  });

  it('treats an empty unit file as a mask, like systemd', () => {
    const section = collectSystemd(treeFs(bookworm({ '/etc/systemd/system/apt-daily.timer': '' })));
    expect(unit(section, 'apt-daily.timer')).toMatchObject({
      masked: true,
      maskedBy: { path: '/etc/systemd/system/apt-daily.timer' },
      enablement: 'masked',
      activeAtBoot: false,
    });
  });

  it('applies drop-ins: higher directory wins per file name, /dev/null disables one, resets clear lists', () => {
    const override = '/etc/systemd/system/apt-daily.timer.d/override.conf';
    const typeLevel = `${LIB}/timer.d/50-accuracy.conf`;
    const section = collectSystemd(
      treeFs(
        bookworm({
          [override]: '[Timer]\nOnCalendar=\nOnCalendar=*-*-* 03:00\nRandomizedDelaySec=0\n',
          [`${LIB}/apt-daily.timer.d/override.conf`]: '[Timer]\nPersistent=false\n',
          [`${LIB}/apt-daily.timer.d/10-vendor.conf`]: '[Timer]\nPersistent=false\n',
          '/etc/systemd/system/apt-daily.timer.d/10-vendor.conf': { link: '/dev/null' },
          [typeLevel]: '[Timer]\nAccuracySec=1us\n',
          [`${LIB}/apt-daily.service.d/20-wrap.conf`]:
            '[Service]\nExecStart=\nExecStart=/usr/local/bin/wrapped-update\nEnvironment=HTTP_PROXY=http://proxy:3128\n',
        }),
      ),
    );
    const timer = unit(section, 'apt-daily.timer');
    expect(timer.dropIns).toEqual([typeLevel, override]);
    expect(timer.timer).toMatchObject({
      onCalendar: [{ value: '*-*-* 03:00', source: { path: override, line: 3 } }],
      randomizedDelaySec: { text: '0', seconds: 0, source: { path: override, line: 4 } },
      accuracySec: { text: '1us', seconds: 0.000001, source: { path: typeLevel, line: 2 } },
      persistent: true,
      persistentSource: { path: `${LIB}/apt-daily.timer`, line: 7 },
    });
    // The type-level drop-in reaches every timer.
    expect(unit(section, 'apt-daily-upgrade.timer').dropIns).toEqual([typeLevel]);
    const service = unit(section, 'apt-daily.service');
    expect(service.service?.execStart).toEqual([
      {
        value: '/usr/local/bin/wrapped-update',
        source: { path: `${LIB}/apt-daily.service.d/20-wrap.conf`, line: 3 },
      },
    ]);
    expect(service.service?.execStartPre).toHaveLength(1);
    expect(service.service?.environment).toEqual([
      {
        value: 'HTTP_PROXY=http://proxy:3128',
        source: { path: `${LIB}/apt-daily.service.d/20-wrap.conf`, line: 4 },
      },
    ]);
  });

  it('masks a vendor wants link with a /dev/null link of the same name in /etc', () => {
    const section = collectSystemd(
      treeFs(
        bookworm({
          '/etc/systemd/system/sysinit.target.wants/systemd-journald.service': { link: '/dev/null' },
        }),
      ),
    );
    const journald = unit(section, 'systemd-journald.service');
    expect([journald.enablement, journald.activeAtBoot, journald.wantedBy]).toEqual(['static', false, []]);
  });

  it('records presets per unit and first boot when /etc/machine-id is missing', () => {
    const tree = bookworm({
      '/etc/systemd/system-preset/80-image.preset': '# keep apt quiet\ndisable apt-daily*.timer\n',
      '/usr/lib/systemd/system-preset/90-systemd.preset': 'enable getty@.service\nenable ssh.service\n',
    });
    delete tree['/etc/machine-id'];
    const section = collectSystemd(treeFs(tree));
    expect(section.firstBoot).toBe(true);
    expect(section.machineId).toBe('missing');
    expect(unit(section, 'apt-daily.timer').preset).toEqual({
      action: 'disable',
      rule: { path: '/etc/systemd/system-preset/80-image.preset', line: 2 },
    });
    expect(unit(section, 'ssh.service').preset).toEqual({
      action: 'enable',
      rule: { path: '/usr/lib/systemd/system-preset/90-systemd.preset', line: 2 },
    });
    expect(unit(section, 'unattended-upgrades.service').preset).toEqual({ action: 'enable', rule: null });
    expect(section.presets.map((p) => p.pattern)).toEqual([
      'apt-daily*.timer',
      'getty@.service',
      'ssh.service',
    ]);
  });

  it('sees /etc/machine-id "uninitialized" as a first boot', () => {
    const section = collectSystemd(treeFs(bookworm({ '/etc/machine-id': 'uninitialized\n' })));
    expect([section.firstBoot, section.machineId]).toEqual([true, 'uninitialized']);
  });

  it('reports malformed lines and odd entries as problems and reads the rest', () => {
    const bad = '/etc/systemd/system/custom-upgrade.service';
    const section = collectSystemd(
      treeFs(
        bookworm({
          [bad]:
            '[Unit]\nDescription=Custom\nthis line has no equals\n[Service]\nExecStart=/usr/bin/apt-get -y upgrade\n[Install]\nWantedBy=multi-user.target\n',
          '/etc/systemd/system/multi-user.target.wants/custom-upgrade.service': { link: bad },
          '/etc/systemd/system/multi-user.target.wants/notes.txt': { link: '/etc/machine-id' },
          '/etc/systemd/system/multi-user.target.wants/cron.service': 'a regular file\n',
          '/etc/systemd/system/apt-daily.timer.d/bad.conf':
            '[Timer]\nRandomizedDelaySec=soon\nPersistent=maybe\n',
          '/etc/systemd/system/apt-daily.timer.d/unit.conf': '[Timer]\nUnit=other.service\n',
          '/etc/systemd/system/weird.service': { link: '/lib/systemd/system/timers.target' },
        }),
      ),
    );
    expect(section.problems).toEqual([
      {
        path: '/etc/systemd/system/apt-daily.timer.d/bad.conf',
        line: 2,
        reason: 'RandomizedDelaySec=soon is not a time span, ignored',
      },
      {
        path: '/etc/systemd/system/apt-daily.timer.d/bad.conf',
        line: 3,
        reason: 'Persistent=maybe is not a boolean, ignored',
      },
      { path: bad, line: 3, reason: "missing '=' in 'this line has no equals', line ignored" },
      {
        path: '/etc/systemd/system/multi-user.target.wants/cron.service',
        reason: 'not a symlink; systemd ignores this wants entry',
      },
      {
        path: '/etc/systemd/system/multi-user.target.wants/notes.txt',
        reason: "'notes.txt' is not a unit name; systemd ignores it",
      },
      {
        path: '/etc/systemd/system/weird.service',
        reason: 'alias of timers.target, which is not a service unit; ignored',
      },
    ]);
    const custom = unit(section, 'custom-upgrade.service');
    expect([custom.enablement, custom.activeAtBoot, custom.service?.execStart]).toEqual([
      'enabled',
      true,
      [{ value: '/usr/bin/apt-get -y upgrade', source: { path: bad, line: 5 } }],
    ]);
    const timer = unit(section, 'apt-daily.timer').timer;
    // Unit= set in a drop-in is the first Unit= there is; bad values leave the fragment's.
    expect([timer?.unit, timer?.randomizedDelaySec?.text, timer?.persistent]).toEqual([
      'other.service',
      '12h',
      true,
    ]);
    // No unit file provides other.service: nothing to attach the trigger to.
    expect(findUnit(section, 'other.service')).toBeUndefined();
    expect(findUnit(section, 'weird.service')).toBeUndefined();
  });

  it('follows wants links made under an alias, linked unit files, masked instances and generators', () => {
    const section = collectSystemd(
      treeFs(
        bookworm({
          '/etc/systemd/system/multi-user.target.wants/ssh.service': { link: '/dev/null' },
          '/etc/systemd/system/graphical.target.wants/sshd.service': {
            link: '/etc/systemd/system/sshd.service',
          },
          '/opt/myapp/myapp.service':
            '[Service]\nExecStart=/opt/myapp/bin/run\n[Install]\nWantedBy=multi-user.target\n',
          '/etc/systemd/system/myapp.service': { link: '/opt/myapp/myapp.service' },
          '/etc/systemd/system/getty@tty2.service': { link: '/dev/null' },
          '/etc/systemd/system/getty.target.wants/getty@tty2.service': {
            link: '/lib/systemd/system/getty@.service',
          },
          '/run/systemd/generator/local-fs.target.wants/data.mount': { link: '../data.mount' },
          '/run/systemd/generator/data.mount': '[Mount]\nWhat=/dev/vdb\nWhere=/data\n',
        }),
      ),
    );
    expect(unit(section, 'ssh.service').wantedBy).toEqual([
      {
        unit: 'graphical.target',
        dependency: 'wants',
        via: '/etc/systemd/system/graphical.target.wants/sshd.service',
      },
    ]);
    expect(unit(section, 'myapp.service')).toMatchObject({
      fragment: { path: '/opt/myapp/myapp.service' },
      enablement: 'disabled',
      activeAtBoot: false,
      preset: { action: 'enable', rule: null },
    });
    expect(unit(section, 'getty@tty2.service')).toMatchObject({
      masked: true,
      maskedBy: { path: '/etc/systemd/system/getty@tty2.service' },
      activeAtBoot: false,
    });
    expect(unit(section, 'data.mount')).toMatchObject({
      type: 'mount',
      fragment: { path: '/run/systemd/generator/data.mount' },
      enablement: 'generated',
      activeAtBoot: true,
    });
    expect(unit(section, 'data.mount').preset).toBeUndefined();
  });

  it('reads monotonic timers and instance timers', () => {
    const path = '/etc/systemd/system/backup@.timer';
    const section = collectSystemd(
      treeFs(
        bookworm({
          [path]:
            '[Timer]\nOnBootSec=15min\nOnUnitActiveSec=1d\nPersistent=yes\n[Install]\nWantedBy=timers.target\n',
          '/etc/systemd/system/backup@.service': '[Service]\nExecStart=/usr/local/bin/backup %i\n',
          '/etc/systemd/system/timers.target.wants/backup@home.timer': { link: path },
          '/var/lib/systemd/timers/stamp-backup@home.timer': { content: '', mtime: STAMP_MTIME },
        }),
      ),
    );
    const timer = unit(section, 'backup@home.timer');
    expect([timer.template, timer.enablement, timer.activeAtBoot]).toEqual([
      'backup@.timer',
      'enabled',
      true,
    ]);
    expect(timer.timer).toMatchObject({
      unit: 'backup@home.service',
      onCalendar: [],
      onBootSec: [{ text: '15min', seconds: 900, source: { path, line: 2 } }],
      onUnitActiveSec: [{ text: '1d', seconds: 86_400, source: { path, line: 3 } }],
      persistent: true,
      stamp: { path: '/var/lib/systemd/timers/stamp-backup@home.timer', mtime: '2024-05-01T06:12:34.000Z' },
      // Persistent= only catches up calendar triggers.
      catchUpAtBoot: false,
    });
    expect(unit(section, 'backup@home.service')).toMatchObject({
      template: 'backup@.service',
      triggeredBy: ['backup@home.timer'],
      activeAtBoot: false,
    });
  });

  it('produces plain JSON that survives a round trip', () => {
    const section = collectSystemd(treeFs(bookworm()));
    expect(JSON.parse(JSON.stringify(section))).toEqual(section);
  });
});
