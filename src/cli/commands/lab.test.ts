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
      instance: { id: string; image: string; state: string; bootMs: number; address: string };
    };
    try {
      expect(['running', 'degraded']).toContain(instance.state);
      expect(instance.image).toBe(baseRootfs());
      expect(instance.address).toMatch(/^10\.213\./);

      // The lab resolver answers a lab repository's name and refuses the rest; dns-log shows both.
      expect((await runCli('repo', 'create', 'acme')).code).toBe(0);
      const lab = await runCli(
        'lab',
        'exec',
        instance.id,
        '--',
        'getent',
        'hosts',
        'acme.repo.goldgate.internal',
      );
      expect(lab.stdout).toMatch(/^10\.213\.0\.1\s+acme\.repo\.goldgate\.internal/);
      expect((await runCli('lab', 'exec', instance.id, '--', 'getent', 'hosts', 'example.org')).code).toBe(2);
      await runCli('lab', 'exec', instance.id, '--', 'getent', 'hosts', 'repo.goldgate.internal');
      await runCli('lab', 'exec', instance.id, '--', 'getent', 'hosts', 'nope.goldgate.internal');
      const log = JSON.parse((await runCli('lab', 'dns-log', instance.id, '--json')).stdout) as {
        instance: string;
        queries: { query_name: string; query_type: string; rcode: string; srcids: { instance: string } }[];
      };
      expect(log.instance).toBe(instance.id);
      expect(log.queries).toContainEqual(
        expect.objectContaining({
          query_name: 'acme.repo.goldgate.internal.',
          query_type: 'A',
          rcode: 'NOERROR',
          srcids: { instance: instance.id },
        }),
      );
      expect(log.queries).toContainEqual(
        expect.objectContaining({ query_name: 'example.org.', rcode: 'REFUSED' }),
      );
      // The parent of the repositories' names exists (no data), an unknown lab name does not.
      expect(log.queries).toContainEqual(
        expect.objectContaining({ query_name: 'repo.goldgate.internal.', query_type: 'A', rcode: 'NOERROR' }),
      );
      expect(log.queries).toContainEqual(
        expect.objectContaining({ query_name: 'nope.goldgate.internal.', rcode: 'NXDOMAIN' }),
      );
      const summary = (await runCli('lab', 'dns-log', instance.id, '--summary')).stdout;
      expect(summary).toMatch(/^\s+\d+\s+REFUSED\s+example\.org\.$/m);
      const lines = (await runCli('lab', 'dns-log', instance.id)).stdout.trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { query_name: string }).query_name)).toEqual(
        log.queries.map((q) => q.query_name),
      );
      expect((await runCli('lab', 'dns-log', 'i-00000000')).code).toBe(2);

      expect((await runCli('lab', 'ls')).stdout).toContain(`${instance.id}  ${instance.state}`);
      const ls = JSON.parse((await runCli('lab', 'ls', '--json')).stdout) as {
        instances: { id: string; alive: boolean }[];
        network: { gateway: string } | null;
      };
      expect(ls.instances.map((i) => [i.id, i.alive])).toEqual([[instance.id, true]]);
      expect(ls.network?.gateway).toBe('10.213.0.1');
      const version = await runCli('lab', 'exec', instance.id, '--', 'cat', '/etc/debian_version');
      expect(version.stdout).toMatch(/^12\./);
      // The command's own exit status comes back, as ssh gives it.
      expect((await runCli('lab', 'exec', instance.id, '--', 'sh', '-c', 'exit 7')).code).toBe(7);
      const journal = await runCli('lab', 'logs', instance.id, '--json');
      const first = JSON.parse(journal.stdout.split('\n')[0] ?? '{}') as { __REALTIME_TIMESTAMP?: string };
      expect(first.__REALTIME_TIMESTAMP).toMatch(/^\d+$/);

      // The base is not a baked image: no spec to read checks from, so the flags are needed.
      const noSpec = await runCli('lab', 'health', instance.id);
      expect(noSpec.code).toBe(2);
      expect(noSpec.stderr).toContain('--health-http');
      const passing = await runCli(
        'lab',
        'health',
        instance.id,
        '--health-command',
        'test -e /etc/debian_version',
        '--health-unit',
        'systemd-journald.service',
        '--json',
      );
      expect(passing.code).toBe(0);
      const report = JSON.parse(passing.stdout) as { ok: boolean; results: { name: string; ok: boolean }[] };
      expect(report.ok).toBe(true);
      expect(report.results.map((r) => r.name)).toEqual([
        'command test -e /etc/debian_version',
        'unit systemd-journald.service',
      ]);
      const failing = await runCli(
        'lab',
        'health',
        instance.id,
        '--health-http',
        '8081/health',
        '--health-unit',
        'nope.service',
      );
      expect(failing.code).toBe(1);
      expect(failing.stdout).toContain(
        'FAIL  http :8081/health  GET http://127.0.0.1:8081/health: ECONNREFUSED',
      );
      expect((await runCli('lab', 'health', instance.id, '--health-http', 'eighty')).code).toBe(2);
    } finally {
      const terminated = await runCli('lab', 'terminate', instance.id, '--json');
      expect(terminated.code).toBe(0);
      expect(JSON.parse(terminated.stdout)).toMatchObject({ id: instance.id, existed: true });
    }
    expect((await runCli('lab', 'terminate', instance.id)).stdout).toBe(
      `${instance.id}: no such instance (nothing to do)\n`,
    );
    expect(JSON.parse((await runCli('lab', 'ls', '--json')).stdout)).toEqual({
      instances: [],
      network: null,
    });
    expect((await runCli('lab', 'ls')).stdout).toBe('no instances\n');
    const gc = JSON.parse((await runCli('lab', 'gc', '--json')).stdout) as Record<string, unknown>;
    expect(Object.keys(gc).sort()).toEqual(
      ['cgroups', 'killed', 'leases', 'network', 'removed', 'terminated', 'unmounted'].sort(),
    );
    expect((await runCli('lab', 'launch', '/nonexistent-image')).code).toBe(2);
  });
});
