import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import asg from '../logs/parsers/asg-activities/index.js';
import { parseText } from '../logs/read.js';
import { tempDir } from '../test-support/tree.js';
import {
  ActivityLog,
  CAUSES,
  causeTime,
  describeLaunch,
  describeTerminate,
  readActivities,
} from './activities.js';
import { activitiesFile } from './store.js';

const T0 = Date.UTC(2026, 10, 27, 8, 6, 41, 250);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let home = '';
beforeEach(() => {
  home = tempDir('goldgate-activities-');
  mkdirSync(join(home, 'groups', 'web'), { recursive: true });
});

describe('causeTime', () => {
  it('gives seconds, UTC, with a Z', () => {
    expect(causeTime(T0)).toBe('2026-11-27T08:06:41Z');
    expect(causeTime(Date.UTC(2027, 0, 1, 0, 0, 0, 999))).toBe('2027-01-01T00:00:00Z');
  });
});

describe('ActivityLog and readActivities', () => {
  it('reads nothing from a group that has no log yet', () => {
    expect(readActivities(home, 'web')).toEqual({ activities: [], unreadable: 0 });
  });

  it('keeps the last line of each activity, newest first', () => {
    const log = new ActivityLog(home, 'web');
    const first = log.start({
      description: describeLaunch('i-1a2b3c4d'),
      cause: 'first',
      details: { Image: 'img-3f2a9c01b4d5' },
      at: T0,
    });
    const second = log.start({
      description: describeTerminate('i-5e6f7a8b'),
      cause: 'second',
      at: T0 + 1_000,
    });
    log.update(first, { Details: JSON.stringify({ Image: 'img-3f2a9c01b4d5', Address: '10.77.0.2' }) });
    log.finish(first, 'Successful');
    log.finish(second, 'Failed', 'the instance did not stop');

    expect(readFileSync(activitiesFile(home, 'web'), 'utf8').split('\n')).toHaveLength(6);
    const { activities, unreadable } = readActivities(home, 'web');
    expect(unreadable).toBe(0);
    expect(activities).toEqual([
      {
        ActivityId: second.ActivityId,
        AutoScalingGroupName: 'web',
        Description: 'Terminating EC2 instance: i-5e6f7a8b',
        Cause: 'second',
        StartTime: '2026-11-27T08:06:42.250Z',
        EndTime: expect.stringMatching(ISO),
        StatusCode: 'Failed',
        StatusMessage: 'the instance did not stop',
        Progress: 100,
        Details: '{}',
      },
      {
        ActivityId: first.ActivityId,
        AutoScalingGroupName: 'web',
        Description: 'Launching a new EC2 instance: i-1a2b3c4d',
        Cause: 'first',
        StartTime: '2026-11-27T08:06:41.250Z',
        EndTime: expect.stringMatching(ISO),
        StatusCode: 'Successful',
        Progress: 100,
        Details: '{"Image":"img-3f2a9c01b4d5","Address":"10.77.0.2"}',
      },
    ]);
    expect(Object.keys(activities[1] ?? {})).not.toContain('StatusMessage');
  });

  it('has no EndTime nor StatusMessage while in progress', () => {
    const log = new ActivityLog(home, 'web');
    const started = log.start({ description: describeLaunch('i-1a2b3c4d'), cause: 'c', at: T0 });
    const [read] = readActivities(home, 'web').activities;
    expect(read).toEqual({ ...started, StatusCode: 'InProgress', Progress: 20 });
    expect(Object.keys(read ?? {})).toEqual([
      'ActivityId',
      'AutoScalingGroupName',
      'Description',
      'Cause',
      'StartTime',
      'StatusCode',
      'Progress',
      'Details',
    ]);
  });

  it('counts a line cut short as unreadable and reads the rest, also what is appended after it', () => {
    const log = new ActivityLog(home, 'web');
    const before = log.start({ description: describeLaunch('i-1a2b3c4d'), cause: 'c', at: T0 });
    log.finish(before, 'Successful');
    const whole = JSON.stringify({ ...before, ActivityId: 'cut', StatusCode: 'InProgress' });
    appendFileSync(activitiesFile(home, 'web'), whole.slice(0, whole.length / 2));

    let read = readActivities(home, 'web');
    expect(read.unreadable).toBe(1);
    expect(read.activities.map((a) => [a.ActivityId, a.StatusCode])).toEqual([
      [before.ActivityId, 'Successful'],
    ]);

    // A controller started after the crash appends to the same file.
    const after = log.start({ description: describeLaunch('i-5e6f7a8b'), cause: 'c', at: T0 + 1_000 });
    read = readActivities(home, 'web');
    expect(read.unreadable).toBe(1);
    expect(read.activities.map((a) => [a.ActivityId, a.StatusCode])).toEqual([
      [after.ActivityId, 'InProgress'],
      [before.ActivityId, 'Successful'],
    ]);
  });

  it('counts a line that is JSON but no activity as unreadable', () => {
    appendFileSync(activitiesFile(home, 'web'), '{"ActivityId": "x"}\n\n42\n');
    expect(readActivities(home, 'web')).toEqual({ activities: [], unreadable: 2 });
  });
});

