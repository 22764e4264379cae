import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { listInstances } from '../lab/instance.js';
import type { InstanceStatus } from '../lab/instance.js';
import { isAlive, processStartTime } from '../lab/proc.js';
import { writeJsonAtomic } from '../lab/state.js';
import type { HealthCheck } from '../spec/schema.js';

// A group lives in `<home>/groups/<name>/`: `group.json` (its definition, written by create,
// scale and set-image), `state.json` (its members, written by the controller only),
// `activities.jsonl` (the scaling activities, appended), `controller.json` (the running
// controller's pid) and `evidence/<instance>/` (logs of the instances it terminated).

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkGroupName(name: string): void {
  if (!NAME.test(name))
    throw new UsageError('GROUP_BAD_NAME', `"${name}" is not a valid group name`, {
      hint: 'up to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit',
    });
}

/** A health check as the spec loader gives it (names and defaults filled in). */
const healthCheckSchema: z.ZodType<HealthCheck> = z.union([
  z.object({
    name: z.string(),
    http: z.object({
      port: z.number().int(),
      path: z.string(),
      expect: z.number().int(),
      timeoutMs: z.number().optional(),
    }),
  }),
  z.object({
    name: z.string(),
    command: z.object({
      argv: z.array(z.string()).min(1),
      expectExit: z.number().int(),
      timeoutMs: z.number().optional(),
    }),
  }),
  z.object({ name: z.string(), unit: z.object({ name: z.string() }) }),
]);

const groupSchema = z.object({
  schemaVersion: z.literal(1),
  name: z.string(),
  /** The stored image new instances are launched from (set-image changes it; running instances stay). */
  image: z.string(),
  desired: z.number().int().min(0),
  min: z.number().int().min(0),
  max: z.number().int().min(0),
  graceSeconds: z.number().min(0),
  healthIntervalSeconds: z.number().positive(),
  unhealthyThreshold: z.number().int().min(1),
  /** Health checks given when the group was created; null: each instance's image's own checks. */
  checks: z.array(healthCheckSchema).nullable(),
  /**
   * Without checks of its own: each image's checks, read from its spec when the image became
   * the group's (create, set-image), so that a spec moved or edited later changes nothing.
   */
  imageChecks: z.record(z.string(), z.array(healthCheckSchema)).default({}),
  createdAt: z.string(),
  /** The last user request that set the desired capacity, for the cause of what it started. */
  desiredRequest: z.object({ at: z.string(), from: z.number().int(), verb: z.enum(['created', 'updated']) }),
});
export type GroupDefinition = z.infer<typeof groupSchema>;

export type LifecycleState = 'Pending' | 'InService' | 'Terminating';
export type HealthStatus = 'Healthy' | 'Unhealthy';

const lastCheckSchema = z.object({ at: z.string(), ok: z.boolean(), detail: z.string() });

const memberSchema = z.object({
  id: z.string(),
  image: z.string(),
  lifecycle: z.enum(['Pending', 'InService', 'Terminating']),
  health: z.enum(['Healthy', 'Unhealthy']),
  launchedAt: z.string(),
  /** When it went InService (its boot settled); null while Pending. */
  inServiceAt: z.string().nullable(),
  /** Failed health checks in a row. */
  failures: z.number().int(),
  lastCheck: lastCheckSchema.nullable(),
  /** With --timers fast: when its timers' services run next (epoch ms); null when they do not. */
  nextTimersAt: z.number().nullable(),
  /** How many times its timers' services ran (days passed, with --timers fast). */
  days: z.number().int().default(0),
  /** The activity of its launch, and of its termination once that started. */
  launchActivity: z.string(),
  terminateActivity: z.string().nullable(),
});
export type Member = z.infer<typeof memberSchema>;

const stateSchema = z.object({
  schemaVersion: z.literal(1),
  members: z.array(memberSchema),
  /** The desired capacity of the last pass: a change since then was a user request. */
  seenDesired: z.number().int().nullable(),
  launched: z.number().int(),
  /** Instances terminated after failing their health checks: the churn. */
  replaced: z.number().int(),
  updatedAt: z.string(),
});
export type GroupState = z.infer<typeof stateSchema>;

