import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree } from '../../../test-support/audit.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';

const RULE = 'cloud-init-package-upgrade';
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const DEBIAN_CFG = fixture('debian12-cloud.cfg');
const AMZN2_CFG = fixture('amzn2-cloud.cfg');
const SEED = '/var/lib/cloud/seed/nocloud/user-data';
const SUMMARY_CONFIG =
  'in a cloud.cfg.d file that sorts last; launch-time user-data must not turn it back on.';

/** A Debian 12 cloud image: cloud-init installed with its stock configuration. */
function debian(entries: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  return {
    '/etc/os-release':
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    '/etc/cloud/cloud.cfg': DEBIAN_CFG,
    '/usr/bin/cloud-init': { content: '#!/usr/bin/python3\n', mode: 0o755 },
    '/etc/cloud/cloud.cfg.d/05_logging.cfg':
      '## This yaml formatted config file handles setting\n_log:\n - &log_base |\n   [loggers]\n',
    ...entries,
  };
}

const AL2_OS =
  'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\nPRETTY_NAME="Amazon Linux 2"\n';
const AL2023_OS =
  'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\nPLATFORM_ID="platform:al2023"\nPRETTY_NAME="Amazon Linux 2023.6.20241010"\n';

/** An Amazon Linux image; AL2's stock cloud.cfg sets repo_upgrade: security, so the config is given per test. */
function amazon(os: string, cfg: string, entries: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  return {
    '/etc/os-release': os,
    '/etc/cloud/cloud.cfg': cfg,
    '/usr/bin/cloud-init': { content: '#!/usr/bin/python3\n', mode: 0o755 },
    ...entries,
  };
}
const AMZN_CFG_WITHOUT_REPO = AMZN2_CFG.replace('repo_upgrade: security\n', '');

