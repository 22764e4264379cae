import { cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EnvironmentError, UsageError } from '../core/errors.js';
import type { GroupStatus } from '../core/events.js';
import { runCommand } from '../core/run.js';
import { findExecutable } from '../core/which.js';
import { findImage } from '../images/store.js';
import { revocationInHome, revokedImageError } from '../registry/revoke.js';
import { imageHealthChecks } from '../lab/image-health.js';
import { terminateInstance } from '../lab/instance.js';
import { stopNetworkIfIdle } from '../lab/net/network.js';
import type { HealthCheck } from '../spec/schema.js';
import { gatherEvidence } from '../verify/evidence.js';
import { readActivities } from './activities.js';
import type { Activity } from './activities.js';
import { groupStatus, isServing } from './plan.js';
import type { GroupDefinition, HealthStatus, LifecycleState } from './store.js';
import {
  checkGroupName,
  evidenceDir,
  groupExists,
  groupInstances,
  groupNames,
  liveController,
  readGroup,
  readState,
  removeGroupFiles,
  writeGroup,
} from './store.js';

// What `goldgate group` does besides running the controller: define, change, describe,
// collect and delete groups. Definitions change only here; the controller reads them each pass.

export interface CreateGroupOptions {
  home: string;
  name: string;
  image: string;
  desired: number;
  min: number;
  max: number;
  graceSeconds?: number;
  healthIntervalSeconds?: number;
  unhealthyThreshold?: number;
  /** Health checks for every instance; default the image's own (its spec's `health`). */
  checks?: HealthCheck[];
}

export const DEFAULTS = { graceSeconds: 10, healthIntervalSeconds: 5, unhealthyThreshold: 3 } as const;

function checkSizes(desired: number, min: number, max: number): void {
  for (const [flag, value] of [
    ['--desired', desired],
    ['--min', min],
    ['--max', max],
  ] as const)
    if (!Number.isInteger(value) || value < 0)
      throw new UsageError('GROUP_BAD_SIZE', `${flag} must be a whole number, 0 or more (got ${value})`);
  if (min > max) throw new UsageError('GROUP_BAD_SIZE', `--min ${min} is more than --max ${max}`);
  if (desired < min || desired > max)
    throw new UsageError(
      'GROUP_BAD_SIZE',
      `desired capacity ${desired} is outside min ${min} and max ${max}`,
      {
        hint: 'the desired capacity must lie between the minimum and the maximum size',
      },
    );
  if (max > 100)
    throw new UsageError('GROUP_BAD_SIZE', `--max ${max}: a lab group has at most 100 instances`);
}

/** The stored image's full id and, unless the group has checks of its own, the image's checks. */
async function groupImage(
  home: string,
  image: string,
  checks: HealthCheck[] | null,
): Promise<{ id: string; checks: HealthCheck[] | null }> {
  const stored = findImage(image, home);
  if (stored === undefined)
    throw new UsageError('GROUP_NO_IMAGE', `no stored image ${image} (goldgate images lists them)`, {
      hint: 'a group runs a stored image: bake one (goldgate bake) or import one (goldgate image import)',
    });
  const revoked = revocationInHome(home, stored.id);
  if (revoked !== undefined) throw revokedImageError(revoked);
  // Read now: fails with its hint before anything runs, and a spec changed later changes nothing.
  return {
    id: stored.id,
    checks: checks === null ? await imageHealthChecks(join(stored.path, 'rootfs')) : null,
  };
}

export async function createGroup(options: CreateGroupOptions): Promise<GroupDefinition> {
  checkGroupName(options.name);
  checkSizes(options.desired, options.min, options.max);
  if (groupExists(options.home, options.name))
    throw new UsageError('GROUP_EXISTS', `group ${options.name} already exists`, {
      hint: 'goldgate group scale and set-image change it; goldgate group delete removes it',
    });
  const checks = options.checks !== undefined && options.checks.length > 0 ? options.checks : null;
  const grace = options.graceSeconds ?? DEFAULTS.graceSeconds;
  const interval = options.healthIntervalSeconds ?? DEFAULTS.healthIntervalSeconds;
  const threshold = options.unhealthyThreshold ?? DEFAULTS.unhealthyThreshold;
  if (!(grace >= 0)) throw new UsageError('GROUP_BAD_TIMING', `--grace must be 0 or more seconds`);
  if (!(interval > 0))
    throw new UsageError('GROUP_BAD_TIMING', `--health-interval must be more than 0 seconds`);
  if (!Number.isInteger(threshold) || threshold < 1)
    throw new UsageError('GROUP_BAD_TIMING', `--unhealthy-threshold must be a whole number, 1 or more`);
  const now = new Date().toISOString();
  const image = await groupImage(options.home, options.image, checks);
  const group: GroupDefinition = {
    schemaVersion: 1,
    name: options.name,
    image: image.id,
    desired: options.desired,
    min: options.min,
    max: options.max,
    graceSeconds: grace,
    healthIntervalSeconds: interval,
    unhealthyThreshold: threshold,
    checks,
    imageChecks: image.checks === null ? {} : { [image.id]: image.checks },
    createdAt: now,
    desiredRequest: { at: now, from: 0, verb: 'created' },
  };
  writeGroup(options.home, group);
  return group;
}

