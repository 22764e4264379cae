// The lab autoscaling group (`goldgate group`): (1) time for a group of 20 to reach 20 healthy
// instances, side by side with what a script without a controller does (the same 20 launched at
// once with the lab alone, then the image's health checks run once on each); (2) the memory of
// the `group run` controller and per instance while it keeps them; (3) a group of 50: its
// bring-up and memory against the lab-scale target of SYSTEM.md (50 instances under 60 s, under
// 40 MB each), then the time of a reconcile pass with the 50 in service, and of a health round
// across all 50 (no named peer: a sequential `systemctl is-system-running` probe across the 50 is
// given for scale). Needs root and `npm run build`.
// Everything happens in a private GOLDGATE_HOME under the temporary directory, removed at the end
// (also on failure) after every instance is terminated and `lab gc` ran. The image is baked from a
// small hardened spec on the shared test base (the cache the tests and bench/verify.mjs use).
// Writes bench/results/group.json.
//
//   node bench/group.mjs [--runs 3] [--size 20] [--hold-seconds 60]
//                        [--reconcile-size 50] [--reconcile-seconds 20] [--reconcile-interval 1.5]
//                        [--skip-group] [--skip-reconcile] [--timeout-seconds 300]
//
// --skip-group leaves out (1) and (2), --skip-reconcile leaves out (3).
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
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bake } from '../dist/bake/bake.js';
import { machineFacts, TEST_BASE } from './common.mjs';
import { cachedBootstrap } from '../dist/bake/mmdebstrap.js';
import { deleteGroup, describeGroup, listGroups } from '../dist/group/admin.js';
import { runGroup } from '../dist/group/controller.js';
import { runHealthChecks } from '../dist/lab/health.js';
import { imageHealthChecks } from '../dist/lab/image-health.js';
import { execInInstance, gc, launchInstance, listInstances, terminateInstance } from '../dist/lab/index.js';
import { daemonsOf } from '../dist/lab/net/network.js';

const here = dirname(fileURLToPath(import.meta.url));
const project = dirname(here);
const BIN = join(project, 'bin/goldgate.js');
/** A small image whose health checks are cheap (the `hardened` spec of verify.integration.test.ts). */
const SPEC = `name: bench-group
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, unattended-upgrades, busybox]
autoUpdates: disabled
services:
  mask: [apt-daily.timer, apt-daily-upgrade.timer]
dnsAllow: []
health:
  - { name: journald, unit: { name: systemd-journald.service } }
  - { name: shell, command: { argv: [/bin/true] } }
`;
/** SYSTEM.md, performance targets: "lab scale: 50 instances booted at once, under 60 s, under 40 MB each". */
const TARGET = { instances: 50, seconds: 60, mbPerInstance: 40 };

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    size: { type: 'string', default: '20' },
    'hold-seconds': { type: 'string', default: '60' },
    'reconcile-size': { type: 'string', default: '50' },
    'reconcile-seconds': { type: 'string', default: '20' },
    'reconcile-interval': { type: 'string', default: '1.5' },
    'skip-group': { type: 'boolean', default: false },
    'skip-reconcile': { type: 'boolean', default: false },
    'timeout-seconds': { type: 'string', default: '300' },
  },
});
const runs = Number(values.runs);
const size = Number(values.size);
const holdMs = Number(values['hold-seconds']) * 1000;
const bigSize = Number(values['reconcile-size']);
const reconcileMs = Number(values['reconcile-seconds']) * 1000;
const reconcileInterval = Number(values['reconcile-interval']);
const timeoutMs = Number(values['timeout-seconds']) * 1000;
for (const [flag, value, min, max] of [
  ['--runs', runs, 1, 100],
  ['--size', size, 1, 100],
  ['--reconcile-size', bigSize, 1, 100],
])
  if (!Number.isInteger(value) || value < min || value > max) {
    process.stderr.write(`bench/group.mjs: ${flag} must be a whole number from ${min} to ${max}\n`);
    process.exit(2);
  }
