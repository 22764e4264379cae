import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EnvironmentError } from '../../core/errors.js';
import { findExecutable } from '../../core/which.js';
import { LabError } from '../errors.js';
import { isAlive, listProcesses, processStartTime } from '../proc.js';
import { run, sleep } from '../run.js';
import { instanceEntries, instancesDir, isInstanceId, readInstance } from '../state.js';
import { GATEWAY, PREFIX_LENGTH, addressOf, indexOf } from './names.js';

/** The bridge in the lab network namespace that every instance's veth joins. */
export const BRIDGE = 'gg-br0';

const netSchema = z.object({
  pid: z.number().int(),
  startTime: z.number().int(),
  gateway: z.string(),
  reposDir: z.string(),
  startedAt: z.string(),
});

/** What `net/net.json` records about the running lab network. */
export type NetworkInfo = z.infer<typeof netSchema>;

/** Where the lab network keeps its state: `net.json`, the leases, the daemon's log. */
export function netDir(home: string): string {
  return join(home, 'net');
}

function leasesDir(home: string): string {
  return join(netDir(home), 'leases');
}

function ipTool(): string {
  const path = findExecutable('ip');
  if (path === undefined)
    throw new EnvironmentError('LAB_TOOL_MISSING', 'ip not found', { hint: 'apt-get install iproute2' });
  return path;
}

/** The daemon's compiled entry point: beside this module when running from dist/, else in dist/. */
export function daemonScript(): string {
  const here = fileURLToPath(import.meta.url);
  const beside = join(dirname(here), 'daemon.js');
  if (existsSync(beside)) return beside;
  const built = fileURLToPath(new URL('../../../dist/lab/net/daemon.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new EnvironmentError('LAB_NET_DAEMON_MISSING', 'the lab network daemon is not built', {
    hint: 'npm run build',
  });
}

/** The recorded network, if net.json is whole and its daemon is the process that wrote it. */
export function liveNetwork(home: string): NetworkInfo | undefined {
  try {
    const parsed = netSchema.safeParse(JSON.parse(readFileSync(join(netDir(home), 'net.json'), 'utf8')));
    if (parsed.success && isAlive(parsed.data.pid, parsed.data.startTime)) return parsed.data;
  } catch {
    // missing or half-written: no network
  }
  return undefined;
}

/**
 * Runs `fn` while holding the lab network's lock (a directory, so that taking it is atomic
 * across processes). A lock left by a dead process is broken.
 */
