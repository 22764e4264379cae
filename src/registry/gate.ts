import { SEVERITIES } from '../audit/types.js';
import { UsageError } from '../core/errors.js';
import type { Assignment, ChannelGate } from './channels.js';
import { channelHistory, channelStack, configureChannel, insertAssignment } from './channels.js';
import type { Registry } from './db.js';
import { appendEvent } from './events.js';
import { getImage } from './images.js';
import type { RegisteredImage } from './images.js';
import { auditOf, verificationOf } from './proofs.js';
import type { StoredAudit, StoredVerification } from './proofs.js';
import { revocationOf } from './revoke.js';
import type { Revocation } from './revoke.js';

/** What the gate found for one image and one channel. */
export interface GateDecision {
  /** Whether the image may be promoted to the channel. */
  allowed: boolean;
  /** What is missing or failing, one sentence each; empty when allowed. */
  missing: string[];
  audit: StoredAudit | null;
  verification: StoredVerification | null;
  revoked: Revocation | null;
}

/**
 * The gate, as a pure function of what is stored for the image's digest: the newest audit
 * must have nothing at or above the channel's threshold, the newest verification must show
 * no class the channel blocks, and the image must not be revoked.
 */
export function decide(
  gate: ChannelGate,
  stored: { audit?: StoredAudit; verification?: StoredVerification; revoked?: Revocation },
): GateDecision {
  const missing: string[] = [];
  const { audit, verification, revoked } = stored;
  if (revoked !== undefined)
    missing.push(`the image was revoked ${revoked.at} by ${revoked.by}: ${revoked.reason}`);
  if (audit === undefined) missing.push('no stored audit of this image (run goldgate audit <image>)');
  else {
    const limit = SEVERITIES.indexOf(gate.auditThreshold);
    const over = SEVERITIES.filter((s, index) => index <= limit && (audit.bySeverity[s] ?? 0) > 0);
    if (over.length > 0)
      missing.push(
        `its audit has ${over.map((s) => `${audit.bySeverity[s]} ${s}`).join(', ')} finding(s), at or above the channel's threshold (${gate.auditThreshold}): ${audit.rules.join(', ')}`,
      );
  }
  if (verification === undefined)
    missing.push('no stored verify of this image (run goldgate verify <image>)');
  else {
    const blocking = verification.classes.filter((c) => gate.blocks.includes(c));
    if (blocking.length > 0) {
      const why = verification.reasons
        .filter((r) => r.class === undefined || blocking.includes(r.class as never))
        .slice(0, 3)
        .map((r) => r.summary);
      missing.push(
        `its newest verify (${verification.at}) is ${verification.verdict} (${blocking.join(', ')}, which the channel blocks)${why.length > 0 ? `: ${why.join('; ')}` : ''}`,
      );
    }
  }
  return {
    allowed: missing.length === 0,
    missing,
    audit: audit ?? null,
    verification: verification ?? null,
    revoked: revoked ?? null,
  };
}

/** The gate's decision for a recorded image and a channel (created with the default gate when new). */
export function checkGate(registry: Registry, image: RegisteredImage, gate: ChannelGate): GateDecision {
  return decide(gate, {
    audit: auditOf(registry, image),
    verification: verificationOf(registry, image),
    revoked: revocationOf(registry, image.id),
  });
}

export interface PromoteResult {
  image: RegisteredImage;
  channel: string;
  decision: GateDecision;
  /** The new assignment, or null when refused or already current. */
  assignment: Assignment | null;
  /** The channel already pointed to this image. */
  already: boolean;
}

/**
 * Promotes an image to a channel through its gate. A refusal is a result (recorded as an
 * event with what is missing), not an error; `force` promotes past the gate with a reason,
 * recorded as forced. A revoked image is never promoted, forced or not.
 */
export function promote(
  registry: Registry,
  imageId: string,
  channelName: string,
  options: { reason?: string; force?: boolean } = {},
): PromoteResult {
  const reason = options.reason ?? null;
  if (options.force === true && (reason === null || reason.trim() === ''))
    throw new UsageError(
      'FORCE_NEEDS_REASON',
      '--force needs --reason: a forced promotion is recorded with why',
      {
        hint: `goldgate promote ${imageId} --channel ${channelName} --force --reason "…"`,
      },
    );
  const image = requireImage(registry, imageId);
  return registry.db
    .transaction((): PromoteResult => {
      const channel = configureChannel(registry, channelName);
      const decision = checkGate(registry, image, channel);
      if (channel.current?.imageId === image.id)
        return { image, channel: channel.name, decision, assignment: null, already: true };
      const forceable = decision.revoked === null;
      if (!decision.allowed && !(options.force === true && forceable)) {
        appendEvent(registry, 'promote.refused', channel.name, reason, {
          image: image.id,
          digest: image.digest,
          missing: decision.missing,
        });
        return { image, channel: channel.name, decision, assignment: null, already: false };
      }
      const forced = !decision.allowed;
      const assignment = insertAssignment(registry, channel.name, image.id, 'promote', forced, reason, {
        digest: image.digest,
        ...(forced ? { missing: decision.missing } : {}),
        ...(decision.verification === null ? {} : { verification: decision.verification.id }),
        ...(decision.audit === null ? {} : { audit: decision.audit.id }),
      });
      return { image, channel: channel.name, decision, assignment, already: false };
    })
    .immediate();
}

export interface RollbackResult {
  channel: string;
  from: string;
  to: string | null;
  assignment: Assignment | null;
  /** Why the rollback was refused; null when it was done. */
  refused: string | null;
}

/** Moves a channel back to its previous assignment; refused when there is none or it was revoked. */
export function rollbackChannel(
  registry: Registry,
  channelName: string,
  reason: string | null = null,
): RollbackResult {
  return registry.db
    .transaction((): RollbackResult => {
      const history = channelHistory(registry, channelName);
      if (history.length === 0)
        throw new UsageError('CHANNEL_EMPTY', `channel ${channelName} has no image to roll back from`, {
          hint: 'goldgate channels lists the channels and what they point to',
        });
      const stack = channelStack(history);
      const current = stack[stack.length - 1] as Assignment;
      const previous = stack[stack.length - 2];
      const refuse = (why: string): RollbackResult => {
        appendEvent(registry, 'channel.rollback.refused', channelName, reason, {
          from: current.imageId,
          why,
        });
        return {
          channel: channelName,
          from: current.imageId,
          to: previous?.imageId ?? null,
          assignment: null,
          refused: why,
        };
      };
      if (previous === undefined)
        return refuse(`channel ${channelName} has no previous assignment before ${current.imageId}`);
      const revoked = revocationOf(registry, previous.imageId);
      if (revoked !== undefined)
        return refuse(`the previous image ${previous.imageId} was revoked ${revoked.at}: ${revoked.reason}`);
      const assignment = insertAssignment(
        registry,
        channelName,
        previous.imageId,
        'rollback',
        false,
        reason,
        {
          from: current.imageId,
        },
      );
      return { channel: channelName, from: current.imageId, to: previous.imageId, assignment, refused: null };
    })
    .immediate();
}

/** The image with this id in the registry, or a usage error saying it is unknown. */
export function requireImage(registry: Registry, imageId: string): RegisteredImage {
  const image = getImage(registry, imageId);
  if (image === undefined)
    throw new UsageError('IMAGE_NOT_FOUND', `no image ${imageId} in the registry`, {
      hint: 'goldgate images lists the images',
    });
  return image;
}
