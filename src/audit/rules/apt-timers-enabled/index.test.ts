import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import type { Finding } from '../../types.js';
import { auditDir, auditTree, dpkgStatus, TEST_NOW } from '../../../test-support/audit.js';
import {
  APT_DAILY_SERVICE,
  APT_DAILY_TIMER,
  APT_DAILY_UPGRADE_SERVICE,
  APT_DAILY_UPGRADE_TIMER,
  AUTO_UPGRADES,
} from '../../../test-support/debian-files.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';
import { withChanges } from '../../../test-support/tree.js';

const RULE = 'apt-timers-enabled';
const PARTS = '/etc/apt/apt.conf.d';
const UNITS = '/usr/lib/systemd/system';
const WANTS = '/etc/systemd/system/timers.target.wants';
const STAMPS = '/var/lib/systemd/timers';
const DAYS = 86_400_000;

/** A merged-/usr Debian bookworm image as mmdebstrap leaves it with unattended-upgrades. */
function bookworm(changes: Record<string, TreeEntry | null> = {}): Record<string, TreeEntry> {
  const entries: Record<string, TreeEntry | null> = {
    '/bin': { link: 'usr/bin' },
    '/lib': { link: 'usr/lib' },
    '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1', 'unattended-upgrades': '2.9.1+nmu3' }),
    [`${PARTS}/20auto-upgrades`]: AUTO_UPGRADES,
    [`${UNITS}/apt-daily.timer`]: APT_DAILY_TIMER,
    [`${UNITS}/apt-daily.service`]: APT_DAILY_SERVICE,
    [`${UNITS}/apt-daily-upgrade.timer`]: APT_DAILY_UPGRADE_TIMER,
    [`${UNITS}/apt-daily-upgrade.service`]: APT_DAILY_UPGRADE_SERVICE,
    [`${WANTS}/apt-daily.timer`]: { link: '/lib/systemd/system/apt-daily.timer' },
    [`${WANTS}/apt-daily-upgrade.timer`]: { link: '/lib/systemd/system/apt-daily-upgrade.timer' },
    ...changes,
  };
  return withChanges(entries);
}

/** The finding for one timer, by the unit its message starts with. */
function forTimer(findings: Finding[], name: string): Finding | undefined {
  return findings.find((f) => f.message.startsWith(`${name} `));
}

const stampAged = (days: number): TreeEntry => ({
  content: '',
  mtime: new Date(TEST_NOW.getTime() - days * DAYS),
});

const DAILY_SCHEDULE = [
  { path: `${UNITS}/apt-daily.timer`, line: 5, text: 'OnCalendar=*-*-* 6,18:00' },
  { path: `${UNITS}/apt-daily.timer`, line: 7, text: 'Persistent=true' },
  { path: `${UNITS}/apt-daily.timer`, line: 6, text: 'RandomizedDelaySec=12h' },
];
const UPGRADE_SCHEDULE = [
  { path: `${UNITS}/apt-daily-upgrade.timer`, line: 6, text: 'OnCalendar=*-*-* 6:00' },
  { path: `${UNITS}/apt-daily-upgrade.timer`, line: 8, text: 'Persistent=true' },
  { path: `${UNITS}/apt-daily-upgrade.timer`, line: 7, text: 'RandomizedDelaySec=60m' },
];