async function withLock<T>(home: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(home, 'net.lock');
  mkdirSync(home, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'owner'), `${process.pid} ${processStartTime(process.pid) ?? 0}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsStale(lock)) rmSync(lock, { recursive: true, force: true });
      else await sleep(20);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const [pid, start] = readFileSync(join(lock, 'owner'), 'utf8').trim().split(' ').map(Number);
    return !isAlive(pid ?? 0, start ?? 0);
  } catch {
    // The owner file is written right after mkdir; without one for a while, its writer died in between.
    const made = statSync(lock, { throwIfNoEntry: false });
    return made === undefined || Date.now() - made.mtimeMs > 5_000;
  }
}

/**
 * Starts the lab network unless it runs: a daemon in a network namespace of its own holding
 * the bridge, the resolver and the repository server at the gateway address.
 */
export async function ensureNetwork(home: string, reposDir: string): Promise<NetworkInfo> {
  return withLock(home, async () => {
    const running = liveNetwork(home);
    if (running !== undefined) return running;
    ipTool();
    const unshare = findExecutable('unshare');
    if (unshare === undefined)
      throw new EnvironmentError('LAB_TOOL_MISSING', 'unshare not found', {
        hint: 'apt-get install util-linux',
      });
    const dir = netDir(home);
    rmSync(join(dir, 'net.json'), { force: true });
    mkdirSync(leasesDir(home), { recursive: true });
    const logFd = openSync(join(dir, 'daemon.log'), 'a');
    let exited = false;
    let pid: number | undefined;
    try {
      // unshare execs node in the new namespace: the daemon is the namespace's only process, and
      // the namespace ends with it.
      const child = spawn(
        unshare,
        ['--net', '--', process.execPath, daemonScript(), '--lab-home', home, '--repos', reposDir],
        { detached: true, stdio: ['ignore', logFd, logFd] },
      );
      child.on('exit', () => (exited = true));
      child.on('error', () => (exited = true));
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(logFd);
    }
    const until = Date.now() + 15_000;
    for (;;) {
      const info = liveNetwork(home);
      if (info !== undefined && info.pid === pid) {
        await reattach(home, info);
        return info;
      }
      if (exited || pid === undefined)
        throw new LabError('LAB_NET_FAILED', `the lab network did not start: ${logTail(dir)}`, {
          fault: 'environment',
        });
      if (Date.now() > until) {
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
        throw new LabError('LAB_NET_FAILED', 'the lab network did not start in 15 s', {
          fault: 'environment',
        });
      }
      await sleep(20);
    }
  });
}

/**
 * Joins instances that outlived a previous network (its daemon was killed: their veths went
 * with its namespace) to the new one, at the addresses they hold.
 */
async function reattach(home: string, net: NetworkInfo): Promise<void> {
  for (const id of instanceEntries(home).filter(isInstanceId)) {
    const info = readInstance(home, id);
    if (info?.address == null || info.pid === 0 || !isAlive(info.pid, info.pidStartTime)) continue;
    if (leaseOwner(home, info.address) !== id) writeFileSync(join(leasesDir(home), info.address), `${id}\n`);
    await attachInstance(net, info.pid, info.address).catch(() => undefined);
  }
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'daemon.log'), 'utf8').slice(-1500).trim();
  } catch {
    return '';
  }
}

/** Takes the lowest free address of the lab subnet for an instance (a lease file made exclusively). */
export function leaseAddress(home: string, id: string): string {
  const dir = leasesDir(home);
  mkdirSync(dir, { recursive: true });
  const taken = new Set(readdirSync(dir));
  for (let index = 2; index < 2 ** (32 - PREFIX_LENGTH) - 1; index++) {
    const address = addressOf(index);
    if (taken.has(address)) continue;
    try {
      writeFileSync(join(dir, address), `${id}\n`, { flag: 'wx' });
      return address;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new LabError('LAB_NET_FULL', 'the lab subnet has no free address', { fault: 'environment' });
}

/** The instance a lease names, or undefined. */
export function leaseOwner(home: string, address: string): string | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return undefined;
  try {
    const id = readFileSync(join(leasesDir(home), address), 'utf8').trim();
    return isInstanceId(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Gives an address back, if the lease is still the instance's. */
export function releaseAddress(home: string, address: string, id: string): void {
  if (leaseOwner(home, address) === id) rmSync(join(leasesDir(home), address), { force: true });
}

/** The name of an instance's veth end on the lab bridge (15 characters at most). */
export function vethName(address: string): string {
  return `gg${indexOf(address)}`;
}

/**
 * Connects an instance's network namespace to the lab bridge: a veth pair whose inner end is
 * the instance's `eth0` with `address`, and loopback up. Nothing else: no default route, so
 * anything not on the lab subnet is unreachable from inside.
 */
export async function attachInstance(net: NetworkInfo, instancePid: number, address: string): Promise<void> {
  const ip = ipTool();
  const nsenter = findExecutable('nsenter') ?? 'nsenter';
  const veth = vethName(address);
  const inLab = (...args: string[]) => [nsenter, '-t', String(net.pid), '-n', '--', ip, ...args];
  const inInstance = (...args: string[]) => [nsenter, '-t', String(instancePid), '-n', '--', ip, ...args];
  const steps = [
    inLab('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(instancePid)),
    inLab('link', 'set', veth, 'master', BRIDGE, 'up'),
    inInstance('link', 'set', 'lo', 'up'),
    inInstance('addr', 'add', `${address}/${PREFIX_LENGTH}`, 'dev', 'eth0'),
    inInstance('link', 'set', 'eth0', 'up'),
  ];
  for (const argv of steps) {
    const result = await run(argv, { timeoutMs: 15_000 });
    if (result.code !== 0)
      throw new LabError(
        'LAB_NET_ATTACH_FAILED',
        `could not attach the instance to the lab network: ${argv.slice(5).join(' ')}: ${result.stderr.trim()}`,
        { fault: 'environment' },
      );
  }
}

/** True when some instance is recorded under `home` (its directory exists). */
function hasInstances(home: string): boolean {
  return instanceEntries(home).filter(isInstanceId).length > 0;
}

/** Host pids of lab network daemons of `home`, recorded or not (a launch killed mid-start leaves one unrecorded). */
export function daemonsOf(home: string): number[] {
  return listProcesses()
    .filter((p) => p.argv[1]?.endsWith('/lab/net/daemon.js') === true && p.argv.includes(home))
    .map((p) => p.pid);
}

/**
 * Stops the lab network when no instance is left under `home`: its daemon ends, and with it
 * its network namespace, bridge, resolver and repository server. Returns the pids it stopped.
 */
export async function stopNetworkIfIdle(home: string, options: { force?: boolean } = {}): Promise<number[]> {
  return withLock(home, async () => {
    if (options.force !== true && hasInstances(home)) return [];
    const stopped: number[] = [];
    for (const pid of daemonsOf(home)) {
      const start = processStartTime(pid);
      if (start === undefined) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      const until = Date.now() + 3_000;
      while (isAlive(pid, start) && Date.now() < until) await sleep(20);
      if (isAlive(pid, start)) process.kill(pid, 'SIGKILL');
      while (isAlive(pid, start)) await sleep(20);
      stopped.push(pid);
    }
    rmSync(join(netDir(home), 'net.json'), { force: true });
    rmSync(leasesDir(home), { recursive: true, force: true });
    return stopped;
  });
}

/** Removes leases whose instance is gone (a crash between lease and terminate). */
export function dropStaleLeases(home: string): string[] {
  const dropped: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(leasesDir(home));
  } catch {
    return dropped;
  }
  for (const address of entries) {
    const owner = leaseOwner(home, address);
    if (owner !== undefined && existsSync(join(instancesDir(home), owner))) continue;
    rmSync(join(leasesDir(home), address), { force: true });
    dropped.push(address);
  }
  return dropped;
}

export { GATEWAY };
