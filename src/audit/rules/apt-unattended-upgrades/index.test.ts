import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree, dpkgStatus } from '../../../test-support/audit.js';
import {
  APT_DAILY_UPGRADE_SERVICE,
  APT_DAILY_UPGRADE_TIMER,
  AUTO_UPGRADES,
} from '../../../test-support/debian-files.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';
import { withChanges } from '../../../test-support/tree.js';

const RULE = 'apt-unattended-upgrades';
const fixture = (name: string): string =>
  readFileSync(new URL(`__fixtures__/${name}`, import.meta.url), 'utf8');

const DEBCONF = `// Pre-configure all packages with debconf before they are installed.
// If you don't like it, comment it out.
DPkg::Pre-Install-Pkgs {"/usr/sbin/dpkg-preconfigure --apt || true";};
`;
// unattended-upgrades' paragraph starts on line 11 (5 lines a paragraph).
const STATUS = dpkgStatus({ apt: '2.6.1', 'python3-apt': '2.6.0', 'unattended-upgrades': '2.9.1+nmu3' });
const STATUS_EVIDENCE = { path: '/var/lib/dpkg/status', line: 11, text: 'Package: unattended-upgrades' };
const PARTS = '/etc/apt/apt.conf.d';
const OVERRIDE = `${PARTS}/99goldgate-immutable`;
const SET_ZERO = {
  action: 'set-line',
  path: OVERRIDE,
  match: 'APT::Periodic::Unattended-Upgrade ',
  line: 'APT::Periodic::Unattended-Upgrade "0";',
};

/** A merged-/usr Debian bookworm image with unattended-upgrades as its postinst leaves it. */
function bookworm(changes: Record<string, TreeEntry | null> = {}): Record<string, TreeEntry> {
  const entries: Record<string, TreeEntry | null> = {
    '/bin': { link: 'usr/bin' },
    '/lib': { link: 'usr/lib' },
    '/sbin': { link: 'usr/sbin' },
    '/var/lib/dpkg/status': STATUS,
    [`${PARTS}/20auto-upgrades`]: AUTO_UPGRADES,
    [`${PARTS}/50unattended-upgrades`]: fixture('50unattended-upgrades'),
    [`${PARTS}/70debconf`]: DEBCONF,
    '/usr/lib/systemd/system/apt-daily-upgrade.timer': APT_DAILY_UPGRADE_TIMER,
    '/usr/lib/systemd/system/apt-daily-upgrade.service': APT_DAILY_UPGRADE_SERVICE,
    '/etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer': {
      link: '/lib/systemd/system/apt-daily-upgrade.timer',
    },
    ...changes,
  };
  return withChanges(entries);
}

/** The rule's finding on a tree, asserting there is exactly one. */
function only(entries: Record<string, TreeEntry>) {
  const findings = auditTree(entries, RULE);
  expect(findings).toHaveLength(1);
  return findings[0]!;
}

