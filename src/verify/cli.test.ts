import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useTempHome } from '../test-support/cli.js';
import { makeTree } from '../test-support/tree.js';
import { NOISE_RULES } from './noise.js';

const DOCS = join(import.meta.dirname, '../../docs');

describe('goldgate verify on the command line', () => {
  useTempHome();

  it('explains itself in --help, with every option', async () => {
    const { code, stdout } = await runCli('verify', '--help');
    expect(code).toBe(0);
    for (const option of [
      '--instances',
      '--user-data',
      '--image-age',
      '--soak',
      '--allow-domain',
      '--accept',
      '--health-http',
      '--health-command',
      '--health-unit',
      '--timeout',
      '--json',
      '--html',
      '--keep',
      '--no-store',
    ]) {
      expect(stdout).toContain(option);
      expect(readFileSync(join(DOCS, 'cli.md'), 'utf8')).toContain(option);
      expect(readFileSync(join(DOCS, 'verify.md'), 'utf8')).toContain(option);
    }
    expect(stdout).toMatch(/Exit status: 0 immutable, 1 mutable/);
  });

  it('refuses what it cannot verify, with a hint, before booting anything', async () => {
    const unknown = await runCli('verify', 'img-000000000000');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'goldgate: no stored image img-000000000000 (goldgate images lists them)\n  hint: give a root filesystem directory or a stored image id (goldgate images lists them)\n',
    );

    const noSystemd = await runCli('verify', makeTree({ '/etc/os-release': 'ID=debian\n' }));
    expect(noSystemd.code).toBe(2);
    expect(noSystemd.stderr).toContain('cannot be verified: it has no systemd');

    const rootfs = makeTree({
      '/lib/systemd/systemd': '',
      ...Object.fromEntries(
        ['/proc', '/sys', '/dev', '/run', '/tmp'].map((d) => [d, { dir: true as const }]),
      ),
    });
    const noChecks = await runCli('verify', rootfs);
    expect(noChecks.code).toBe(2);
    expect(noChecks.stderr).toMatch(
      /no health checks: .* was not baked by goldgate \(no image.json beside it\)\n {2}hint: give the checks with --health-http/,
    );

    for (const [flag, value, message] of [
      ['--instances', '0', /--instances "0" must be a whole number from 1 to 20/],
      ['--instances', 'many', /--instances "many"/],
      ['--image-age', 'old', /--image-age "old" is not an age/],
      ['--soak', '-1', /--soak "-1"/],
      ['--user-data', join(rootfs, 'missing.yaml'), /--user-data .*missing\.yaml: no such file/],
      ['--health-http', 'port', /--health-http "port" is not PORT\/PATH/],
      ['--accept', 'reaches-outside,mutable', /--accept "mutable" is not a class of failure/],
    ] as const) {
      const result = await runCli('verify', rootfs, '--health-unit', 'x.service', flag, value);
      expect({ flag, code: result.code }).toEqual({ flag, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });
});

describe('the runtime noise list', () => {
  it('is documented rule by rule in docs/verify.md', () => {
    const docs = readFileSync(join(DOCS, 'verify.md'), 'utf8');
    const table = docs.slice(docs.indexOf('### Runtime noise'), docs.indexOf('## DNS'));
    const documented = [...table.matchAll(/^\| `([a-z-]+)` /gm)].map((m) => m[1]);
    expect(documented).toEqual(NOISE_RULES.map((r) => r.id));
  });
});
