import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync } from 'node:fs';
import { z } from 'zod';
import { activitiesFile } from './store.js';

/**
 * A scaling activity in the shape of `aws autoscaling describe-scaling-activities`, so that
 * `goldgate diagnose` (its asg-activities parser) reads the lab's and AWS's alike.
 */
export interface Activity {
  ActivityId: string;
  AutoScalingGroupName: string;
  Description: string;
  Cause: string;
  StartTime: string;
  EndTime?: string;
  StatusCode: 'InProgress' | 'Successful' | 'Failed' | 'Cancelled';
  StatusMessage?: string;
  Progress: number;
  /** A JSON object as a string, as AWS gives it: here the image and the lab address. */
  Details: string;
}

const activitySchema = z.object({
  ActivityId: z.string(),
  AutoScalingGroupName: z.string(),
  Description: z.string(),
  Cause: z.string(),
  StartTime: z.string(),
  EndTime: z.string().optional(),
  StatusCode: z.enum(['InProgress', 'Successful', 'Failed', 'Cancelled']),
  StatusMessage: z.string().optional(),
  Progress: z.number(),
  Details: z.string(),
});

/** Auto Scaling's timestamps in causes: seconds, UTC (`2026-11-27T08:06:41Z`). */
export const causeTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/** The sentences Auto Scaling writes in a Cause, for the lab's reasons to act. */
export const CAUSES = {
  created: (at: number, from: number, to: number) =>
    `At ${causeTime(at)} a user request created an AutoScalingGroup changing the desired capacity from ${from} to ${to}.`,
  updated: (at: number, from: number, to: number) =>
    `At ${causeTime(at)} a user request update of AutoScalingGroup constraints changing the desired capacity from ${from} to ${to}.`,
  increase: (at: number, from: number, to: number) =>
    `At ${causeTime(at)} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${from} to ${to}.`,
  shrink: (at: number, from: number, to: number, id: string) =>
    `At ${causeTime(at)} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${from} to ${to}.  At ${causeTime(at)} instance ${id} was selected for termination.`,
  unhealthy: (at: number, detail: string) =>
    `At ${causeTime(at)} an instance was taken out of service in response to a health check failure: ${detail}.`,
  gone: (at: number) =>
    `At ${causeTime(at)} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.`,
} as const;

export const describeLaunch = (id: string): string => `Launching a new EC2 instance: ${id}`;
export const describeTerminate = (id: string): string => `Terminating EC2 instance: ${id}`;

/**
 * The group's activity log: one JSON object per line, appended and fsynced. An activity that
 * changes (InProgress, then Successful) is appended again whole; the last line of an id wins.
 * Appending never rewrites what is there, so a crash loses at most the line being written.
 */
export class ActivityLog {
  constructor(
    private readonly home: string,
    private readonly group: string,
  ) {}

  /** Starts an activity (InProgress) and returns it; `finish` records how it ended. */
  start(fields: {
    description: string;
    cause: string;
    details?: Record<string, string>;
    at?: number;
  }): Activity {
    const activity: Activity = {
      ActivityId: randomUUID(),
      AutoScalingGroupName: this.group,
      Description: fields.description,
      Cause: fields.cause,
      StartTime: new Date(fields.at ?? Date.now()).toISOString(),
      StatusCode: 'InProgress',
      Progress: 20,
      Details: JSON.stringify(fields.details ?? {}),
    };
    this.append(activity);
    return activity;
  }

  update(activity: Activity, change: Partial<Activity>): Activity {
    Object.assign(activity, change);
    this.append(activity);
    return activity;
  }

  finish(activity: Activity, status: 'Successful' | 'Failed' | 'Cancelled', message?: string): Activity {
    return this.update(activity, {
      StatusCode: status,
      Progress: 100,
      EndTime: new Date().toISOString(),
      ...(message === undefined ? {} : { StatusMessage: message }),
    });
  }

  private append(activity: Activity): void {
    const fd = openSync(activitiesFile(this.home, this.group), 'a+', 0o644);
    try {
      // A crash can leave the last line cut short: end it, or this line would be lost with it.
      const size = fstatSync(fd).size;
      const last = Buffer.alloc(1);
      const cut = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
      appendFileSync(fd, `${cut ? '\n' : ''}${JSON.stringify(activity)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Every activity of the group, newest first (as describe-scaling-activities lists them), with
 * the number of lines that could not be read (a line cut short by a crash).
 */
export function readActivities(home: string, group: string): { activities: Activity[]; unreadable: number } {
  let text = '';
  try {
    text = readFileSync(activitiesFile(home, group), 'utf8');
  } catch {
    return { activities: [], unreadable: 0 };
  }
  const byId = new Map<string, Activity>();
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed: ReturnType<typeof activitySchema.safeParse>;
    try {
      parsed = activitySchema.safeParse(JSON.parse(line));
    } catch {
      unreadable += 1;
      continue;
    }
    if (!parsed.success) {
      unreadable += 1;
      continue;
    }
    const activity: Activity = { ...parsed.data };
    if (activity.EndTime === undefined) delete activity.EndTime;
    if (activity.StatusMessage === undefined) delete activity.StatusMessage;
    byId.delete(activity.ActivityId);
    byId.set(activity.ActivityId, activity);
  }
  const activities = [...byId.values()].sort(
    (a, b) => b.StartTime.localeCompare(a.StartTime) || b.ActivityId.localeCompare(a.ActivityId),
  );
  return { activities, unreadable };
}
