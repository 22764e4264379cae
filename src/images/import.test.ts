import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useTempHome } from '../test-support/cli.js';
import { tempDir } from '../test-support/tree.js';

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
