import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree, dpkgStatus } from '../../../test-support/audit.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';
import { withChanges } from '../../../test-support/tree.js';

const RULE = 'needrestart-auto';
const MAIN = '/etc/needrestart/needrestart.conf';
const CONF_D = '/etc/needrestart/conf.d';
// needrestart 3.6's configuration as Debian and Ubuntu ship it: line 38 is `#$nrconf{restart} = 'i';`.
const STOCK = readFileSync(new URL('__fixtures__/needrestart.conf', import.meta.url), 'utf8');
const STOCK_LINE = "#$nrconf{restart} = 'i';";
const AUTO = "$nrconf{restart} = 'a';";
const UBUNTU_ENVIRONMENT =
  'PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin"\n';

type Changes = Record<string, TreeEntry | null>;

/** An Ubuntu-like image with needrestart installed as its package leaves it. */
function ubuntu(changes: Changes = {}): Record<string, TreeEntry> {
  const entries: Changes = {
    '/sbin': { link: 'usr/sbin' },
    '/usr/sbin/needrestart': { content: '#!/usr/bin/perl\n', mode: 0o755 },
    '/var/lib/dpkg/status': dpkgStatus({ needrestart: '3.6-4+deb12u4', perl: '5.36.0-7+deb12u1' }),
    [MAIN]: STOCK,
    [`${CONF_D}/README.needrestart`]:
      "Files ending with .conf and located in the /etc/needrestart/conf.d\ndirectory are parsed by needrestart's default configuration file.\n",
    '/etc/apt/apt.conf.d/99needrestart':
      'DPkg::Post-Invoke {"test -x /usr/lib/needrestart/apt-pinvoke && /usr/lib/needrestart/apt-pinvoke || true"; };\n',
    '/etc/environment': UBUNTU_ENVIRONMENT,
    ...changes,
  };
  return withChanges(entries);
}

const sedAuto = STOCK.replace(STOCK_LINE, AUTO);

