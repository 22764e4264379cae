import { spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { EnvironmentError, UsageError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { findExecutable } from '../core/which.js';
import { openDirRootFs } from '../rootfs/dir.js';
import { LabError } from './errors.js';
import { prepareBindTargets } from './bind-targets.js';
import { initProblem } from './init-check.js';
import { ensureInotifyRoom, INOTIFY_PER_INSTANCE } from './limits.js';
import { GATEWAY } from './net/names.js';
import {
  attachInstance,
  dropStaleLeases,
  ensureNetwork,
  leaseAddress,
  releaseAddress,
  stopNetworkIfIdle,
} from './net/network.js';
import { CGROUP_ENTER_NAME, CGROUP_ENTER_SCRIPT, INIT_NAME, INIT_SCRIPT } from './init-script.js';
import {
  cgroupProcesses,
  createCgroup,
  hostInstanceCount,
  instanceCgroups,
  removeCgroup,
  removeHomeCgroup,
} from './cgroup.js';
import { childrenOf, isAlive, listProcesses, mountsUnder, processStartTime } from './proc.js';
import { INSTANCE_ENV, run, sleep } from './run.js';
import type { RunResult } from './run.js';
import type { InstanceInfo } from './state.js';
import {
  instanceDir,
  instanceEntries,
  instancesDir,
  isInstanceId,
  newInstanceId,
  readInstance,
  writeInstance,
} from './state.js';

export type { InstanceInfo, InstanceState } from './state.js';
export type { RunResult } from './run.js';

/** systemd halts cleanly on SIGRTMIN+3 (34 + 3 on Linux). */
const SIGRTMIN_3 = 37;
const NAME = /^[a-z0-9][a-z0-9-]{0,40}$/;

export interface LaunchOptions {
  /** The image's root filesystem: the read-only lower layer, never written. */
  rootfs: string;
  /** The image as its user names it (a stored image's id); default the root filesystem's path. */
  image?: string;
  /** A label for the instance, part of its id (lowercase letters, digits, dashes). */
  name?: string;
  /** The lab's state directory, e.g. `$GOLDGATE_HOME/lab`. */
  home: string;
  /** The lab repositories the network serves; default `repos/` beside `home`, where `goldgate repo` keeps them. */
  reposDir?: string;
  /** cloud-init user-data, given to the instance as a NoCloud seed (the image must have cloud-init). */
  userData?: string | Buffer;
  /** How long systemd may take to settle; default 60 s. */
  timeoutMs?: number;
  /**
   * Lives only as long as the launching process: `gc` terminates it once that process is
   * gone, so a run killed with SIGKILL leaves no instance behind (verify's instances).
   */
  ephemeral?: boolean;
  /** The id to give the instance (a fresh `i-<hex>` from `newInstanceId`); default one is made here. */
  id?: string;
  /** The lab autoscaling group launching it: recorded with the instance, so that the group finds it again. */
  group?: string;
  /** Called with the empty upper layer before the instance boots: what it writes there, the instance sees over the image. */
  prepareUpper?: (upper: string) => void;
  events?: EventSink;
}

function tool(name: string): string {
  const path = findExecutable(name);
  if (path === undefined)
    throw new EnvironmentError('LAB_TOOL_MISSING', `${name} not found`, {
      hint: 'apt-get install util-linux mount',
    });
  return path;
}

/** Overlay options are comma- and colon-separated: paths holding those cannot be layers. */
function checkLayerPath(what: string, path: string): void {
  if (!isAbsolute(path) || /[,:\n\\]/.test(path))
    throw new UsageError(
      'LAB_BAD_PATH',
      `${what} "${path}" cannot be an overlay layer (no , : \\ or newline allowed)`,
    );
}

function consoleTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'console.log'), 'utf8').slice(-2000).trim();
  } catch {
    return '';
  }
}

/**
 * Boots an instance of an image: an overlay over `rootfs`, new mount/pid/net/uts/ipc
 * namespaces (loopback only), a private minimal /dev, and systemd as PID 1. Resolves when
 * `systemctl is-system-running` says `running` or `degraded`; on timeout the instance is
 * removed and a LabError thrown.
 */
