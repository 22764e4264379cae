import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../images/store.js';
import { homeCgroup, instanceCgroups } from '../lab/cgroup.js';
import { mountsUnder } from '../lab/proc.js';
import { prng } from './log-fuzz.js';

// Fault injection with real parts: the goldgate CLI as a child process, killed with SIGKILL at
// moments drawn from a seeded generator, and what a crash may leave behind looked for, scoped
// to the test's own paths (other test runs share the machine).

const ROOT = join(import.meta.dirname, '../..');
/** The CLI as a user runs it (needs `npm run build`). */
export const GOLDGATE_BIN = join(ROOT, 'bin/goldgate.js');

/**
 * A small Linux root cut from the base (about 50 MB, 2,000 files): its /etc, /var, /usr/bin,
 * /usr/sbin, /usr/lib/systemd and os-release, so that audits and remediations find what they
 * find in the whole base. Written to `dir`, which must not exist.
 */
export function smallRoot(base: string, dir: string): string {
  mkdirSync(join(dir, 'usr/lib'), { recursive: true });
  for (const path of ['etc', 'var', 'usr/bin', 'usr/sbin', 'usr/lib/systemd', 'usr/lib/os-release'])
    execFileSync('cp', ['-a', join(base, path), join(dir, path)]);
  return dir;
}

/**
 * A raw GPT disk image of `sizeMiB` at `path`: a small first partition, and `tree` as ext4 in
 * the second (mkfs.ext4 -d fills the file system from the directory without mounting anything).
 */
export function rawGptDisk(tree: string, path: string, sizeMiB: number): void {
  execFileSync('truncate', ['-s', `${sizeMiB}M`, path]);
  execFileSync('sfdisk', ['--quiet', path], {
    input: 'label: gpt\nstart=2048, size=16384, type=L\nstart=18432, type=L\n',
  });
  execFileSync('mkfs.ext4', [
    '-q',
    '-F',
    '-d',
    tree,
    '-E',
    `offset=${18432 * 512}`,
    path,
    `${(sizeMiB * 1024 * 1024 - 18432 * 512 - 1024 * 1024) / 1024}k`,
  ]);
}

/** A raw GPT disk `<work>/small.raw` whose second partition holds `smallRoot` as ext4. */
export function smallRawDisk(base: string, work: string): string {
  const tree = smallRoot(base, join(work, 'disk-tree'));
  const disk = join(work, 'small.raw');
  rawGptDisk(tree, disk, 160);
  rmSync(tree, { recursive: true, force: true });
  return disk;
}

/** A seeded PRNG: the same seed gives the same moments. */
export const seededRandom = prng;