if (process.getuid?.() !== 0) {
  process.stderr.write('bench/group.mjs needs root (the lab and bake do)\n');
  process.exit(3);
}

const log = (line) => process.stderr.write(`${line}\n`);
const median = (xs) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
};
const max = (xs) => (xs.length === 0 ? null : Math.max(...xs));
const mib = (kib) => +(kib / 1024).toFixed(1);
const secs = (ms) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);

function meminfoKiB(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  return Number(m?.[1]);
}
/** VmRSS / VmHWM of a process in KiB; null once it is gone. */
function procStatusKiB(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

// Stop cleanly on Ctrl-C or SIGTERM: the steps check `stop`, and the `finally` cleans up.
const stop = new globalThis.AbortController();
let controllerChild;
const onSignal = (signal) => {
  if (stop.signal.aborted) return;
  log(`bench/group.mjs: ${signal}: stopping and cleaning up`);
  stop.abort(new Error(`interrupted by ${signal}`));
  controllerChild?.kill('SIGTERM');
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
const checkStopped = () => {
  if (stop.signal.aborted) throw stop.signal.reason;
};

// A private home: the bench never touches the user's images, groups or instances.
const home = mkdtempSync(join(tmpdir(), 'goldgate-bench-group-'));
const lab = join(home, 'lab');
const reposDir = join(home, 'repos');
const cacheDir = join(process.env.GOLDGATE_CACHE ?? join(homedir(), '.cache', 'goldgate'), 'test');
const env = { ...process.env, GOLDGATE_HOME: home };

/** The CLI, as a user runs it, in the private home; throws when it fails. */
function cli(args) {
  const child = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  if (child.status !== 0)
    throw new Error(`goldgate ${args.join(' ')} exited ${child.status}: ${child.stderr.trim()}`);
  return child.stdout;
}

const loadBefore = loadavg();
const result = {
  machine: machineFacts(),
  command: `node bench/group.mjs --runs ${runs} --size ${size} --hold-seconds ${holdMs / 1000} --reconcile-size ${bigSize} --reconcile-seconds ${reconcileMs / 1000} --reconcile-interval ${reconcileInterval}${values['skip-group'] ? ' --skip-group' : ''}${values['skip-reconcile'] ? ' --skip-reconcile' : ''}`,
  image: { spec: SPEC, base: TEST_BASE },
  note: 'Other jobs may share this machine: see loadAverage. Times are wall-clock.',
};

/** Lets the previous step's terminations and boot-time jobs finish before a measurement starts. */
async function quiet(ms = 3_000) {
  await sleep(ms);
  checkStopped();
}

// ---------------------------------------------------------------------------------------------
// (1) + (2): `goldgate group run` to N healthy, with its memory; the peer: the lab alone.

/** One run of the controller: create, `group run --json` until N healthy, hold, stop, delete. */
async function groupRun(run, image) {
  const name = `bench-${run}`;
  cli([
    'group',
    'create',
    name,
    '--image',
    image.id,
    '--desired',
    String(size),
    '--grace',
    '0',
    '--health-interval',
    '1',
  ]);
  await quiet();
  const memBefore = meminfoKiB('MemAvailable');
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'group', 'run', name, '--json'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  controllerChild = child;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const rss = []; // [ms since start, KiB]
  const sampler = setInterval(() => {
    const kib = procStatusKiB(child.pid, 'VmRSS');
    if (kib !== null) rss.push([Math.round(performance.now() - started), kib]);
  }, 250);
  const marks = { firstEventMs: null, allInServiceMs: null, allChecksPassedMs: null, healthyMs: null };
  const inService = new Set();
  const passing = new Set(); // by the instances' `health` events (sent when a check's outcome changes)
  let lastStatus = null;
  let summary = null;
  let reached;
  const healthy = new Promise((resolve, reject) => {
    reached = { resolve, reject };
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    const at = Math.round(performance.now() - started);
    marks.firstEventMs ??= at;
    if (event.type === 'group' && event.action === 'in-service') {
      inService.add(event.instance);
      if (inService.size === size) marks.allInServiceMs ??= at;
    } else if (event.type === 'group' && event.action === 'health') {
      if (/ health passes/.test(event.message)) passing.add(event.instance);
      else passing.delete(event.instance);
      if (passing.size === size) marks.allChecksPassedMs ??= at;
    } else if (event.type === 'group-status') {
      lastStatus = event.status;
      if (event.status.healthy >= size && marks.healthyMs === null) {
        marks.healthyMs = at;
        reached.resolve();
      }
    } else if (event.type === 'summary') summary = event;
  });
  const timer = setTimeout(
    () => reached.reject(new Error(`no ${size} healthy within ${timeoutMs} ms`)),
    timeoutMs,
  );
  void exited.then(({ code }) =>
    reached.reject(new Error(`group run exited ${code} early: ${stderr.trim()}`)),
  );
  const onStop = () => reached.reject(stop.signal.reason);
  stop.signal.addEventListener('abort', onStop, { once: true });
  try {
    await healthy;
    // Hold the group: the controller keeps checking the instances; memory is read at the end.
    const rssAtHealthy = procStatusKiB(child.pid, 'VmRSS');
    await sleep(holdMs, undefined, { signal: stop.signal }).catch(() => undefined);
    clearInterval(sampler); // what follows is the controller stopping, not keeping the group
    checkStopped();
    const memAfter = meminfoKiB('MemAvailable');
    const hwm = procStatusKiB(child.pid, 'VmHWM');
    const rssEnd = procStatusKiB(child.pid, 'VmRSS');
    const statusAfterHold = lastStatus;
    child.kill('SIGTERM');
    const exit = await Promise.race([exited, sleep(60_000).then(() => null)]);
    if (exit === null) child.kill('SIGKILL');
    const d0 = performance.now();
    const deleted = JSON.parse(cli(['group', 'delete', name, '--json']));
    const deleteMs = Math.round(performance.now() - d0);
    const holdRss = rss.filter(([at]) => at >= marks.healthyMs).map(([, kib]) => kib);
    return {
      run,
      healthyMs: marks.healthyMs,
      allInServiceMs: marks.allInServiceMs,
      allChecksPassedMs: marks.allChecksPassedMs,
      firstEventMs: marks.firstEventMs,
      statusAfterHold,
      controller: {
        pid: child.pid,
        rssAtHealthyMiB: rssAtHealthy === null ? null : mib(rssAtHealthy),
        rssHoldMedianMiB: holdRss.length === 0 ? null : mib(median(holdRss)),
        rssHoldMaxMiB: holdRss.length === 0 ? null : mib(max(holdRss)),
        rssEndMiB: rssEnd === null ? null : mib(rssEnd),
        rssFirstSampleMiB: rss.length === 0 ? null : mib(rss[0][1]),
        hwmMiB: hwm === null ? null : mib(hwm),
        samples: rss.length,
        // One sample a second (MiB), from the start: does it grow while the group is held?
        rssSeriesMiB: rss.filter((_, i) => i % 4 === 0).map(([, kib]) => mib(kib)),
      },
      memAvailable: {
        beforeMiB: mib(memBefore),
        withGroupMiB: mib(memAfter),
        dropMiB: mib(memBefore - memAfter),
        dropPerInstanceMiB: mib((memBefore - memAfter) / size),
      },
      exit,
      summary: summary === null ? null : { launched: summary.launched, passes: summary.passes },
      deleted: deleted.terminated.length,
      deleteMs,
    };
  } finally {
    clearTimeout(timer);
    clearInterval(sampler);
    stop.signal.removeEventListener('abort', onStop);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const exit = await Promise.race([exited, sleep(60_000).then(() => null)]);
      if (exit === null) child.kill('SIGKILL');
    }
    controllerChild = undefined;
  }
}

/** The peer: what a script without a controller does: N launches at once, then the checks once on each. */
async function peerRun(run, image, rootfs) {
  await quiet();
  const started = performance.now();
  const checks = await imageHealthChecks(rootfs);
  const settled = await Promise.allSettled(
    Array.from({ length: size }, () =>
      launchInstance({ rootfs, image: image.id, home: lab, reposDir, name: `peer-${run}` }),
    ),
  );
  const runningMs = Math.round(performance.now() - started);
  const up = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  const errors = settled
    .filter((s) => s.status === 'rejected')
    .map((s) => String(s.reason?.message ?? s.reason));
  const health = await Promise.all(
    up.map((info) =>
      runHealthChecks(info.id, checks, { home: lab }).catch((error) => [
        { ok: false, detail: error.message },
      ]),
    ),
  );
  const totalMs = Math.round(performance.now() - started);
  const healthy = health.filter((results) => results.every((r) => r.ok)).length;
  const t0 = performance.now();
  await Promise.all(up.map((info) => terminateInstance(info.id, { home: lab }).catch(() => undefined)));
  const terminateMs = Math.round(performance.now() - t0);
  return {
    run,
    totalMs,
    runningMs,
    running: up.length,
    healthy,
    states: up.reduce((acc, i) => ({ ...acc, [i.state]: (acc[i.state] ?? 0) + 1 }), {}),
    errors: [...new Set(errors)].slice(0, 5),
    terminateMs,
  };
}

// ---------------------------------------------------------------------------------------------
// (3): reconcile passes with bigSize instances in service (library runGroup, in this process).

/** Health-log records of the given instances since `since` (epoch ms): [{ at, instance }]. */
function healthRecords(ids, since) {
  const records = [];
  for (const id of ids) {
    const path = join(lab, 'instances', id, 'goldgate-health.jsonl');
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const r = JSON.parse(line);
        const at = Date.parse(r.time);
        if (at >= since) records.push({ at, instance: r.instance, ok: r.ok, durationMs: r.durationMs });
      } catch {
        // a line cut short: not counted
      }
    }
  }
  return records;
}