export async function launchInstance(options: LaunchOptions): Promise<InstanceInfo> {
  const events = options.events ?? silent;
  if (process.getuid?.() !== 0) throw new EnvironmentError('LAB_NOT_ROOT', 'the lab needs root');
  if (options.name !== undefined && !NAME.test(options.name))
    throw new UsageError('LAB_BAD_NAME', `"${options.name}" is not a valid instance name (a-z, 0-9, -)`);
  const rootfs = resolve(options.rootfs);
  const home = resolve(options.home);
  checkLayerPath('the root filesystem', rootfs);
  checkLayerPath('the lab home', home);
  const initIssue = initProblem(rootfs);
  if (initIssue !== undefined)
    throw new UsageError('LAB_NO_SYSTEMD', `${rootfs} cannot boot in the lab: ${initIssue}`, {
      hint: 'goldgate audit still reads this image; the lab and verify need an image that boots systemd',
    });
  const cloudInit = openDirRootFs(rootfs).exists('/usr/bin/cloud-init');
  if (options.userData !== undefined && !cloudInit)
    throw new UsageError('LAB_NO_CLOUD_INIT', `${rootfs} has no cloud-init: user-data would be ignored`, {
      hint: "add cloud-init to the spec's packages, or launch without --user-data",
    });
  const unshare = tool('unshare');
  const nsenter = tool('nsenter');
  tool('mkfifo');

  if (options.id !== undefined && !isInstanceId(options.id))
    throw new UsageError('LAB_BAD_ID', `"${options.id}" is not an instance id`);
  const id = options.id ?? newInstanceId(options.name);
  const dir = instanceDir(home, id);
  if (options.id !== undefined && existsSync(dir))
    throw new UsageError('LAB_ID_TAKEN', `an instance ${id} already exists`);
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const merged = join(dir, 'merged');
  for (const d of [upper, work, merged]) mkdirSync(d, { recursive: true, mode: 0o755 });
  const hostnameFile = join(dir, 'hostname');
  writeFileSync(hostnameFile, `${id}\n`);
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(
    resolvConf,
    `# the lab's resolver: it answers the lab's names and refuses all others\nnameserver ${GATEWAY}\n`,
  );
  const gate = join(dir, 'network-ready');
  let seed = '';
  // A seed baked into the image names one instance-id for all its instances: each instance
  // gets its own, as each cloud instance does, with the image's user-data.
  const userData = options.userData ?? (cloudInit ? bakedUserData(rootfs) : undefined);
  if (userData !== undefined) {
    seed = join(dir, 'seed');
    mkdirSync(seed, { mode: 0o755 });
    writeFileSync(join(seed, 'user-data'), userData);
    writeFileSync(join(seed, 'meta-data'), `instance-id: ${id}\nlocal-hostname: ${id}\n`);
  }

  const started = Date.now();
  const info: InstanceInfo = {
    id,
    name: options.name ?? id,
    image: options.image ?? rootfs,
    rootfs,
    pid: 0,
    pidStartTime: 0,
    unsharePid: 0,
    unshareStartTime: 0,
    launcherPid: process.pid,
    launcherStartTime: processStartTime(process.pid) ?? 0,
    state: 'starting',
    startedAt: new Date(started).toISOString(),
    bootMs: null,
    upper,
    merged,
    address: null,
    cgroup: null,
    ephemeral: options.ephemeral === true,
    group: options.group ?? null,
  };
  writeInstance(home, info);
  events.emit({ type: 'progress', step: 'lab.launch', message: `starting ${id}` });

  try {
    options.prepareUpper?.(upper);
    const targets = prepareBindTargets(rootfs, upper, seed !== '');
    const mkfifo = await run([tool('mkfifo'), '-m', '0600', gate]);
    if (mkfifo.code !== 0) throw new LabError('LAB_SPAWN_FAILED', `mkfifo: ${mkfifo.stderr.trim()}`);
    // Every lab home's instances share the host's limit: count them all, and this one.
    const raised = ensureInotifyRoom(
      Math.max(instanceEntries(home).filter(isInstanceId).length, hostInstanceCount() + 1),
    );
    if (raised !== undefined)
      events.emit({
        type: 'warning',
        message:
          raised.failed === undefined
            ? `raised ${raised.sysctl} from ${raised.from} to ${raised.to}: each instance's systemd needs its own inotify instances`
            : `could not raise ${raised.sysctl} from ${raised.from} (${raised.failed}): about ${Math.max(0, Math.floor((raised.from - 128) / INOTIFY_PER_INSTANCE))} instances fit; raise it on the host (sysctl -w ${raised.sysctl}=1024)`,
      });
    const net = await ensureNetwork(home, resolve(options.reposDir ?? join(dirname(home), 'repos')));
    const address = leaseAddress(home, id);
    info.address = address;
    const cgroup = createCgroup(home, id);
    info.cgroup = cgroup;
    writeInstance(home, info);
    const consoleFd = openSync(join(dir, 'console.log'), 'a');
    let exited = false;
    try {
      // --kill-child: if unshare dies, so does the instance's init, and with it the whole pid namespace.
      const child = spawn(
        '/bin/sh',
        [
          '-c',
          CGROUP_ENTER_SCRIPT,
          CGROUP_ENTER_NAME,
          join(cgroup, 'cgroup.procs'),
          unshare,
          '--cgroup',
          '--mount',
          '--propagation',
          'private',
          '--pid',
          '--net',
          '--uts',
          '--ipc',
          '--fork',
          '--kill-child',
          '--',
          '/bin/sh',
          '-c',
          INIT_SCRIPT,
          INIT_NAME,
          rootfs,
          upper,
          work,
          merged,
          id,
          hostnameFile,
          gate,
          resolvConf,
          seed,
          targets.resolvConf,
          targets.seed,
        ],
        { detached: true, stdio: ['ignore', consoleFd, consoleFd], env: { ...INSTANCE_ENV } },
      );
      child.on('exit', () => (exited = true));
      child.on('error', () => (exited = true));
      child.unref();
      if (child.pid === undefined)
        throw new LabError('LAB_SPAWN_FAILED', `could not start unshare for ${id}`);
      info.unsharePid = child.pid;
      info.unshareStartTime = processStartTime(child.pid) ?? 0;
    } finally {
      closeSync(consoleFd);
    }
    writeInstance(home, info);

    const deadline = started + (options.timeoutMs ?? 60_000);
    const alive = (): boolean => !exited && isAlive(info.unsharePid, info.unshareStartTime);
    while (info.pid === 0) {
      const [pid] = childrenOf(info.unsharePid);
      if (pid !== undefined) {
        info.pid = pid;
        info.pidStartTime = processStartTime(pid) ?? 0;
      } else if (!alive()) {
        throw new LabError('LAB_BOOT_FAILED', `instance ${id} exited before booting: ${consoleTail(dir)}`);
      } else if (Date.now() > deadline) {
        throw new LabError('LAB_BOOT_TIMEOUT', `instance ${id} did not start its init in time`, {
          fault: 'environment',
          hint: 'the machine may be busy: try again, or give it longer (lab launch --timeout)',
        });
      } else await sleep(20);
    }
    writeInstance(home, info);
    await attachInstance(net, info.pid, address);
    await openGate(gate, alive, deadline, id, dir);
    events.emit({
      type: 'progress',
      step: 'lab.launch',
      message: `${id} is on the lab network at ${address}`,
    });

    let last = '';
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new LabError(
          'LAB_BOOT_TIMEOUT',
          `instance ${id} did not settle in time (systemd said "${last}")`,
          {
            fault: 'environment',
          },
        );
      // Before the init script's chroot, /proc/<pid>/root is still the host's: wait for systemd itself.
      if (isSystemd(info.pid)) {
        const result = await run(
          [nsenter, '-t', String(info.pid), '-m', '-p', '-r', '-w', '--', 'systemctl', 'is-system-running'],
          { timeoutMs: Math.min(remaining, 10_000) },
        );
        last = result.stdout.trim();
        if (last === 'running' || last === 'degraded') {
          info.state = last;
          break;
        }
      }
      if (!alive() || !isAlive(info.pid, info.pidStartTime))
        // The lab's part is done (namespaces, mounts, network): what ends here is the image's systemd.
        throw new LabError('LAB_BOOT_FAILED', `instance ${id} exited while booting: ${consoleTail(dir)}`, {
          fault: 'user',
          hint: "the image's systemd ended as it booted (its last console lines are above): goldgate audit still reads the image",
        });
      await sleep(100);
    }
    info.bootMs = Date.now() - started;
    writeInstance(home, info);
    events.emit({
      type: 'progress',
      step: 'lab.launch',
      message: `${id} is ${info.state}`,
      done: true,
      elapsedMs: info.bootMs,
    });
    return info;
  } catch (error) {
    await terminateInstance(id, { home }).catch(() => undefined);
    throw error;
  }
}