describe('needrestart-auto: found', () => {
  it("reports $nrconf{restart} = 'a' in conf.d, overriding the stock file", () => {
    const path = `${CONF_D}/50-autorestart.conf`;
    expect(auditTree(ubuntu({ [path]: `# set by packer\n${AUTO}\n` }), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'medium',
        title: 'needrestart restarts services on its own after upgrades',
        message: `$nrconf{restart} is 'a' (${path}): needrestart restarts services automatically after every upgrade.`,
        evidence: [{ path, line: 2, text: AUTO }],
        remediation: {
          summary: "Set $nrconf{restart} = 'l'; (list only): restarts belong to a rollout of a new image.",
          steps: [{ action: 'set-line', path, match: AUTO, line: "$nrconf{restart} = 'l';" }],
        },
      },
    ]);
  });

  it('reports the stock line edited in place (the usual sed of image builds)', () => {
    const findings = auditTree(ubuntu({ [MAIN]: sedAuto }), RULE);
    expect(findings.map((f) => [f.evidence, f.remediation.steps])).toEqual([
      [
        [{ path: MAIN, line: 38, text: AUTO }],
        [{ action: 'set-line', path: MAIN, match: AUTO, line: "$nrconf{restart} = 'l';" }],
      ],
    ]);
  });

  it('reports the last conf.d file winning over an earlier one and the main file', () => {
    const findings = auditTree(
      ubuntu({
        [MAIN]: STOCK.replace(STOCK_LINE, "$nrconf{restart} = 'l';"),
        [`${CONF_D}/10-list.conf`]: "$nrconf{restart} = 'l';\n",
        [`${CONF_D}/90-auto.conf`]: `$nrconf{'restart'} = "a";\n`,
      }),
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [{ path: `${CONF_D}/90-auto.conf`, line: 1, text: `$nrconf{'restart'} = "a";` }],
    ]);
  });

  it('reports NEEDRESTART_MODE=a in /etc/environment, removing that line as the fix', () => {
    expect(
      auditTree(ubuntu({ '/etc/environment': `${UBUNTU_ENVIRONMENT}NEEDRESTART_MODE=a\n` }), RULE),
    ).toEqual([
      {
        rule: RULE,
        severity: 'medium',
        title: 'needrestart restarts services on its own after upgrades',
        message:
          'NEEDRESTART_MODE=a (/etc/environment) makes needrestart restart services automatically wherever that environment reaches.',
        evidence: [{ path: '/etc/environment', line: 2, text: 'NEEDRESTART_MODE=a' }],
        remediation: {
          summary: 'Remove NEEDRESTART_MODE=a from /etc/environment.',
          steps: [{ action: 'remove-line', path: '/etc/environment', line: 2, text: 'NEEDRESTART_MODE=a' }],
        },
      },
    ]);
  });

  it('reports a quoted NEEDRESTART_MODE="a"', () => {
    const findings = auditTree(
      ubuntu({ '/etc/environment': `NEEDRESTART_MODE="a"\n${UBUNTU_ENVIRONMENT}` }),
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [{ path: '/etc/environment', line: 1, text: 'NEEDRESTART_MODE="a"' }],
    ]);
  });

  it('reports the configuration and the environment separately', () => {
    const findings = auditTree(
      ubuntu({ [MAIN]: sedAuto, '/etc/environment': `${UBUNTU_ENVIRONMENT}NEEDRESTART_MODE=a\n` }),
      RULE,
    );
    expect(findings.map((f) => f.evidence[0]?.path).sort()).toEqual(['/etc/environment', MAIN]);
  });

  it("reports Ubuntu 24.04's stock setup: the APT hook's -m u restarts automatically when nothing sets $nrconf{restart}", () => {
    // needrestart 3.6-7ubuntu4 (Ubuntu 24.04): its hook runs `apt-pinvoke -m u`, and Ubuntu mode
    // defaults to 'a' when the configuration leaves $nrconf{restart} unset (the stock file).
    const hook =
      'DPkg::Post-Invoke {"test -x /usr/lib/needrestart/apt-pinvoke && /usr/lib/needrestart/apt-pinvoke -m u || true"; };';
    const tree = ubuntu({
      '/var/lib/dpkg/status': dpkgStatus({ needrestart: '3.6-7ubuntu4.1', perl: '5.38.2-3.2build2' }),
      '/etc/apt/apt.conf.d/99needrestart': `${hook}\n`,
    });
    const findings = auditTree(tree, RULE);
    expect(findings.map((f) => [f.severity, f.evidence, f.remediation.steps])).toEqual([
      [
        'medium',
        [{ path: '/etc/apt/apt.conf.d/99needrestart', line: 1, text: hook }],
        [
          {
            action: 'set-line',
            path: `${CONF_D}/99goldgate-immutable.conf`,
            match: '$nrconf{restart}',
            line: "$nrconf{restart} = 'l';",
          },
        ],
      ],
    ]);
    const root = makeTree(tree);
    expect(applyRemediations(root, remediationSteps(findings)).every((step) => step.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
  });

  it("does not report Ubuntu 24.04's hook when $nrconf{restart} = 'l' is set in conf.d", () => {
    const tree = ubuntu({
      '/etc/apt/apt.conf.d/99needrestart':
        'DPkg::Post-Invoke {"test -x /usr/lib/needrestart/apt-pinvoke && /usr/lib/needrestart/apt-pinvoke -m u || true"; };\n',
      [`${CONF_D}/50-list.conf`]: "$nrconf{restart} = 'l';\n",
    });
    expect(auditTree(tree, RULE)).toEqual([]);
  });

  it('reports needrestart known only by its configuration file (no dpkg database)', () => {
    const findings = auditTree(
      ubuntu({ '/usr/sbin/needrestart': null, '/var/lib/dpkg/status': null, [MAIN]: sedAuto }),
      RULE,
    );
    expect(findings).toHaveLength(1);
  });
});

