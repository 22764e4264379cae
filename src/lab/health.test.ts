import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import goldgateHealth from '../logs/parsers/goldgate-health/index.js';
import { parseFile } from '../logs/read.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { tempDir } from '../test-support/tree.js';
import { findExecutable } from '../core/which.js';
import { HEALTH_LOG, runHealthChecks } from './health.js';
import { imageHealthChecks } from './image-health.js';
import { gc, launchInstance, terminateInstance } from './instance.js';
import { instanceDir } from './state.js';

/** A tiny http server on 127.0.0.1:<port> inside the instance's network namespace (the host's node). */
const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => { res.statusCode = req.url === '/health' ? 200 : 404; res.end('ok'); });
server.listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

function startServer(pid: number, port: number): Promise<ChildProcess> {
  const nsenter = findExecutable('nsenter') as string;
  const child = spawn(
    nsenter,
    ['-t', String(pid), '-n', '--', process.execPath, '-e', SERVER, String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve(child);
    });
  });
}

describe('lab health checks', { sequential: true }, () => {
  itWithBase(
    'runs command, unit and http checks inside an instance and logs them in the goldgate-health format',
    async () => {
      const home = tempDir('goldgate-health-');
      const info = await launchInstance({
        rootfs: baseRootfs() as string,
        home,
        name: 'health',
        timeoutMs: 60_000,
      });
      let server: ChildProcess | undefined;
      try {
        server = await startServer(info.pid, 8080);
        const results = await runHealthChecks(
          info.id,
          [
            { name: 'debian', command: { argv: ['test', '-e', '/etc/debian_version'], expectExit: 0 } },
            { name: 'nope', command: { argv: ['test', '-e', '/nope'], expectExit: 0 } },
            { name: 'echo', command: { argv: ['sh', '-c', 'echo one; echo two; exit 3'], expectExit: 3 } },
            { name: 'journald', unit: { name: 'systemd-journald.service' } },
            { name: 'missing unit', unit: { name: 'no-such-thing.service' } },
            { name: 'served', http: { port: 8080, path: '/health', expect: 200 } },
            { name: 'wrong status', http: { port: 8080, path: '/other', expect: 200 } },
            { name: 'nothing listens', http: { port: 8081, path: '/health', expect: 200, timeoutMs: 3_000 } },
          ],
          { home },
        );
        const byName = Object.fromEntries(results.map((r) => [r.name, r]));
        expect(results.map((r) => [r.name, r.ok])).toEqual([
          ['debian', true],
          ['nope', false],
          ['echo', true],
          ['journald', true],
          ['missing unit', false],
          ['served', true],
          ['wrong status', false],
          ['nothing listens', false],
        ]);
        expect(byName.nope?.detail).toBe('exit 1 (expected 0)');
        expect(byName.echo?.detail).toBe('two');
        expect(byName.journald?.detail).toBe('active');
        expect(byName['missing unit']?.detail).toContain('not-found');
        expect(byName.served?.detail).toBe('HTTP 200');
        expect(byName['wrong status']?.detail).toContain('HTTP 404 (expected 200)');
        expect(byName['nothing listens']?.detail).toBe('GET http://127.0.0.1:8081/health: ECONNREFUSED');
        expect(results.map((r) => r.kind)).toEqual([
          'command',
          'command',
          'command',
          'unit',
          'unit',
          'http',
          'http',
          'http',
        ]);
        for (const r of results) {
          expect(r.durationMs).toBeGreaterThanOrEqual(0);
          expect(Number.isNaN(Date.parse(r.at))).toBe(false);
        }

        const log = join(instanceDir(home, info.id), HEALTH_LOG);
        const { records, problems } = await parseFile(log, goldgateHealth);
        expect(problems).toEqual([]);
        expect(records).toHaveLength(results.length);
        expect(records.map((r) => [r.instance, r.ok, r.detail])).toEqual(
          results.map((r) => [info.id, r.ok, r.detail]),
        );
        expect(records[0]?.check).toBe('command test -e /etc/debian_version');
        expect(records[3]?.check).toBe('unit systemd-journald.service');
        expect(records[5]?.check).toBe('http http://127.0.0.1:8080/health');

        // A second run appends.
        await runHealthChecks(info.id, [{ name: 'again', unit: { name: 'systemd-journald.service' } }], {
          home,
        });
        expect((await parseFile(log, goldgateHealth)).records).toHaveLength(results.length + 1);
      } finally {
        server?.kill('SIGKILL');
        await terminateInstance(info.id, { home }).catch(() => undefined);
        await gc({ home }).catch(() => undefined);
        rmSync(home, { recursive: true, force: true });
      }
    },
    180_000,
  );

  itWithBase(
    'reads the checks of the spec a baked image records, and refuses an image without one',
    async () => {
      const dir = tempDir('goldgate-health-image-');
      await expect(imageHealthChecks(join(dir, 'rootfs'))).rejects.toMatchObject({
        code: 'LAB_NO_HEALTH_CHECKS',
        fault: 'user',
      });
      const spec = join(dir, 'spec.yaml');
      writeFileSync(
        spec,
        'name: t\nbase: { suite: bookworm }\nhealth:\n  - unit: { name: ssh.service }\n  - http: { port: 8080, path: /h }\n',
      );
      mkdirSync(join(dir, 'img', 'rootfs'), { recursive: true });
      writeFileSync(join(dir, 'img', 'image.json'), JSON.stringify({ id: 'img-000000000000', spec }));
      expect(await imageHealthChecks(join(dir, 'img', 'rootfs'))).toEqual([
        { name: 'unit ssh.service', unit: { name: 'ssh.service' } },
        { name: 'http :8080/h', http: { port: 8080, path: '/h', expect: 200 } },
      ]);
    },
  );
});
