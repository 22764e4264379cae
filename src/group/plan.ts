import type { GroupStatus } from '../core/events.js';
import type { GroupDefinition, GroupState, Member } from './store.js';

// The controller's decisions, as pure functions of the group's definition and members: what
// a reconcile pass checks, launches and terminates. Kept apart so they are tested without a lab.

/** Serving: in service, not marked unhealthy, and its last health check passed. */
export function isServing(member: Member): boolean {
  return member.lifecycle === 'InService' && member.health === 'Healthy' && member.lastCheck?.ok === true;
}

/** The instances that count toward the group's capacity: everything not being terminated. */
export function capacityMembers(members: readonly Member[]): Member[] {
  return members.filter((m) => m.lifecycle !== 'Terminating');
}

export function groupStatus(group: GroupDefinition, state: GroupState): GroupStatus {
  const count = (pick: (m: Member) => boolean): number => state.members.filter(pick).length;
  return {
    desired: group.desired,
    min: group.min,
    max: group.max,
    pending: count((m) => m.lifecycle === 'Pending'),
    inService: count((m) => m.lifecycle === 'InService'),
    healthy: count(isServing),
    unhealthy: count((m) => m.health === 'Unhealthy'),
    terminating: count((m) => m.lifecycle === 'Terminating'),
    launched: state.launched,
    replaced: state.replaced,
  };
}

/** True when the instance's health is checked in this pass: in service, past its grace period, and its interval elapsed. */
export function dueForCheck(member: Member, group: GroupDefinition, now: number): boolean {
  if (member.lifecycle !== 'InService' || member.health !== 'Healthy' || member.inServiceAt === null)
    return false;
  if (now < Date.parse(member.inServiceAt) + group.graceSeconds * 1000) return false;
  if (member.lastCheck === null) return true;
  return now >= Date.parse(member.lastCheck.at) + group.healthIntervalSeconds * 1000;
}

/** True when the instance's timers' services run now (--timers fast). */
export function dueForTimers(member: Member, now: number): boolean {
  return member.lifecycle === 'InService' && member.nextTimersAt !== null && now >= member.nextTimersAt;
}

/**
 * Which instances a scale-in terminates first: those launched from another image than the
 * group's (a launch template changed since), then those failing their checks, then those not
 * yet in service, then the oldest. Returns the first `count`.
 */
export function scaleInVictims(members: readonly Member[], image: string, count: number): Member[] {
  const rank = (m: Member): number[] => [
    m.image === image ? 1 : 0,
    m.failures > 0 || m.lastCheck?.ok === false ? 0 : 1,
    m.lifecycle === 'Pending' ? 0 : 1,
  ];
  return capacityMembers(members)
    .slice()
    .sort((a, b) => {
      const ra = rank(a);
      const rb = rank(b);
      for (let i = 0; i < ra.length; i += 1) if (ra[i] !== rb[i]) return (ra[i] ?? 0) - (rb[i] ?? 0);
      return a.launchedAt.localeCompare(b.launchedAt) || a.id.localeCompare(b.id);
    })
    .slice(0, Math.max(0, count));
}

/** Delay before launching again after `failures` launches failed in a row: 2 s doubling, at most 60 s. */
export function launchBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(60_000, 2_000 * 2 ** (failures - 1));
}