describe('apt-timers-enabled: found', () => {
  it('reports both timers of a fresh bookworm image, with schedule, links and fix', () => {
    const findings = auditTree(bookworm(), RULE);
    expect(findings).toHaveLength(2);
    expect(forTimer(findings, 'apt-daily.timer')).toEqual({
      rule: RULE,
      severity: 'high',
      title: 'apt-daily timers run apt on their own after boot',
      message:
        'apt-daily.timer is enabled (timers.target): OnCalendar=*-*-* 6,18:00, Persistent=true, RandomizedDelaySec=12h; no stamp yet, so it first fires at its next calendar time; it runs APT::Periodic::Update-Package-Lists and APT::Periodic::Unattended-Upgrade (download only).',
      evidence: [
        { path: `${WANTS}/apt-daily.timer` },
        { path: `${UNITS}/apt-daily.timer` },
        ...DAILY_SCHEDULE,
      ],
      remediation: {
        summary: 'Mask apt-daily.timer in the image so no instance runs it.',
        steps: [{ action: 'mask-units', units: ['apt-daily.timer'] }],
      },
    });
    expect(forTimer(findings, 'apt-daily-upgrade.timer')).toEqual({
      rule: RULE,
      severity: 'high',
      title: 'apt-daily timers run apt on their own after boot',
      message:
        'apt-daily-upgrade.timer is enabled (timers.target): OnCalendar=*-*-* 6:00, Persistent=true, RandomizedDelaySec=60m; no stamp yet, so it first fires at its next calendar time; it runs APT::Periodic::Unattended-Upgrade.',
      evidence: [
        { path: `${WANTS}/apt-daily-upgrade.timer` },
        { path: `${UNITS}/apt-daily-upgrade.timer` },
        ...UPGRADE_SCHEDULE,
      ],
      remediation: {
        summary: 'Mask apt-daily-upgrade.timer in the image so no instance runs it.',
        steps: [{ action: 'mask-units', units: ['apt-daily-upgrade.timer'] }],
      },
    });
  });

  it('says an old stamp makes a Persistent timer catch up right after boot, and cites the stamp', () => {
    const findings = auditTree(
      bookworm({
        [`${STAMPS}/stamp-apt-daily.timer`]: stampAged(150),
        [`${STAMPS}/stamp-apt-daily-upgrade.timer`]: stampAged(150),
      }),
      RULE,
    );
    const daily = forTimer(findings, 'apt-daily.timer');
    expect(daily?.message).toContain(
      'Persistent=true, RandomizedDelaySec=12h; its stamp is 150 days old, so it catches up right after boot (within 12h);',
    );
    expect(daily?.evidence.at(-1)).toEqual({ path: `${STAMPS}/stamp-apt-daily.timer` });
    const upgrade = forTimer(findings, 'apt-daily-upgrade.timer');
    expect(upgrade?.message).toContain(
      'its stamp is 150 days old, so it catches up right after boot (within 60m);',
    );
    expect(upgrade?.evidence).toEqual([
      { path: `${WANTS}/apt-daily-upgrade.timer` },
      { path: `${UNITS}/apt-daily-upgrade.timer` },
      ...UPGRADE_SCHEDULE,
      { path: `${STAMPS}/stamp-apt-daily-upgrade.timer` },
    ]);
  });

  it('gives a recent stamp’s age without promising a catch-up', () => {
    const daily = forTimer(
      auditTree(
        bookworm({
          [`${STAMPS}/stamp-apt-daily.timer`]: { content: '', mtime: TEST_NOW.getTime() - 3 * 3600_000 },
        }),
        RULE,
      ),
      'apt-daily.timer',
    );
    expect(daily?.message).toContain('RandomizedDelaySec=12h; its stamp is 3 hours old; it runs');
  });

  it('applies drop-ins: an empty OnCalendar= resets, Persistent=false means no catch-up', () => {
    const dropIn = '/etc/systemd/system/apt-daily.timer.d/override.conf';
    const daily = forTimer(
      auditTree(
        bookworm({
          [dropIn]: '[Timer]\nOnCalendar=\nOnCalendar=*-*-* 03:00\nPersistent=false\n',
          [`${STAMPS}/stamp-apt-daily.timer`]: stampAged(150),
        }),
        RULE,
      ),
      'apt-daily.timer',
    );
    expect(daily?.message).toContain(
      'OnCalendar=*-*-* 03:00, Persistent=false, RandomizedDelaySec=12h; its stamp is 150 days old; it runs',
    );
    expect(daily?.evidence).toEqual([
      { path: `${WANTS}/apt-daily.timer` },
      { path: `${UNITS}/apt-daily.timer` },
      { path: dropIn, line: 3, text: 'OnCalendar=*-*-* 03:00' },
      { path: dropIn, line: 4, text: 'Persistent=false' },
      { path: `${UNITS}/apt-daily.timer`, line: 6, text: 'RandomizedDelaySec=12h' },
      { path: `${STAMPS}/stamp-apt-daily.timer` },
    ]);
  });

  it('reports a timer the vendor enables (link under /usr/lib), which systemctl calls static', () => {
    const findings = auditTree(
      bookworm({
        [`${WANTS}/apt-daily.timer`]: null,
        [`${UNITS}/timers.target.wants/apt-daily.timer`]: { link: '../apt-daily.timer' },
      }),
      RULE,
    );
    const daily = forTimer(findings, 'apt-daily.timer');
    expect(daily?.severity).toBe('high');
    expect(daily?.message).toMatch(/^apt-daily\.timer is vendor-enabled \(timers\.target\): /);
    expect(daily?.evidence.slice(0, 2)).toEqual([
      { path: `${UNITS}/timers.target.wants/apt-daily.timer` },
      { path: `${UNITS}/apt-daily.timer` },
    ]);
  });

  it('cites only the /etc link when /etc and the vendor link the timer under one name (the first hides the other)', () => {
    const daily = forTimer(
      auditTree(
        bookworm({ [`${UNITS}/timers.target.wants/apt-daily.timer`]: { link: '../apt-daily.timer' } }),
        RULE,
      ),
      'apt-daily.timer',
    );
    expect(daily?.message).toMatch(/^apt-daily\.timer is enabled \(timers\.target\): /);
    expect(daily?.evidence.slice(0, 2)).toEqual([
      { path: `${WANTS}/apt-daily.timer` },
      { path: `${UNITS}/apt-daily.timer` },
    ]);
  });

  it('reads a split-/usr image, units in /lib/systemd/system', () => {
    const findings = auditTree(
      {
        '/var/lib/dpkg/status': dpkgStatus({ 'unattended-upgrades': '1.11.2' }),
        [`${PARTS}/20auto-upgrades`]: AUTO_UPGRADES,
        '/lib/systemd/system/apt-daily-upgrade.timer': APT_DAILY_UPGRADE_TIMER,
        '/lib/systemd/system/apt-daily-upgrade.service': APT_DAILY_UPGRADE_SERVICE,
        [`${WANTS}/apt-daily-upgrade.timer`]: { link: '/lib/systemd/system/apt-daily-upgrade.timer' },
      },
      RULE,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]?.evidence.slice(0, 3)).toEqual([
      { path: `${WANTS}/apt-daily-upgrade.timer` },
      { path: '/lib/systemd/system/apt-daily-upgrade.timer' },
      { path: '/lib/systemd/system/apt-daily-upgrade.timer', line: 6, text: 'OnCalendar=*-*-* 6:00' },
    ]);
  });

  it('cites an administrator’s copy of the timer in /etc/systemd/system', () => {
    const copy = APT_DAILY_TIMER.replace('6,18:00', '4:00');
    const daily = forTimer(
      auditTree(bookworm({ '/etc/systemd/system/apt-daily.timer': copy }), RULE),
      'apt-daily.timer',
    );
    expect(daily?.evidence.slice(0, 3)).toEqual([
      { path: `${WANTS}/apt-daily.timer` },
      { path: '/etc/systemd/system/apt-daily.timer' },
      { path: '/etc/systemd/system/apt-daily.timer', line: 5, text: 'OnCalendar=*-*-* 4:00' },
    ]);
  });

  it('is low when the APT::Periodic values make the timers do nothing today', () => {
    const findings = auditTree(bookworm({ [`${PARTS}/20auto-upgrades`]: null }), RULE);
    expect(findings.map((f) => f.severity)).toEqual(['low', 'low']);
    expect(forTimer(findings, 'apt-daily.timer')?.message).toBe(
      'apt-daily.timer is enabled (timers.target): OnCalendar=*-*-* 6,18:00, Persistent=true, RandomizedDelaySec=12h; no stamp yet, so it first fires at its next calendar time; today the APT::Periodic values make it do nothing, but one configuration change wakes it on every instance.',
    );
    expect(forTimer(findings, 'apt-daily-upgrade.timer')?.remediation.steps).toEqual([
      { action: 'mask-units', units: ['apt-daily-upgrade.timer'] },
    ]);
  });

  it.each<[string, 'high' | 'low', 'high' | 'low', Record<string, TreeEntry | null>]>([
    ['APT::Periodic::Enable "0"', 'low', 'low', { [`${PARTS}/99-off`]: 'APT::Periodic::Enable "0";\n' }],
    ['both values cleared', 'low', 'low', { [`${PARTS}/99-off`]: '#clear APT::Periodic;\n' }],
    // apt-daily still refreshes the lists.
    [
      'unattended-upgrades not installed',
      'high',
      'low',
      { '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }) },
    ],
    [
      'unattended-upgrades removed, not purged',
      'high',
      'low',
      {
        '/var/lib/dpkg/status': dpkgStatus(
          { apt: '2.6.1', 'unattended-upgrades': '2.9.1+nmu3' },
          'config-files',
        ),
      },
    ],
    [
      // apt.systemd.daily downloads upgradeable packages only right after it refreshed the lists.
      'Download-Upgradeable-Packages without list updates',
      'low',
      'low',
      { [`${PARTS}/20auto-upgrades`]: 'APT::Periodic::Download-Upgradeable-Packages "1";\n' },
    ],
    [
      // apt-daily.service runs `unattended-upgrade --download-only` whenever the upgrade job is on.
      'list updates off, unattended-upgrade on',
      'high',
      'high',
      {
        [`${PARTS}/20auto-upgrades`]:
          'APT::Periodic::Update-Package-Lists "0";\nAPT::Periodic::Unattended-Upgrade "1";\n',
      },
    ],
  ])('with %s: apt-daily is %s, apt-daily-upgrade is %s', (_name, daily, upgrade, changes) => {
    const findings = auditTree(bookworm(changes), RULE);
    expect(forTimer(findings, 'apt-daily.timer')?.severity).toBe(daily);
    expect(forTimer(findings, 'apt-daily-upgrade.timer')?.severity).toBe(upgrade);
  });

  it('names the jobs each timer runs', () => {
    const findings = auditTree(
      bookworm({
        [`${PARTS}/20auto-upgrades`]:
          'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Download-Upgradeable-Packages "1";\n',
      }),
      RULE,
    );
    expect(forTimer(findings, 'apt-daily.timer')?.message).toMatch(
      /; it runs APT::Periodic::Update-Package-Lists and APT::Periodic::Download-Upgradeable-Packages\.$/,
    );
    expect(forTimer(findings, 'apt-daily-upgrade.timer')?.severity).toBe('low');
  });
});