/** Sets the desired capacity (and min/max when given); the controller acts on it at its next pass. */
export function scaleGroup(
  home: string,
  name: string,
  change: { desired: number; min?: number; max?: number },
): GroupDefinition {
  const group = readGroup(home, name);
  const min = change.min ?? group.min;
  const max = change.max ?? group.max;
  checkSizes(change.desired, min, max);
  const updated: GroupDefinition = {
    ...group,
    min,
    max,
    desired: change.desired,
    desiredRequest:
      change.desired === group.desired
        ? group.desiredRequest
        : { at: new Date().toISOString(), from: group.desired, verb: 'updated' },
  };
  writeGroup(home, updated);
  return updated;
}

/** The image new launches use; running instances keep theirs, as with a launch template change. */
export async function setGroupImage(home: string, name: string, image: string): Promise<GroupDefinition> {
  const group = readGroup(home, name);
  const next = await groupImage(home, image, group.checks);
  // The old image's checks stay: its instances run on, and are checked as before.
  const updated: GroupDefinition = {
    ...group,
    image: next.id,
    imageChecks: next.checks === null ? group.imageChecks : { ...group.imageChecks, [next.id]: next.checks },
  };
  writeGroup(home, updated);
  return updated;
}

export interface DescribedInstance {
  InstanceId: string;
  ImageId: string;
  LifecycleState: LifecycleState | 'Terminated';
  HealthStatus: HealthStatus;
  /** Its last health check passed. */
  Serving: boolean;
  LaunchTime: string;
  InServiceTime: string | null;
  Address: string | null;
  ConsecutiveHealthCheckFailures: number;
  LastHealthCheck: { at: string; ok: boolean; detail: string } | null;
  /** Days passed with --timers fast (its timers' services ran this many times). */
  TimerDays: number;
}

export interface GroupDescription {
  AutoScalingGroupName: string;
  ImageId: string;
  MinSize: number;
  MaxSize: number;
  DesiredCapacity: number;
  HealthCheckGracePeriod: number;
  HealthCheckIntervalSeconds: number;
  UnhealthyThreshold: number;
  HealthChecks: string[] | 'image';
  CreatedTime: string;
  Instances: DescribedInstance[];
  Status: GroupStatus;
  /** The `group run` process keeping the group, if one runs. */
  Controller: { running: boolean; pid: number | null; since: string | null };
}

/** The group as describe-auto-scaling-groups would show it, with each instance's lifecycle and health. */
export function describeGroup(home: string, name: string): GroupDescription {
  const group = readGroup(home, name);
  const state = readState(home, name);
  const lab = new Map(groupInstances(home, name).map((s) => [s.id, s]));
  const controller = liveController(home, name);
  return {
    AutoScalingGroupName: group.name,
    ImageId: group.image,
    MinSize: group.min,
    MaxSize: group.max,
    DesiredCapacity: group.desired,
    HealthCheckGracePeriod: group.graceSeconds,
    HealthCheckIntervalSeconds: group.healthIntervalSeconds,
    UnhealthyThreshold: group.unhealthyThreshold,
    HealthChecks: group.checks === null ? 'image' : group.checks.map((c) => c.name),
    CreatedTime: group.createdAt,
    Instances: state.members.map((m) => {
      const seen = lab.get(m.id);
      return {
        InstanceId: m.id,
        ImageId: m.image,
        // The record of a controller that is not running can be older than the lab: the lab says if it is gone.
        LifecycleState: seen?.alive === true || m.lifecycle === 'Pending' ? m.lifecycle : 'Terminated',
        HealthStatus: m.health,
        Serving: isServing(m) && seen?.alive === true,
        LaunchTime: m.launchedAt,
        InServiceTime: m.inServiceAt,
        Address: seen?.info?.address ?? null,
        ConsecutiveHealthCheckFailures: m.failures,
        LastHealthCheck: m.lastCheck,
        TimerDays: m.days,
      };
    }),
    Status: groupStatus(group, state),
    Controller: {
      running: controller !== undefined,
      pid: controller?.pid ?? null,
      since: controller?.since ?? null,
    },
  };
}