/** The user-data of the image's own NoCloud seed, read as if chrooted (a symlink never leads out of the image). */
function bakedUserData(rootfs: string): Buffer | undefined {
  return openDirRootFs(rootfs).readFile('/var/lib/cloud/seed/nocloud/user-data', {
    maxBytes: 16 * 1024 * 1024,
  });
}

/** Tells the init script that the network is attached (a line on its FIFO), once it listens. */
async function openGate(
  gate: string,
  alive: () => boolean,
  deadline: number,
  id: string,
  dir: string,
): Promise<void> {
  for (;;) {
    let fd: number | undefined;
    try {
      // Non-blocking: ENXIO until the init script has the FIFO open for reading.
      fd = openSync(gate, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, 'go\n');
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (!alive())
      throw new LabError('LAB_BOOT_FAILED', `instance ${id} exited before booting: ${consoleTail(dir)}`);
    if (Date.now() > deadline)
      throw new LabError('LAB_BOOT_TIMEOUT', `instance ${id} did not get to its network in time`, {
        fault: 'environment',
        hint: 'the machine may be busy: try again, or give it longer (lab launch --timeout)',
      });
    await sleep(10);
  }
}

/** The recorded instance, if it exists and its init is still the process that was launched. */
export function liveInstance(home: string, id: string): InstanceInfo {
  if (!isInstanceId(id)) throw new UsageError('LAB_BAD_ID', `"${id}" is not an instance id`);
  const info = readInstance(resolve(home), id);
  if (info === undefined)
    throw new UsageError('LAB_NO_INSTANCE', `no instance ${id}`, {
      hint: 'goldgate lab ls lists the instances',
    });
  if (info.pid === 0 || !isAlive(info.pid, info.pidStartTime))
    throw new LabError('LAB_INSTANCE_DOWN', `instance ${id} is not running`, { fault: 'environment' });
  return info;
}

/** Runs argv inside the instance (its namespaces and root), never through a shell. */
export async function execInInstance(
  id: string,
  argv: string[],
  options: { home: string; timeoutMs?: number },
): Promise<RunResult> {
  if (argv.length === 0) throw new UsageError('LAB_EMPTY_COMMAND', 'nothing to run');
  const info = liveInstance(options.home, id);
  const nsenter = [tool('nsenter'), '-t', String(info.pid), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w'];
  // In the instance's cgroup too, so that terminate's cgroup.kill reaches whatever the command leaves running.
  const enter =
    info.cgroup === null
      ? nsenter
      : [
          '/bin/sh',
          '-c',
          CGROUP_ENTER_SCRIPT,
          CGROUP_ENTER_NAME,
          join(info.cgroup, 'cgroup.procs'),
          ...nsenter,
        ];
  return run([...enter, '--', ...argv], { timeoutMs: options.timeoutMs ?? 120_000 });
}

/** True once the init script has exec'd systemd (before that, /proc/<pid>/root is still the host's). */
function isSystemd(pid: number): boolean {
  try {
    return (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '').endsWith('/systemd');
  } catch {
    return false;
  }
}

async function waitGone(pid: number, startTime: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (isAlive(pid, startTime)) {
    if (Date.now() > until) return false;
    await sleep(25);
  }
  return true;
}

/** Host processes that belong to the instance in `dir`: by their root, or by naming its paths in their argv. */
export function processesOf(dir: string): number[] {
  const prefix = `${dir}/`;
  const within = (path: string): boolean => path === dir || path.startsWith(prefix);
  return listProcesses()
    .filter((p) => p.pid !== process.pid && ((p.root !== undefined && within(p.root)) || p.argv.some(within)))
    .map((p) => p.pid);
}

async function killAll(pids: number[]): Promise<number[]> {
  const killed: number[] = [];
  for (const pid of pids) {
    const start = processStartTime(pid);
    if (start === undefined) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // already gone
    }
    await waitGone(pid, start, 5_000);
  }
  return killed;
}

/** Unmounts every mount at or below `dir`, deepest first; a busy one is detached lazily. */
export async function unmountUnder(dir: string, options: { strict?: boolean } = {}): Promise<string[]> {
  const umount = tool('umount');
  const done: string[] = [];
  for (const point of mountsUnder(dir)) {
    if (options.strict === true && point === dir) continue;
    let result = await run([umount, point], { timeoutMs: 30_000 });
    if (result.code !== 0) result = await run([umount, '-l', point], { timeoutMs: 30_000 });
    if (result.code === 0) done.push(point);
  }
  return done;
}

export interface TerminateResult {
  id: string;
  /** False when nothing of the instance was left. */
  existed: boolean;
  killed: number[];
  unmounted: string[];
}

/**
 * Stops an instance (systemd halts on SIGRTMIN+3; SIGKILL after `graceMs`), kills anything
 * left of it, unmounts what is below its directory and removes its state. Idempotent.
 */
export async function terminateInstance(
  id: string,
  options: { home: string; graceMs?: number; keepNetwork?: boolean },
): Promise<TerminateResult> {
  if (!isInstanceId(id)) throw new UsageError('LAB_BAD_ID', `"${id}" is not an instance id`);
  const home = resolve(options.home);
  const dir = instanceDir(home, id);
  const existed = existsSync(dir);
  const info = readInstance(home, id);
  const killed: number[] = [];
  if (info !== undefined) {
    if (info.state !== 'stopping') {
      info.state = 'stopping';
      writeInstance(home, info);
    }
    if (info.pid === 0 && isAlive(info.unsharePid, info.unshareStartTime)) {
      // Killed before it recorded its init: unshare's child is the init.
      const [pid] = childrenOf(info.unsharePid);
      if (pid !== undefined) {
        info.pid = pid;
        info.pidStartTime = processStartTime(pid) ?? 0;
      }
    }
    if (info.pid !== 0 && isAlive(info.pid, info.pidStartTime)) {
      // Only systemd handles SIGRTMIN+3; the init script before it would ignore it (a namespace's init
      // gets only the signals it handles), so it is killed at once.
      const graceful = isSystemd(info.pid);
      try {
        process.kill(info.pid, graceful ? SIGRTMIN_3 : 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      if (!(await waitGone(info.pid, info.pidStartTime, graceful ? (options.graceMs ?? 10_000) : 5_000))) {
        // The pid namespace's init: killing it kills everything in the namespace.
        killed.push(...(await killAll([info.pid])));
      }
    }
    if (info.unsharePid !== 0 && isAlive(info.unsharePid, info.unshareStartTime)) {
      if (!(await waitGone(info.unsharePid, info.unshareStartTime, 2_000)))
        killed.push(...(await killAll([info.unsharePid])));
    }
  }
  // Whatever is left (a launch killed before it recorded its pids, a process entered with nsenter).
  killed.push(...(await killAll(processesOf(dir))));
  const cgroup = info?.cgroup ?? instanceCgroups(home).get(id);
  if (cgroup !== undefined && cgroup !== null) {
    killed.push(...cgroupProcesses(cgroup));
    if (!(await removeCgroup(cgroup)))
      throw new LabError('LAB_CGROUP_BUSY', `could not remove the cgroup of ${id}: ${cgroup}`, {
        fault: 'environment',
        hint: 'goldgate lab gc tries again',
      });
  }
  const unmounted = existed ? await unmountUnder(dir) : [];
  // Its namespace is gone with its processes, and its veth with it: the address is free again.
  if (info?.address != null) releaseAddress(home, info.address, id);
  rmSync(dir, { recursive: true, force: true });
  removeHomeCgroup(home);
  if (options.keepNetwork !== true) await stopNetworkIfIdle(home);
  return { id, existed, killed, unmounted };
}

export interface InstanceStatus {
  id: string;
  /** The recorded state; undefined when instance.json is missing or half-written. */
  info: InstanceInfo | undefined;
  /** True when the recorded init is running and is the process that was launched. */
  alive: boolean;
}

/** Every instance recorded under `home`, with whether its init still runs. */
export function listInstances(options: { home: string }): InstanceStatus[] {
  const home = resolve(options.home);
  return instanceEntries(home)
    .filter(isInstanceId)
    .map((id) => {
      const info = readInstance(home, id);
      const alive = info !== undefined && info.pid !== 0 && isAlive(info.pid, info.pidStartTime);
      return { id, info, alive };
    });
}

export interface GcResult {
  /** Instances stopped and removed: dead, half-written, or abandoned while starting. */
  terminated: string[];
  killed: number[];
  unmounted: string[];
  /** Entries under `instances/` that were not instances at all. */
  removed: string[];
  /** Lab addresses whose instance was gone, given back. */
  leases: string[];
  /** Cgroups of instances that were gone, removed (by instance id). */
  cgroups: string[];
  /** Pids of lab network daemons stopped because no instance was left. */
  network: number[];
}

/** True while an instance should be left alone: it runs, or its launcher is still starting it. */
function isKept(info: InstanceInfo | undefined): boolean {
  if (info === undefined) return false;
  if (info.state === 'starting' || info.ephemeral)
    if (!isAlive(info.launcherPid, info.launcherStartTime)) return false;
  if (info.state === 'starting') return true;
  if (info.state === 'stopping') return false;
  return info.pid !== 0 && isAlive(info.pid, info.pidStartTime);
}

/**
 * Cleans up after crashes: terminates instances whose init is gone, whose state is
 * half-written or whose launcher died while starting them; kills stray processes and
 * unmounts mounts under `home` that no live instance owns; removes what is left.
 */
export async function gc(options: { home: string }): Promise<GcResult> {
  const home = resolve(options.home);
  const result: GcResult = {
    terminated: [],
    killed: [],
    unmounted: [],
    removed: [],
    leases: [],
    cgroups: [],
    network: [],
  };
  const kept = new Set<string>();
  for (const entry of instanceEntries(home)) {
    if (!isInstanceId(entry)) {
      const path = join(instancesDir(home), entry);
      result.unmounted.push(...(await unmountUnder(path)));
      rmSync(path, { recursive: true, force: true });
      result.removed.push(entry);
      continue;
    }
    if (isKept(readInstance(home, entry))) {
      kept.add(entry);
      continue;
    }
    const done = await terminateInstance(entry, { home, graceMs: 2_000, keepNetwork: true });
    result.terminated.push(entry);
    result.killed.push(...done.killed);
    result.unmounted.push(...done.unmounted);
  }
  // Processes of instances whose directory is already gone.
  const root = `${instancesDir(home)}/`;
  const strays = listProcesses().filter((p) => {
    const paths = [...(p.root === undefined ? [] : [p.root]), ...p.argv];
    const owner = paths.find((path) => path.startsWith(root));
    if (owner === undefined || p.pid === process.pid) return false;
    return !kept.has(owner.slice(root.length).split('/')[0] ?? '');
  });
  result.killed.push(...(await killAll(strays.map((p) => p.pid))));
  for (const point of mountsUnder(home)) {
    if (point === home) continue;
    const owner = point.startsWith(root) ? point.slice(root.length).split('/')[0] : undefined;
    if (owner !== undefined && kept.has(owner)) continue;
    result.unmounted.push(...(await unmountUnder(point)));
  }
  // Cgroups of instances whose directory is already gone.
  for (const [id, cgroup] of instanceCgroups(home)) {
    if (kept.has(id)) continue;
    result.killed.push(...cgroupProcesses(cgroup));
    if (await removeCgroup(cgroup)) result.cgroups.push(id);
  }
  removeHomeCgroup(home);
  result.leases.push(...dropStaleLeases(home));
  // With no instance left the lab network goes too (its daemon, and with it its namespace).
  if (kept.size === 0) result.network.push(...(await stopNetworkIfIdle(home)));
  return result;
}