describe('activities as goldgate diagnose reads them', () => {
  it('gives each activity its kind, reason, instance and status, with no problem', () => {
    const log = new ActivityLog(home, 'web');
    const first = 'i-1a2b3c4d';
    const second = 'i-5e6f7a8b';
    const replacement = 'i-90abcdef';
    const launched = log.start({
      description: describeLaunch(first),
      cause: `${CAUSES.created(T0, 0, 2)}  ${CAUSES.increase(T0, 0, 2)}`,
      at: T0,
    });
    log.finish(launched, 'Successful');
    const failedLaunch = log.start({
      description: describeLaunch(second),
      cause: `${CAUSES.updated(T0 + 1_000, 2, 3)}  ${CAUSES.increase(T0 + 1_000, 2, 3)}`,
      at: T0 + 1_000,
    });
    log.finish(failedLaunch, 'Failed', 'Launching a lab instance failed: no address left');
    const unhealthy = log.start({
      description: describeTerminate(first),
      cause: CAUSES.unhealthy(T0 + 60_000, '"web" HTTP 500, 3 checks in a row'),
      at: T0 + 60_000,
    });
    log.finish(unhealthy, 'Successful');
    const shrink = log.start({
      description: describeTerminate(replacement),
      cause: CAUSES.shrink(T0 + 120_000, 2, 1, replacement),
      at: T0 + 120_000,
    });
    const gone = log.start({
      description: describeTerminate(second),
      cause: CAUSES.gone(T0 + 180_000),
      at: T0 + 180_000,
    });
    log.finish(gone, 'Successful');

    const { activities } = readActivities(home, 'web');
    const text = JSON.stringify({ Activities: activities }, null, 2);
    const { records, problems } = parseText(text, asg, 'scaling-activities.json');
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.activityId, r.kind, r.reason, r.instanceId, r.statusCode])).toEqual([
      [gone.ActivityId, 'terminate', 'health-check', second, 'Successful'],
      [shrink.ActivityId, 'terminate', 'capacity', replacement, 'InProgress'],
      [unhealthy.ActivityId, 'terminate', 'health-check', first, 'Successful'],
      [failedLaunch.ActivityId, 'launch', 'user', second, 'Failed'],
      [launched.ActivityId, 'launch', 'user', first, 'Successful'],
    ]);
    expect(records[4]).toMatchObject({
      group: 'web',
      time: { text: '2026-11-27T08:06:41.250Z', epochMs: T0 },
      statusMessage: null,
    });
    expect(records[3]?.statusMessage).toBe('Launching a lab instance failed: no address left');
    expect(records[1]?.end).toBeNull();
    expect(records[1]?.cause).toBe(
      'At 2026-11-27T08:08:41Z an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from 2 to 1.  At 2026-11-27T08:08:41Z instance i-90abcdef was selected for termination.',
    );
  });
});
