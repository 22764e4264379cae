import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { makeTree } from '../test-support/tree.js';
import { dpkgStatus } from '../test-support/audit.js';
import { APT_DAILY_TIMER, AUTO_UPGRADES } from '../test-support/debian-files.js';
import { runCli } from '../test-support/cli.js';

/** A small Debian-like tree with the incident's configuration. */
function incidentTree(): string {
  return makeTree({
    '/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    '/var/lib/dpkg/status': dpkgStatus({ 'unattended-upgrades': '2.9.1+nmu3', apt: '2.6.1' }),
    '/etc/apt/apt.conf.d/20auto-upgrades': AUTO_UPGRADES,
    '/lib/systemd/system/apt-daily.timer': APT_DAILY_TIMER,
    '/etc/systemd/system/timers.target.wants/apt-daily.timer': {
      link: '/lib/systemd/system/apt-daily.timer',
    },
  });
}

describe('goldgate audit', () => {
  const root = incidentTree();

  it('prints findings grouped by severity and exits 1 at the default threshold', async () => {
    const { code, stdout } = await runCli('audit', root);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^HIGH \(1\)$/m);
    expect(stdout).toMatch(/^MEDIUM \(2\)$/m);
    expect(stdout).toContain(
      'at /etc/apt/apt.conf.d/20auto-upgrades:2  APT::Periodic::Unattended-Upgrade "1";',
    );
    expect(stdout).toContain('3 findings (1 high, 2 medium) from 13 rules; failing at medium.');
  });

  it('prints exactly one JSON document with the documented shape', async () => {
    const { code, stdout } = await runCli('audit', root, '--format', 'json');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['image', 'findings', 'summary', 'problems']);
    const findings = report.findings as Array<Record<string, unknown>>;
    expect(findings.map((f) => f.rule)).toEqual([
      'apt-timers-enabled',
      'apt-periodic-update',
      'apt-unattended-upgrades',
    ]);
    for (const finding of findings) {
      expect(Object.keys(finding)).toEqual([
        'rule',
        'severity',
        'title',
        'message',
        'evidence',
        'remediation',
      ]);
    }
    expect(report.summary).toMatchObject({
      total: 3,
      bySeverity: { critical: 0, high: 1, medium: 2, low: 0, info: 0 },
      rulesRun: 13,
    });
    expect((await runCli('audit', root, '--json')).stdout).toBe(stdout);
  });

  it('writes SARIF 2.1.0 that validates against the OASIS schema', async () => {
    const { stdout } = await runCli('audit', root, '--format', 'sarif');
    const require = createRequire(import.meta.url);
    const schemaPath = join(
      require.resolve('@microsoft/jest-sarif/package.json'),
      '..',
      'lib/schemas/sarif-2.1.0-rtm.5.json',
    );
    // The schema's language-tag pattern is not valid under the u flag; unicodeRegExp: false reads it as the schema's authors meant.
    const ajv = new AjvDraft04.default({ strict: false, allErrors: true, unicodeRegExp: false });
    const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as object);
    const sarif = JSON.parse(stdout) as {
      runs: Array<{
        results: Array<{ ruleId: string; locations: unknown[] }>;
        tool: { driver: { rules: unknown[] } };
      }>;
    };
    expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    expect(sarif.runs[0]?.tool.driver.rules).toHaveLength(13);
    expect(sarif.runs[0]?.results.map((r) => r.ruleId)).toEqual([
      'apt-timers-enabled',
      'apt-periodic-update',
      'apt-unattended-upgrades',
    ]);
    expect(sarif.runs[0]?.results[2]?.locations[0]).toEqual({
      physicalLocation: {
        artifactLocation: { uri: 'etc/apt/apt.conf.d/20auto-upgrades', uriBaseId: 'IMAGEROOT' },
        region: { startLine: 2 },
      },
    });
  });

  it('follows --fail-on', async () => {
    expect((await runCli('audit', root, '--fail-on', 'none', '-q')).code).toBe(0);
    expect((await runCli('audit', root, '--fail-on', 'critical', '-q')).code).toBe(0);
    expect((await runCli('audit', root, '--fail-on', 'high', '-q')).code).toBe(1);
  });

  it('runs only the rules asked for', async () => {
    const { stdout, code } = await runCli('audit', root, '--json', '--rule', 'apt-periodic-update');
    expect(code).toBe(1);
    expect((JSON.parse(stdout) as { findings: Array<{ rule: string }> }).findings.map((f) => f.rule)).toEqual(
      ['apt-periodic-update'],
    );
    const skipped = await runCli(
      'audit',
      root,
      '--json',
      '--skip-rule',
      'apt-periodic-update,apt-timers-enabled',
    );
    expect(
      (JSON.parse(skipped.stdout) as { summary: { rulesRun: number; total: number } }).summary,
    ).toMatchObject({ rulesRun: 11, total: 1 });
  });

  it('exits 0 on a clean image', async () => {
    const clean = makeTree({
      '/etc/os-release': 'ID=debian\n',
      '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }),
    });
    const { code, stdout } = await runCli('audit', clean);
    expect(code).toBe(0);
    expect(stdout).toContain('No source of change at boot found (13 rules).');
  });
});

describe('usage errors and help', () => {
  it('exits 2 with a hint for a path that does not exist', async () => {
    const { code, stderr } = await runCli('audit', '/nonexistent/rootfs');
    expect(code).toBe(2);
    expect(stderr).toBe(
      'goldgate: /nonexistent/rootfs does not exist\n  hint: give a root filesystem directory, a .tar / .tar.gz of one, or a stored image id (goldgate images lists them)\n',
    );
  });

  it('exits 2 for an unknown rule, option or severity', async () => {
    const root = makeTree({ '/etc/hostname': 'x\n' });
    const rule = await runCli('audit', root, '--rule', 'no-such-rule');
    expect(rule.code).toBe(2);
    expect(rule.stderr).toContain('no rule "no-such-rule"');
    expect((await runCli('audit', root, '--fail-on', 'severe')).code).toBe(2);
    expect((await runCli('audit', root, '--frobnicate')).code).toBe(2);
    expect((await runCli('frobnicate')).code).toBe(2);
  });

  it('has --help on every command and --version', async () => {
    for (const command of [[], ['audit'], ['manifest'], ['fix']]) {
      const { code, stdout } = await runCli(...command, '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: goldgate/);
    }
    const version = await runCli('--version');
    expect(version.stdout.trim()).toBe(
      (
        JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
          version: string;
        }
      ).version,
    );
  });
});

describe('goldgate manifest and fix', () => {
  it('prints the manifest as JSON with its digest', async () => {
    const root = incidentTree();
    const { code, stdout } = await runCli('manifest', root, '--json');
    expect(code).toBe(0);
    const manifest = JSON.parse(stdout) as { schema: string; digest: string; packages: unknown[] };
    expect(manifest.schema).toBe('goldgate.manifest/v1');
    expect(manifest.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(manifest.packages).toHaveLength(2);
    expect((await runCli('manifest', root)).stdout).toContain(`digest    ${manifest.digest}`);
  });

  it('fixes the incident tree so that the audit is clean, and refuses a tarball', async () => {
    const root = incidentTree();
    const dry = await runCli('fix', root, '--dry-run');
    expect(dry.stdout).toContain('3 findings before, 3 after (dry run: nothing changed).');
    const fixed = await runCli('fix', root);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('3 findings before, 0 after.');
    expect((await runCli('audit', root)).code).toBe(0);
    const tar = await runCli('fix', join(root, 'etc/apt/apt.conf.d/20auto-upgrades'));
    expect(tar.code).toBe(2);
  });
});
