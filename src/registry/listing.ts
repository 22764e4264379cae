import type { AssignmentRow } from './channels.js';
import { fromAssignmentRow } from './channels.js';
import type { Assignment } from './channels.js';
import type { Registry } from './db.js';
import type { RegisteredImage } from './images.js';
import { fromAuditRow, fromVerificationRow } from './proofs.js';
import type { AuditRow, StoredAudit, StoredVerification, VerificationRow } from './proofs.js';
import { fromRevocationRow } from './revoke.js';
import type { Revocation, RevocationRow } from './revoke.js';

/** An image with what the gate knows of it now: where it stands, whether revoked, its newest proofs. */
export interface ImageStatus {
  image: RegisteredImage;
  /** The channels whose current image it is, by name. */
  channels: string[];
  revoked: Revocation | null;
  /** The newest audit stored for the image (its id and digest). */
  audit: StoredAudit | null;
  /** The newest verification stored for the image (its id and digest): what the gate judges. */
  verification: StoredVerification | null;
}

/**
 * The status of each image, in the order given. A handful of queries whatever the number of
 * images (one per table, not one per image), so that `goldgate images` stays fast on a store
 * of thousands.
 */
export function imageStatuses(registry: Registry, images: readonly RegisteredImage[]): ImageStatus[] {
  const { db } = registry;
  const revocations = new Map(
    (db.prepare('SELECT * FROM revocations').all() as RevocationRow[]).map((row) => [
      row.image_id,
      fromRevocationRow(row),
    ]),
  );
  const audits = new Map(
    (
      db
        .prepare('SELECT * FROM audits WHERE id IN (SELECT MAX(id) FROM audits GROUP BY image_id, digest)')
        .all() as AuditRow[]
    ).map((row) => [`${row.image_id}\0${row.digest}`, fromAuditRow(row)]),
  );
  const verifications = new Map(
    (
      db
        .prepare(
          'SELECT * FROM verifications WHERE id IN (SELECT MAX(id) FROM verifications GROUP BY image_id, digest)',
        )
        .all() as VerificationRow[]
    ).map((row) => [`${row.image_id}\0${row.digest}`, fromVerificationRow(row)]),
  );
  const onChannels = new Map<string, string[]>();
  for (const current of currentAssignments(registry))
    onChannels.set(current.imageId, [...(onChannels.get(current.imageId) ?? []), current.channel]);
  return images.map((image) => ({
    image,
    channels: onChannels.get(image.id) ?? [],
    revoked: revocations.get(image.id) ?? null,
    audit: audits.get(`${image.id}\0${image.digest}`) ?? null,
    verification: verifications.get(`${image.id}\0${image.digest}`) ?? null,
  }));
}

/** The current assignment of every channel that has one, by channel name. */
export function currentAssignments(registry: Registry): Assignment[] {
  const rows = registry.db
    .prepare(
      'SELECT * FROM assignments WHERE id IN (SELECT MAX(id) FROM assignments GROUP BY channel) ORDER BY channel',
    )
    .all() as AssignmentRow[];
  return rows.map(fromAssignmentRow);
}