/**
 * The health checks of the reconcile run, from the instances' health logs. Every instance is due
 * when the run starts (its last check is older than the interval): `roundMs` is the time until
 * every instance had its first round of checks done, whether the controller runs them inside its
 * passes or beside them.
 */
function healthRounds(ids, since, checksPerRound, durationMs) {
  const records = healthRecords(ids, since);
  const firstRound = ids.map((id) => {
    const mine = records.filter((r) => r.instance === id).sort((x, y) => x.at - y.at);
    return mine.length >= checksPerRound ? mine[checksPerRound - 1].at - since : null;
  });
  const done = firstRound.filter((ms) => ms !== null);
  return {
    checksPerRound,
    allCheckedMs: done.length === ids.length ? max(done) : null,
    instancesWithARound: done.length,
    rounds: Math.floor(records.length / checksPerRound),
    roundsPerSecond: +(records.length / checksPerRound / (durationMs / 1000)).toFixed(1),
    failed: records.filter((r) => !r.ok).length,
    checkDurationMs: {
      median: median(records.map((r) => r.durationMs)),
      max: max(records.map((r) => r.durationMs)),
    },
  };
}

async function reconcile(image, rootfs) {
  const name = 'bench-reconcile';
  cli([
    'group',
    'create',
    name,
    '--image',
    image.id,
    '--desired',
    String(bigSize),
    '--max',
    String(bigSize),
    '--grace',
    '0',
    '--health-interval',
    String(reconcileInterval),
  ]);
  await quiet();
  const out = { size: bigSize, healthIntervalSeconds: reconcileInterval, tickMs: 1000 };

  // Bring the group up: the controller runs until a pass shows every instance healthy.
  log(`(3) bringing a group of ${bigSize} up (runGroup until ${bigSize} healthy)`);
  const memBefore = meminfoKiB('MemAvailable');
  const up = new globalThis.AbortController();
  let healthyMs = null;
  let allInServiceMs = null;
  let lastStatus = null;
  const inService = new Set();
  const t0 = performance.now();
  const bringUp = await runGroup({
    home,
    name,
    tickMs: 1000,
    durationMs: timeoutMs,
    signal: globalThis.AbortSignal.any([up.signal, stop.signal]),
    events: {
      emit(event) {
        const at = Math.round(performance.now() - t0);
        if (event.type === 'group' && event.action === 'in-service') {
          inService.add(event.instance);
          if (inService.size === bigSize) allInServiceMs ??= at;
        }
        if (event.type !== 'group-status') return;
        lastStatus = event.status;
        if (event.status.healthy >= bigSize && healthyMs === null) {
          healthyMs = at;
          up.abort();
        }
      },
    },
  });
  checkStopped();
  if (healthyMs === null)
    throw new Error(
      `the group of ${bigSize} did not reach ${bigSize} healthy: ${JSON.stringify(lastStatus)}`,
    );
  out.bringUp = {
    healthyMs,
    allInServiceMs,
    passes: bringUp.passes,
    launched: bringUp.launched,
    passMs: bringUp.passMs,
    note: 'the controller launches at most 25 at a time (MAX_LAUNCHES_AT_ONCE): the rest in the next pass',
  };
  // Boot-time jobs settle; meanwhile every instance's last check ages past the interval, so the
  // first pass of the reconcile run checks all of them.
  await quiet(Math.max(5_000, reconcileInterval * 1000 + 1_000));
  const memAfter = meminfoKiB('MemAvailable');
  out.memAvailable = {
    beforeMiB: mib(memBefore),
    withGroupMiB: mib(memAfter),
    dropPerInstanceMiB: mib((memBefore - memAfter) / bigSize),
    dropPerInstanceMB: +(((memBefore - memAfter) * 1024) / bigSize / 1e6).toFixed(1),
  };

  // The reconcile run: nothing to launch; passes observe, start the checks that are due, decide.
  log(`(3) reconcile passes for ${reconcileMs / 1000} s with ${bigSize} in service`);
  const ids = describeGroup(home, name).Instances.map((i) => i.InstanceId);
  const r0 = Date.now();
  const summary = await runGroup({
    home,
    name,
    durationMs: reconcileMs,
    tickMs: 1000,
    signal: stop.signal,
  });
  checkStopped();
  const status = describeGroup(home, name).Status;
  const checksPerRound = (await imageHealthChecks(rootfs)).length;
  out.reconcile = {
    passes: summary.passes,
    launched: summary.launched,
    replaced: summary.replaced,
    statusAfter: status,
    passMs: {
      median: median(summary.passMs),
      max: max(summary.passMs),
      first: summary.passMs[0] ?? null,
      all: summary.passMs,
    },
    health: healthRounds(ids, r0, checksPerRound, summary.durationMs),
  };

  // No named peer: one `systemctl is-system-running` probe across the instances, one after another.
  log(`(3) reference: systemctl is-system-running across ${ids.length} instances, sequentially`);
  const probe = [];
  const states = {};
  const p0 = performance.now();
  for (const id of ids) {
    const s = performance.now();
    const r = await execInInstance(id, ['systemctl', 'is-system-running'], { home: lab, timeoutMs: 30_000 });
    probe.push(Math.round(performance.now() - s));
    const state = r.stdout.trim() || `exit ${r.code}`;
    states[state] = (states[state] ?? 0) + 1;
  }
  out.probeSequential = {
    totalMs: Math.round(performance.now() - p0),
    perInstanceMedianMs: median(probe),
    states,
  };

  const d0 = performance.now();
  const deleted = await deleteGroup(home, name);
  out.deleted = deleted.terminated.length;
  out.deleteMs = Math.round(performance.now() - d0);
  return out;
}

