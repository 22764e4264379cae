import { describe, expect, it } from 'vitest';
import {
  capacityMembers,
  dueForCheck,
  dueForTimers,
  groupStatus,
  isServing,
  launchBackoffMs,
  scaleInVictims,
} from './plan.js';
import type { GroupDefinition, GroupState, Member } from './store.js';

const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const IMAGE = 'img-3f2a9c01b4d5';
const OTHER_IMAGE = 'img-0000aaaabbbb';

/** An instance in service since T0, healthy, its last check passed at T0 + 10 s. */
function member(id: string, change: Partial<Member> = {}): Member {
  return {
    id,
    image: IMAGE,
    lifecycle: 'InService',
    health: 'Healthy',
    launchedAt: iso(T0 - 30_000),
    inServiceAt: iso(T0),
    failures: 0,
    lastCheck: { at: iso(T0 + 10_000), ok: true, detail: 'all checks passed' },
    nextTimersAt: null,
    days: 0,
    launchActivity: `launch-${id}`,
    terminateActivity: null,
    ...change,
  };
}

const pending = (id: string, change: Partial<Member> = {}): Member =>
  member(id, { lifecycle: 'Pending', inServiceAt: null, lastCheck: null, ...change });

function group(change: Partial<GroupDefinition> = {}): GroupDefinition {
  return {
    schemaVersion: 1,
    name: 'web',
    image: IMAGE,
    desired: 3,
    min: 1,
    max: 5,
    graceSeconds: 10,
    healthIntervalSeconds: 5,
    unhealthyThreshold: 3,
    checks: null,
    imageChecks: {},
    createdAt: iso(T0 - 60_000),
    desiredRequest: { at: iso(T0 - 60_000), from: 0, verb: 'created' },
    ...change,
  };
}

function state(members: Member[], change: Partial<GroupState> = {}): GroupState {
  return {
    schemaVersion: 1,
    members,
    seenDesired: 3,
    launched: 7,
    replaced: 2,
    updatedAt: iso(T0),
    ...change,
  };
}

describe('isServing and capacityMembers', () => {
  it('serves only in service, healthy, with a passed last check', () => {
    expect(isServing(member('i-00000001'))).toBe(true);
    expect(isServing(member('i-00000002', { lastCheck: null }))).toBe(false);
    expect(
      isServing(member('i-00000003', { lastCheck: { at: iso(T0), ok: false, detail: 'HTTP 500' } })),
    ).toBe(false);
    expect(isServing(member('i-00000004', { health: 'Unhealthy' }))).toBe(false);
    expect(isServing(member('i-00000005', { lifecycle: 'Terminating' }))).toBe(false);
    expect(isServing(pending('i-00000006'))).toBe(false);
  });

  it('counts every member but those being terminated', () => {
    const members = [
      member('i-00000001'),
      pending('i-00000002'),
      member('i-00000003', { lifecycle: 'Terminating' }),
      member('i-00000004', { health: 'Unhealthy' }),
    ];
    expect(capacityMembers(members).map((m) => m.id)).toEqual(['i-00000001', 'i-00000002', 'i-00000004']);
  });
});

describe('groupStatus', () => {
  it('counts members by lifecycle and health, with the group sizes and the state counters', () => {
    const members = [
      member('i-00000001'),
      member('i-00000002', { lastCheck: null }),
      pending('i-00000003'),
      member('i-00000004', { lifecycle: 'Terminating', health: 'Unhealthy', failures: 3 }),
      member('i-00000005', { health: 'Unhealthy', failures: 3 }),
    ];
    expect(groupStatus(group(), state(members))).toEqual({
      desired: 3,
      min: 1,
      max: 5,
      pending: 1,
      inService: 3,
      healthy: 1,
      unhealthy: 2,
      terminating: 1,
      launched: 7,
      replaced: 2,
    });
  });
});

