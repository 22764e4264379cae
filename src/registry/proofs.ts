import type { AuditSummary } from '../audit/engine.js';
import { SEVERITIES } from '../audit/types.js';
import type { Severity } from '../audit/types.js';
import { REASON_CLASSES } from '../verify/verdict.js';
import type { ReasonClass } from '../verify/types.js';
import type { Registry } from './db.js';
import { nowIso } from './db.js';
import { appendEvent } from './events.js';

/** Where a stored audit came from: the bake's own audit, an import's, or `goldgate audit`. */
export type AuditOrigin = 'bake' | 'import' | 'audit';

/** An audit stored for an image's digest. */
export interface StoredAudit {
  id: number;
  imageId: string;
  digest: string;
  at: string;
  origin: AuditOrigin;
  total: number;
  bySeverity: Record<Severity, number>;
  rules: string[];
  /** The worst severity found, or null for a clean audit. */
  worst: Severity | null;
}

/** The classes of failure a proof can show (docs/verify-json.md): verify's own. */
export const VERIFY_CLASSES = REASON_CLASSES;
export type VerifyClass = ReasonClass;

/** A verification stored for an image's digest: the verdict, why, and where its proof is kept. */
export interface StoredVerification {
  id: number;
  imageId: string;
  digest: string;
  at: string;
  verdict: string;
  classes: VerifyClass[];
  reasons: Array<{ kind: string; class?: string; summary: string }>;
  /** The proof's directory (report.json and its evidence), or null when it was not stored. */
  proof: string | null;
  /** No class of failure at all. */
  passed: boolean;
}

export interface AuditRow {
  id: number;
  image_id: string;
  digest: string;
  at: string;
  origin: string;
  total: number;
  by_severity: string;
  rules: string;
}

export interface VerificationRow {
  id: number;
  image_id: string;
  digest: string;
  at: string;
  verdict: string;
  classes: string;
  reasons: string;
  proof: string | null;
}

/** The worst severity with at least one finding. */
export function worstSeverity(bySeverity: Partial<Record<Severity, number>>): Severity | null {
  return SEVERITIES.find((severity) => (bySeverity[severity] ?? 0) > 0) ?? null;
}

/** Records an audit of an image (the image must be recorded). */
export function recordAudit(
  registry: Registry,
  image: { id: string; digest: string },
  summary: AuditSummary,
  origin: AuditOrigin,
  at: string = nowIso(),
): number {
  return registry.db
    .transaction(() => {
      const id = Number(
        registry.db
          .prepare(
            'INSERT INTO audits (image_id, digest, at, origin, total, by_severity, rules) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            image.id,
            image.digest,
            at,
            origin,
            summary.total,
            JSON.stringify(summary.bySeverity),
            JSON.stringify(summary.rulesWithFindings),
          ).lastInsertRowid,
      );
      appendEvent(registry, 'audit.record', image.id, null, {
        digest: image.digest,
        origin,
        total: summary.total,
        worst: worstSeverity(summary.bySeverity),
      });
      return id;
    })
    .immediate();
}

/** Records a verification of an image (the image must be recorded). */
export function recordVerification(
  registry: Registry,
  image: { id: string; digest: string },
  result: {
    at: string;
    verdict: string;
    classes: readonly VerifyClass[];
    reasons: ReadonlyArray<{ kind: string; class?: string; summary: string }>;
    proof: string | null;
  },
): number {
  return registry.db
    .transaction(() => {
      const id = Number(
        registry.db
          .prepare(
            'INSERT INTO verifications (image_id, digest, at, verdict, classes, reasons, proof) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            image.id,
            image.digest,
            result.at,
            result.verdict,
            JSON.stringify(result.classes),
            JSON.stringify(
              result.reasons.map((r) => ({
                kind: r.kind,
                ...(r.class === undefined ? {} : { class: r.class }),
                summary: r.summary,
              })),
            ),
            result.proof,
          ).lastInsertRowid,
      );
      appendEvent(registry, 'verify.record', image.id, null, {
        digest: image.digest,
        verdict: result.verdict,
        classes: result.classes,
        proof: result.proof,
      });
      return id;
    })
    .immediate();
}

export function fromAuditRow(row: AuditRow): StoredAudit {
  const bySeverity = JSON.parse(row.by_severity) as Record<Severity, number>;
  return {
    id: row.id,
    imageId: row.image_id,
    digest: row.digest,
    at: row.at,
    origin: row.origin as AuditOrigin,
    total: row.total,
    bySeverity,
    rules: JSON.parse(row.rules) as string[],
    worst: worstSeverity(bySeverity),
  };
}

export function fromVerificationRow(row: VerificationRow): StoredVerification {
  const classes = JSON.parse(row.classes) as VerifyClass[];
  return {
    id: row.id,
    imageId: row.image_id,
    digest: row.digest,
    at: row.at,
    verdict: row.verdict,
    classes,
    reasons: JSON.parse(row.reasons) as StoredVerification['reasons'],
    proof: row.proof,
    passed: classes.length === 0,
  };
}

/** The newest audit stored for this digest, if any. */
export function latestAudit(registry: Registry, digest: string): StoredAudit | undefined {
  const row = registry.db
    .prepare('SELECT * FROM audits WHERE digest = ? ORDER BY id DESC LIMIT 1')
    .get(digest) as AuditRow | undefined;
  return row === undefined ? undefined : fromAuditRow(row);
}

/** The newest verification stored for this digest, if any. */
export function latestVerification(registry: Registry, digest: string): StoredVerification | undefined {
  const row = registry.db
    .prepare('SELECT * FROM verifications WHERE digest = ? ORDER BY id DESC LIMIT 1')
    .get(digest) as VerificationRow | undefined;
  return row === undefined ? undefined : fromVerificationRow(row);
}

/**
 * The newest audit of this very image: its id and its digest. The gate reads this one: two
 * images of one digest (the manifest's) may still differ in files the digest does not cover.
 */
export function auditOf(registry: Registry, image: { id: string; digest: string }): StoredAudit | undefined {
  const row = registry.db
    .prepare('SELECT * FROM audits WHERE image_id = ? AND digest = ? ORDER BY id DESC LIMIT 1')
    .get(image.id, image.digest) as AuditRow | undefined;
  return row === undefined ? undefined : fromAuditRow(row);
}

/** The newest verification of this very image (its id and its digest): what the gate reads. */
export function verificationOf(
  registry: Registry,
  image: { id: string; digest: string },
): StoredVerification | undefined {
  const row = registry.db
    .prepare('SELECT * FROM verifications WHERE image_id = ? AND digest = ? ORDER BY id DESC LIMIT 1')
    .get(image.id, image.digest) as VerificationRow | undefined;
  return row === undefined ? undefined : fromVerificationRow(row);
}