// ---------------------------------------------------------------------------------------------

/** What is left of the lab in the private home: instances (as `lab ls` shows them), mounts, processes. */
function leftovers() {
  let instances;
  let network = null;
  try {
    const ls = JSON.parse(cli(['lab', 'ls', '--json']));
    instances = ls.instances.map((i) => i.id);
    network = ls.network;
  } catch (error) {
    instances = [`lab ls failed: ${error.message}`];
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === home || point.startsWith(`${home}/`));
  const processes = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(home);
      } catch {
        return false;
      }
    })
    .map(Number);
  return { instances, network, mounts, processes, networkDaemons: daemonsOf(lab) };
}

async function cleanUp() {
  const running = (child) => child !== undefined && child.exitCode === null && child.signalCode === null;
  if (running(controllerChild)) {
    controllerChild.kill('SIGTERM');
    for (let i = 0; i < 60 && running(controllerChild); i += 1) await sleep(500);
    if (running(controllerChild)) controllerChild.kill('SIGKILL');
    await sleep(500);
  }
  for (const group of listGroups(home))
    await deleteGroup(home, group.AutoScalingGroupName).catch((e) => log(`cleanup: ${e.message}`));
  for (const { id } of listInstances({ home: lab }))
    await terminateInstance(id, { home: lab }).catch((e) => log(`cleanup: ${id}: ${e.message}`));
  await gc({ home: lab }).catch((e) => log(`cleanup: gc: ${e.message}`));
  try {
    cli(['lab', 'gc']);
  } catch (error) {
    log(`cleanup: ${error.message}`);
  }
  const left = leftovers();
  result.leftAfterCleanup = left;
  if (
    left.mounts.length > 0 ||
    left.processes.length > 0 ||
    left.instances.length > 0 ||
    left.network !== null ||
    left.networkDaemons.length > 0
  ) {
    log(`cleanup: left behind in ${home}: ${JSON.stringify(left)}; the home is kept for inspection`);
    process.exitCode = 1;
    return;
  }
  rmSync(home, { recursive: true, force: true });
}