/** The seed of this run: `GOLDGATE_FAULT_SEED` when set (to reproduce a run), else a fresh one. */
export function faultSeed(): number {
  const given = process.env.GOLDGATE_FAULT_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0)
      throw new Error(`GOLDGATE_FAULT_SEED=${given} is not a whole number`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

/** `count` kill moments as fractions of a run's duration, drawn uniformly in [0, 1), in the order they are used. */
export function killFractions(random: () => number, count: number): number[] {
  return Array.from({ length: count }, () => random());
}

/** A goldgate CLI child process with its own GOLDGATE_HOME. */
export interface GoldgateChild {
  child: ChildProcess;
  /** Resolves when it has exited, with its exit code (null when a signal ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): { stdout: string; stderr: string };
}

/** Starts `goldgate <args>` as a child process, as a user would run it. */
export function spawnGoldgate(args: string[], home: string): GoldgateChild {
  const child = spawn(process.execPath, [GOLDGATE_BIN, ...args], {
    env: { ...process.env, GOLDGATE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('close', (code, signal) => done({ code, signal })),
  );
  return {
    child,
    exited,
    output: () => ({
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
    }),
  };
}

/** Runs `goldgate <args>` to its end; returns its exit code, output and how long it took. */
export async function runGoldgate(
  args: string[],
  home: string,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const run = spawnGoldgate(args, home);
  const { code } = await run.exited;
  return { code, ...run.output(), ms: Date.now() - started };
}

/** How a run given a kill moment ended. */
export interface KillOutcome {
  /** True when SIGKILL ended it; false when it had finished before its moment. */
  killed: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
  /** How long it ran. */
  ms: number;
}

/** Runs `goldgate <args>` and sends it SIGKILL `atMs` after it started, unless it ended first. */
export async function killAt(args: string[], home: string, atMs: number): Promise<KillOutcome> {
  const started = Date.now();
  const run = spawnGoldgate(args, home);
  let killed = false;
  const timer = setTimeout(() => {
    killed = run.child.kill('SIGKILL');
  }, atMs);
  const { code, signal } = await run.exited;
  clearTimeout(timer);
  return { killed: killed && signal === 'SIGKILL', code, ...run.output(), ms: Date.now() - started };
}

/** Every pid on the host with its root, working directory and command line (those that vanish meanwhile skipped). */
function processes(): { pid: number; root: string; cwd: string; argv: string[] }[] {
  const out: { pid: number; root: string; cwd: string; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      out.push({
        pid: Number(entry),
        root: readlinkSync(`/proc/${entry}/root`),
        cwd: readlinkSync(`/proc/${entry}/cwd`),
        argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'),
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const within = (dirs: string[], path: string): boolean =>
  dirs.some((dir) => path === dir || path.startsWith(`${dir}/`));

/** A process, where it runs, and the network namespace it is in. */
interface Owned {
  pid: number;
  root: string;
  argv: string[];
  netns: string | undefined;
}

/** Processes whose root, working directory or command line is at or below one of `dirs`. */
export function processesUnder(dirs: string[]): Owned[] {
  return processes()
    .filter((p) => within(dirs, p.root) || within(dirs, p.cwd) || p.argv.some((arg) => within(dirs, arg)))
    .map((p) => ({ pid: p.pid, root: p.root, argv: p.argv, netns: netnsOf(p.pid) }));
}

function netnsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/**
 * The network namespaces (other than the host's) that processes under `dirs` are in now: noted
 * just before a kill, so that afterwards none of them may be found alive.
 */
export function namespacesUnder(dirs: string[]): Set<string> {
  const host = readlinkSync('/proc/self/ns/net');
  return new Set(
    processesUnder(dirs)
      .map((p) => p.netns)
      .filter((ns): ns is string => ns !== undefined && ns !== host),
  );
}

/** Which of `namespaces` still exist: some process is in one, or one is bind-mounted (nsfs). */
function namespacesAlive(namespaces: Set<string>): string[] {
  if (namespaces.size === 0) return [];
  const alive = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ns = netnsOf(Number(entry));
    if (ns !== undefined && namespaces.has(ns)) alive.add(ns);
  }
  // mountinfo's root field of an nsfs bind mount is `net:[inode]`.
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const root = line.split(' ')[3];
    if (root !== undefined && namespaces.has(root)) alive.add(root);
  }
  return [...alive].sort();
}

/** Loop devices whose backing file is at or below one of `dirs`. */
export function loopDevicesUnder(dirs: string[]): string[] {
  const found: string[] = [];
  let devices: string[];
  try {
    devices = readdirSync('/sys/block').filter((name) => name.startsWith('loop'));
  } catch {
    return found;
  }
  for (const device of devices) {
    let backing: string;
    try {
      backing = readFileSync(`/sys/block/${device}/loop/backing_file`, 'utf8').trim();
    } catch {
      continue; // not attached
    }
    if (within(dirs, backing.replace(/ \(deleted\)$/, ''))) found.push(`/dev/${device} ${backing}`);
  }
  return found;
}

/** What a crash may leave behind of one goldgate home (and the test's other paths). */
export interface Leftovers {
  mounts: string[];
  loopDevices: string[];
  processes: string[];
  namespaces: string[];
  cgroups: string[];
}

export interface LeftoverScope {
  /** The GOLDGATE_HOME; its lab home is `<home>/lab`. */
  home: string;
  /** Other paths of the test (the sources it imports, the parent root it derives from). */
  paths?: string[];
  /** Network namespaces noted before the kill (`namespacesUnder`). */
  namespaces?: Set<string>;
  /** Lab instances that may stay (a group's running members) with what belongs to them. */
  keep?: string[];
}

/**
 * What is left of the home: mounts, loop devices, processes, network namespaces and cgroups.
 * Those of the instances in `keep` are not counted, nor the lab network daemon while one of
 * them runs.
 */
export function leftovers(scope: LeftoverScope): Leftovers {
  const dirs = [scope.home, ...(scope.paths ?? [])];
  const lab = join(scope.home, 'lab');
  const keep = scope.keep ?? [];
  const kept = keep.map((id) => join(lab, 'instances', id));
  const isDaemon = (argv: string[]): boolean =>
    keep.length > 0 && argv.some((arg) => arg.endsWith('/lab/net/daemon.js'));
  const owned = processesUnder(dirs);
  const allowed = owned.filter(
    (p) => isDaemon(p.argv) || within(kept, p.root) || p.argv.some((arg) => within(kept, arg)),
  );
  const allowedPids = new Set(allowed.map((p) => p.pid));
  const allowedNs = new Set(allowed.map((p) => p.netns));
  const cgroups = [...instanceCgroups(lab).keys()].filter((id) => !keep.includes(id));
  if (keep.length === 0 && existsSync(homeCgroup(lab))) cgroups.push(homeCgroup(lab));
  return {
    mounts: dirs.flatMap((dir) => mountsUnder(dir)).filter((point) => !within(kept, point)),
    loopDevices: loopDevicesUnder(dirs),
    processes: owned
      .filter((p) => !allowedPids.has(p.pid))
      .map((p) => `${p.pid} ${p.argv.join(' ').trim().slice(0, 200)}`),
    namespaces: namespacesAlive(scope.namespaces ?? new Set()).filter((ns) => !allowedNs.has(ns)),
    cgroups,
  };
}

/**
 * Waits (at most `ms`) for the reapers a killed import left (`node -e` processes naming a staging
 * directory under `home`: they outlive it by design, to unmount what it had mounted) to end.
 * Returns the pids still running then.
 */
export async function reapersEnded(home: string, ms = 30_000): Promise<number[]> {
  const until = Date.now() + ms;
  for (;;) {
    const reapers = processes()
      .filter((p) => p.argv[1] === '-e' && p.argv.some((arg) => within([join(home, 'images')], arg)))
      .map((p) => p.pid);
    if (reapers.length === 0 || Date.now() > until) return reapers;
    await new Promise((done) => setTimeout(done, 50));
  }
}

const IMAGE_ID = /^img-[0-9a-f]{12}$/;
const STAGING = /^\.staging-(\d+)-[0-9a-f]+$/;

/** The store's state as a crash may leave it: problems (never allowed) and staging directories. */
export interface StoreCheck {
  /** Half-registered images, unreadable records, half-written proofs: never allowed. */
  problems: string[];
  /** Staging directories (`.staging-<pid>-…`), with whether their owner is alive. */
  staging: { name: string; ownerAlive: boolean }[];
  /** Registered images. */
  images: string[];
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * Checks the image store of a home: every `images/<id>` is a whole image (its `image.json`
 * names it, with `manifest.json`, `audit.json` and `rootfs/`), every stored verify proof has its
 * report and `latest` names one; lists what staging directories there are.
 */
export function checkStore(home: string): StoreCheck {
  const dir = join(home, 'images');
  const result: StoreCheck = { problems: [], staging: [], images: [] };
  if (!existsSync(dir)) return result;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const staging = STAGING.exec(name);
    if (staging !== null) {
      result.staging.push({ name, ownerAlive: processAlive(Number(staging[1])) });
      continue;
    }
    if (!IMAGE_ID.test(name)) {
      result.problems.push(`${name}: neither an image nor a staging directory`);
      continue;
    }
    try {
      const record = readJson(join(path, 'image.json')) as { id?: unknown; digest?: unknown };
      if (record.id !== name) throw new Error(`image.json names ${String(record.id)}`);
      const manifest = readJson(join(path, 'manifest.json')) as { digest?: unknown };
      if (manifest.digest !== record.digest) throw new Error('manifest.json has another digest');
      readJson(join(path, 'audit.json'));
      if (!existsSync(join(path, 'rootfs', 'etc'))) throw new Error('no rootfs/etc');
    } catch (error) {
      result.problems.push(`${name}: not a whole image (${(error as Error).message})`);
      continue;
    }
    result.images.push(name);
    result.problems.push(...checkProofs(join(path, 'verify')).map((p) => `${name}: ${p}`));
  }
  return result;
}

const PROOF = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

function checkProofs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const problems: string[] = [];
  const names = readdirSync(dir);
  for (const name of names.filter((n) => PROOF.test(n)))
    try {
      readJson(join(dir, name, 'report.json'));
    } catch (error) {
      problems.push(`proof ${name} has no readable report (${(error as Error).message})`);
    }
  if (names.includes('latest')) {
    const latest = readFileSync(join(dir, 'latest'), 'utf8').trim();
    if (!names.includes(latest)) problems.push(`verify/latest names ${latest}, which is not stored`);
  }
  return problems;
}

/** One kill of one experiment, as the summary records it. */
export interface TrialRecord {
  trial: number;
  /** When SIGKILL was due, ms after the start, and as a fraction of the measured duration. */
  atMs: number;
  fraction: number;
  /** False when the command had ended before its moment (its exit code is then checked). */
  killed: boolean;
  /** Runs it took: a run that ended before its moment is run again, killed at the same fraction of its own duration. */
  attempts: number;
  code: number | null;
  /** What there was of the home right after the kill, before any clean-up (counts; absent when not killed). */
  atKill?: Record<keyof Leftovers, number>;
  /** What gc reported having cleaned (counts). */
  cleaned: Record<string, number>;
  /** What was left after gc, by kind (all zero in a pass). */
  left: Record<keyof Leftovers, number>;
  /** Staging directories of dead runs after the kill, removed by the next command. */
  staging: number;
  storeProblems: number;
  /** The exit code of the same command run after the kill (null when it was not killed). */
  rerun: number | null;
}

/** The summary of one experiment, written as JSON where `GOLDGATE_RELIABILITY_REPORT` says. */
export interface ExperimentRecord {
  experiment: string;
  command: string;
  seed: number;
  /** The measured durations of an even and an odd run (ms). */
  durationMs: number[];
  trials: TrialRecord[];
}

/** Prints a line of a fault experiment's record: its seed and moments must be seen to reproduce a failure. */
export function say(line: string): void {
  // eslint-disable-next-line no-console -- a test's record for the person reproducing it, not library output
  console.log(line);
}

/** One disk-full case: the limits, how the command failed and what was left. */
export interface DiskFullRecord {
  label: string;
  size: string;
  inodes: number;
  code: number | null;
  /** The first line of the error, the home replaced by $GOLDGATE_HOME. */
  error: string;
  left: Record<keyof Leftovers, number>;
  staging: number;
  storeProblems: number;
  earlierListed: boolean;
  /** The exit code of the same command once space was freed. */
  afterFreed: number | null;
}

/** Prints a disk-full experiment's summary and writes it as JSON like `recordExperiment`. */
export function recordDiskFull(experiment: string, command: string, cases: DiskFullRecord[]): void {
  for (const c of cases)
    say(`${experiment}: ${c.label}: exit ${c.code}, ${c.error}; then exit ${c.afterFreed}`);
  writeRecord(experiment, { experiment, command, cases });
}

function writeRecord(experiment: string, record: unknown): void {
  const dir = process.env.GOLDGATE_RELIABILITY_REPORT;
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${experiment}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** Prints an experiment's one-line summary and, when `GOLDGATE_RELIABILITY_REPORT` names a directory, writes `<experiment>.json` there. */
export function recordExperiment(record: ExperimentRecord): void {
  const killed = record.trials.filter((t) => t.killed).length;
  const clean = record.trials.filter(
    (t) => Object.values(t.left).every((n) => n === 0) && t.storeProblems === 0,
  ).length;
  const moments = record.trials.map((t) => t.atMs).join(',');
  const reran = record.trials.filter((t) => t.rerun === 0).length;
  const endedFirst = record.trials.reduce((sum, t) => sum + t.attempts - (t.killed ? 1 : 0), 0);
  say(
    `${record.experiment}: seed ${record.seed}, durations ${record.durationMs.join(' and ')} ms, ${record.trials.length} trials ` +
      `(${killed} killed, ${record.trials.length - killed} not; ${endedFirst} runs ended before their moment), ${clean} clean after gc, ` +
      `${reran}/${killed} reruns succeeded; moments (ms) ${moments}`,
  );
  writeRecord(record.experiment, record);
}

/** Counts of the lists in an object (gc's result, leftovers). */
export function counts<T extends object>(value: T): Record<keyof T, number> {
  return Object.fromEntries(
    Object.entries(value).map(([key, list]) => [key, Array.isArray(list) ? list.length : 0]),
  ) as Record<keyof T, number>;
}
