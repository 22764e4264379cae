import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree } from '../../../test-support/audit.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';

const RULE = 'dnf-release-unlocked';
const lines = (...text: string[]) => `${text.join('\n')}\n`;
const AL2023_MESSAGE =
  'Amazon Linux 2023 instances from this image resolve packages against the newest release, not the one the image was built from.';
const DNF_CONF = lines(
  '[main]',
  'gpgcheck=True',
  'installonly_limit=3',
  'clean_requirements_on_remove=True',
  'best=False',
  'skip_if_unavailable=False',
);

function al2023(entries: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  return {
    '/etc/os-release': lines(
      'NAME="Amazon Linux"',
      'VERSION="2023"',
      'ID="amzn"',
      'ID_LIKE="fedora"',
      'VERSION_ID="2023"',
      'PLATFORM_ID="platform:al2023"',
      'PRETTY_NAME="Amazon Linux 2023.6.20241010"',
    ),
    '/usr/bin/dnf': { link: 'dnf-3' },
    '/usr/bin/dnf-3': '#!/usr/bin/python3\n',
    '/etc/dnf/dnf.conf': DNF_CONF,
    ...entries,
  };
}
function rocky(entries: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  return {
    '/etc/os-release': lines(
      'NAME="Rocky Linux"',
      'VERSION="9.4 (Blue Onyx)"',
      'ID="rocky"',
      'ID_LIKE="rhel centos fedora"',
      'VERSION_ID="9.4"',
      'PLATFORM_ID="platform:el9"',
      'PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"',
    ),
    '/usr/bin/dnf': { link: 'dnf-3' },
    '/usr/bin/dnf-3': '#!/usr/bin/python3\n',
    '/etc/dnf/dnf.conf': DNF_CONF,
    ...entries,
  };
}

