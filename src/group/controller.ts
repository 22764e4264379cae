import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError, UsageError } from '../core/errors.js';
import type { EventSink, GroupAction } from '../core/events.js';
import { silent } from '../core/events.js';
import { findImage } from '../images/store.js';
import { runHealthChecks } from '../lab/health.js';
import { imageHealthChecks } from '../lab/image-health.js';
import { launchInstance, liveInstance, terminateInstance } from '../lab/instance.js';
import { revocationInHome, revokedImageError } from '../registry/revoke.js';
import type { InstanceInfo } from '../lab/instance.js';
import { stopNetworkIfIdle } from '../lab/net/network.js';
import { isAlive } from '../lab/proc.js';
import { newInstanceId, readInstance } from '../lab/state.js';
import type { HealthCheck } from '../spec/schema.js';
import { gatherEvidence } from '../verify/evidence.js';
import type { Activity } from './activities.js';
import { passDay } from './day.js';
import { ActivityLog, CAUSES, describeLaunch, describeTerminate, readActivities } from './activities.js';
import {
  capacityMembers,
  dueForCheck,
  dueForTimers,
  groupStatus,
  launchBackoffMs,
  scaleInVictims,
} from './plan.js';
import type { GroupDefinition, GroupState, Member } from './store.js';
import { claimController, evidenceDir, groupInstances, readGroup, readState, writeState } from './store.js';

export type TimersMode = 'fast' | 'real';

export interface GroupRunOptions {
  /** `$GOLDGATE_HOME`: the group lives in `groups/`, its instances in `lab/`. */
  home: string;
  name: string;
  /** `fast`: each instance runs its timers' services shortly after boot, then once a "day"; `real`: systemd's own schedule. */
  timers?: TimersMode;
  /** With `fast`: how long a day lasts, in ms (each instance's next day comes after 0.5 to 1.5 of it); default 60 s. */
  dayMs?: number;
  /** One reconcile pass (waiting for what it launched and terminated), then stop. */
  once?: boolean;
  /** Stop after this long (ms); default: until the signal aborts. */
  durationMs?: number;
  /** Time between passes; default 1 s. */
  tickMs?: number;
  signal?: AbortSignal;
  events?: EventSink;
}

export interface GroupRunSummary {
  group: string;
  passes: number;
  launched: number;
  replaced: number;
  adopted: string[];
  durationMs: number;
  /** Duration of each pass (ms): observing the lab, checking health, deciding, starting work. */
  passMs: number[];
}

