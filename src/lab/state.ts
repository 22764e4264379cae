import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic-write.js';

/** Where an instance is in its life. `starting` until systemd settles; `running`/`degraded` as systemd reports. */
export type InstanceState = 'starting' | 'running' | 'degraded' | 'stopping';

const instanceSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** The image it was launched from: a stored image's id, or its root filesystem's path. */
  image: z.string().default(''),
  rootfs: z.string(),
  /** Host pid of the instance's init (systemd, PID 1 inside), 0 before it is known. */
  pid: z.number().int(),
  /** Its kernel start time, so that a reused pid is never taken for the instance. */
  pidStartTime: z.number().int(),
  /** Host pid of `unshare`, the parent of init. */
  unsharePid: z.number().int(),
  unshareStartTime: z.number().int(),
  /** The process that launched the instance; while state is `starting`, gc leaves the instance to it. */
  launcherPid: z.number().int(),
  launcherStartTime: z.number().int(),
  state: z.enum(['starting', 'running', 'degraded', 'stopping']),
  startedAt: z.string(),
  bootMs: z.number().nullable(),
  upper: z.string(),
  merged: z.string(),
  /** The instance's address on the lab network (its eth0), null before it has one. */
  address: z.string().nullable().default(null),
  /** The instance's cgroup on the host (its cgroup namespace's root), null before it has one. */
  cgroup: z.string().nullable().default(null),
  /** Owned by its launcher for the launcher's lifetime (verify's instances): gc terminates it once the launcher is gone. */
  ephemeral: z.boolean().default(false),
  /** The lab autoscaling group the instance belongs to, null for an instance of its own. */
  group: z.string().nullable().default(null),
});

/** What `instance.json` holds about one instance. */
export type InstanceInfo = z.infer<typeof instanceSchema>;

export function instancesDir(home: string): string {
  return join(home, 'instances');
}

/** The entries of `instances/`, sorted: instance ids, and whatever else a crash left there. */
export function instanceEntries(home: string): string[] {
  try {
    return readdirSync(instancesDir(home)).sort();
  } catch {
    return [];
  }
}

export function instanceDir(home: string, id: string): string {
  return join(instancesDir(home), id);
}

export function stateFile(home: string, id: string): string {
  return join(instanceDir(home, id), 'instance.json');
}

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** True for a well-formed instance id (also a valid hostname label): the only ids turned into paths. */
export function isInstanceId(id: string): boolean {
  return ID.test(id);
}

/** A fresh id: the name, if any, then random hex. */
export function newInstanceId(name: string | undefined): string {
  const suffix = randomBytes(4).toString('hex');
  return name === undefined ? `i-${suffix}` : `${name}-${suffix}`;
}

/** Writes instance.json so that a reader sees the old or the new content, never a half-written file. */
export function writeInstance(home: string, info: InstanceInfo): void {
  writeJsonAtomic(stateFile(home, info.id), info);
}

/** Writes JSON to a temporary file, fsyncs and renames it: a reader sees the whole record or the previous one. */
export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}

/** The recorded state of an instance, or undefined when the file is missing or not a valid record. */
export function readInstance(home: string, id: string): InstanceInfo | undefined {
  let text: string;
  try {
    text = readFileSync(stateFile(home, id), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = instanceSchema.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.id === id ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