describe('apt-timers-enabled: not found', () => {
  it.each<[string, Record<string, TreeEntry | null>]>([
    [
      'masked by links to /dev/null',
      {
        '/etc/systemd/system/apt-daily.timer': { link: '/dev/null' },
        '/etc/systemd/system/apt-daily-upgrade.timer': { link: '/dev/null' },
      },
    ],
    [
      'masked by empty files',
      { '/etc/systemd/system/apt-daily.timer': '', '/etc/systemd/system/apt-daily-upgrade.timer': '' },
    ],
    [
      'not linked (disabled)',
      { [`${WANTS}/apt-daily.timer`]: null, [`${WANTS}/apt-daily-upgrade.timer`]: null },
    ],
    [
      'linked, but their services masked (systemd refuses to start such a timer)',
      {
        '/etc/systemd/system/apt-daily.service': { link: '/dev/null' },
        '/etc/systemd/system/apt-daily-upgrade.service': { link: '/dev/null' },
      },
    ],
    [
      'linked to /dev/null in timers.target.wants',
      {
        [`${WANTS}/apt-daily.timer`]: { link: '/dev/null' },
        [`${WANTS}/apt-daily-upgrade.timer`]: { link: '/dev/null' },
      },
    ],
    [
      'linked, but the unit files are gone (dangling links)',
      { [`${UNITS}/apt-daily.timer`]: null, [`${UNITS}/apt-daily-upgrade.timer`]: null },
    ],
    [
      'masked in /etc while the vendor links them',
      {
        [`${WANTS}/apt-daily.timer`]: null,
        [`${WANTS}/apt-daily-upgrade.timer`]: null,
        [`${UNITS}/timers.target.wants/apt-daily.timer`]: { link: '../apt-daily.timer' },
        [`${UNITS}/timers.target.wants/apt-daily-upgrade.timer`]: { link: '../apt-daily-upgrade.timer' },
        '/etc/systemd/system/apt-daily.timer': { link: '/dev/null' },
        '/etc/systemd/system/apt-daily-upgrade.timer': { link: '/dev/null' },
      },
    ],
  ])('with both timers %s', (_name, changes) => {
    expect(auditTree(bookworm(changes), RULE)).toEqual([]);
  });

  it('reports only the timer left enabled', () => {
    const findings = auditTree(
      bookworm({ '/etc/systemd/system/apt-daily.timer': { link: '/dev/null' } }),
      RULE,
    );
    expect(findings.map((f) => f.remediation.steps)).toEqual([
      [{ action: 'mask-units', units: ['apt-daily-upgrade.timer'] }],
    ]);
  });
});

