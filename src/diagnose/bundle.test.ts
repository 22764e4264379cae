import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeZeroBomb } from '../test-support/archives.js';
import { makeTree, tempDir } from '../test-support/tree.js';
import { openBundle } from './bundle.js';
import { diagnose } from './report.js';

/** Extractions this test process left in the temporary directory (scoped to its pid). */
const ours = (): string[] =>
  readdirSync(tmpdir()).filter((name) => name.startsWith(`goldgate-tar-${process.pid}-`));

describe('bundle tarballs are extracted within the caps', () => {
  it('refuses a 2.4 MB bundle holding one 2.3 GiB log before writing it, naming the cap', async () => {
    const dir = tempDir();
    const bomb = join(dir, 'bundle.tar.gz');
    writeZeroBomb(bomb, [['i-0123456789abcdef0/syslog', 300 * 8]], ['i-0123456789abcdef0/']);
    const workDir = tempDir();
    await expect(openBundle(bomb, { workDir })).rejects.toMatchObject({
      code: 'EXTRACT_TOO_LARGE',
      fault: 'user',
      message: `${bomb} expands to more than 1.0 GiB (1073741824 bytes), the cap on what one extraction writes`,
      hint: expect.stringContaining('GOLDGATE_MAX_EXTRACT_BYTES=3G'),
    });
    expect(readdirSync(workDir)).toEqual([]);
    await expect(diagnose(bomb)).rejects.toMatchObject({ code: 'EXTRACT_TOO_LARGE' });
    expect(ours()).toEqual([]);
  });

  it('still reads every log of a bundle within the caps, and removes its extraction on close', async () => {
    const dir = makeTree({
      '/i-0123456789abcdef0/var/log/syslog': 'Nov 27 07:38:00 host systemd[1]: Started.\n',
    });
    const archive = join(tempDir(), 'small.tar.gz');
    execFileSync('tar', ['-C', dir, '-czf', archive, '.']);
    const workDir = tempDir();
    const bundle = await openBundle(archive, { workDir });
    expect(bundle.files.map((file) => [file.name, file.instance, file.size])).toEqual([
      ['i-0123456789abcdef0/var/log/syslog', 'i-0123456789abcdef0', 42],
    ]);
    await bundle.close();
    expect(readdirSync(workDir)).toEqual([]);
  });
});
