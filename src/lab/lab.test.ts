import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { execInInstance, gc, launchInstance, listInstances, terminateInstance } from './index.js';
import type { InstanceInfo } from './index.js';
import { processStartTime } from './proc.js';
import { readInstance } from './state.js';
import { daemonsOf, liveNetwork, vethName } from './net/network.js';
import { homeCgroup, hostInstanceCount } from './cgroup.js';
import { instanceDnsLog } from './dns-log.js';

const src = dirname(dirname(fileURLToPath(import.meta.url)));
const project = dirname(src);
const homes: string[] = [];

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'goldgate-lab-'));
  homes.push(home);
  return home;
}

function hostMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${dir}/`) || point === dir);
}

function isRunning(info: InstanceInfo): boolean {
  return processStartTime(info.pid) === info.pidStartTime;
}

async function cleanUp(): Promise<void> {
  for (const home of homes.splice(0)) {
    for (const { id } of listInstances({ home }))
      await terminateInstance(id, { home }).catch(() => undefined);
    await gc({ home }).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

/** The lab library as plain JavaScript inside the project (so `zod` resolves), for a child node process. */
function buildLauncher(): string {
  const out = mkdtempSync(join(project, '.cache', 'lab-launcher-'));
  for (const folder of ['core', 'rootfs', 'lab', 'lab/net']) {
    for (const file of readdirSync(join(src, folder))) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const text = readFileSync(join(src, folder, file), 'utf8');
      const js = ts.transpileModule(text, {
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
        },
      }).outputText;
      mkdirSync(join(out, folder), { recursive: true });
      writeFileSync(join(out, folder, file.replace(/\.ts$/, '.js')), js);
    }
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  writeFileSync(
    join(out, 'launch.js'),
    [
      "import { launchInstance } from './lab/index.js';",
      'const [rootfs, home] = process.argv.slice(2);',
      'const info = await launchInstance({ rootfs, home, name: "killed", timeoutMs: 60000 });',
      'process.stdout.write(`launched ${info.id}\\n`);',
      'setInterval(() => undefined, 1000);',
    ].join('\n'),
  );
  return out;
}

describe('lab instances', { sequential: true }, () => {
  let launcher = '';
  beforeAll(() => {
    mkdirSync(join(project, '.cache'), { recursive: true });
    launcher = buildLauncher();
  });
  afterEach(cleanUp, 120_000);
  afterAll(async () => {
    await cleanUp();
    rmSync(launcher, { recursive: true, force: true });
  }, 120_000);

  itWithBase(
    'boots systemd to running or degraded, on the lab network only, writes to its upper layer, and terminates cleanly',
    async () => {
      const rootfs = baseRootfs() as string;
      const home = newHome();
      const info = await launchInstance({ rootfs, home, name: 'web', timeoutMs: 30_000 });
      expect(['running', 'degraded']).toContain(info.state);
      expect(info.bootMs).toBeGreaterThan(0);
      expect(info.bootMs).toBeLessThan(30_000);
      expect(readInstance(home, info.id)).toEqual(info);
      expect(isRunning(info)).toBe(true);
      expect(listInstances({ home })).toEqual([{ id: info.id, info, alive: true }]);

      const version = await execInInstance(info.id, ['cat', '/etc/debian_version'], { home });
      expect(version.code).toBe(0);
      expect(version.stdout).toMatch(/^12\./);

      const dev = await execInInstance(info.id, ['cat', '/proc/net/dev'], { home });
      const interfaces = dev.stdout
        .split('\n')
        .slice(2)
        .map((line) => line.split(':')[0]?.trim())
        .filter((name) => name !== undefined && name !== '');
      // The lab network: eth0 on the lab subnet, a route to that subnet only, nothing beyond it.
      expect(interfaces.sort()).toEqual(['eth0', 'lo']);
      expect(info.address).toMatch(/^10\.213\.\d+\.\d+$/);
      const routes = await execInInstance(info.id, ['cat', '/proc/net/route'], { home });
      const destinations = routes.stdout
        .split('\n')
        .slice(1)
        .filter((line) => line.trim() !== '')
        .map((line) => line.split('\t')[1]);
      expect(destinations).toEqual(['0000D50A']); // 10.213.0.0, little-endian: no default route
      const outside = await execInInstance(info.id, ['bash', '-c', 'exec 3<>/dev/tcp/192.0.2.1/80'], {
        home,
      });
      expect(outside.code).not.toBe(0);
      expect(outside.stderr).toMatch(/Network is unreachable/);
      const net = liveNetwork(home);
      expect(net).toBeDefined();
      const links = spawnSync('nsenter', ['-t', String(net?.pid), '-n', 'ip', '-o', 'link'], {
        encoding: 'utf8',
      });
      const names = links.stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split(': ')[1]?.split('@')[0]);
      // The lab's own namespace: loopback, the bridge and one veth per instance; no way out.
      expect(names.sort()).toEqual(['gg-br0', vethName(info.address ?? ''), 'lo'].sort());

      // A cgroup namespace of its own: its systemd manages its own subtree of the host's cgroup2.
      const cgroup = await execInInstance(info.id, ['cat', '/proc/1/cgroup'], { home });
      expect(cgroup.stdout).toContain('0::/init.scope');
      expect(info.cgroup).not.toBeNull();
      expect(existsSync(join(info.cgroup ?? '', 'init.scope'))).toBe(true);
      // Counted with every lab home's instances against the host's inotify limit.
      expect(hostInstanceCount()).toBeGreaterThanOrEqual(1);

      const hostname = await execInInstance(info.id, ['hostname'], { home });
      expect(hostname.stdout.trim()).toBe(info.id);
      const pid1 = await execInInstance(info.id, ['cat', '/proc/1/comm'], { home });
      expect(pid1.stdout.trim()).toBe('systemd');
      expect(readFileSync(`/proc/${info.pid}/environ`, 'utf8').split('\0')).toContain('container=goldgate');

      const write = await execInInstance(info.id, ['sh', '-c', 'echo drift > /root/goldgate-probe'], {
        home,
      });
      expect(write.code).toBe(0);
      expect(readFileSync(join(info.upper, 'root/goldgate-probe'), 'utf8')).toBe('drift\n');
      expect(existsSync(join(rootfs, 'root/goldgate-probe'))).toBe(false);

      const failing = await execInInstance(info.id, ['sh', '-c', 'exit 3'], { home });
      expect(failing.code).toBe(3);

      const done = await terminateInstance(info.id, { home });
      expect(done.existed).toBe(true);
      expect(isRunning(info)).toBe(false);
      expect(processStartTime(info.unsharePid)).toBeUndefined();
      expect(hostMountsUnder(home)).toEqual([]);
      expect(listInstances({ home })).toEqual([]);
      expect(existsSync(join(home, 'instances', info.id))).toBe(false);
      // The last instance took the lab network with it: no daemon, so no namespace.
      expect(processStartTime(net?.pid ?? 0)).toBeUndefined();
      expect(liveNetwork(home)).toBeUndefined();
      expect(existsSync(info.cgroup ?? '')).toBe(false);
      // Idempotent.
      expect((await terminateInstance(info.id, { home })).existed).toBe(false);
      await expect(execInInstance(info.id, ['true'], { home })).rejects.toThrow(/no instance/);
    },
    120_000,
  );

  for (const when of ['while it starts', 'after it booted'] as const) {
    itWithBase(
      `gc leaves nothing of an instance whose launcher was killed with SIGKILL ${when}`,
      async () => {
        const rootfs = baseRootfs() as string;
        const home = newHome();
        const child = spawn(process.execPath, [join(launcher, 'launch.js'), rootfs, home], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise((resolve) => child.on('exit', resolve));
        const until = Date.now() + 60_000;
        const started = (): InstanceInfo | undefined => {
          const [entry] = listInstances({ home });
          return entry?.info !== undefined && entry.info.unsharePid !== 0 ? entry.info : undefined;
        };
        while (when === 'while it starts' ? started() === undefined : !output.includes('launched')) {
          if (Date.now() > until) throw new Error(`the launcher did not get far enough: ${output}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        child.kill('SIGKILL');
        await exited;
        const info = listInstances({ home })[0]?.info;
        expect(info).toBeDefined();
        if (when === 'after it booted') expect(info?.state).toMatch(/running|degraded/);

        if (when === 'after it booted') {
          // A booted instance outlives its launcher (the CLI exits after launch): gc keeps it
          // while its init runs, and removes it once the init is gone.
          expect((await gc({ home })).terminated).toEqual([]);
          expect(listInstances({ home })[0]?.alive).toBe(true);
          process.kill(info?.pid ?? 0, 'SIGKILL');
          while (processStartTime(info?.pid ?? 0) !== undefined) await new Promise((r) => setTimeout(r, 20));
        }
        const result = await gc({ home });
        expect(result.terminated).toEqual([info?.id]);
        for (const pid of [info?.pid ?? 0, info?.unsharePid ?? 0])
          if (pid !== 0) expect(processStartTime(pid)).toBeUndefined();
        expect(hostMountsUnder(home)).toEqual([]);
        expect(listInstances({ home })).toEqual([]);
        expect(readdirSync(join(home, 'instances'))).toEqual([]);
        // No lab network daemon (and so no network namespace), no cgroup.
        expect(daemonsOf(home)).toEqual([]);
        expect(existsSync(homeCgroup(home))).toBe(false);
        // No process anywhere still refers to the lab home.
        const dir = home;
        const strays = readdirSync('/proc')
          .filter((entry) => /^\d+$/.test(entry))
          .filter((pid) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
            } catch {
              return false;
            }
          });
        expect(strays).toEqual([]);
      },
      120_000,
    );
  }

  itWithBase(
    'an instance whose lab network daemon was killed joins the network the next launch starts',
    async () => {
      const home = newHome();
      const rootfs = baseRootfs() as string;
      mkdirSync(join(home, 'repos', 'acme'), { recursive: true });
      const first = await launchInstance({ rootfs, home, reposDir: join(home, 'repos'), timeoutMs: 30_000 });
      const lookup = () =>
        execInInstance(first.id, ['getent', 'hosts', 'acme.repo.goldgate.internal'], { home });
      expect((await lookup()).stdout).toMatch(/^10\.213\.0\.1\s/);
      const net = liveNetwork(home);
      process.kill(net?.pid ?? 0, 'SIGKILL');
      while (processStartTime(net?.pid ?? 0) !== undefined) await new Promise((r) => setTimeout(r, 20));
      expect((await lookup()).code).not.toBe(0);

      const second = await launchInstance({ rootfs, home, reposDir: join(home, 'repos'), timeoutMs: 30_000 });
      expect(liveNetwork(home)?.pid).not.toBe(net?.pid);
      expect(second.address).not.toBe(first.address);
      expect((await lookup()).stdout).toMatch(/^10\.213\.0\.1\s/);
      const queries = await instanceDnsLog(home, first.id);
      expect(queries.at(-1)).toMatchObject({ srcaddr: first.address, srcids: { instance: first.id } });
    },
    120_000,
  );

  itWithBase(
    'gc removes half-written state and keeps a live instance',
    async () => {
      const home = newHome();
      const info = await launchInstance({ rootfs: baseRootfs() as string, home, timeoutMs: 30_000 });
      mkdirSync(join(home, 'instances', 'broken-0000'), { recursive: true });
      writeFileSync(join(home, 'instances', 'broken-0000', 'instance.json'), '{"id": "broken-0');
      const result = await gc({ home });
      expect(result.terminated).toEqual(['broken-0000']);
      expect(listInstances({ home }).map((s) => [s.id, s.alive])).toEqual([[info.id, true]]);
      await terminateInstance(info.id, { home });
      expect(isRunning(info)).toBe(false);
    },
    120_000,
  );

  itWithBase(
    'times out with a clear error and cleans up',
    async () => {
      const home = newHome();
      await expect(launchInstance({ rootfs: baseRootfs() as string, home, timeoutMs: 1 })).rejects.toThrow(
        /did not (start|settle)/,
      );
      expect(listInstances({ home })).toEqual([]);
      expect(hostMountsUnder(home)).toEqual([]);
    },
    120_000,
  );
});