describe('apt-unattended-upgrades: found', () => {
  it('reports the stock Debian configuration with its value, package and the fix', () => {
    expect(auditTree(bookworm(), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'unattended-upgrades installs updates on running instances',
        message:
          'unattended-upgrades 2.9.1+nmu3 is installed and APT::Periodic::Unattended-Upgrade is "1" (set in /etc/apt/apt.conf.d/20auto-upgrades): apt-daily-upgrade.timer starts it on every instance.',
        evidence: [
          { path: `${PARTS}/20auto-upgrades`, line: 2, text: 'APT::Periodic::Unattended-Upgrade "1";' },
          STATUS_EVIDENCE,
        ],
        remediation: {
          summary:
            'Set APT::Periodic::Unattended-Upgrade "0" (or purge unattended-upgrades) and ship updates by baking a new image.',
          steps: [SET_ZERO],
        },
      },
    ]);
  });

  it('is medium when apt-daily-upgrade.timer is not linked: something else must start the service', () => {
    const finding = only(
      bookworm({ '/etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer': null }),
    );
    expect(finding.severity).toBe('medium');
    expect(finding.message).toContain('apt-daily-upgrade.timer is not active');
    expect(finding.remediation.steps).toEqual([SET_ZERO]);
  });

  it.each([
    [
      'masked by a link to /dev/null',
      { '/etc/systemd/system/apt-daily-upgrade.timer': { link: '/dev/null' } },
    ],
    ['masked by an empty file', { '/etc/systemd/system/apt-daily-upgrade.timer': '' }],
    ['whose service is masked', { '/etc/systemd/system/apt-daily-upgrade.service': { link: '/dev/null' } }],
  ])('is medium with the timer %s', (_name, changes) => {
    const finding = only(bookworm(changes));
    expect(finding.severity).toBe('medium');
    expect(finding.message).toContain('apt-daily-upgrade.timer is not active');
  });

  it('is high with the timer enabled only by the vendor (a link under /usr/lib)', () => {
    const finding = only(
      bookworm({
        '/etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer': null,
        '/usr/lib/systemd/system/timers.target.wants/apt-daily-upgrade.timer': {
          link: '../apt-daily-upgrade.timer',
        },
      }),
    );
    expect(finding.severity).toBe('high');
  });

  it.each([
    ['"always"', 'always'],
    ['"1d" (an interval with a unit)', '1d'],
    ['"7" days', '7'],
    ['"" (the script runs it while its stamp is missing)', ''],
    ['"true" (not a number: the script still runs it)', 'true'],
  ])('reports the interval %s', (_name, value) => {
    const finding = only(
      bookworm({ [`${PARTS}/20auto-upgrades`]: `APT::Periodic::Unattended-Upgrade "${value}";\n` }),
    );
    expect(finding.message).toContain(`APT::Periodic::Unattended-Upgrade is "${value}"`);
    expect(finding.evidence[0]).toEqual({
      path: `${PARTS}/20auto-upgrades`,
      line: 1,
      text: `APT::Periodic::Unattended-Upgrade "${value}";`,
    });
  });

  it('reads the nested block form and cites the line of the value', () => {
    const finding = only(
      bookworm({
        [`${PARTS}/20auto-upgrades`]: 'APT\n{\n  Periodic\n  {\n    Unattended-Upgrade "1";\n  };\n};\n',
      }),
    );
    expect(finding.evidence[0]).toEqual({
      path: `${PARTS}/20auto-upgrades`,
      line: 5,
      text: 'Unattended-Upgrade "1";',
    });
    expect(finding.remediation.steps).toEqual([SET_ZERO]);
  });

  it('reads the one-line block form', () => {
    const finding = only(
      bookworm({ [`${PARTS}/20auto-upgrades`]: 'APT { Periodic { Unattended-Upgrade "1"; }; };\n' }),
    );
    expect(finding.evidence[0]).toMatchObject({ path: `${PARTS}/20auto-upgrades`, line: 1 });
  });

  it('matches option names case-insensitively, as APT does', () => {
    const finding = only(
      bookworm({ [`${PARTS}/20auto-upgrades`]: 'apt::periodic::unattended-upgrade "1";\n' }),
    );
    expect(finding.message).toContain('apt::periodic::unattended-upgrade is "1"');
    expect(finding.evidence[0]).toEqual({
      path: `${PARTS}/20auto-upgrades`,
      line: 1,
      text: 'apt::periodic::unattended-upgrade "1";',
    });
  });

  it('cites the file that wins when a later part turns it back on', () => {
    const finding = only(
      bookworm({
        [`${PARTS}/20auto-upgrades`]: 'APT::Periodic::Unattended-Upgrade "0";\n',
        [`${PARTS}/60local`]: '// site policy\nAPT::Periodic::Unattended-Upgrade "1";\n',
      }),
    );
    expect(finding.message).toContain('(set in /etc/apt/apt.conf.d/60local)');
    expect(finding.evidence[0]).toEqual({
      path: `${PARTS}/60local`,
      line: 2,
      text: 'APT::Periodic::Unattended-Upgrade "1";',
    });
  });

  it('names its override after the last part when a part sorts after 99goldgate-immutable', () => {
    const finding = only(bookworm({ [`${PARTS}/99zz-site`]: 'Acquire::Retries "3";\n' }));
    expect(finding.remediation.steps).toEqual([{ ...SET_ZERO, path: `${PARTS}/z99goldgate-immutable` }]);
  });

  it('writes the fix into /etc/apt/apt.conf when the value is set there (read last, it wins)', () => {
    const finding = only(
      bookworm({
        [`${PARTS}/20auto-upgrades`]: null,
        '/etc/apt/apt.conf': 'APT::Periodic::Unattended-Upgrade "1";\n',
      }),
    );
    expect(finding.evidence[0]).toEqual({
      path: '/etc/apt/apt.conf',
      line: 1,
      text: 'APT::Periodic::Unattended-Upgrade "1";',
    });
    expect(finding.remediation.steps).toEqual([{ ...SET_ZERO, path: '/etc/apt/apt.conf' }]);
  });

  it('reports a value set again after #clear', () => {
    const finding = only(
      bookworm({
        [`${PARTS}/60local`]: '#clear APT::Periodic;\nAPT::Periodic::Unattended-Upgrade "always";\n',
      }),
    );
    expect(finding.evidence[0]).toMatchObject({ path: `${PARTS}/60local`, line: 2 });
  });

  it('reports it when APT::Periodic::Enable is "false": the script tests it as a number, only "0" disables', () => {
    expect(
      auditTree(bookworm({ [`${PARTS}/10periodic`]: 'APT::Periodic::Enable "false";\n' }), RULE),
    ).toHaveLength(1);
  });

  it('does not count a disabling file APT ignores', () => {
    const finding = only(
      bookworm({
        [`${PARTS}/99off.dpkg-old`]: 'APT::Periodic::Unattended-Upgrade "0";\n',
        [`${PARTS}/99off.bak`]: 'APT::Periodic::Unattended-Upgrade "0";\n',
        [`${PARTS}/.99off`]: 'APT::Periodic::Unattended-Upgrade "0";\n',
        [`${PARTS}/99off.conf~`]: 'APT::Periodic::Unattended-Upgrade "0";\n',
      }),
    );
    expect(finding.evidence[0]).toMatchObject({ path: `${PARTS}/20auto-upgrades`, line: 2 });
    // Ignored files do not move the override either: it must sort after what APT reads.
    expect(finding.remediation.steps).toEqual([SET_ZERO]);
  });

  it.each([
    ['marked for removal but still installed', 'deinstall ok installed'],
    ['held', 'hold ok installed'],
    ['with triggers pending', 'install ok triggers-pending'],
  ])('counts the package %s', (_name, status) => {
    const finding = only(
      bookworm({
        '/var/lib/dpkg/status': `Package: unattended-upgrades\nStatus: ${status}\nArchitecture: all\nVersion: 2.9.1+nmu3\n`,
      }),
    );
    expect(finding.evidence[1]).toEqual({
      path: '/var/lib/dpkg/status',
      line: 1,
      text: 'Package: unattended-upgrades',
    });
  });
});

