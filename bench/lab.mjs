// The lab's performance: (1) launch-to-running of the shared base image, sequentially;
// (2) many instances launched at once, their time to settle and memory per instance;
// (3) a cold bake against a bare mmdebstrap of the same Debian packages, and a rebake from
// the cached base after one file of the spec changed. Needs root and `npm run build`.
// Writes bench/results/lab.json. Each instance's systemd takes ~5 inotify instances: the lab
// raises the kernel's fs.inotify.max_user_instances (Debian's 128 fits ~25) when it launches.
//
//   node bench/lab.mjs [--runs 20] [--parallel 50] [--bake-runs 3] [--skip-bake] [--skip-launch]
import { spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { bake } from '../dist/bake/bake.js';
import { cachedBootstrap, mmdebstrapArgs } from '../dist/bake/mmdebstrap.js';
import { runHealthChecks } from '../dist/lab/health.js';
import { imageHealthChecks } from '../dist/lab/image-health.js';
import { gc, launchInstance, listInstances, terminateInstance } from '../dist/lab/index.js';
import { liveNetwork } from '../dist/lab/net/network.js';
import { buildDeb } from '../dist/repo/build-deb.js';
import { createRepo, publish } from '../dist/repo/repo.js';
import { machineFacts, TEST_BASE } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const project = dirname(here);
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    parallel: { type: 'string', default: '50' },
    'skip-bake': { type: 'boolean', default: false },
    'skip-launch': { type: 'boolean', default: false },
    'bake-runs': { type: 'string', default: '3' },
  },
});
const runs = Number(values.runs);
const parallel = Number(values.parallel);
const bakeRuns = Number(values['bake-runs']);
if (process.getuid?.() !== 0) {
  process.stderr.write('bench/lab.mjs needs root (the lab and mmdebstrap do)\n');
  process.exit(3);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
};
const log = (line) => process.stderr.write(`${line}\n`);

function memAvailableKiB() {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return Number(m?.[1]);
}

/** Host pids in each pid namespace, keyed by the namespace link (pid:[4026...]). */
function pidsByNamespace() {
  const byNs = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ns = readlinkSync(`/proc/${entry}/ns/pid`);
      const list = byNs.get(ns) ?? [];
      list.push(Number(entry));
      byNs.set(ns, list);
    } catch {
      // gone meanwhile
    }
  }
  return byNs;
}

function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]); // kernel threads and zombies have no VmRSS
  } catch {
    return 0;
  }
}

/** RSS of every process in the instance's pid namespace (found from its init's). */
function instanceMemory(info, byNs) {
  let ns;
  try {
    ns = readlinkSync(`/proc/${info.pid}/ns/pid`);
  } catch {
    return { processes: 0, rssKiB: 0 };
  }
  const pids = byNs.get(ns) ?? [];
  return { processes: pids.length, rssKiB: pids.reduce((sum, pid) => sum + rssKiB(pid), 0) };
}

async function terminateAll(home) {
  for (const { id } of listInstances({ home })) await terminateInstance(id, { home }).catch(() => undefined);
  return gc({ home });
}

const loadBefore = loadavg()[0];
const cache = process.env.GOLDGATE_CACHE ?? join(homedir(), '.cache', 'goldgate');
log('preparing the shared base image (cached after the first run)');
const baseRootfs = await cachedBootstrap(TEST_BASE, join(cache, 'test'));
const work = mkdtempSync(join(tmpdir(), 'goldgate-bench-lab-'));
const labHome = join(work, 'lab');
const result = {
  machine: machineFacts({
    mmdebstrap: spawnSync('mmdebstrap', ['--version'], { encoding: 'utf8' }).stdout.trim(),
  }),
  command: `node bench/lab.mjs --runs ${runs} --parallel ${parallel} --bake-runs ${bakeRuns}${values['skip-bake'] ? ' --skip-bake' : ''}${values['skip-launch'] ? ' --skip-launch' : ''}`,
  image: { rootfs: baseRootfs, request: TEST_BASE },
};