/** With --timers fast, a new instance's timers run this long after it is in service. */
const FIRST_DAY_DELAY_MS = 2_000;
const DEFAULT_DAY_MS = 60_000;
const HEALTH_CONCURRENCY = 8;
const MAX_LAUNCHES_AT_ONCE = 25;
/** Evidence kept of terminated instances, newest first; older ones are removed. */
const KEPT_EVIDENCE = 50;

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((done) => {
    if (signal?.aborted === true) return done();
    const onAbort = (): void => {
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      done();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The group's controller: keeps `desired` instances of the group's image in service and
 * healthy. Each pass reads the lab (adopting instances of the group it does not know, as
 * after a controller was killed), checks the health of instances past their grace period,
 * terminates those that failed `unhealthyThreshold` checks in a row, and launches or
 * terminates to match the desired capacity. Every launch and termination is a scaling
 * activity with its cause. Stopping leaves the instances running.
 */
export async function runGroup(options: GroupRunOptions): Promise<GroupRunSummary> {
  const events = options.events ?? silent;
  const home = options.home;
  const name = options.name;
  const labHome = join(home, 'lab');
  const reposDir = join(home, 'repos');
  const fast = options.timers === 'fast';
  const dayMs = options.dayMs ?? DEFAULT_DAY_MS;
  let current: GroupDefinition = readGroup(home, name);
  if (process.getuid?.() !== 0)
    throw new EnvironmentError('LAB_NOT_ROOT', 'the lab needs root: a group launches lab instances', {
      hint: 'run goldgate group run as root',
    });
  const release = claimController(home, name);
  const log = new ActivityLog(home, name);
  const state = readState(home, name);
  const started = Date.now();
  const summary: GroupRunSummary = {
    group: name,
    passes: 0,
    launched: 0,
    replaced: 0,
    adopted: [],
    durationMs: 0,
    passMs: [],
  };
  const emit = (action: GroupAction, text: string, instance?: string): void =>
    events.emit({
      type: 'group',
      group: name,
      action,
      message: text,
      at: new Date().toISOString(),
      ...(instance === undefined ? {} : { instance }),
    });
  const save = (): void => writeState(home, name, state);
  let lastStatus = '';
  /** The group's status, whenever it changed: after a pass, a check, a launch or a termination. */
  const emitStatus = (): void => {
    const status = groupStatus(current, state);
    const text = JSON.stringify(status);
    if (text === lastStatus) return;
    lastStatus = text;
    events.emit({ type: 'group-status', group: name, status, at: new Date().toISOString() });
  };
  // Stops the controller's own waiting (a day's services in progress) once it stops.
  const halt = new AbortController();
  const onAbort = (): void => halt.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const stopped = (): boolean => halt.signal.aborted;

  // Work that outlives a pass: launches, terminations, timer runs. Keyed by instance.
  const launching = new Map<string, Promise<void>>();
  const retiring = new Map<string, Promise<void>>();
  const dayRunning = new Map<string, Promise<void>>();
  const checking = new Map<string, Promise<void>>();
  let launchFailures = 0;
  let launchAfter = 0;
  const activities = new Map(readActivities(home, name).activities.map((a) => [a.ActivityId, a]));
  const activity = (id: string | null): Activity | undefined =>
    id === null ? undefined : activities.get(id);

  const checksByImage = new Map<string, Promise<HealthCheck[]>>();
  const checksFor = (group: GroupDefinition, image: string): Promise<HealthCheck[]> => {
    if (group.checks !== null) return Promise.resolve(group.checks);
    const recorded = group.imageChecks[image];
    if (recorded !== undefined) return Promise.resolve(recorded);
    // An instance of an image the group never had (adopted after a set-image was undone): its spec's.
    let checks = checksByImage.get(image);
    if (checks === undefined) {
      let stored;
      try {
        stored = findImage(image, home);
      } catch (error) {
        return Promise.reject(error as Error);
      }
      checks =
        stored === undefined
          ? Promise.reject(
              new UsageError(
                'GROUP_NO_IMAGE',
                `image ${image} is no longer in the store: its checks are unknown`,
              ),
            )
          : imageHealthChecks(join(stored.path, 'rootfs'));
      checksByImage.set(image, checks);
    }
    return checks;
  };

  const removeMember = (member: Member): void => {
    state.members = state.members.filter((m) => m !== member);
  };

  /** Keeps the instance's logs beside the group, then terminates it and records the end of the activity. */
  const retire = (member: Member, act: Activity, unhealthy: boolean): void => {
    if (retiring.has(member.id)) return;
    member.lifecycle = 'Terminating';
    member.terminateActivity = act.ActivityId;
    activities.set(act.ActivityId, act);
    save();
    emit('terminate', `${describeTerminate(member.id)} (${unhealthy ? 'unhealthy' : 'capacity'})`, member.id);
    const task = (async () => {
      const info = readInstance(labHome, member.id);
      if (info !== undefined) {
        const out = evidenceDir(home, name);
        mkdirSync(out, { recursive: true });
        await gatherEvidence(
          labHome,
          member.id,
          { upper: info.upper, merged: `/proc/${info.pid}/root` },
          out,
        ).catch(() => undefined);
        pruneEvidence(out);
      }
      try {
        await terminateInstance(member.id, { home: labHome, graceMs: 5_000, keepNetwork: true });
        log.finish(act, 'Successful');
      } catch (error) {
        log.finish(act, 'Failed', message(error));
      }
      removeMember(member);
      if (unhealthy) {
        state.replaced += 1;
        summary.replaced += 1;
      }
      save();
      emit('terminated', `${member.id} terminated`, member.id);
      emitStatus();
    })().finally(() => retiring.delete(member.id));
    retiring.set(member.id, task);
  };

  const launch = (group: GroupDefinition, cause: string): void => {
    const id = newInstanceId(undefined);
    const act = log.start({
      description: describeLaunch(id),
      cause,
      details: { Image: group.image },
    });
    activities.set(act.ActivityId, act);
    const member: Member = {
      id,
      image: group.image,
      lifecycle: 'Pending',
      health: 'Healthy',
      launchedAt: act.StartTime,
      inServiceAt: null,
      failures: 0,
      lastCheck: null,
      nextTimersAt: null,
      days: 0,
      launchActivity: act.ActivityId,
      terminateActivity: null,
    };
    state.members.push(member);
    state.launched += 1;
    summary.launched += 1;
    save();
    emit('launch', `${describeLaunch(id)} from ${group.image.slice(0, 12)}`, id);
    const task = (async () => {
      try {
        // Read before the first await: a damaged record fails this launch, not the controller.
        const stored = findImage(group.image, home);
        if (stored === undefined)
          throw new UsageError('GROUP_NO_IMAGE', `image ${group.image} is no longer in the store`, {
            hint: 'goldgate group set-image gives the group an image to launch',
          });
        // Revoked after the group took it: no new instance of it, whatever the capacity says.
        const revoked = revocationInHome(home, stored.id);
        if (revoked !== undefined) throw revokedImageError(revoked);
        const info = await launchInstance({
          rootfs: join(stored.path, 'rootfs'),
          image: group.image,
          home: labHome,
          reposDir,
          id,
          group: name,
        });
        inService(member, info);
        log.update(act, { Details: JSON.stringify({ Image: group.image, Address: info.address ?? '' }) });
        log.finish(act, 'Successful');
        launchFailures = 0;
      } catch (error) {
        log.finish(act, 'Failed', `Launching a lab instance failed: ${message(error)}`);
        removeMember(member);
        launchFailures += 1;
        launchAfter = Date.now() + launchBackoffMs(launchFailures);
        emit('launch-failed', `${id} failed to launch: ${message(error)}`, id);
      }
      save();
    })().finally(() => launching.delete(id));
    launching.set(id, task);
  };

  const inService = (member: Member, info: InstanceInfo): void => {
    const now = Date.now();
    member.lifecycle = 'InService';
    member.inServiceAt = new Date(now).toISOString();
    member.nextTimersAt = fast ? now + FIRST_DAY_DELAY_MS : null;
    emit(
      'in-service',
      `${member.id} is InService (${info.state} in ${info.bootMs ?? '?'} ms, ${info.address ?? 'no address'})`,
      member.id,
    );
    // With no grace period its first check is due now, not at the next pass.
    if (options.once !== true && !stopped()) fillChecks();
    emitStatus();
  };

  /** A day passes on the instance (--timers fast): see day.ts. */
  const startDay = (member: Member): void => {
    if (dayRunning.has(member.id)) return;
    // The next day comes at the instance's own time, as systemd's RandomizedDelaySec spreads
    // apt's timers over the day: the instances of a group do not all change at once.
    member.nextTimersAt = Date.now() + Math.round(dayMs * (0.5 + Math.random()));
    member.days += 1;
    const day = member.days;
    const task = (async () => {
      try {
        const { pid } = liveInstance(labHome, member.id);
        const runs = await passDay(member.id, labHome, pid, 10 * 60_000, halt.signal);
        if (stopped()) return;
        const ran = runs.map((r) => `${r.service} ${r.result}`).join(', ');
        emit('timers', `${member.id} day ${day}: ${ran === '' ? 'no timer to run' : ran}`, member.id);
      } catch (error) {
        // The instance went away meanwhile: the next pass sees it.
        emit('timers', `${member.id} day ${day}: ${message(error)}`, member.id);
      }
    })().finally(() => dayRunning.delete(member.id));
    dayRunning.set(member.id, task);
  };

  /** Reads the lab: what became of each member, and instances of the group no member names. */
  const observe = async (): Promise<void> => {
    const handled = new Set<string>();
    const lab = new Map(groupInstances(home, name).map((s) => [s.id, s]));
    for (const member of state.members.slice()) {
      if (launching.has(member.id) || retiring.has(member.id)) continue;
      handled.add(member.id);
      const seen = lab.get(member.id);
      const alive = seen?.alive === true && seen.info !== undefined;
      const launcherAlive =
        seen?.info !== undefined && isAlive(seen.info.launcherPid, seen.info.launcherStartTime);
      if (member.lifecycle === 'Terminating') {
        // A termination a killed controller began: finish it.
        const act =
          activity(member.terminateActivity) ??
          log.start({ description: describeTerminate(member.id), cause: CAUSES.gone(Date.now()) });
        retire(member, act, member.health === 'Unhealthy');
      } else if (member.lifecycle === 'Pending') {
        if (alive && seen.info !== undefined && seen.info.state !== 'starting') {
          inService(member, seen.info);
          const act = activity(member.launchActivity);
          if (act !== undefined && act.StatusCode === 'InProgress') log.finish(act, 'Successful');
        } else if (!launcherAlive) {
          // Its launch stopped with the controller that began it: never in service.
          const act = activity(member.launchActivity);
          if (act !== undefined && act.StatusCode === 'InProgress')
            log.finish(act, 'Failed', 'The controller stopped before the instance was in service.');
          await terminateInstance(member.id, { home: labHome, keepNetwork: true }).catch(() => undefined);
          removeMember(member);
          emit('launch-failed', `${member.id}: its launch was interrupted; terminated`, member.id);
        }
      } else if (!alive) {
        const act = log.start({ description: describeTerminate(member.id), cause: CAUSES.gone(Date.now()) });
        await terminateInstance(member.id, { home: labHome, keepNetwork: true }).catch(() => undefined);
        log.finish(act, 'Successful');
        removeMember(member);
        emit('terminated', `${member.id} is gone (terminated or stopped outside the group)`, member.id);
      }
    }
    const known = new Set(state.members.map((m) => m.id));
    for (const [id, seen] of lab) {
      if (known.has(id) || handled.has(id) || launching.has(id) || seen.info === undefined) continue;
      const info = seen.info;
      if (seen.alive && (info.state === 'running' || info.state === 'degraded')) {
        const member: Member = {
          id,
          image: info.image,
          lifecycle: 'InService',
          health: 'Healthy',
          launchedAt: info.startedAt,
          inServiceAt: new Date(Date.parse(info.startedAt) + (info.bootMs ?? 0)).toISOString(),
          failures: 0,
          lastCheck: null,
          nextTimersAt: fast ? Date.now() + FIRST_DAY_DELAY_MS : null,
          days: 0,
          launchActivity: '',
          terminateActivity: null,
        };
        state.members.push(member);
        summary.adopted.push(id);
        emit('adopt', `${id} adopted: an instance of the group running without a controller`, id);
      } else if (info.state !== 'starting' || !isAlive(info.launcherPid, info.launcherStartTime)) {
        await terminateInstance(id, { home: labHome, keepNetwork: true }).catch(() => undefined);
        emit('terminated', `${id}: a leftover of the group (${info.state}, not running) terminated`, id);
      }
    }
  };

  /** One health check round of one instance; K failures in a row take it out of service. */
  const checkOne = async (group: GroupDefinition, member: Member): Promise<void> => {
    let ok: boolean;
    let detail: string;
    try {
      const results = await runHealthChecks(member.id, await checksFor(group, member.image), {
        home: labHome,
      });
      const failed = results.find((r) => !r.ok);
      ok = failed === undefined;
      detail = failed === undefined ? 'all checks passed' : `"${failed.name}" ${failed.detail}`;
    } catch (error) {
      ok = false;
      detail = message(error);
    }
    if (member.lifecycle !== 'InService') return;
    const before = member.lastCheck?.ok;
    member.lastCheck = { at: new Date().toISOString(), ok, detail };
    member.failures = ok ? 0 : member.failures + 1;
    if (before !== ok) emit('health', `${member.id} health ${ok ? 'passes' : 'FAILS'}: ${detail}`, member.id);
    if (!ok && member.failures >= group.unhealthyThreshold) {
      member.health = 'Unhealthy';
      emit('unhealthy', `${member.id} is Unhealthy: ${member.failures} failed checks in a row`, member.id);
      const at = Date.now();
      const act = log.start({
        description: describeTerminate(member.id),
        cause: CAUSES.unhealthy(at, `${detail}, ${member.failures} checks in a row`),
        at,
      });
      retire(member, act, true);
      // Its replacement launches now, not at the next pass.
      if (!stopped()) matchCapacity(current);
    }
  };

  /**
   * Starts the checks that are due, at most HEALTH_CONCURRENCY at once, in the background: a
   * slow check never holds up a pass (launches, replacements). A finished check starts the
   * next due one, unless this is a single pass.
   */
  const fillChecks = (): void => {
    const now = Date.now();
    for (const member of state.members) {
      if (checking.size >= HEALTH_CONCURRENCY) return;
      if (checking.has(member.id) || retiring.has(member.id) || !dueForCheck(member, current, now)) continue;
      const task = checkOne(current, member).finally(() => {
        checking.delete(member.id);
        save();
        emitStatus();
        if (options.once !== true && !stopped()) fillChecks();
      });
      checking.set(member.id, task);
    }
  };

  const matchCapacity = (group: GroupDefinition): void => {
    const at = Date.now();
    const request =
      state.seenDesired !== group.desired
        ? `${CAUSES[group.desiredRequest.verb](Date.parse(group.desiredRequest.at), group.desiredRequest.from, group.desired)}  `
        : '';
    const actual = capacityMembers(state.members).length;
    // Backing off after failed launches: the request stays unseen, for the launches it causes later.
    if (actual < group.desired && at < launchAfter) return;
    state.seenDesired = group.desired;
    if (actual < group.desired) {
      const count = Math.min(group.desired - actual, MAX_LAUNCHES_AT_ONCE);
      if (count > 0) emit('scale', `capacity ${actual} of ${group.desired}: launching ${count}`);
      for (let i = 0; i < count; i += 1)
        launch(group, `${request}${CAUSES.increase(at, actual, group.desired)}`);
    } else if (actual > group.desired) {
      const victims = scaleInVictims(state.members, group.image, actual - group.desired);
      emit('scale', `capacity ${actual} of ${group.desired}: terminating ${victims.length}`);
      for (const victim of victims) {
        const act = log.start({
          description: describeTerminate(victim.id),
          cause: `${request}${CAUSES.shrink(at, actual, group.desired, victim.id)}`,
          at,
        });
        retire(victim, act, false);
      }
    }
  };

  const pass = async (): Promise<void> => {
    const t0 = Date.now();
    const group = readGroup(home, name);
    current = group;
    await observe();
    fillChecks();
    if (fast)
      for (const member of state.members) {
        // Instances that came from a --timers real run get their first day now.
        if (member.lifecycle === 'InService' && member.nextTimersAt === null)
          member.nextTimersAt = Date.now() + FIRST_DAY_DELAY_MS;
        if (dueForTimers(member, Date.now())) startDay(member);
      }
    matchCapacity(group);
    save();
    summary.passes += 1;
    summary.passMs.push(Date.now() - t0);
    emitStatus();
  };

  const settle = async (timers: boolean): Promise<void> => {
    for (;;) {
      const work = [
        ...launching.values(),
        ...retiring.values(),
        ...checking.values(),
        ...(timers ? dayRunning.values() : []),
      ];
      if (work.length === 0) return;
      await Promise.all(work);
    }
  };

  try {
    recoverActivities(log, activities, state);
    const until = options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;
    for (;;) {
      await pass();
      if (options.once === true) {
        await settle(true);
        break;
      }
      if (stopped() || Date.now() >= until) break;
      await pause(Math.min(options.tickMs ?? 1_000, Math.max(0, until - Date.now())), halt.signal);
      if (stopped()) break;
    }
    // Stopping: what was launched or being terminated is seen through, so nothing is left
    // half-done; a day in progress stops being watched (the instance finishes it on its own).
    halt.abort();
    await settle(true);
    save();
    const group = readGroup(home, name);
    events.emit({
      type: 'group-status',
      group: name,
      status: groupStatus(group, state),
      at: new Date().toISOString(),
    });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    release();
    if (state.members.length === 0) await stopNetworkIfIdle(labHome).catch(() => undefined);
  }
  summary.durationMs = Date.now() - started;
  return summary;
}

/** Activities a killed controller left InProgress whose instance is no member: they failed with it. */
function recoverActivities(log: ActivityLog, activities: Map<string, Activity>, state: GroupState): void {
  const owned = new Set(state.members.flatMap((m) => [m.launchActivity, m.terminateActivity ?? '']));
  for (const act of activities.values())
    if (act.StatusCode === 'InProgress' && !owned.has(act.ActivityId))
      log.finish(act, 'Failed', 'The controller stopped before the activity finished.');
}

/** Keeps the evidence of the newest terminated instances only. */
function pruneEvidence(dir: string): void {
  let entries: Array<{ name: string; at: number }>;
  try {
    entries = readdirSync(dir).map((entry) => ({ name: entry, at: statSync(join(dir, entry)).mtimeMs }));
  } catch {
    return;
  }
  entries.sort((a, b) => b.at - a.at);
  for (const old of entries.slice(KEPT_EVIDENCE))
    rmSync(join(dir, old.name), { recursive: true, force: true });
}
