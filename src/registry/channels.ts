import { SEVERITIES } from '../audit/types.js';
import type { Severity } from '../audit/types.js';
import { UsageError } from '../core/errors.js';
import type { Registry } from './db.js';
import { nowIso } from './db.js';
import { appendEvent } from './events.js';
import { VERIFY_CLASSES } from './proofs.js';
import type { VerifyClass } from './proofs.js';
import { revocationOf } from './revoke.js';
import type { Revocation } from './revoke.js';

/** A channel's gate: what a promotion to it must show. */
export interface ChannelGate {
  /** Refused when the audit has a finding at or above this severity. */
  auditThreshold: Severity;
  /** The classes of a failed verify that refuse a promotion. */
  blocks: VerifyClass[];
}

/** The gate a channel gets when created without options: nothing high or critical, no failure of any class. */
export const DEFAULT_GATE: ChannelGate = { auditThreshold: 'high', blocks: [...VERIFY_CLASSES] };

/** How an image came to be on a channel. */
export type AssignmentKind = 'promote' | 'rollback';

/** One assignment of a channel's history. */
export interface Assignment {
  id: number;
  channel: string;
  imageId: string;
  at: string;
  by: string;
  kind: AssignmentKind;
  /** Promoted with --force past a gate that refused it. */
  forced: boolean;
  reason: string | null;
}

export interface Channel extends ChannelGate {
  name: string;
  createdAt: string;
  /** The image the channel points to now, if any. */
  current: Assignment | null;
  /** When the current image was revoked: the channel says so. */
  revoked: Revocation | null;
}

const CHANNEL_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Checks a channel name: lowercase letters, digits, `.`, `_` and `-`, up to 63. */
export function checkChannelName(name: string): string {
  if (!CHANNEL_NAME.test(name))
    throw new UsageError('BAD_CHANNEL_NAME', `"${name}" is not a channel name`, {
      hint: 'use lowercase letters, digits, ".", "_" and "-", starting with a letter or digit (dev, prod, canary-eu)',
    });
  return name;
}

interface ChannelRow {
  name: string;
  audit_threshold: string;
  blocks: string;
  created_at: string;
}

export interface AssignmentRow {
  id: number;
  channel: string;
  image_id: string;
  at: string;
  by: string;
  kind: string;
  forced: number;
  reason: string | null;
}

export function fromAssignmentRow(row: AssignmentRow): Assignment {
  return {
    id: row.id,
    channel: row.channel,
    imageId: row.image_id,
    at: row.at,
    by: row.by,
    kind: row.kind as AssignmentKind,
    forced: row.forced === 1,
    reason: row.reason,
  };
}

/**
 * Creates a channel, or changes its gate when it exists and a gate is given. A channel named
 * by a promotion that does not exist yet is created with DEFAULT_GATE.
 */
export function configureChannel(
  registry: Registry,
  name: string,
  gate: Partial<ChannelGate> = {},
  reason: string | null = null,
): Channel {
  checkChannelName(name);
  if (gate.auditThreshold !== undefined && !SEVERITIES.includes(gate.auditThreshold))
    throw new UsageError('BAD_SEVERITY', `"${String(gate.auditThreshold)}" is not a severity`, {
      hint: `use one of ${SEVERITIES.join(', ')}`,
    });
  registry.db
    .transaction(() => {
      const row = registry.db.prepare('SELECT * FROM channels WHERE name = ?').get(name) as
        ChannelRow | undefined;
      if (row === undefined) {
        const settings = { ...DEFAULT_GATE, ...gate };
        registry.db
          .prepare('INSERT INTO channels (name, audit_threshold, blocks, created_at) VALUES (?, ?, ?, ?)')
          .run(name, settings.auditThreshold, JSON.stringify(settings.blocks), nowIso());
        appendEvent(registry, 'channel.create', name, reason, { ...settings });
        return;
      }
      if (gate.auditThreshold === undefined && gate.blocks === undefined) return;
      const settings = {
        auditThreshold: gate.auditThreshold ?? (row.audit_threshold as Severity),
        blocks: gate.blocks ?? (JSON.parse(row.blocks) as VerifyClass[]),
      };
      registry.db
        .prepare('UPDATE channels SET audit_threshold = ?, blocks = ? WHERE name = ?')
        .run(settings.auditThreshold, JSON.stringify(settings.blocks), name);
      appendEvent(registry, 'channel.configure', name, reason, { ...settings });
    })
    .immediate();
  return getChannel(registry, name) as Channel;
}

/** The channel with this name, if it exists. */
export function getChannel(registry: Registry, name: string): Channel | undefined {
  const row = registry.db.prepare('SELECT * FROM channels WHERE name = ?').get(name) as
    ChannelRow | undefined;
  return row === undefined ? undefined : fromChannelRow(registry, row);
}

/** Every channel, by name. */
export function listChannels(registry: Registry): Channel[] {
  const rows = registry.db.prepare('SELECT * FROM channels ORDER BY name').all() as ChannelRow[];
  return rows.map((row) => fromChannelRow(registry, row));
}

function fromChannelRow(registry: Registry, row: ChannelRow): Channel {
  const current = currentAssignment(registry, row.name);
  return {
    name: row.name,
    createdAt: row.created_at,
    auditThreshold: row.audit_threshold as Severity,
    blocks: JSON.parse(row.blocks) as VerifyClass[],
    current,
    revoked: current === null ? null : (revocationOf(registry, current.imageId) ?? null),
  };
}

/** The channel's assignments, oldest first. */
export function channelHistory(registry: Registry, name: string): Assignment[] {
  const rows = registry.db
    .prepare('SELECT * FROM assignments WHERE channel = ? ORDER BY id')
    .all(name) as AssignmentRow[];
  return rows.map(fromAssignmentRow);
}

function currentAssignment(registry: Registry, name: string): Assignment | null {
  const row = registry.db
    .prepare('SELECT * FROM assignments WHERE channel = ? ORDER BY id DESC LIMIT 1')
    .get(name) as AssignmentRow | undefined;
  return row === undefined ? null : fromAssignmentRow(row);
}

/**
 * The images a channel has stood on, as a stack: a promotion pushes its image, a rollback
 * pops back to the one below. The last entry is the current image; the one before it is
 * where a rollback goes.
 */
export function channelStack(history: readonly Assignment[]): Assignment[] {
  const stack: Assignment[] = [];
  for (const assignment of history) {
    if (assignment.kind === 'rollback') {
      stack.pop();
      // The rollback's own row stands for the image it returned to.
      stack.pop();
    }
    stack.push(assignment);
  }
  return stack;
}

/** Inserts an assignment and its event; call inside a transaction. */
export function insertAssignment(
  registry: Registry,
  channel: string,
  imageId: string,
  kind: AssignmentKind,
  forced: boolean,
  reason: string | null,
  details: Record<string, unknown> = {},
): Assignment {
  const id = Number(
    registry.db
      .prepare(
        'INSERT INTO assignments (channel, image_id, at, by, kind, forced, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(channel, imageId, nowIso(), registry.user, kind, forced ? 1 : 0, reason).lastInsertRowid,
  );
  appendEvent(
    registry,
    kind === 'rollback' ? 'channel.rollback' : forced ? 'promote.forced' : 'promote',
    channel,
    reason,
    {
      image: imageId,
      ...details,
    },
  );
  const row = registry.db.prepare('SELECT * FROM assignments WHERE id = ?').get(id) as AssignmentRow;
  return fromAssignmentRow(row);
}
