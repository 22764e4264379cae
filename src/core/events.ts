/**
 * The library never prints: capabilities report what they do as typed events.
 * The CLI renders them, the server streams them, tests collect them.
 */
/** A lab autoscaling group's capacity at a moment, as its controller sees it. */
export interface GroupStatus {
  desired: number;
  min: number;
  max: number;
  /** Launched, not yet in service. */
  pending: number;
  inService: number;
  /** In service and passing their health checks: the capacity that serves. */
  healthy: number;
  unhealthy: number;
  terminating: number;
  /** Instances launched since the group was created. */
  launched: number;
  /** Instances terminated after failing their health checks (and replaced): the churn. */
  replaced: number;
}

/** What a group's controller did, for one instance or the group. */
export type GroupAction =
  | 'launch'
  | 'in-service'
  | 'launch-failed'
  | 'health'
  | 'unhealthy'
  | 'terminate'
  | 'terminated'
  | 'adopt'
  | 'timers'
  | 'scale';

export type GoldgateEvent =
  | {
      type: 'progress';
      step: string;
      message: string;
      done?: boolean;
      elapsedMs?: number;
      /** Done without doing anything: what it would do was already recorded (a resumed pipeline's steps). */
      skipped?: boolean;
    }
  | { type: 'warning'; message: string; path?: string }
  | { type: 'finding'; rule: string; severity: string; message: string }
  | { type: 'group'; group: string; action: GroupAction; instance?: string; message: string; at: string }
  | { type: 'group-status'; group: string; status: GroupStatus; at: string };

export interface EventSink {
  emit(event: GoldgateEvent): void;
}

/** A sink that drops every event, for callers that do not listen. */
export const silent: EventSink = { emit: () => undefined };

/** A sink that keeps every event in memory, for tests and for building reports. */
export function collectingSink(): EventSink & { events: GoldgateEvent[] } {
  const events: GoldgateEvent[] = [];
  return { events, emit: (event) => void events.push(event) };
}
