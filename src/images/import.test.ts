import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useTempHome } from '../test-support/cli.js';
import { imageRecord } from '../test-support/stored-image.js';
import { tempDir, writeTree } from '../test-support/tree.js';
import { createStaging, registerImage } from './store.js';

describe('goldgate image import on the command line', () => {
  useTempHome();

  it('explains itself in --help', async () => {
    const { code, stdout } = await runCli('image', 'import', '--help');
    expect(code).toBe(0);
    for (const text of ['--name', '--json', 'tar.zst', 'raw disk', 'qcow2', 'Exit status'])
      expect(stdout).toContain(text);
  });

  it('refuses a bad name or a missing source with a hint, before touching the store', async () => {
    const missingName = await runCli('image', 'import', tempDir());
    expect(missingName.code).toBe(2);
    expect(missingName.stderr).toMatch(/--name/);
    const badName = await runCli('image', 'import', tempDir(), '--name', 'Web Server');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/"Web Server" is not a valid image name\n {2}hint: lower-case letters/);
    if (process.getuid?.() !== 0) return;
    const missing = await runCli('image', 'import', join(tempDir(), 'nothing.raw'), '--name', 'web');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nothing\.raw/);
    expect(missing.stderr).toMatch(/hint: /);
  });
});

describe('goldgate audit of a stored image by its id', () => {
  const home = useTempHome();

  it('reads the stored root filesystem', async () => {
    const staging = createStaging(home());
    writeTree(join(staging, 'rootfs'), {
      '/etc/os-release': 'ID=debian\n',
      '/etc/apt/apt.conf.d/20auto-upgrades': 'APT::Periodic::Update-Package-Lists "1";\n',
    });
    registerImage(
      staging,
      imageRecord('img-0123456789ab', {
        name: 'byo',
        spec: '',
        base: 'import:directory',
        autoUpdates: 'enabled',
      }),
      home(),
    );
    const result = await runCli('audit', 'img-0123456789ab', '--json');
    const report = JSON.parse(result.stdout) as {
      image: { source: string };
      findings: Array<{ rule: string }>;
    };
    expect(report.image.source).toBe(join(home(), 'images/img-0123456789ab/rootfs'));
    expect(report.findings.map((f) => f.rule)).toContain('apt-periodic-update');
  });
});
