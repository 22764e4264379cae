import type { Fault } from '../core/errors.js';

/** Exit statuses, documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** The check ran and failed: findings at or above --fail-on, a verify that is not immutable. */
  checkFailed: 1,
  /** The command line or the user's input is wrong. */
  usage: 2,
  /** A prerequisite is missing or the environment cannot do the job. */
  environment: 3,
  /** A bug in goldgate. */
  internal: 4,
} as const;

export function exitCodeFor(fault: Fault): number {
  if (fault === 'user') return EXIT.usage;
  if (fault === 'environment') return EXIT.environment;
  return EXIT.internal;
}
