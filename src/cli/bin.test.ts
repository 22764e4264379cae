import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dpkgStatus } from '../test-support/audit.js';
import { makeTree } from '../test-support/tree.js';

const bin = new URL('../../bin/goldgate.js', import.meta.url).pathname;
const built = existsSync(new URL('../../dist/cli/main.js', import.meta.url));

describe.runIf(built)('the goldgate executable (built by npm test before the tests run)', () => {
  it('prints its version and exits 0', () => {
    const result = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 with the help on standard error when run without a command', () => {
    const result = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Usage: goldgate /);
  });

  it('exits 3 without a stack trace when its output file is a full device', () => {
    const root = makeTree({ '/var/lib/dpkg/status': dpkgStatus({ apt: '2.6.1' }) });
    const result = spawnSync(process.execPath, [bin, 'manifest', root, '-o', '/dev/full'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(3);
    expect(result.stderr).toBe(
      'goldgate: --output /dev/full: no space left on the device\n  hint: free some space, or write somewhere else\n',
    );
  });

  it('ends quietly when its reader closes the pipe early (goldgate … | head)', async () => {
    // Far more than a pipe holds, so the writer is still writing when the reader leaves.
    const packages = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`pkg${i}`, `1.${i}-1`]));
    const root = makeTree({ '/var/lib/dpkg/status': dpkgStatus(packages) });
    const child = spawn(process.execPath, [bin, 'manifest', root, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});

it.skipIf(built)('the goldgate executable needs a build (npm run build)', () => undefined);
