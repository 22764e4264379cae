import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree, dpkgStatus } from '../../../test-support/audit.js';
import { APT_DAILY_SERVICE, APT_DAILY_TIMER, AUTO_UPGRADES } from '../../../test-support/debian-files.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';
import { withChanges } from '../../../test-support/tree.js';

const RULE = 'apt-periodic-update';
const PARTS = '/etc/apt/apt.conf.d';
const OVERRIDE = `${PARTS}/99goldgate-immutable`;
const UPDATE = 'APT::Periodic::Update-Package-Lists';
const DOWNLOAD = 'APT::Periodic::Download-Upgradeable-Packages';

// Verbatim: Ubuntu's 10periodic (update-notifier-common).
const UBUNTU_PERIODIC =
  'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Download-Upgradeable-Packages "0";\nAPT::Periodic::AutocleanInterval "0";\n';

function setZero(key: string, path = OVERRIDE) {
  return { action: 'set-line', path, match: `${key} `, line: `${key} "0";` };
}

/** A merged-/usr Debian bookworm image with unattended-upgrades' 20auto-upgrades and apt-daily.timer enabled. */
function bookworm(changes: Record<string, TreeEntry | null> = {}): Record<string, TreeEntry> {
  const entries: Record<string, TreeEntry | null> = {
    '/lib': { link: 'usr/lib' },
    '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1', 'unattended-upgrades': '2.9.1+nmu3' }),
    [`${PARTS}/20auto-upgrades`]: AUTO_UPGRADES,
    '/usr/lib/systemd/system/apt-daily.timer': APT_DAILY_TIMER,
    '/usr/lib/systemd/system/apt-daily.service': APT_DAILY_SERVICE,
    '/etc/systemd/system/timers.target.wants/apt-daily.timer': {
      link: '/lib/systemd/system/apt-daily.timer',
    },
    ...changes,
  };
  return withChanges(entries);
}

function only(entries: Record<string, TreeEntry>) {
  const findings = auditTree(entries, RULE);
  expect(findings).toHaveLength(1);
  return findings[0]!;
}