export function listGroups(home: string): GroupDescription[] {
  return groupNames(home).map((name) => describeGroup(home, name));
}

/** `describe-scaling-activities` output for the group: `{ Activities: [...] }`, newest first. */
export function groupActivities(home: string, name: string): { Activities: Activity[]; unreadable: number } {
  readGroup(home, name);
  const { activities, unreadable } = readActivities(home, name);
  return { Activities: activities, unreadable };
}

/** Terminates the group's instances and removes it. Refused while its controller runs. */
export async function deleteGroup(home: string, name: string): Promise<{ terminated: string[] }> {
  readGroup(home, name);
  const controller = liveController(home, name);
  if (controller !== undefined)
    throw new UsageError(
      'GROUP_CONTROLLER_RUNNING',
      `group ${name} is kept by a controller (pid ${controller.pid})`,
      {
        hint: 'stop goldgate group run first (Ctrl-C), then delete the group',
      },
    );
  const labHome = join(home, 'lab');
  const ids = new Set([
    ...groupInstances(home, name).map((s) => s.id),
    ...readState(home, name).members.map((m) => m.id),
  ]);
  const terminated: string[] = [];
  await Promise.all(
    [...ids].map(async (id) => {
      const done = await terminateInstance(id, { home: labHome, graceMs: 5_000, keepNetwork: true });
      if (done.existed) terminated.push(id);
    }),
  );
  removeGroupFiles(home, name);
  await stopNetworkIfIdle(labHome);
  return { terminated: terminated.sort() };
}

export interface CollectResult {
  output: string;
  /** Running instances whose logs were gathered now. */
  live: string[];
  /** Instances terminated by the group, whose logs were kept when they were. */
  terminated: string[];
  activities: number;
}

/**
 * Writes the group's evidence bundle as a tar.gz, in the layout `goldgate diagnose` reads:
 * `scaling-activities.json` (describe-scaling-activities), and one folder per instance with
 * its logs, journal, health log and DNS query log: the running instances' gathered now, the
 * terminated ones' as the controller kept them when it terminated them. Written beside the
 * output and renamed into place: never half a bundle.
 */
export async function collectGroup(home: string, name: string, output: string): Promise<CollectResult> {
  readGroup(home, name);
  const tar = findExecutable('tar');
  if (tar === undefined)
    throw new EnvironmentError('GROUP_TOOL_MISSING', 'tar not found', { hint: 'apt-get install tar' });
  const target = resolve(output);
  if (!existsSync(dirname(target)))
    throw new UsageError('GROUP_BAD_OUTPUT', `${dirname(target)} does not exist`, {
      hint: 'create the folder first',
    });
  const labHome = join(home, 'lab');
  const work = mkdtempSync(join(tmpdir(), 'goldgate-collect-'));
  try {
    const bundle = join(work, `${name}-evidence`);
    const kept = evidenceDir(home, name);
    const terminated: string[] = [];
    if (existsSync(kept)) {
      cpSync(kept, bundle, { recursive: true, verbatimSymlinks: true });
      terminated.push(...readdirSync(bundle));
    }
    const live: string[] = [];
    for (const status of groupInstances(home, name)) {
      const info = status.info;
      if (info === undefined || !status.alive) continue;
      await gatherEvidence(labHome, info.id, { upper: info.upper, merged: `/proc/${info.pid}/root` }, bundle);
      live.push(info.id);
    }
    const { activities } = readActivities(home, name);
    writeFileSync(
      join(bundle, 'scaling-activities.json'),
      `${JSON.stringify({ Activities: activities }, null, 2)}\n`,
    );
    const temp = `${target}.${process.pid}.tmp`;
    const result = await runCommand([tar, '-czf', temp, '-C', work, `${name}-evidence`], {
      timeoutMs: 10 * 60_000,
    });
    if (result.code !== 0) {
      rmSync(temp, { force: true });
      throw new EnvironmentError('GROUP_COLLECT_FAILED', `tar failed: ${result.stderr.trim()}`);
    }
    renameSync(temp, target);
    return {
      output: target,
      live: live.sort(),
      terminated: terminated.sort(),
      activities: activities.length,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
