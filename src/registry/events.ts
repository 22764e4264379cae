import type { Registry } from './db.js';
import { nowIso } from './db.js';

/** One entry of the registry's append-only event log. */
export interface RegistryEvent {
  id: number;
  at: string;
  /** The OS user who acted. */
  user: string;
  /** What was done: `image.record`, `audit.record`, `verify.record`, `channel.create`, `promote`, `promote.refused`, `rollback`, `revoke`, `pipeline.step`, … */
  action: string;
  /** What it was done to: an image id, a channel, a spec. */
  subject: string;
  /** Why, when the user or the gate said. */
  reason: string | null;
  details: Record<string, unknown>;
}

/**
 * Appends an event. Call it inside the transaction of the change it records, so that the log
 * and the change are committed together or not at all.
 */
export function appendEvent(
  registry: Registry,
  action: string,
  subject: string,
  reason: string | null = null,
  details: Record<string, unknown> = {},
): number {
  const result = registry.db
    .prepare('INSERT INTO events (at, user, action, subject, reason, details) VALUES (?, ?, ?, ?, ?, ?)')
    .run(nowIso(), registry.user, action, subject, reason, JSON.stringify(details));
  return Number(result.lastInsertRowid);
}

interface EventRow {
  id: number;
  at: string;
  user: string;
  action: string;
  subject: string;
  reason: string | null;
  details: string;
}

/** Events, oldest first; only those about `subject` when given, the last `limit` when given. */
export function listEvents(
  registry: Registry,
  options: { subject?: string; limit?: number } = {},
): RegistryEvent[] {
  const where = options.subject === undefined ? '' : 'WHERE subject = @subject';
  const limit = options.limit === undefined ? -1 : options.limit;
  const rows = registry.db
    .prepare(`SELECT * FROM (SELECT * FROM events ${where} ORDER BY id DESC LIMIT @limit) ORDER BY id`)
    .all(options.subject === undefined ? { limit } : { subject: options.subject, limit }) as EventRow[];
  return rows.map((row) => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> }));
}