describe('apt-periodic-update: found', () => {
  it('reports the stock Debian configuration exactly', () => {
    expect(auditTree(bookworm(), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'medium',
        title: 'apt refreshes package lists from the network on its own',
        message:
          'APT::Periodic::Update-Package-Lists "1": apt.systemd.daily refreshes from the image\'s apt sources whenever apt-daily.timer fires.',
        evidence: [
          { path: `${PARTS}/20auto-upgrades`, line: 1, text: 'APT::Periodic::Update-Package-Lists "1";' },
        ],
        remediation: { summary: 'Set APT::Periodic::Update-Package-Lists "0".', steps: [setZero(UPDATE)] },
      },
    ]);
  });

  it('reports Ubuntu’s 10periodic and 20auto-upgrades, citing the part that wins', () => {
    const finding = only(bookworm({ [`${PARTS}/10periodic`]: UBUNTU_PERIODIC }));
    expect(finding.evidence).toEqual([
      { path: `${PARTS}/20auto-upgrades`, line: 1, text: 'APT::Periodic::Update-Package-Lists "1";' },
    ]);
    expect(finding.remediation.steps).toEqual([setZero(UPDATE)]);
  });

  it('reports Download-Upgradeable-Packages with the list update it follows', () => {
    const finding = only(
      bookworm({
        [`${PARTS}/10periodic`]: `${UPDATE} "1";\n${DOWNLOAD} "1";\nAPT::Periodic::AutocleanInterval "7";\n`,
        [`${PARTS}/20auto-upgrades`]: null,
      }),
    );
    expect(finding.severity).toBe('medium');
    expect(finding.message).toBe(
      `${UPDATE} "1" and ${DOWNLOAD} "1": apt.systemd.daily refreshes from the image's apt sources whenever apt-daily.timer fires.`,
    );
    expect(finding.evidence).toEqual([
      { path: `${PARTS}/10periodic`, line: 1, text: `${UPDATE} "1";` },
      { path: `${PARTS}/10periodic`, line: 2, text: `${DOWNLOAD} "1";` },
    ]);
    expect(finding.remediation).toEqual({
      summary: `Set ${UPDATE} "0" and ${DOWNLOAD} "0".`,
      steps: [setZero(UPDATE), setZero(DOWNLOAD)],
    });
  });

  it('does not need unattended-upgrades: apt.systemd.daily is apt’s own', () => {
    const finding = only(bookworm({ '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }) }));
    expect(finding.severity).toBe('medium');
  });

  it.each<[string, Record<string, TreeEntry | null>]>([
    ['not linked', { '/etc/systemd/system/timers.target.wants/apt-daily.timer': null }],
    ['masked', { '/etc/systemd/system/apt-daily.timer': { link: '/dev/null' } }],
    ['enabled but its service masked', { '/etc/systemd/system/apt-daily.service': { link: '/dev/null' } }],
  ])('is low with apt-daily.timer %s', (_name, changes) => {
    const finding = only(bookworm(changes));
    expect(finding.severity).toBe('low');
    expect(finding.message).toBe(
      `${UPDATE} "1": apt.systemd.daily refreshes from the image's apt sources whenever apt-daily.service runs (its timer is not active).`,
    );
    expect(finding.remediation.steps).toEqual([setZero(UPDATE)]);
  });

  it('is medium with apt-daily.timer enabled by the vendor', () => {
    const finding = only(
      bookworm({
        '/etc/systemd/system/timers.target.wants/apt-daily.timer': null,
        '/usr/lib/systemd/system/timers.target.wants/apt-daily.timer': { link: '../apt-daily.timer' },
      }),
    );
    expect(finding.severity).toBe('medium');
  });

  it.each(['always', '1d', '12h', ''])('reports the interval "%s"', (value) => {
    const finding = only(bookworm({ [`${PARTS}/20auto-upgrades`]: `${UPDATE} "${value}";\n` }));
    expect(finding.message).toContain(`${UPDATE} "${value}"`);
  });

  it('reads the block form and lower-case names', () => {
    const finding = only(
      bookworm({
        [`${PARTS}/20auto-upgrades`]: 'apt {\n  periodic {\n    update-package-lists "1";\n  };\n};\n',
      }),
    );
    expect(finding.message).toContain('apt::periodic::update-package-lists "1"');
    expect(finding.evidence).toEqual([
      { path: `${PARTS}/20auto-upgrades`, line: 3, text: 'update-package-lists "1";' },
    ]);
    expect(finding.remediation.summary).toBe(`Set ${UPDATE} "0".`);
  });

  it('writes the fix into /etc/apt/apt.conf when the value is set there', () => {
    const finding = only(
      bookworm({ '/etc/apt/apt.conf': `${UPDATE} "1";\n`, [`${PARTS}/20auto-upgrades`]: null }),
    );
    expect(finding.remediation.steps).toEqual([setZero(UPDATE, '/etc/apt/apt.conf')]);
  });

  it('does not count an override in a file APT ignores', () => {
    const finding = only(
      bookworm({ [`${PARTS}/99off.dpkg-old`]: `${UPDATE} "0";\n`, [`${PARTS}/x.bak`]: `${UPDATE} "0";\n` }),
    );
    expect(finding.evidence[0]).toMatchObject({ path: `${PARTS}/20auto-upgrades`, line: 1 });
  });
});

describe('apt-periodic-update: not found', () => {
  it.each<[string, Record<string, TreeEntry | null>]>([
    ['commented with //', { [`${PARTS}/20auto-upgrades`]: `// ${UPDATE} "1";\n` }],
    ['commented with #', { [`${PARTS}/20auto-upgrades`]: `#${UPDATE} "1";\n` }],
    ['commented with /* */', { [`${PARTS}/20auto-upgrades`]: `/* ${UPDATE} "1"; */\n` }],
    ['set to "0"', { [`${PARTS}/20auto-upgrades`]: `${UPDATE} "0";\n` }],
    ['not set', { [`${PARTS}/20auto-upgrades`]: null }],
    ['overridden by a later part', { [`${PARTS}/99-off`]: `${UPDATE} "0";\n` }],
    ['overridden in /etc/apt/apt.conf', { '/etc/apt/apt.conf': `${UPDATE} "0";\n` }],
    ['disabled by APT::Periodic::Enable "0"', { [`${PARTS}/99-off`]: 'APT::Periodic::Enable "0";\n' }],
    ['cleared by #clear APT::Periodic;', { [`${PARTS}/99-off`]: '#clear APT::Periodic;\n' }],
    [
      'set only in a file APT ignores',
      { [`${PARTS}/20auto-upgrades`]: null, [`${PARTS}/20auto-upgrades.bak`]: AUTO_UPGRADES },
    ],
    [
      // apt.systemd.daily downloads upgradeable packages only right after it refreshed the lists.
      'Download-Upgradeable-Packages without list updates',
      { [`${PARTS}/20auto-upgrades`]: `${UPDATE} "0";\n${DOWNLOAD} "1";\n` },
    ],
    ['Download-Upgradeable-Packages alone', { [`${PARTS}/20auto-upgrades`]: `${DOWNLOAD} "always";\n` }],
  ])('%s', (_name, changes) => {
    expect(auditTree(bookworm(changes), RULE)).toEqual([]);
  });
});

describe('apt-periodic-update: applying the fix', () => {
  it.each<[string, Record<string, TreeEntry | null>]>([
    ['the stock configuration', {}],
    ['Ubuntu’s two files', { [`${PARTS}/10periodic`]: UBUNTU_PERIODIC }],
    ['both jobs', { [`${PARTS}/20auto-upgrades`]: `${UPDATE} "1";\n${DOWNLOAD} "1";\n` }],
    ['/etc/apt/apt.conf', { '/etc/apt/apt.conf': `APT::Periodic { Update-Package-Lists "always"; };\n` }],
  ])('leaves nothing to report for %s', (_name, changes) => {
    const root = makeTree(bookworm(changes));
    const findings = auditDir(root, RULE);
    expect(findings).toHaveLength(1);
    expect(applyRemediations(root, remediationSteps(findings)).every((step) => step.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
  });
});
