import { describe, expect } from 'vitest';
import { baseRootfs, itWithBase } from '../../test-support/base-image.js';
import { tempDir } from '../../test-support/tree.js';
import { runCli } from '../../test-support/cli.js';

describe('goldgate lab', () => {
  itWithBase('launches an instance, runs commands in it, shows its journal, and terminates it', async () => {
    process.env.GOLDGATE_HOME = tempDir('goldgate-lab-cli-');
    const launched = await runCli('lab', 'launch', baseRootfs() as string, '--name', 'cli', '--json');
    expect(launched.code).toBe(0);
    const { instance } = JSON.parse(launched.stdout) as {
      instance: { id: string; state: string; bootMs: number };
    };
    try {
      expect(['running', 'degraded']).toContain(instance.state);
      expect((await runCli('lab', 'ls')).stdout).toContain(`${instance.id}  ${instance.state}`);
      const version = await runCli('lab', 'exec', instance.id, '--', 'cat', '/etc/debian_version');
      expect(version.stdout).toMatch(/^12\./);
      // The command's own exit status comes back, as ssh gives it.
      expect((await runCli('lab', 'exec', instance.id, '--', 'sh', '-c', 'exit 7')).code).toBe(7);
      const journal = await runCli('lab', 'logs', instance.id, '--json');
      const first = JSON.parse(journal.stdout.split('\n')[0] ?? '{}') as { __REALTIME_TIMESTAMP?: string };
      expect(first.__REALTIME_TIMESTAMP).toMatch(/^\d+$/);
    } finally {
      expect((await runCli('lab', 'terminate', instance.id)).code).toBe(0);
    }
    expect((await runCli('lab', 'ls')).stdout).toBe('no instances\n');
    expect((await runCli('lab', 'launch', '/nonexistent-image')).code).toBe(2);
  });
});