describe('dueForCheck', () => {
  const g = group({ graceSeconds: 10, healthIntervalSeconds: 5 });

  it('waits for the grace period after the instance went in service', () => {
    const fresh = member('i-00000001', { lastCheck: null });
    expect(dueForCheck(fresh, g, T0)).toBe(false);
    expect(dueForCheck(fresh, g, T0 + 9_999)).toBe(false);
    expect(dueForCheck(fresh, g, T0 + 10_000)).toBe(true);
    expect(dueForCheck(fresh, group({ graceSeconds: 0 }), T0)).toBe(true);
  });

  it('checks again once the interval since the last check elapsed', () => {
    const checked = member('i-00000001', { lastCheck: { at: iso(T0 + 20_000), ok: true, detail: '' } });
    expect(dueForCheck(checked, g, T0 + 24_999)).toBe(false);
    expect(dueForCheck(checked, g, T0 + 25_000)).toBe(true);
    const failed = member('i-00000002', {
      failures: 1,
      lastCheck: { at: iso(T0 + 20_000), ok: false, detail: 'HTTP 500' },
    });
    expect(dueForCheck(failed, g, T0 + 24_999)).toBe(false);
    expect(dueForCheck(failed, g, T0 + 25_000)).toBe(true);
  });

  it('never checks an instance that is Unhealthy, Pending or Terminating', () => {
    const late = T0 + 3_600_000;
    expect(dueForCheck(member('i-00000001', { health: 'Unhealthy' }), g, late)).toBe(false);
    expect(dueForCheck(pending('i-00000002'), g, late)).toBe(false);
    expect(dueForCheck(pending('i-00000003', { inServiceAt: iso(T0) }), g, late)).toBe(false);
    expect(dueForCheck(member('i-00000004', { lifecycle: 'Terminating' }), g, late)).toBe(false);
    expect(dueForCheck(member('i-00000005', { inServiceAt: null }), g, late)).toBe(false);
  });
});

describe('dueForTimers', () => {
  it('runs the timers of an instance in service once their time came', () => {
    const m = member('i-00000001', { nextTimersAt: T0 + 2_000 });
    expect(dueForTimers(m, T0 + 1_999)).toBe(false);
    expect(dueForTimers(m, T0 + 2_000)).toBe(true);
    expect(dueForTimers(member('i-00000002', { nextTimersAt: null }), T0 + 3_600_000)).toBe(false);
    expect(dueForTimers(pending('i-00000003', { nextTimersAt: T0 }), T0 + 1)).toBe(false);
    expect(dueForTimers(member('i-00000004', { lifecycle: 'Terminating', nextTimersAt: T0 }), T0 + 1)).toBe(
      false,
    );
  });
});

describe('scaleInVictims', () => {
  const oldest = member('i-00000001', { launchedAt: iso(T0 - 90_000) });
  const older = member('i-00000002', { launchedAt: iso(T0 - 60_000) });
  const otherImage = member('i-00000003', { image: OTHER_IMAGE, launchedAt: iso(T0) });
  const failing = member('i-00000004', {
    launchedAt: iso(T0 - 10_000),
    failures: 1,
    lastCheck: { at: iso(T0 + 20_000), ok: false, detail: 'HTTP 500' },
  });
  const notInService = pending('i-00000005', { launchedAt: iso(T0 + 5_000) });
  const terminating = member('i-00000006', { lifecycle: 'Terminating', launchedAt: iso(T0 - 120_000) });
  const all = [oldest, older, otherImage, failing, notInService, terminating];

  it('picks another image first, then failing checks, then Pending, then the oldest', () => {
    expect(scaleInVictims(all, IMAGE, 5).map((m) => m.id)).toEqual([
      'i-00000003',
      'i-00000004',
      'i-00000005',
      'i-00000001',
      'i-00000002',
    ]);
  });

  it('counts a member with failures but no failed last check as failing', () => {
    const flaky = member('i-00000007', { failures: 2, launchedAt: iso(T0 + 50_000) });
    expect(scaleInVictims([oldest, flaky], IMAGE, 1).map((m) => m.id)).toEqual(['i-00000007']);
  });

  it('breaks a tie of launch times by id', () => {
    const b = member('i-0000000b');
    const a = member('i-0000000a');
    expect(scaleInVictims([b, a], IMAGE, 2).map((m) => m.id)).toEqual(['i-0000000a', 'i-0000000b']);
  });

  it('returns at most `count` and never one being terminated', () => {
    expect(scaleInVictims(all, IMAGE, 1).map((m) => m.id)).toEqual(['i-00000003']);
    expect(scaleInVictims(all, IMAGE, 0)).toEqual([]);
    expect(scaleInVictims(all, IMAGE, -2)).toEqual([]);
    expect(scaleInVictims(all, IMAGE, 50)).toHaveLength(5);
    expect(scaleInVictims([terminating], IMAGE, 1)).toEqual([]);
  });

  it('leaves the members list in its order', () => {
    scaleInVictims(all, IMAGE, 5);
    expect(all.map((m) => m.id)).toEqual([
      'i-00000001',
      'i-00000002',
      'i-00000003',
      'i-00000004',
      'i-00000005',
      'i-00000006',
    ]);
  });
});

describe('launchBackoffMs', () => {
  it('waits 2 s after a failed launch, doubling, at most 60 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map(launchBackoffMs)).toEqual([
      0, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
    expect(launchBackoffMs(-1)).toBe(0);
  });
});
