import { checkChannelName } from '../registry/channels.js';
import type { GateDecision, PromoteResult } from '../registry/gate.js';
import type { PipelineRun } from '../registry/pipeline.js';
import type { StoredAudit, StoredVerification } from '../registry/proofs.js';

// The pipeline's decisions, as pure functions of what the registry has recorded: which steps a
// run does and which it skips, where it promotes, and how it ended. Kept apart so that they are
// tested without root, a bake or a lab.

/** Whether a step runs, and why (said in the step's progress and result). */
export interface StepDecision {
  run: boolean;
  why: string;
}

/** How a run ended: see docs/gate.md#pipeline. */
export const PIPELINE_OUTCOMES = ['promoted', 'refused', 'already', 'proven', 'unproven'] as const;
export type PipelineOutcome = (typeof PIPELINE_OUTCOMES)[number];

/**
 * bake: skipped when the run is resumed and had recorded its image before it was interrupted,
 * and that image is still in the registry and the store. A new run always bakes: what the spec
 * installs from its repositories may have changed since the same text was baked (a bake of an
 * unchanged spec gives the same image id and stores nothing new).
 */
export function bakeDecision(
  run: Pick<PipelineRun, 'id' | 'imageId'>,
  resumed: boolean,
  image: { id: string; stored: boolean } | undefined,
): StepDecision {
  if (!resumed || run.imageId === null) return { run: true, why: 'baking the spec' };
  if (image === undefined || image.id !== run.imageId)
    return { run: true, why: `the image run #${run.id} recorded (${run.imageId}) is not in the registry` };
  if (!image.stored)
    return { run: true, why: `the image run #${run.id} recorded (${run.imageId}) is gone from the store` };
  return { run: false, why: `${run.imageId} was baked by run #${run.id} before it was interrupted` };
}

/** audit: skipped when an audit of the image's digest is stored (bake stores the one it made). */
export function auditDecision(audit: StoredAudit | undefined): StepDecision {
  if (audit === undefined) return { run: true, why: 'no stored audit of this image' };
  return { run: false, why: `audited ${audit.at} (${audit.origin}): ${auditSummary(audit)}` };
}

/**
 * verify: skipped when the newest verification of the image's digest is of this very image,
 * whatever it found: the gate judges the newest one. The digest is the manifest's, which covers
 * what decides whether an image changes itself but not every file: another image with the same
 * digest (another file of the spec) is booted too, as its health may differ. Proving an image
 * again is `goldgate verify <image>`.
 */
export function verifyDecision(
  verification: StoredVerification | undefined,
  image: { id: string },
): StepDecision {
  if (verification === undefined) return { run: true, why: 'no stored verify of this image' };
  if (verification.imageId !== image.id)
    return {
      run: true,
      why: `the stored verify of this digest is of ${verification.imageId}, whose files differ: proving ${image.id}`,
    };
  return { run: false, why: `verified ${verification.at}: ${verifySummary(verification)}` };
}

/** The channel a run promotes to: --channel, else the spec's first channel, else none. */
export function targetChannel(
  option: string | undefined,
  spec: { channels?: string[] | undefined },
): string | null {
  if (option !== undefined) return checkChannelName(option);
  return spec.channels?.[0] ?? null;
}

/** What the promote step found, and the run's outcome from it. */
export interface PromoteOutcome {
  outcome: PipelineOutcome;
  /** What the gate found missing or failing (refused, unproven); empty otherwise. */
  missing: string[];
  /** The promote step was skipped (no channel, or the channel already points to the image). */
  skipped: boolean;
  message: string;
}

/**
 * The outcome of a run that reached the promote step: with a channel, the promotion's result;
 * without one, whether the stored proofs pass the default gate (`proven`) or not (`unproven`).
 */
export function promoteOutcome(
  image: { id: string },
  target: { channel: string; promotion: PromoteResult } | { channel: null; decision: GateDecision },
): PromoteOutcome {
  if (target.channel === null) {
    const { decision } = target;
    return decision.allowed
      ? {
          outcome: 'proven',
          missing: [],
          skipped: true,
          message: `no channel to promote to: ${image.id} passes the default gate`,
        }
      : {
          outcome: 'unproven',
          missing: decision.missing,
          skipped: true,
          message: `no channel to promote to, and ${image.id} would not pass the default gate`,
        };
  }
  const { promotion, channel } = target;
  if (promotion.already)
    return {
      outcome: 'already',
      missing: [],
      skipped: true,
      message: `${channel} already points to ${image.id}`,
    };
  if (promotion.assignment === null)
    return {
      outcome: 'refused',
      missing: promotion.decision.missing,
      skipped: false,
      message: `refused: ${image.id} was not promoted to ${channel}`,
    };
  return {
    outcome: 'promoted',
    missing: [],
    skipped: false,
    message: `${channel} → ${image.id}`,
  };
}

/** `0 findings`, `2 findings (worst medium)`. */
export function auditSummary(audit: Pick<StoredAudit, 'total' | 'worst'>): string {
  const findings = `${audit.total} finding${audit.total === 1 ? '' : 's'}`;
  return audit.worst === null ? findings : `${findings} (worst ${audit.worst})`;
}

/** `immutable`, `broken (broken)`. */
export function verifySummary(verification: Pick<StoredVerification, 'verdict' | 'classes'>): string {
  return verification.classes.length === 0
    ? verification.verdict
    : `${verification.verdict} (${verification.classes.join(', ')})`;
}
