import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { EnvironmentError } from '../core/errors.js';
import { sleep } from './run.js';

/**
 * Each instance gets a cgroup of its own on the host's cgroup2 hierarchy
 * (`<cgroup2>/goldgate/<id>`) and a cgroup namespace rooted there, so that its systemd
 * manages `system.slice/...` inside its own subtree. Without this every instance's systemd
 * would create, kill and remove the same `/system.slice/<unit>` cgroups as its neighbours'.
 */

const PARENT = 'goldgate';

/** The host's cgroup2 mount point (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid host). */
export function cgroup2Mount(mountinfo = '/proc/self/mountinfo'): string | undefined {
  for (const line of readFileSync(mountinfo, 'utf8').split('\n')) {
    // mountinfo: id parent major:minor root mountpoint options ... - fstype source superoptions
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] !== 'cgroup2') continue;
    const fields = left?.split(' ') ?? [];
    if (fields[3] === '/' && fields[4] !== undefined) return fields[4].replace(/\\040/g, ' ');
  }
  return undefined;
}

/** Where the instances' cgroups live on this host. */
export function cgroupParent(): string {
  const mount = cgroup2Mount();
  if (mount === undefined)
    throw new EnvironmentError('LAB_NO_CGROUP2', 'no cgroup2 hierarchy is mounted on this host', {
      hint: 'mount -t cgroup2 none /sys/fs/cgroup/unified (the lab gives each instance its own cgroup2 subtree)',
    });
  return join(mount, PARENT);
}

/** The cgroup that holds one lab home's instances (homes are kept apart: gc of one never touches another's). */
export function homeCgroup(home: string): string {
  return join(cgroupParent(), createHash('sha256').update(home).digest('hex').slice(0, 12));
}

/** Makes the instance's cgroup and returns its path. */
export function createCgroup(home: string, id: string): string {
  const path = join(homeCgroup(home), id);
  mkdirSync(path, { recursive: true });
  return path;
}

function subtree(path: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = join(dir, entry);
      if (statSync(child, { throwIfNoEntry: false })?.isDirectory() === true) walk(child);
    }
    out.push(dir);
  };
  walk(path);
  return out; // deepest first
}

function members(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Host pids of every process in the cgroup and below it. */
export function cgroupProcesses(path: string): number[] {
  return subtree(path).flatMap(members);
}

/**
 * Kills every process left in the cgroup (cgroup.kill where the kernel has it, else one by
 * one) and removes the cgroup, deepest first. Returns false when something stayed.
 */
export async function removeCgroup(path: string): Promise<boolean> {
  if (!existsSync(path)) return true;
  const kill = join(path, 'cgroup.kill');
  for (let attempt = 0; attempt < 100; attempt++) {
    const pids = cgroupProcesses(path);
    if (pids.length === 0) break;
    if (existsSync(kill)) writeFileSync(kill, '1');
    else
      for (const pid of pids)
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
    await sleep(20);
  }
  for (const dir of subtree(path))
    try {
      rmdirSync(dir);
    } catch {
      // busy for a moment after its last process exits
      await sleep(50);
      try {
        rmdirSync(dir);
      } catch {
        return false;
      }
    }
  return !existsSync(path);
}

/** The cgroups of a lab home's instances, by instance id. */
export function instanceCgroups(home: string): Map<string, string> {
  if (cgroup2Mount() === undefined) return new Map();
  const parent = homeCgroup(home);
  try {
    return new Map(
      readdirSync(parent)
        .filter((entry) => statSync(join(parent, entry)).isDirectory())
        .map((id) => [id, join(parent, id)]),
    );
  } catch {
    return new Map();
  }
}

/** Removes a lab home's cgroup once it holds no instance's, and the lab's parent cgroup once it is empty. */
export function removeHomeCgroup(home: string): void {
  if (cgroup2Mount() === undefined) return;
  // The home's cgroup, then the lab's parent once no home has any: nothing of the lab stays.
  for (const dir of [homeCgroup(home), cgroupParent()])
    try {
      rmdirSync(dir);
    } catch {
      return; // instances remain, or it is already gone
    }
}

/** How many lab instances run on this host, across every lab home (their cgroups). */
export function hostInstanceCount(): number {
  if (cgroup2Mount() === undefined) return 0;
  const parent = cgroupParent();
  const dirs = (path: string): string[] => {
    try {
      return readdirSync(path).filter((entry) => statSync(join(path, entry)).isDirectory());
    } catch {
      return [];
    }
  };
  return dirs(parent).reduce((total, home) => total + dirs(join(parent, home)).length, 0);
}