describe('apt-timers-enabled: applying the fix', () => {
  it.each<[string, Record<string, TreeEntry | null>]>([
    ['the stock image with old stamps', { [`${STAMPS}/stamp-apt-daily.timer`]: stampAged(150) }],
    [
      'vendor-enabled timers',
      {
        [`${WANTS}/apt-daily.timer`]: null,
        [`${WANTS}/apt-daily-upgrade.timer`]: null,
        // Every real image has /etc/systemd/system: applyRemediations cannot create it for two units in one run.
        '/etc/systemd/system/multi-user.target.wants/cron.service': {
          link: '/lib/systemd/system/cron.service',
        },
        [`${UNITS}/timers.target.wants/apt-daily.timer`]: { link: '../apt-daily.timer' },
        [`${UNITS}/timers.target.wants/apt-daily-upgrade.timer`]: { link: '../apt-daily-upgrade.timer' },
      },
    ],
    ['timers that do nothing today', { [`${PARTS}/20auto-upgrades`]: null }],
  ])('leaves nothing to report for %s', (_name, changes) => {
    const root = makeTree(bookworm(changes));
    const findings = auditDir(root, RULE);
    expect(findings).toHaveLength(2);
    expect(applyRemediations(root, remediationSteps(findings)).every((step) => step.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
  });
});