describe('cloud-init-package-upgrade: package_upgrade / package_update', () => {
  it('finds package_upgrade: true in a cloud.cfg.d drop-in, at its line, with an override that sorts last', () => {
    const findings = auditTree(
      debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': '# baked by the image pipeline\npackage_upgrade: true\n' }),
      RULE,
    );
    expect(findings).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'cloud-init updates packages at first boot',
        message:
          'package_upgrade: true in /etc/cloud/cloud.cfg.d/50-x.cfg: cloud-init upgrades every package at first boot.',
        evidence: [{ path: '/etc/cloud/cloud.cfg.d/50-x.cfg', line: 2, text: 'package_upgrade: true' }],
        remediation: {
          summary: `Set package_upgrade: false ${SUMMARY_CONFIG}`,
          steps: [
            {
              action: 'set-line',
              path: '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg',
              match: 'package_upgrade:',
              line: 'package_upgrade: false',
            },
          ],
        },
      },
    ]);
  });

  it('names the override so that it sorts after every existing drop-in', () => {
    const [finding] = auditTree(
      debian({ '/etc/cloud/cloud.cfg.d/99_zz-site.cfg': 'package_upgrade: true\n' }),
      RULE,
    );
    expect(finding?.remediation.steps).toEqual([
      {
        action: 'set-line',
        path: '/etc/cloud/cloud.cfg.d/z99-goldgate-immutable.cfg',
        match: 'package_upgrade:',
        line: 'package_upgrade: false',
      },
    ]);
  });

  it('finds package_upgrade: true in cloud.cfg itself', () => {
    const findings = auditTree(
      debian({ '/etc/cloud/cloud.cfg': `${DEBIAN_CFG}\npackage_upgrade: true\n` }),
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [
        {
          path: '/etc/cloud/cloud.cfg',
          line: DEBIAN_CFG.split('\n').length + 1,
          text: 'package_upgrade: true',
        },
      ],
    ]);
  });

  it('does not find package_upgrade: true overridden to false by a later drop-in', () => {
    expect(
      auditTree(
        debian({
          '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n',
          '/etc/cloud/cloud.cfg.d/99-y.cfg': 'package_upgrade: false\n',
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds a later drop-in turning it back on, citing that drop-in', () => {
    const findings = auditTree(
      debian({
        '/etc/cloud/cloud.cfg.d/10-a.cfg': 'package_upgrade: false\n',
        '/etc/cloud/cloud.cfg.d/90-b.cfg': 'locale: C.UTF-8\npackage_upgrade: on\n',
      }),
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        'package_upgrade: true in /etc/cloud/cloud.cfg.d/90-b.cfg: cloud-init upgrades every package at first boot.',
        [{ path: '/etc/cloud/cloud.cfg.d/90-b.cfg', line: 2, text: 'package_upgrade: on' }],
      ],
    ]);
  });

  it('finds package_upgrade in a baked NoCloud seed and fixes it in the seed', () => {
    const findings = auditTree(
      debian({
        [SEED]: '#cloud-config\nhostname: web-01\npackage_upgrade: true\npackages:\n  - nginx\n',
        '/var/lib/cloud/seed/nocloud/meta-data': 'instance-id: iid-local01\n',
      }),
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'high',
        message: `package_upgrade: true in baked user-data ${SEED}: cloud-init upgrades every package at first boot.`,
        evidence: [{ path: SEED, line: 3, text: 'package_upgrade: true' }],
        remediation: {
          summary: 'Set package_upgrade: false; launch-time user-data must not turn it back on.',
          steps: [
            { action: 'set-line', path: SEED, match: 'package_upgrade:', line: 'package_upgrade: false' },
          ],
        },
      }),
    ]);
  });

  it('does not find a seed that sets false over a configuration that sets true', () => {
    expect(
      auditTree(
        debian({
          '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n',
          [SEED]: '#cloud-config\npackage_upgrade: false\n',
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds a seed that sets true over a configuration that sets false', () => {
    const findings = auditTree(
      debian({
        '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: false\n',
        [SEED]: '#cloud-config\npackage_upgrade: true\n',
      }),
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [{ path: SEED, line: 2, text: 'package_upgrade: true' }],
    ]);
  });

  it('lets user-data win over vendor-data', () => {
    const vendor = '/var/lib/cloud/seed/nocloud/vendor-data';
    expect(
      auditTree(
        debian({
          [vendor]: '#cloud-config\npackage_upgrade: true\n',
          [SEED]: '#cloud-config\npackage_upgrade: false\n',
        }),
        RULE,
      ),
    ).toEqual([]);
    const findings = auditTree(debian({ [vendor]: '#cloud-config\npackage_upgrade: true\n' }), RULE);
    expect(findings.map((f) => f.message)).toEqual([
      `package_upgrade: true in baked vendor-data ${vendor}: cloud-init upgrades every package at first boot.`,
    ]);
  });

  it('finds package_upgrade in a gzip-compressed seed, citing line 1 and asking to decode it (no in-place edit)', () => {
    const root = makeTree(debian({ '/var/lib/cloud/seed/nocloud/meta-data': 'instance-id: iid-1\n' }));
    writeFileSync(join(root, SEED), gzipSync('#cloud-config\nhostname: web\npackage_upgrade: true\n'));
    const findings = auditDir(root, RULE);
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'high',
        message: `package_upgrade: true in baked user-data ${SEED}: cloud-init upgrades every package at first boot.`,
        evidence: [{ path: SEED, line: 1 }],
        remediation: {
          summary: `Decode the encoded user-data part of ${SEED}, set package_upgrade: false, and encode it again; launch-time user-data must not turn it back on.`,
          steps: [],
        },
      }),
    ]);
  });

  it('finds package_upgrade in a cloud-config part of a MIME multipart seed, at the part’s line', () => {
    const mime = [
      'Content-Type: multipart/mixed; boundary="===============4292537271574537396=="',
      'MIME-Version: 1.0',
      '',
      '--===============4292537271574537396==',
      'Content-Type: text/cloud-config; charset="us-ascii"',
      'MIME-Version: 1.0',
      'Content-Transfer-Encoding: 7bit',
      'Content-Disposition: attachment; filename="cloud-config.txt"',
      '',
      '#cloud-config',
      'package_upgrade: true',
      '',
      '--===============4292537271574537396==--',
      '',
    ].join('\n');
    const findings = auditTree(debian({ [SEED]: mime }), RULE);
    expect(findings.map((f) => f.evidence)).toEqual([
      [{ path: SEED, line: 11, text: 'package_upgrade: true' }],
    ]);
  });

  it('cites the header line of a base64 part, without quoting it, and asks to decode it', () => {
    const body = Buffer.from('#cloud-config\npackage_upgrade: true\n').toString('base64');
    const mime = [
      'Content-Type: multipart/mixed; boundary="==BOUNDARY=="',
      'MIME-Version: 1.0',
      '',
      '--==BOUNDARY==',
      'Content-Type: text/cloud-config; charset="utf-8"',
      'Content-Transfer-Encoding: base64',
      '',
      body,
      '--==BOUNDARY==--',
      '',
    ].join('\n');
    const findings = auditTree(debian({ [SEED]: mime }), RULE);
    expect(findings.map((f) => [f.evidence, f.remediation.steps])).toEqual([[[{ path: SEED, line: 5 }], []]]);
  });

  it('reports package_update: true at medium severity', () => {
    const findings = auditTree(debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_update: true\n' }), RULE);
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'medium',
        message:
          'package_update: true in /etc/cloud/cloud.cfg.d/50-x.cfg: cloud-init refreshes package lists from the network at first boot.',
        evidence: [{ path: '/etc/cloud/cloud.cfg.d/50-x.cfg', line: 1, text: 'package_update: true' }],
        remediation: {
          summary: `Set package_update: false ${SUMMARY_CONFIG}`,
          steps: [
            {
              action: 'set-line',
              path: '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg',
              match: 'package_update:',
              line: 'package_update: false',
            },
          ],
        },
      }),
    ]);
  });

  it('reports update and upgrade as two findings, worst first', () => {
    const findings = auditTree(
      debian({ [SEED]: '#cloud-config\npackage_update: true\npackage_upgrade: true\n' }),
      RULE,
    );
    expect(findings.map((f) => [f.severity, f.evidence[0]?.line])).toEqual([
      ['high', 3],
      ['medium', 2],
    ]);
  });

  it('reads values as cloud-init’s translate_bool does: "yes", "on", "1" and 1 are true; "y", "no", 0 are not', () => {
    const upgrade = (value: string) =>
      auditTree(debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': `package_upgrade: ${value}\n` }), RULE).length;
    expect(upgrade('"yes"')).toBe(1);
    expect(upgrade('yes')).toBe(1);
    expect(upgrade('"On"')).toBe(1);
    expect(upgrade('"1"')).toBe(1);
    expect(upgrade('1')).toBe(1);
    expect(upgrade('y')).toBe(0);
    expect(upgrade('"y"')).toBe(0);
    expect(upgrade('"no"')).toBe(0);
    expect(upgrade('0')).toBe(0);
    expect(upgrade('"true-ish"')).toBe(0);
  });

  it('quotes the value as written in the message', () => {
    const [finding] = auditTree(
      debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: "yes"\n' }),
      RULE,
    );
    expect(finding?.message).toBe(
      'package_upgrade: "yes" in /etc/cloud/cloud.cfg.d/50-x.cfg: cloud-init upgrades every package at first boot.',
    );
    expect(finding?.evidence).toEqual([
      { path: '/etc/cloud/cloud.cfg.d/50-x.cfg', line: 1, text: 'package_upgrade: "yes"' },
    ]);
  });

  it('finds the deprecated apt_upgrade alias', () => {
    const [finding] = auditTree(debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': 'apt_upgrade: true\n' }), RULE);
    expect(finding?.message).toBe(
      'apt_upgrade: true in /etc/cloud/cloud.cfg.d/50-x.cfg: cloud-init upgrades every package at first boot.',
    );
    expect(finding?.remediation.steps).toEqual([
      {
        action: 'set-line',
        path: '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg',
        match: 'apt_upgrade:',
        line: 'apt_upgrade: false',
      },
    ]);
  });

  it('finds apt_upgrade: true even when package_upgrade is false (cloud-init upgrades when either is true)', () => {
    const findings = auditTree(
      debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: false\napt_upgrade: true\n' }),
      RULE,
    );
    expect(findings.map((f) => [f.severity, f.evidence])).toEqual([
      ['high', [{ path: '/etc/cloud/cloud.cfg.d/50-x.cfg', line: 2, text: 'apt_upgrade: true' }]],
    ]);
  });

  it('cites and turns off every alias that is true', () => {
    const findings = auditTree(
      debian({
        '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n',
        [SEED]: '#cloud-config\napt_upgrade: true\n',
      }),
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message: `package_upgrade: true in /etc/cloud/cloud.cfg.d/50-x.cfg; apt_upgrade: true in baked user-data ${SEED}: cloud-init upgrades every package at first boot.`,
        evidence: [
          { path: '/etc/cloud/cloud.cfg.d/50-x.cfg', line: 1, text: 'package_upgrade: true' },
          { path: SEED, line: 2, text: 'apt_upgrade: true' },
        ],
        remediation: {
          summary:
            'Set package_upgrade: false and apt_upgrade: false; launch-time user-data must not turn it back on.',
          steps: [
            {
              action: 'set-line',
              path: '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg',
              match: 'package_upgrade:',
              line: 'package_upgrade: false',
            },
            { action: 'set-line', path: SEED, match: 'apt_upgrade:', line: 'apt_upgrade: false' },
          ],
        },
      }),
    ]);
  });

  it('ignores repo_update outside Amazon Linux (upstream cloud-init does not read it)', () => {
    expect(auditTree(debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': 'repo_update: true\n' }), RULE)).toEqual([]);
  });

  it('does not find anything when the package-update-upgrade-install module is removed from every stage', () => {
    const cfg = DEBIAN_CFG.replace(' - package-update-upgrade-install\n', '');
    expect(cfg).not.toBe(DEBIAN_CFG);
    expect(
      auditTree(
        debian({ '/etc/cloud/cloud.cfg': cfg, '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n' }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds the module listed in the config stage as well as the final stage, under either spelling', () => {
    const cfg = DEBIAN_CFG.replace(' - package-update-upgrade-install\n', '').replace(
      ' - runcmd\n',
      ' - runcmd\n - package_update_upgrade_install\n',
    );
    expect(
      auditTree(
        debian({ '/etc/cloud/cloud.cfg': cfg, '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n' }),
        RULE,
      ),
    ).toHaveLength(1);
  });

  it('does not find anything when /etc/cloud/cloud-init.disabled exists', () => {
    expect(
      auditTree(
        debian({
          '/etc/cloud/cloud-init.disabled': '',
          '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n',
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('does not find anything when cloud-init’s services are all masked', () => {
    const masked = Object.fromEntries(
      ['cloud-init-local', 'cloud-init', 'cloud-config', 'cloud-final'].map((name) => [
        `/etc/systemd/system/${name}.service`,
        { link: '/dev/null' },
      ]),
    );
    const units = Object.fromEntries(
      ['cloud-init-local', 'cloud-init', 'cloud-config', 'cloud-final'].map((name) => [
        `/usr/lib/systemd/system/${name}.service`,
        `[Unit]\nDescription=${name}\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/cloud-init modules\n\n[Install]\nWantedBy=cloud-init.target\n`,
      ]),
    );
    const tree = debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n', ...units });
    expect(auditTree(tree, RULE)).toHaveLength(1);
    expect(auditTree({ ...tree, ...masked }, RULE)).toEqual([]);
    expect(
      auditTree({ ...tree, '/etc/systemd/system/cloud-init.target': { link: '/dev/null' } }, RULE),
    ).toEqual([]);
    // One stage masked is not cloud-init masked.
    expect(
      auditTree({ ...tree, '/etc/systemd/system/cloud-final.service': { link: '/dev/null' } }, RULE),
    ).toHaveLength(1);
  });

  it('does not find anything without cloud-init, even with its configuration files left behind', () => {
    expect(
      auditTree(
        {
          '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n',
          [SEED]: '#cloud-config\npackage_upgrade: true\n',
        },
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds cloud-init present by its program alone (no cloud.cfg)', () => {
    const findings = auditTree(
      {
        '/usr/bin/cloud-init': '#!/usr/bin/python3\n',
        '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n',
      },
      RULE,
    );
    expect(findings).toHaveLength(1);
  });

  it('does not find a file that is not valid YAML (cloud-init ignores it)', () => {
    expect(
      auditTree(debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_upgrade: true\n  - : [\n' }), RULE),
    ).toEqual([]);
  });

  it('does not find look-alikes: comments, nested keys, other files', () => {
    expect(
      auditTree(
        debian({
          '/etc/cloud/cloud.cfg.d/50-x.cfg':
            '# package_upgrade: true\nsystem_info:\n  package_upgrade: true\n',
          '/etc/cloud/cloud.cfg.d/60-y.cfg.disabled': 'package_upgrade: true\n',
          '/etc/cloud/package_upgrade.cfg': 'package_upgrade: true\n',
          '/var/lib/cloud/seed/nocloud/user-data.bak': '#cloud-config\npackage_upgrade: true\n',
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('makes the rule quiet once its steps are applied (configuration and seed)', () => {
    const root = makeTree(
      debian({
        '/etc/cloud/cloud.cfg.d/50-x.cfg': 'package_update: true\npackage_upgrade: true\n',
        [SEED]: '#cloud-config\nhostname: web\napt_upgrade: true\n',
      }),
    );
    const findings = auditDir(root, RULE);
    expect(findings).toHaveLength(2);
    const applied = applyRemediations(root, remediationSteps(findings));
    expect(applied.every((a) => a.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
    expect(readFileSync(join(root, '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg'), 'utf8')).toBe(
      'package_upgrade: false\npackage_update: false\n',
    );
    expect(readFileSync(join(root, SEED), 'utf8')).toBe('#cloud-config\nhostname: web\napt_upgrade: false\n');
  });
});

describe('cloud-init-package-upgrade: Amazon Linux repo_upgrade', () => {
  it('finds AL2’s stock repo_upgrade: security in cloud.cfg, at its line', () => {
    const findings = auditTree(amazon(AL2_OS, AMZN2_CFG), RULE);
    expect(findings).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'cloud-init updates packages at first boot',
        message:
          'repo_upgrade: "security" in /etc/cloud/cloud.cfg: cloud-init installs security updates at first boot.',
        evidence: [{ path: '/etc/cloud/cloud.cfg', line: 18, text: 'repo_upgrade: security' }],
        remediation: {
          summary: 'Set repo_upgrade: none in the image’s cloud-init configuration.',
          steps: [
            {
              action: 'set-line',
              path: '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg',
              match: 'repo_upgrade:',
              line: 'repo_upgrade: none',
            },
          ],
        },
      },
    ]);
  });

  it('finds AL2 with repo_upgrade unset (cloud-init’s default there is security), citing os-release', () => {
    const findings = auditTree(amazon(AL2_OS, AMZN_CFG_WITHOUT_REPO), RULE);
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'high',
        message:
          'repo_upgrade is unset on Amazon Linux, where cloud-init\'s default is "security": every instance installs updates at first boot.',
        evidence: [{ path: '/etc/os-release' }],
        remediation: {
          summary: 'Set repo_upgrade: none in the image’s cloud-init configuration.',
          steps: [
            {
              action: 'set-line',
              path: '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg',
              match: 'repo_upgrade:',
              line: 'repo_upgrade: none',
            },
          ],
        },
      }),
    ]);
  });

  it('cites /usr/lib/os-release when that is the one the image has', () => {
    const tree = amazon(AL2_OS, AMZN_CFG_WITHOUT_REPO, { '/usr/lib/os-release': AL2_OS });
    delete tree['/etc/os-release'];
    expect(auditTree(tree, RULE).map((f) => f.evidence)).toEqual([[{ path: '/usr/lib/os-release' }]]);
  });

  it('does not find AL2023 with repo_upgrade unset (AL2023 does not update at launch by default)', () => {
    expect(auditTree(amazon(AL2023_OS, AMZN_CFG_WITHOUT_REPO), RULE)).toEqual([]);
  });

  it('finds AL2023 with repo_upgrade set explicitly', () => {
    const findings = auditTree(
      amazon(AL2023_OS, AMZN_CFG_WITHOUT_REPO, { [SEED]: '#cloud-config\nrepo_upgrade: all\n' }),
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message: `repo_upgrade: "all" in baked user-data ${SEED}: cloud-init installs all updates at first boot.`,
        evidence: [{ path: SEED, line: 2, text: 'repo_upgrade: all' }],
        remediation: {
          summary: 'Set repo_upgrade: none in the image’s cloud-init configuration.',
          steps: [{ action: 'set-line', path: SEED, match: 'repo_upgrade:', line: 'repo_upgrade: none' }],
        },
      }),
    ]);
  });

  it('does not find repo_upgrade: none in a drop-in over the stock security', () => {
    expect(
      auditTree(
        amazon(AL2_OS, AMZN2_CFG, {
          '/etc/cloud/cloud.cfg.d/99_no_upgrades.cfg':
            'repo_upgrade: none\nrepo_upgrade_exclude:\n - kernel\n',
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('does not find repo_upgrade: none in baked user-data over the stock security', () => {
    expect(
      auditTree(amazon(AL2_OS, AMZN2_CFG, { [SEED]: '#cloud-config\nrepo_upgrade: none\n' }), RULE),
    ).toEqual([]);
  });

  it('finds baked user-data turning repo_upgrade back on over a drop-in that set none', () => {
    const findings = auditTree(
      amazon(AL2_OS, AMZN2_CFG, {
        '/etc/cloud/cloud.cfg.d/99_no_upgrades.cfg': 'repo_upgrade: none\n',
        [SEED]: '#cloud-config\nrepo_upgrade: security\n',
      }),
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [{ path: SEED, line: 2, text: 'repo_upgrade: security' }],
    ]);
  });

  it('ignores repo_upgrade outside Amazon Linux (upstream cloud-init does not read it)', () => {
    expect(auditTree(debian({ '/etc/cloud/cloud.cfg.d/50-x.cfg': 'repo_upgrade: all\n' }), RULE)).toEqual([]);
  });

  it('finds repo_update: true on Amazon Linux as a package-list refresh', () => {
    const findings = auditTree(
      amazon(AL2_OS, AMZN2_CFG.replace('repo_upgrade: security', 'repo_upgrade: none\nrepo_update: true')),
      RULE,
    );
    expect(findings.map((f) => [f.severity, f.message])).toEqual([
      [
        'medium',
        'repo_update: true in /etc/cloud/cloud.cfg: cloud-init refreshes package lists from the network at first boot.',
      ],
    ]);
  });

  it('does not find anything when cloud-init is disabled on Amazon Linux', () => {
    expect(auditTree(amazon(AL2_OS, AMZN2_CFG, { '/etc/cloud/cloud-init.disabled': '' }), RULE)).toEqual([]);
  });

  it('makes the rule quiet once its steps are applied', () => {
    const root = makeTree(
      amazon(AL2_OS, AMZN2_CFG, { '/etc/cloud/cloud.cfg.d/99_zz.cfg': 'package_upgrade: true\n' }),
    );
    const findings = auditDir(root, RULE);
    expect(findings).toHaveLength(2);
    applyRemediations(root, remediationSteps(findings));
    expect(auditDir(root, RULE)).toEqual([]);
  });
});