describe('apt-unattended-upgrades: not found', () => {
  it.each<[string, Record<string, TreeEntry | null>]>([
    [
      'the value commented with //',
      { [`${PARTS}/20auto-upgrades`]: '// APT::Periodic::Unattended-Upgrade "1";\n' },
    ],
    [
      'the value commented with #',
      { [`${PARTS}/20auto-upgrades`]: '# APT::Periodic::Unattended-Upgrade "1";\n' },
    ],
    [
      'the value inside a /* */ comment over several lines',
      { [`${PARTS}/20auto-upgrades`]: '/*\nAPT::Periodic::Unattended-Upgrade "1";\n*/\n' },
    ],
    ['the value set to "0"', { [`${PARTS}/20auto-upgrades`]: 'APT::Periodic::Unattended-Upgrade "0";\n' }],
    [
      'the value never set (only list updates)',
      { [`${PARTS}/20auto-upgrades`]: 'APT::Periodic::Update-Package-Lists "1";\n' },
    ],
    ['no 20auto-upgrades at all', { [`${PARTS}/20auto-upgrades`]: null }],
    [
      'the value overridden by a later part',
      { [`${PARTS}/99-off`]: 'APT::Periodic::Unattended-Upgrade "0";\n' },
    ],
    [
      'the value overridden in the nested block form',
      { [`${PARTS}/99-off`]: 'APT { Periodic { Unattended-Upgrade "0"; }; };\n' },
    ],
    [
      'the value overridden in lower case',
      { [`${PARTS}/99-off`]: 'apt::periodic::unattended-upgrade "0";\n' },
    ],
    [
      'the value overridden in /etc/apt/apt.conf (read after every part)',
      { '/etc/apt/apt.conf': 'APT::Periodic::Unattended-Upgrade "0";\n' },
    ],
    [
      'APT::Periodic::Enable "0", in a part read before the value',
      { [`${PARTS}/02periodic`]: 'APT::Periodic::Enable "0";\n' },
    ],
    ['#clear APT::Periodic; in a later part', { [`${PARTS}/99-clear`]: '#clear APT::Periodic;\n' }],
    [
      'the value set only in a file APT ignores (.bak)',
      { [`${PARTS}/20auto-upgrades`]: null, [`${PARTS}/x.bak`]: AUTO_UPGRADES },
    ],
    [
      'the value set only in a file APT ignores (.dpkg-old)',
      { [`${PARTS}/20auto-upgrades`]: null, [`${PARTS}/20auto-upgrades.dpkg-old`]: AUTO_UPGRADES },
    ],
    ['unattended-upgrades not installed', { '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }) }],
    [
      'unattended-upgrades removed but not purged (deinstall ok config-files)',
      {
        '/var/lib/dpkg/status':
          'Package: unattended-upgrades\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 2.9.1+nmu3\n',
      },
    ],
    [
      'unattended-upgrades in config-files state',
      { '/var/lib/dpkg/status': dpkgStatus({ 'unattended-upgrades': '2.9.1+nmu3' }, 'config-files') },
    ],
    ['no dpkg database', { '/var/lib/dpkg/status': null }],
  ])('with %s', (_name, changes) => {
    expect(auditTree(bookworm(changes), RULE)).toEqual([]);
  });
});

describe('apt-unattended-upgrades: applying the fix', () => {
  it.each<[string, Record<string, TreeEntry | null>]>([
    ['the stock configuration', {}],
    [
      'a part sorting after the override name',
      { [`${PARTS}/99zz-site`]: 'APT::Periodic::Unattended-Upgrade "1";\n' },
    ],
    [
      'the nested block form',
      { [`${PARTS}/20auto-upgrades`]: 'APT { Periodic { Unattended-Upgrade "1"; }; };\n' },
    ],
    [
      '/etc/apt/apt.conf',
      { '/etc/apt/apt.conf': 'Acquire::Retries "3";\napt::periodic::unattended-upgrade "always";\n' },
    ],
    [
      '/etc/apt/apt.conf in the block form',
      { '/etc/apt/apt.conf': 'APT::Periodic {\n  Unattended-Upgrade "1";\n};\n' },
    ],
    [
      'a file included from /etc/apt/apt.conf',
      {
        '/etc/apt/apt.conf': '#include "/etc/apt/site.conf";\n',
        '/etc/apt/site.conf': 'APT::Periodic::Unattended-Upgrade "1";\n',
      },
    ],
  ])('leaves nothing to report for %s', (_name, changes) => {
    const root = makeTree(bookworm(changes));
    const findings = auditDir(root, RULE);
    expect(findings).toHaveLength(1);
    const applied = applyRemediations(root, remediationSteps(findings));
    expect(applied.every((step) => step.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
  });
});