describe('needrestart-auto: not found', () => {
  it.each<[string, Changes]>([
    ['the stock configuration (restart commented out: interactive)', {}],
    ["'l' (list only)", { [`${CONF_D}/50-list.conf`]: "$nrconf{restart} = 'l';\n" }],
    ["'i' (interactive)", { [MAIN]: STOCK.replace(STOCK_LINE, "$nrconf{restart} = 'i';") }],
    [
      "'a' in the main file, 'l' in conf.d",
      { [MAIN]: sedAuto, [`${CONF_D}/99-list.conf`]: "$nrconf{restart} = 'l';\n" },
    ],
    ["'a' commented out in conf.d", { [`${CONF_D}/50-auto.conf`]: `#${AUTO}\n` }],
    ["'a' in a comment after 'l'", { [`${CONF_D}/50-auto.conf`]: "$nrconf{restart} = 'l'; # was 'a'\n" }],
    ["'a' in a conf.d file not named *.conf", { [`${CONF_D}/50-auto.conf.disabled`]: `${AUTO}\n` }],
    ["'a' after __END__", { [`${CONF_D}/50-auto.conf`]: `__END__\n${AUTO}\n` }],
    [
      "'a' with needrestart not installed (a stray conf.d file)",
      {
        '/usr/sbin/needrestart': null,
        [MAIN]: null,
        '/var/lib/dpkg/status': dpkgStatus({ perl: '5.36.0-7+deb12u1' }),
        [`${CONF_D}/50-auto.conf`]: `${AUTO}\n`,
      },
    ],
    [
      "'a' left in the configuration of a removed, not purged, needrestart",
      {
        '/usr/sbin/needrestart': null,
        '/var/lib/dpkg/status':
          'Package: needrestart\nStatus: deinstall ok config-files\nArchitecture: all\nVersion: 3.6-4+deb12u4\n',
        [MAIN]: sedAuto,
      },
    ],
    ['NEEDRESTART_MODE=l', { '/etc/environment': `${UBUNTU_ENVIRONMENT}NEEDRESTART_MODE=l\n` }],
    [
      'NEEDRESTART_MODE=a commented out',
      { '/etc/environment': `${UBUNTU_ENVIRONMENT}#NEEDRESTART_MODE=a\n` },
    ],
    [
      'NEEDRESTART_MODE=a overridden later in the file',
      { '/etc/environment': `NEEDRESTART_MODE=a\n${UBUNTU_ENVIRONMENT}NEEDRESTART_MODE=l\n` },
    ],
  ])('%s', (_name, changes) => {
    expect(auditTree(ubuntu(changes), RULE)).toEqual([]);
  });
});

describe('needrestart-auto: applying the fix', () => {
  it.each<[string, Changes]>([
    ['a conf.d file', { [`${CONF_D}/50-auto.conf`]: `${AUTO}\n` }],
    ['the main file edited in place', { [MAIN]: sedAuto }],
    [
      'the main file with an earlier assignment left in place',
      {
        [MAIN]: STOCK.replace(STOCK_LINE, "$nrconf{restart} = 'i';").replace(
          '# Read additional',
          `${AUTO}\n\n# Read additional`,
        ),
      },
    ],
    ['/etc/environment', { '/etc/environment': `${UBUNTU_ENVIRONMENT}NEEDRESTART_MODE=a\n` }],
    [
      'the configuration and the environment',
      {
        [`${CONF_D}/50-auto.conf`]: `${AUTO}\n`,
        '/etc/environment': `NEEDRESTART_MODE=a\n${UBUNTU_ENVIRONMENT}`,
      },
    ],
  ])('leaves nothing to report for %s', (_name, changes) => {
    const root = makeTree(ubuntu(changes));
    const findings = auditDir(root, RULE);
    expect(findings.length).toBeGreaterThan(0);
    expect(applyRemediations(root, remediationSteps(findings)).every((step) => step.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
  });
});
