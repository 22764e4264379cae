import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { Registry } from './db.js';
import { nowIso, openRegistry, registryPath } from './db.js';
import { appendEvent } from './events.js';

/** Why an image may no longer be promoted or launched. */
export interface Revocation {
  imageId: string;
  at: string;
  by: string;
  reason: string;
  /** Revoked because its ancestor was (`revoke --descendants`): that ancestor's id. */
  inheritedFrom: string | null;
}

export interface RevocationRow {
  image_id: string;
  at: string;
  by: string;
  reason: string;
  inherited_from: string | null;
}

export const fromRevocationRow = (row: RevocationRow): Revocation => ({
  imageId: row.image_id,
  at: row.at,
  by: row.by,
  reason: row.reason,
  inheritedFrom: row.inherited_from,
});

/** The revocation of an image, if it was revoked. */
export function revocationOf(registry: Registry, imageId: string): Revocation | undefined {
  const row = registry.db.prepare('SELECT * FROM revocations WHERE image_id = ?').get(imageId) as
    RevocationRow | undefined;
  return row === undefined ? undefined : fromRevocationRow(row);
}

/** Every image derived from this one, at any depth, in the order of their lineage. */
export function descendantsOf(registry: Registry, imageId: string): string[] {
  const rows = registry.db
    .prepare(
      `WITH RECURSIVE tree(id) AS (
         SELECT id FROM images WHERE parent = ?
         UNION SELECT images.id FROM images JOIN tree ON images.parent = tree.id
       ) SELECT id FROM tree`,
    )
    .all(imageId) as Array<{ id: string }>;
  return rows.map((row) => row.id);
}

/**
 * Revokes an image, and with `descendants` every image derived from it (each naming the
 * ancestor it inherits the revocation from). An image already revoked keeps its first
 * revocation. Returns the revocations made by this call.
 */
export function revokeImage(
  registry: Registry,
  imageId: string,
  reason: string,
  options: { descendants?: boolean } = {},
): Revocation[] {
  return registry.db
    .transaction(() => {
      const targets = [imageId, ...(options.descendants === true ? descendantsOf(registry, imageId) : [])];
      const made: Revocation[] = [];
      const at = nowIso();
      for (const id of targets) {
        if (revocationOf(registry, id) !== undefined) continue;
        const inheritedFrom = id === imageId ? null : imageId;
        registry.db
          .prepare(
            'INSERT INTO revocations (image_id, at, by, reason, inherited_from) VALUES (?, ?, ?, ?, ?)',
          )
          .run(id, at, registry.user, reason, inheritedFrom);
        appendEvent(registry, 'revoke', id, reason, inheritedFrom === null ? {} : { inheritedFrom });
        made.push({ imageId: id, at, by: registry.user, reason, inheritedFrom });
      }
      return made;
    })
    .immediate();
}

/**
 * The revocation of an image in the registry of `home`, read without creating a registry
 * where there is none (no registry: nothing was ever revoked).
 */
export function revocationInHome(home: string, imageId: string): Revocation | undefined {
  if (!existsSync(registryPath(home))) return undefined;
  const registry = openRegistry(home);
  try {
    return revocationOf(registry, imageId);
  } finally {
    registry.close();
  }
}

/** The error for a revoked image that someone asks to run. */
export function revokedImageError(revocation: Revocation): UsageError {
  return new UsageError(
    'IMAGE_REVOKED',
    `image ${revocation.imageId} was revoked ${revocation.at} by ${revocation.by}: ${revocation.reason}`,
    {
      hint: 'a revoked image is never launched: give the group another image (goldgate channels shows what each channel runs)',
    },
  );
}
