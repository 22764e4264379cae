import { describe, expect } from 'vitest';
import { baseRootfs, itWithBase } from '../../test-support/base-image.js';
import { tempDir } from '../../test-support/tree.js';
import { main } from '../main.js';
import { recordingTerminal } from '../terminal.js';

async function run(...args: string[]) {
  const terminal = recordingTerminal();
  const code = await main(['node', 'goldgate', ...args], terminal);
  return { code, stdout: terminal.stdout, stderr: terminal.stderr };
}

describe('goldgate lab', () => {
  itWithBase('launches an instance, runs commands in it, shows its journal, and terminates it', async () => {
    process.env.GOLDGATE_HOME = tempDir('goldgate-lab-cli-');
    const launched = await run('lab', 'launch', baseRootfs() as string, '--name', 'cli', '--json');
    expect(launched.code).toBe(0);
    const { instance } = JSON.parse(launched.stdout) as {
      instance: { id: string; state: string; bootMs: number };
    };
    try {
      expect(['running', 'degraded']).toContain(instance.state);
      expect((await run('lab', 'ls')).stdout).toContain(`${instance.id}  ${instance.state}`);
      const version = await run('lab', 'exec', instance.id, '--', 'cat', '/etc/debian_version');
      expect(version.stdout).toMatch(/^12\./);
      // The command's own exit status comes back, as ssh gives it.
      expect((await run('lab', 'exec', instance.id, '--', 'sh', '-c', 'exit 7')).code).toBe(7);
      const journal = await run('lab', 'logs', instance.id, '--json');
      const first = JSON.parse(journal.stdout.split('\n')[0] ?? '{}') as { __REALTIME_TIMESTAMP?: string };
      expect(first.__REALTIME_TIMESTAMP).toMatch(/^\d+$/);
    } finally {
      expect((await run('lab', 'terminate', instance.id)).code).toBe(0);
    }
    expect((await run('lab', 'ls')).stdout).toBe('no instances\n');
    expect((await run('lab', 'launch', '/nonexistent-image')).code).toBe(2);
  });
});