describe('dnf-release-unlocked: Amazon Linux 2023', () => {
  it('finds /etc/dnf/vars/releasever = latest, at medium severity', () => {
    expect(auditTree(al2023({ '/etc/dnf/vars/releasever': 'latest\n' }), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'medium',
        title: 'dnf follows the newest release instead of the image’s',
        message: `releasever is "latest" (/etc/dnf/vars/releasever): ${AL2023_MESSAGE}`,
        evidence: [{ path: '/etc/dnf/vars/releasever', line: 1, text: 'latest' }],
        remediation: {
          summary:
            'Remove /etc/dnf/vars/releasever so dnf stays on the release of the installed system-release package, or write a dated release (2023.x.YYYYMMDD) there.',
          steps: [{ action: 'command', argv: ['rm', '-f', '/etc/dnf/vars/releasever'] }],
        },
      },
    ]);
  });

  it('does not find a dated release in the vars file, nor no vars file at all', () => {
    expect(auditTree(al2023({ '/etc/dnf/vars/releasever': '2023.6.20241010\n' }), RULE)).toEqual([]);
    expect(auditTree(al2023(), RULE)).toEqual([]);
    expect(auditTree(al2023({ '/etc/dnf/vars/releasever': '\n' }), RULE)).toEqual([]);
  });

  it('finds releasever=latest in dnf.conf, with a step that removes that line', () => {
    const conf = DNF_CONF.replace('best=False\n', 'best=False\nreleasever=latest\n');
    expect(auditTree(al2023({ '/etc/dnf/dnf.conf': conf }), RULE)).toEqual([
      expect.objectContaining({
        severity: 'medium',
        message: `releasever is "latest" (/etc/dnf/dnf.conf): ${AL2023_MESSAGE}`,
        evidence: [{ path: '/etc/dnf/dnf.conf', line: 6, text: 'releasever=latest' }],
        remediation: {
          summary: 'Remove releasever=latest from dnf.conf so dnf stays on the image’s release.',
          steps: [{ action: 'remove-line', path: '/etc/dnf/dnf.conf', line: 6, text: 'releasever=latest' }],
        },
      }),
    ]);
  });

  it('removes the line as written, spaces included, so that the fix applies', () => {
    const root = makeTree(
      al2023({
        '/etc/dnf/dnf.conf': DNF_CONF.replace('gpgcheck=True\n', 'gpgcheck=True\nreleasever = latest\n'),
      }),
    );
    const findings = auditDir(root, RULE);
    expect(findings.map((f) => f.remediation.steps)).toEqual([
      [{ action: 'remove-line', path: '/etc/dnf/dnf.conf', line: 3, text: 'releasever = latest' }],
    ]);
    expect(applyRemediations(root, remediationSteps(findings)).every((a) => a.applied)).toBe(true);
    expect(readFileSync(join(root, '/etc/dnf/dnf.conf'), 'utf8')).toBe(DNF_CONF);
    expect(auditDir(root, RULE)).toEqual([]);
  });

  it('lets a dated vars file win over releasever=latest in dnf.conf', () => {
    expect(
      auditTree(
        al2023({
          '/etc/dnf/dnf.conf': `${DNF_CONF}releasever=latest\n`,
          '/etc/dnf/vars/releasever': '2023.6.20241010\n',
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('removes both when the vars file and dnf.conf both say latest', () => {
    const findings = auditTree(
      al2023({
        '/etc/dnf/dnf.conf': `${DNF_CONF}releasever=latest\n`,
        '/etc/dnf/vars/releasever': 'latest\n',
      }),
      RULE,
    );
    expect(findings.map((f) => [f.evidence, f.remediation])).toEqual([
      [
        [{ path: '/etc/dnf/vars/releasever', line: 1, text: 'latest' }],
        {
          summary:
            'Remove /etc/dnf/vars/releasever and releasever=latest in dnf.conf so dnf stays on the release of the installed system-release package, or write a dated release (2023.x.YYYYMMDD) there.',
          steps: [
            { action: 'command', argv: ['rm', '-f', '/etc/dnf/vars/releasever'] },
            { action: 'remove-line', path: '/etc/dnf/dnf.conf', line: 7, text: 'releasever=latest' },
          ],
        },
      ],
    ]);
  });

  it('does not look at Amazon Linux 2 (yum, no dnf)', () => {
    expect(
      auditTree(
        {
          '/etc/os-release': 'ID="amzn"\nVERSION_ID="2"\n',
          '/usr/bin/yum': '',
          '/etc/dnf/vars/releasever': 'latest\n',
        },
        RULE,
      ),
    ).toEqual([]);
  });

  it('does not find anything without dnf', () => {
    const tree = al2023({ '/etc/dnf/vars/releasever': 'latest\n' });
    delete tree['/usr/bin/dnf'];
    delete tree['/usr/bin/dnf-3'];
    expect(auditTree(tree, RULE)).toEqual([]);
  });
});

describe('dnf-release-unlocked: RHEL family', () => {
  it('finds Rocky 9.4 without a pinned release, at low severity, and pins the image’s minor release', () => {
    expect(auditTree(rocky(), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'low',
        title: 'dnf follows the newest release instead of the image’s',
        message:
          'Rocky Linux 9.4 (Blue Onyx) takes releasever from its release package (a major version): dnf follows every new minor release.',
        evidence: [{ path: '/etc/os-release' }],
        remediation: {
          summary:
            'Pin releasever to the minor release the image was built and tested with (9.4) in /etc/dnf/vars/releasever.',
          steps: [{ action: 'write-file', path: '/etc/dnf/vars/releasever', content: '9.4\n' }],
        },
      },
    ]);
  });

  it('does not find a release pinned to the minor version, in the vars file or dnf.conf', () => {
    expect(auditTree(rocky({ '/etc/dnf/vars/releasever': '9.4\n' }), RULE)).toEqual([]);
    expect(auditTree(rocky({ '/etc/dnf/dnf.conf': `${DNF_CONF}releasever=9.4\n` }), RULE)).toEqual([]);
  });

  it('finds a release pinned to the major version only', () => {
    expect(
      auditTree(rocky({ '/etc/dnf/vars/releasever': '9\n' }), RULE).map((f) => [
        f.severity,
        f.message,
        f.evidence,
      ]),
    ).toEqual([
      [
        'low',
        'releasever is "9" (/etc/dnf/vars/releasever): dnf follows every new minor release.',
        [{ path: '/etc/dnf/vars/releasever', line: 1, text: '9' }],
      ],
    ]);
  });

  it('knows RHEL, AlmaLinux and Oracle Linux, by ID or ID_LIKE', () => {
    const os = (id: string, like: string) => ({
      '/etc/os-release': `ID="${id}"\nID_LIKE="${like}"\nVERSION_ID="9.4"\n`,
    });
    expect(auditTree(rocky(os('rhel', 'fedora')), RULE)).toHaveLength(1);
    expect(auditTree(rocky(os('almalinux', 'rhel centos fedora')), RULE)).toHaveLength(1);
    expect(auditTree(rocky(os('ol', 'fedora')), RULE)).toHaveLength(1);
    expect(auditTree(rocky(os('eurolinux', 'rhel fedora centos')), RULE)).toHaveLength(1);
  });

  it('reads /usr/lib/os-release when /etc/os-release is missing, and cites it', () => {
    const tree = rocky();
    tree['/usr/lib/os-release'] = tree['/etc/os-release'] as string;
    delete tree['/etc/os-release'];
    expect(auditTree(tree, RULE).map((f) => f.evidence)).toEqual([[{ path: '/usr/lib/os-release' }]]);
  });

  it('does not find distributions without minor releases: Fedora, CentOS Stream', () => {
    expect(
      auditTree(rocky({ '/etc/os-release': 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n' }), RULE),
    ).toEqual([]);
    expect(
      auditTree(
        rocky({
          '/etc/os-release': 'NAME="CentOS Stream"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n',
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('makes the rule quiet once its steps are applied', () => {
    const root = makeTree(rocky());
    applyRemediations(root, remediationSteps(auditDir(root, RULE)));
    expect(readFileSync(join(root, '/etc/dnf/vars/releasever'), 'utf8')).toBe('9.4\n');
    expect(auditDir(root, RULE)).toEqual([]);
  });
});
