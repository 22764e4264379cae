import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZeroBomb } from '../test-support/archives.js';
import { runCli } from '../test-support/cli.js';
import { tempDir } from '../test-support/tree.js';

// This file runs in its own process (vitest's forks pool): TMPDIR is this process's own.
let savedTmp: string | undefined;
let tmp = '';
let dir = '';
beforeAll(() => {
  savedTmp = process.env.TMPDIR;
  dir = tempDir();
  tmp = tempDir('goldgate-tmpdir-');
  process.env.TMPDIR = tmp;
});
afterAll(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
});

describe('commands that extract an archive leave nothing in TMPDIR', () => {
  it('audits and lists the manifest of a tarball bomb, and refuses a bundle bomb with exit 2', async () => {
    const bomb = join(dir, 'bomb.tar.gz');
    writeZeroBomb(
      bomb,
      Array.from({ length: 300 }, (_, i): [string, number] => [`usr/share/blob${i}`, 8]),
      ['etc/', 'usr/', 'usr/share/'],
    );
    const audit = await runCli('audit', '--quiet', bomb);
    expect(audit.code).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);

    const manifest = await runCli('manifest', bomb);
    expect(manifest.code).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);

    const bundle = join(dir, 'bundle.tar.gz');
    writeZeroBomb(bundle, [['i-0123456789abcdef0/syslog', 300 * 8]], ['i-0123456789abcdef0/']);
    const diagnose = await runCli('diagnose', bundle);
    expect(diagnose.code).toBe(2);
    expect(diagnose.stderr).toContain(`${bundle} expands to more than 1.0 GiB (1073741824 bytes)`);
    expect(diagnose.stderr).toContain('GOLDGATE_MAX_EXTRACT_BYTES=');
    expect(readdirSync(tmp)).toEqual([]);
  });
});