export const groupsDir = (home: string): string => join(home, 'groups');
export const groupDir = (home: string, name: string): string => join(groupsDir(home), name);
export const evidenceDir = (home: string, name: string): string => join(groupDir(home, name), 'evidence');
export const activitiesFile = (home: string, name: string): string =>
  join(groupDir(home, name), 'activities.jsonl');

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The group's definition; a GROUP_NOT_FOUND error when there is no such group. */
export function readGroup(home: string, name: string): GroupDefinition {
  checkGroupName(name);
  const raw = readJson(join(groupDir(home, name), 'group.json'));
  const parsed = groupSchema.safeParse(raw);
  if (raw === undefined || !parsed.success)
    throw new UsageError('GROUP_NOT_FOUND', `no group "${name}"`, {
      hint: 'goldgate group ls lists the groups; goldgate group create makes one',
    });
  return parsed.data;
}

export function groupExists(home: string, name: string): boolean {
  return readJson(join(groupDir(home, name), 'group.json')) !== undefined;
}

export function writeGroup(home: string, group: GroupDefinition): void {
  mkdirSync(groupDir(home, group.name), { recursive: true });
  writeJsonAtomic(join(groupDir(home, group.name), 'group.json'), group);
}

/** Names of every group under `home` (each one `readGroup` reads), sorted. */
export function groupNames(home: string): string[] {
  try {
    return readdirSync(groupsDir(home))
      .filter(
        (name) =>
          NAME.test(name) &&
          groupSchema.safeParse(readJson(join(groupDir(home, name), 'group.json'))).success,
      )
      .sort();
  } catch {
    return [];
  }
}

export function emptyState(): GroupState {
  return {
    schemaVersion: 1,
    members: [],
    seenDesired: null,
    launched: 0,
    replaced: 0,
    updatedAt: new Date().toISOString(),
  };
}

/** The controller's record of the group's members; an empty one before its first pass. */
export function readState(home: string, name: string): GroupState {
  const parsed = stateSchema.safeParse(readJson(join(groupDir(home, name), 'state.json')));
  return parsed.success ? parsed.data : emptyState();
}

export function writeState(home: string, name: string, state: GroupState): void {
  state.updatedAt = new Date().toISOString();
  writeJsonAtomic(join(groupDir(home, name), 'state.json'), state);
}

export function removeGroupFiles(home: string, name: string): void {
  checkGroupName(name);
  rmSync(groupDir(home, name), { recursive: true, force: true });
}

const controllerSchema = z.object({ pid: z.number().int(), startTime: z.number().int(), since: z.string() });
export type ControllerRecord = z.infer<typeof controllerSchema>;

/** The controller running the group (`group run`), if one is alive. */
export function liveController(home: string, name: string): ControllerRecord | undefined {
  const parsed = controllerSchema.safeParse(readJson(join(groupDir(home, name), 'controller.json')));
  if (!parsed.success) return undefined;
  return isAlive(parsed.data.pid, parsed.data.startTime) ? parsed.data : undefined;
}

/**
 * Claims the group for this process's controller: one controller per group. A record left by
 * a controller that died (SIGKILL) is taken over. Returns the release function.
 */
export function claimController(home: string, name: string): () => void {
  const path = join(groupDir(home, name), 'controller.json');
  const mine: ControllerRecord = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? 0,
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${JSON.stringify(mine)}\n`);
      return () => {
        const now = controllerSchema.safeParse(readJson(path));
        if (now.success && now.data.pid === mine.pid && now.data.startTime === mine.startTime)
          rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const other = liveController(home, name);
      if (other !== undefined)
        throw new UsageError(
          'GROUP_CONTROLLER_RUNNING',
          `group ${name} already has a controller (pid ${other.pid})`,
          {
            hint: 'one goldgate group run per group: stop the other one first (Ctrl-C)',
          },
        );
      rmSync(path, { force: true });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  throw new UsageError('GROUP_CONTROLLER_RUNNING', `another controller is claiming group ${name}`);
}

/** The lab's instances of the group, members or not: by the group each records in instance.json. */
export function groupInstances(home: string, name: string): InstanceStatus[] {
  return listInstances({ home: join(home, 'lab') }).filter((s) => s.info?.group === name);
}
