import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDeb } from '../../repo/test-debs.js';
import { runCli, useTempHome } from '../../test-support/cli.js';

describe('goldgate repo', () => {
  const homeOf = useTempHome();

  it('creates a repository, and refuses a second one with exit 2 and a hint', async () => {
    expect(await runCli('repo', 'create', 'lab')).toEqual({
      code: 0,
      stdout: `created repository lab at ${homeOf()}/repos/lab\n`,
      stderr: '',
    });
    const again = await runCli('repo', 'create', 'lab');
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `goldgate: repository lab already exists at ${homeOf()}/repos/lab\n  hint: publish into it with: goldgate repo publish lab --suite SUITE FILE.deb (or pick another name)\n`,
    );
    expect((await runCli('repo', 'create', 'Bad_Name')).code).toBe(2);
  });

  it('publishes a package source tree: built reproducibly, so publishing it again changes nothing', async () => {
    await runCli('repo', 'create', 'acme');
    const tree = join(import.meta.dirname, '../../../examples/acme/packages/acme-runtime-1.0');
    const first = await runCli('repo', 'publish', 'acme', '--suite', 'bookworm', tree);
    expect(first).toEqual({
      code: 0,
      stdout:
        'published  acme-runtime 1.0 (all)  pool/main/a/acme-runtime/acme-runtime_1.0_all.deb\n' +
        `suite bookworm of acme updated: ${homeOf()}/repos/acme/dists/bookworm/Release\n`,
      stderr: '',
    });
    const again = await runCli('repo', 'publish', 'acme', '--suite', 'bookworm', tree);
    expect(again.stdout).toBe(
      'unchanged  acme-runtime 1.0 (all)  pool/main/a/acme-runtime/acme-runtime_1.0_all.deb\nsuite bookworm of acme unchanged\n',
    );
    const notAPackage = await runCli('repo', 'publish', 'acme', '--suite', 'bookworm', import.meta.dirname);
    expect(notAPackage.code).toBe(2);
    expect(notAPackage.stderr).toMatch(/has no DEBIAN\/control/);
  });

  it('publishes with --json in the documented shape, then lists', async () => {
    await runCli('repo', 'create', 'lab');
    const deb = await testDeb('acme', '1.0', 'all');
    const published = await runCli(
      'repo',
      'publish',
      'lab',
      '--suite',
      'bookworm-security',
      '--origin',
      'Debian',
      deb,
      '--json',
    );
    expect(published.code).toBe(0);
    const json = JSON.parse(published.stdout) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['repo', 'published']);
    expect(json.published).toEqual([
      { package: 'acme', version: '1.0', architecture: 'all', filename: 'pool/main/a/acme/acme_1.0_all.deb' },
    ]);
    expect(json.repo).toMatchObject({ name: 'lab', path: `${homeOf()}/repos/lab` });

    const text = await runCli('repo', 'publish', 'lab', '--suite', 'bookworm-security', deb);
    expect(text.stdout).toBe(
      'unchanged  acme 1.0 (all)  pool/main/a/acme/acme_1.0_all.deb\nsuite bookworm-security of lab unchanged\n',
    );

    const ls = await runCli('repo', 'ls');
    expect(ls.stdout).toBe(
      [
        `lab  ${homeOf()}/repos/lab`,
        '  bookworm-security  origin Debian, label goldgate lab, codename bookworm-security; main; all amd64',
        '    acme  1.0',
        '',
      ].join('\n'),
    );
    const lsJson = JSON.parse((await runCli('repo', 'ls', '--json')).stdout) as { repos: { name: string }[] };
    expect(lsJson.repos.map((r) => r.name)).toEqual(['lab']);
  });

  it('needs --suite, and says how to create a missing repository', async () => {
    expect((await runCli('repo', 'publish', 'lab', 'x.deb')).code).toBe(2);
    const missing = await runCli('repo', 'publish', 'nope', '--suite', 's', 'x.deb');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('hint: create it with: goldgate repo create nope');
  });

  it('has help with examples', async () => {
    const help = await runCli('repo', 'publish', '--help');
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--suite <suite>');
  });
});