try {
  if (!values['skip-launch']) {
    // (1) Sequential launches: with the lab network already up (another instance running, the
    // usual case), and as the only instance (each launch starts the network, each terminate
    // stops it).
    const sequence = async (label, count) => {
      const boot = [];
      const wall = [];
      const terminate = [];
      const states = {};
      for (let i = 0; i < count; i += 1) {
        const t0 = performance.now();
        const info = await launchInstance({
          rootfs: baseRootfs,
          home: labHome,
          name: label,
          timeoutMs: 120_000,
        });
        wall.push(Math.round(performance.now() - t0));
        boot.push(info.bootMs);
        states[info.state] = (states[info.state] ?? 0) + 1;
        const t1 = performance.now();
        await terminateInstance(info.id, { home: labHome });
        terminate.push(Math.round(performance.now() - t1));
      }
      return {
        launches: count,
        states,
        bootMs: { median: median(boot), max: Math.max(...boot), min: Math.min(...boot) },
        launchWallMs: { median: median(wall), max: Math.max(...wall) },
        terminateMs: { median: median(terminate), max: Math.max(...terminate) },
      };
    };
    log(`(1) ${runs} sequential launches with the lab network up`);
    const keeper = await launchInstance({
      rootfs: baseRootfs,
      home: labHome,
      name: 'keeper',
      timeoutMs: 120_000,
    });
    result.sequential = await sequence('seq', runs);
    await terminateInstance(keeper.id, { home: labHome });
    log(JSON.stringify(result.sequential));
    log(
      `(1b) ${Math.max(5, Math.round(runs / 4))} sequential launches, each the only instance (network started each time)`,
    );
    result.sequentialColdNetwork = await sequence('cold', Math.max(5, Math.round(runs / 4)));
    log(JSON.stringify(result.sequentialColdNetwork));

    // (2) Many at once.
    log(`(2) ${parallel} launches at once`);
    const memBefore = memAvailableKiB();
    const t0 = performance.now();
    const settled = await Promise.allSettled(
      Array.from({ length: parallel }, () =>
        launchInstance({ rootfs: baseRootfs, home: labHome, name: 'par', timeoutMs: 120_000 }),
      ),
    );
    const allMs = Math.round(performance.now() - t0);
    const up = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
    const errors = settled
      .filter((s) => s.status === 'rejected')
      .map((s) => String(s.reason?.message ?? s.reason));
    // Let the instances' boot-time jobs finish before measuring.
    await sleep(5_000);
    const byNs = pidsByNamespace();
    const memories = up.map((info) => instanceMemory(info, byNs));
    const memAfter = memAvailableKiB();
    const net = liveNetwork(labHome);
    const networkRssMiB =
      net === undefined
        ? null
        : +(
            Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${net.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
          ).toFixed(1);
    const totalRss = memories.reduce((s, m) => s + m.rssKiB, 0);
    const bootsPar = up.map((i) => i.bootMs);
    const parStates = {};
    for (const i of up) parStates[i.state] = (parStates[i.state] ?? 0) + 1;
    const t1 = performance.now();
    const collected = await terminateAll(labHome);
    const teardownMs = Math.round(performance.now() - t1);
    result.parallel = {
      launched: parallel,
      running: up.length,
      states: parStates,
      failed: errors.length,
      errors: [...new Set(errors)].slice(0, 5),
      allSettledMs: allMs,
      bootMs: up.length > 0 ? { median: median(bootsPar), max: Math.max(...bootsPar) } : null,
      memory: {
        processesPerInstance:
          up.length > 0 ? +(memories.reduce((s, m) => s + m.processes, 0) / up.length).toFixed(1) : 0,
        rssPerInstanceMiB: up.length > 0 ? +(totalRss / up.length / 1024).toFixed(1) : 0,
        rssTotalMiB: +(totalRss / 1024).toFixed(1),
        memAvailableDropMiB: +((memBefore - memAfter) / 1024).toFixed(1),
        memAvailableDropPerInstanceMiB:
          up.length > 0 ? +((memBefore - memAfter) / up.length / 1024).toFixed(1) : 0,
        networkDaemonRssMiB: networkRssMiB,
        note: "RSS counts shared pages (libc, systemd) once per process; the MemAvailable drop includes the overlays' page cache and kernel memory",
      },
      teardownMs,
      gc: {
        terminated: collected.terminated.length,
        killed: collected.killed.length,
        unmounted: collected.unmounted.length,
      },
      leftAfterGc: listInstances({ home: labHome }).length,
    };
    log(JSON.stringify(result.parallel));
  }

  // (3) Bake.
  if (!values['skip-bake']) {
    const home = join(work, 'home');
    mkdirSync(home, { recursive: true });
    await createRepo('acme', { home });
    const debs = join(work, 'debs');
    mkdirSync(debs, { recursive: true });
    await publish('acme', [await buildDeb(join(project, 'examples/acme/packages/acme-runtime-1.0'), debs)], {
      suite: 'bookworm',
      home,
    });
    // The acme example's fixed image, with only the bookworm suite of the lab repository.
    const spec = readFileSync(join(project, 'examples/acme/specs/fixed.yaml'), 'utf8').replace(
      'suites: [bookworm, bookworm-security]',
      'suites: [bookworm]',
    );
    const specPath = join(home, 'acme.yaml');
    writeFileSync(specPath, spec);
    // The Debian packages mmdebstrap installs for this spec (acme-runtime comes from the lab repository after).
    const request = {
      suite: 'bookworm',
      variant: 'minbase',
      include: ['busybox', 'systemd-sysv', 'unattended-upgrades'],
    };

    // Bare mmdebstrap and cold bakes alternate, so that the mirror's and the disk's moods
    // fall on both alike; each downloads its packages again (mmdebstrap keeps no cache).
    const cacheDir = join(work, 'bake-cache');
    const bareRuns = [];
    const coldRuns = [];
    let cold;
    for (let i = 0; i < bakeRuns; i += 1) {
      log(`(3a) bare mmdebstrap, run ${i + 1} of ${bakeRuns}`);
      const bareTarget = join(work, 'bare-rootfs');
      // Each run starts with the previous runs' writes on disk, so none pays for another's.
      spawnSync('sync');
      const b0 = performance.now();
      const code = await new Promise((resolve) => {
        const child = spawn('mmdebstrap', ['--quiet', ...mmdebstrapArgs(request, bareTarget)], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('exit', (c) => resolve(c));
      });
      bareRuns.push(Math.round(performance.now() - b0));
      rmSync(bareTarget, { recursive: true, force: true });
      if (code !== 0) throw new Error(`mmdebstrap exited ${code}`);

      log(`(3b) cold bake, run ${i + 1} of ${bakeRuns}`);
      spawnSync('sync');
      const c0 = performance.now();
      cold = await bake(specPath, { home, cacheDir, basePolicy: 'refresh' });
      coldRuns.push(Math.round(performance.now() - c0));
    }
    const args = mmdebstrapArgs(request, '<target>');
    const bareMs = median(bareRuns);
    const coldMs = median(coldRuns);

    log('(3c) rebake after changing one file');
    spawnSync('sync');
    writeFileSync(specPath, spec.replace('<p>acme</p>', '<p>acme, rebaked</p>'));
    const r0 = performance.now();
    const again = await bake(specPath, { home, cacheDir, basePolicy: 'any' });
    const rebakeMs = Math.round(performance.now() - r0);

    result.bake = {
      spec: 'examples/acme/specs/fixed.yaml (lab suite bookworm only), acme-runtime 1.0 in a lab repository',
      runs: bakeRuns,
      bareMmdebstrap: { medianMs: bareMs, runsMs: bareRuns, args: ['--quiet', ...args] },
      coldBake: { medianMs: coldMs, runsMs: coldRuns, image: cold.image.id },
      ratioColdToBare: +(coldMs / bareMs).toFixed(2),
      ratioPerRun: coldRuns.map((ms, i) => +(ms / bareRuns[i]).toFixed(2)),
      targetRatioColdToBare: 1.2,
      rebakeOneFileChanged: {
        ms: rebakeMs,
        image: again.image.id,
        newImage: again.image.id !== cold.image.id,
      },
      ratioRebakeToCold: +(rebakeMs / coldMs).toFixed(2),
      targetRatioRebakeToCold: 0.3,
    };
    log(JSON.stringify(result.bake));

    // The baked image boots and its spec's health checks pass (goldgate lab health).
    const info = await launchInstance({
      rootfs: join(again.image.path, 'rootfs'),
      home: labHome,
      name: 'acme',
    });
    try {
      const checks = await imageHealthChecks(info.rootfs);
      const health = await runHealthChecks(info.id, checks, { home: labHome });
      result.bake.health = {
        bootMs: info.bootMs,
        results: health.map(({ name, ok, detail, durationMs }) => ({ name, ok, detail, durationMs })),
      };
    } finally {
      await terminateInstance(info.id, { home: labHome });
    }
  }
} finally {
  await terminateAll(labHome).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}

result.loadAverage1m = { before: +loadBefore.toFixed(2), after: +loadavg()[0].toFixed(2) };
const out = JSON.stringify(result, null, 2);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'lab.json'), `${out}\n`);
process.stdout.write(`${out}\n`);