let failure;
try {
  log(`preparing: the shared base (cached), the image baked from the hardened spec, in ${home}`);
  await cachedBootstrap(TEST_BASE, cacheDir);
  const specPath = join(home, 'bench-group.yaml');
  writeFileSync(specPath, SPEC);
  const { image } = await bake(specPath, { home, cacheDir, basePolicy: 'any' });
  const rootfs = join(image.path, 'rootfs');
  result.image.id = image.id;
  checkStopped();

  // Alternating: the controller, then the lab alone, `runs` times.
  const groups = [];
  const peers = [];
  for (let run = 1; run <= (values['skip-group'] ? 0 : runs); run += 1) {
    log(`(1) run ${run} of ${runs}: goldgate group run, ${size} instances to ${size} healthy`);
    const g = await groupRun(run, image);
    groups.push(g);
    log(
      `    ${secs(g.healthyMs)} to ${size} healthy (all InService at ${secs(g.allInServiceMs)}); controller RSS ${g.controller.rssHoldMedianMiB} MiB, HWM ${g.controller.hwmMiB} MiB; MemAvailable -${g.memAvailable.dropPerInstanceMiB} MiB per instance`,
    );
    checkStopped();
    log(
      `(1) run ${run} of ${runs}: peer, ${size} launches at once with the lab, then the checks once on each`,
    );
    const p = await peerRun(run, image, rootfs);
    peers.push(p);
    log(`    ${secs(p.totalMs)} (${p.running} running at ${secs(p.runningMs)}, ${p.healthy} healthy)`);
    checkStopped();
  }
  if (groups.length > 0) {
    const gMed = median(groups.map((g) => g.healthyMs));
    const pMed = median(peers.map((p) => p.totalMs));
    result.timeToHealthy = {
      size,
      runs,
      group: {
        medianMs: gMed,
        maxMs: max(groups.map((g) => g.healthyMs)),
        allInServiceMedianMs: median(groups.map((g) => g.allInServiceMs)),
        allChecksPassedMedianMs: median(groups.map((g) => g.allChecksPassedMs)),
        firstEventMedianMs: median(groups.map((g) => g.firstEventMs)),
      },
      peer: {
        medianMs: pMed,
        maxMs: max(peers.map((p) => p.totalMs)),
        runningMedianMs: median(peers.map((p) => p.runningMs)),
        allHealthy: peers.every((p) => p.healthy === size),
      },
      ratioMedians: +(gMed / pMed).toFixed(2),
      ratioPerRun: groups.map((g, i) => +(g.healthyMs / peers[i].totalMs).toFixed(2)),
      note: "group: from spawning `goldgate group run --json` (Node start included) until a group-status event shows every instance healthy (the controller sends group-status at the end of a pass, so up to a tick after the last check passed: allChecksPassedMs is when the last instance's `health ... passes` event came); peer: launchInstance ×N at once in this process, then runHealthChecks once on each, all at once",
      groupRuns: groups,
      peerRuns: peers,
    };
    result.memory = {
      size,
      holdSeconds: holdMs / 1000,
      controllerRssMedianMiB: median(groups.map((g) => g.controller.rssHoldMedianMiB)),
      controllerRssMaxMiB: max(groups.map((g) => g.controller.rssHoldMaxMiB)),
      controllerHwmMaxMiB: max(groups.map((g) => g.controller.hwmMiB)),
      controllerFirstSampleMedianMiB: median(groups.map((g) => g.controller.rssFirstSampleMiB)),
      memAvailableDropPerInstanceMedianMiB: median(groups.map((g) => g.memAvailable.dropPerInstanceMiB)),
      memAvailableDropPerInstanceMaxMiB: max(groups.map((g) => g.memAvailable.dropPerInstanceMiB)),
      note: "MemAvailable is read before the controller starts and after holding the group for --hold-seconds; its drop includes the controller, the overlays' page cache and kernel memory, and anything else the machine did meanwhile",
    };
  }

  if (!values['skip-reconcile']) {
    const big = await reconcile(image, rootfs);
    big.target = {
      ...TARGET,
      bringUpMet: big.size >= TARGET.instances ? big.bringUp.healthyMs < TARGET.seconds * 1000 : null,
      memoryMet:
        big.size >= TARGET.instances ? big.memAvailable.dropPerInstanceMB < TARGET.mbPerInstance : null,
    };
    result.reconcile = big;
  }
} catch (error) {
  failure = error;
} finally {
  log('cleaning up: terminating every instance, lab gc, removing the private home');
  await cleanUp().catch((error) => {
    log(`cleanup failed: ${error.stack ?? error}`);
    process.exitCode = 1;
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
result.loadAverage = {
  before: loadBefore.map((l) => +l.toFixed(2)),
  after: loadavg().map((l) => +l.toFixed(2)),
};
if (failure !== undefined) {
  result.error = String(failure.stack ?? failure);
  log(`bench/group.mjs failed: ${result.error}`);
  process.exitCode = 1;
}

mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'group.json'), `${JSON.stringify(result, null, 2)}\n`);

const m = result.machine;
console.log(`\nMachine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}`);
console.log(
  `Load average (1/5/15 min): before ${result.loadAverage.before.join(' ')}, after ${result.loadAverage.after.join(' ')}`,
);
console.log(`Command: ${result.command}\n`);
const t = result.timeToHealthy;
if (t !== undefined) {
  console.log(`Time to ${size} healthy instances (${runs} alternating runs)\n`);
  console.log(
    `| run | goldgate group run: to ${size} healthy (group-status) | all InService | last check passed | peer: ${size} launches at once + checks once | of which all running | ratio group/peer |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  t.groupRuns.forEach((g, i) => {
    const p = t.peerRuns[i];
    console.log(
      `| ${g.run} | ${secs(g.healthyMs)} | ${secs(g.allInServiceMs)} | ${secs(g.allChecksPassedMs)} | ${secs(p.totalMs)} (${p.healthy} of ${size} healthy) | ${secs(p.runningMs)} | ${t.ratioPerRun[i].toFixed(2)}× |`,
    );
  });
  console.log(
    `| **median** | **${secs(t.group.medianMs)}** | ${secs(t.group.allInServiceMedianMs)} | ${secs(t.group.allChecksPassedMedianMs)} | **${secs(t.peer.medianMs)}** | ${secs(t.peer.runningMedianMs)} | **${t.ratioMedians.toFixed(2)}×** |`,
  );
  console.log(`| max | ${secs(t.group.maxMs)} | | | ${secs(t.peer.maxMs)} | | |`);
  const mem = result.memory;
  console.log(`\nMemory, the controller keeping ${size} healthy instances (held ${mem.holdSeconds} s)\n`);
  console.log('| what | value |');
  console.log('|---|---|');
  console.log(
    `| \`group run\` controller VmRSS while it keeps ${size} (median of runs / max sample) | ${mem.controllerRssMedianMiB} MiB / ${mem.controllerRssMaxMiB} MiB |`,
  );
  console.log(`| controller peak VmHWM (max of runs) | ${mem.controllerHwmMaxMiB} MiB |`);
  console.log(
    `| controller VmRSS at its first sample (Node started) | ${mem.controllerFirstSampleMedianMiB} MiB |`,
  );
  console.log(
    `| MemAvailable drop per instance, before the group vs ${size} healthy (median / max of runs) | ${mem.memAvailableDropPerInstanceMedianMiB} MiB / ${mem.memAvailableDropPerInstanceMaxMiB} MiB |`,
  );
}
const r = result.reconcile;
if (r !== undefined) {
  const c = r.reconcile;
  const verdict = (met) => (met === null ? 'n/a (smaller group)' : met ? 'met' : 'not met');
  console.log(
    `\nReconcile passes with ${r.size} instances in service (runGroup, tick 1 s, health interval ${r.healthIntervalSeconds} s, ${reconcileMs / 1000} s)\n`,
  );
  console.log('| what | value |');
  console.log('|---|---|');
  console.log(
    `| bring-up: runGroup to ${r.size} healthy (all InService at ${secs(r.bringUp.allInServiceMs)}) | ${secs(r.bringUp.healthyMs)}; target ${TARGET.instances} under ${TARGET.seconds} s: ${verdict(r.target.bringUpMet)} |`,
  );
  console.log(
    `| MemAvailable drop per instance with ${r.size} | ${r.memAvailable.dropPerInstanceMiB} MiB (${r.memAvailable.dropPerInstanceMB} MB); target under ${TARGET.mbPerInstance} MB: ${verdict(r.target.memoryMet)} |`,
  );
  console.log(
    `| reconcile pass time, ${c.passes} passes over ${reconcileMs / 1000} s (median / max; the first) | **${c.passMs.median} ms** / ${c.passMs.max} ms; ${c.passMs.first} ms |`,
  );
  console.log(
    `| a health round of all ${r.size} (all due at the start: until each had its ${c.health.checksPerRound} checks done) | ${c.health.allCheckedMs === null ? `not done (${c.health.instancesWithARound} of ${r.size})` : `**${c.health.allCheckedMs} ms**`} |`,
  );
  console.log(
    `| health check rounds over the run (instances checked per second; check duration median / max) | ${c.health.rounds} (${c.health.roundsPerSecond}/s; ${c.health.checkDurationMs.median} / ${c.health.checkDurationMs.max} ms), ${c.health.failed} failed |`,
  );
  console.log(
    `| status after (healthy / desired), launched, replaced during the reconcile run | ${c.statusAfter.healthy} / ${c.statusAfter.desired}, ${c.launched}, ${c.replaced} |`,
  );
  console.log(
    `| no named peer; for scale: \`systemctl is-system-running\` in each of the ${r.size}, sequentially | ${r.probeSequential.totalMs} ms (${r.probeSequential.perInstanceMedianMs} ms each; ${Object.entries(
      r.probeSequential.states,
    )
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}) |`,
  );
}
console.log(`\nWritten: bench/results/group.json${result.error === undefined ? '' : ' (with the error)'}`);
