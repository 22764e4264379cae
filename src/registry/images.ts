import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findImage, imagesDir, isImageId } from '../images/store.js';
import type { ImageSource, StoredImage } from '../images/store.js';
import type { Registry } from './db.js';
import { nowIso, openRegistry } from './db.js';
import { appendEvent } from './events.js';
import { recordAudit, recordVerification } from './proofs.js';
import type { AuditSummary } from '../audit/engine.js';

/** An image as the registry indexes it. */
export interface RegisteredImage {
  id: string;
  name: string;
  digest: string;
  /** The image it was derived from: an image id, or the path of a root filesystem. */
  parent: string | null;
  spec: string | null;
  source: ImageSource | null;
  base: string | null;
  autoUpdates: 'disabled' | 'enabled';
  createdAt: string;
  recordedAt: string;
  /** The image's directory under `images/`; the root filesystem is its `rootfs/`. */
  path: string;
}

export interface ImageRow {
  id: string;
  name: string;
  digest: string;
  parent: string | null;
  spec: string | null;
  source: string | null;
  base: string | null;
  auto_updates: string;
  created_at: string;
  recorded_at: string;
}

export function fromImageRow(registry: Registry, row: ImageRow): RegisteredImage {
  return {
    id: row.id,
    name: row.name,
    digest: row.digest,
    parent: row.parent,
    spec: row.spec,
    source: row.source === null ? null : (JSON.parse(row.source) as ImageSource),
    base: row.base,
    autoUpdates: row.auto_updates === 'enabled' ? 'enabled' : 'disabled',
    createdAt: row.created_at,
    recordedAt: row.recorded_at,
    path: join(imagesDir(registry.home), row.id),
  };
}

/**
 * Records a registered image (bake, import) and the audit it was baked with, with an event
 * saying how it came. Recording an image that is already there changes nothing.
 */
export function recordImage(
  registry: Registry,
  image: StoredImage,
  how: 'bake' | 'import' | 'index',
  reason: string | null = null,
): RegisteredImage {
  registry.db
    .transaction(() => {
      if (registry.db.prepare('SELECT 1 FROM images WHERE id = ?').get(image.id) !== undefined) return;
      registry.db
        .prepare(
          `INSERT INTO images (id, name, digest, parent, spec, source, base, auto_updates, created_at, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          image.id,
          image.name,
          image.digest,
          image.parent ?? null,
          image.spec === '' ? null : image.spec,
          image.source === undefined ? null : JSON.stringify(image.source),
          image.base === '' ? null : image.base,
          image.autoUpdates,
          image.createdAt,
          nowIso(),
        );
      // The audit stored with the image: of the image as registered (after its remediations).
      recordAudit(
        registry,
        { id: image.id, digest: image.digest },
        image.audit.after,
        how === 'import' ? 'import' : 'bake',
        image.createdAt,
      );
      appendEvent(registry, `image.${how}`, image.id, reason, {
        name: image.name,
        digest: image.digest,
        ...(image.parent === undefined ? {} : { parent: image.parent }),
      });
    })
    .immediate();
  return getImage(registry, image.id) as RegisteredImage;
}

/** The image with this id, if the registry has it. */
export function getImage(registry: Registry, id: string): RegisteredImage | undefined {
  const row = registry.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
  return row === undefined ? undefined : fromImageRow(registry, row);
}

/** Every image, newest first; those of one name only when given. */
export function registeredImages(registry: Registry, name?: string): RegisteredImage[] {
  const rows = (
    name === undefined
      ? registry.db.prepare('SELECT * FROM images ORDER BY created_at DESC, id')
      : registry.db.prepare('SELECT * FROM images WHERE name = ? ORDER BY created_at DESC, id')
  ).all(...(name === undefined ? [] : [name])) as ImageRow[];
  return rows.map((row) => fromImageRow(registry, row));
}

/**
 * Indexes the images of the store that the registry does not know: images baked before the
 * registry existed, and one whose process was killed between its registration (the rename of
 * its directory) and its record. Returns the ids it indexed.
 */
export function indexStore(registry: Registry): string[] {
  const dir = imagesDir(registry.home);
  if (!existsSync(dir)) return [];
  const known = new Set(
    (registry.db.prepare('SELECT id FROM images').all() as Array<{ id: string }>).map((r) => r.id),
  );
  const indexed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!isImageId(name) || known.has(name)) continue;
    if (!existsSync(join(dir, name, 'image.json'))) continue;
    const image = findImage(name, registry.home);
    if (image === undefined) continue;
    recordImage(registry, image, 'index', 'found in the image store, not yet in the registry');
    indexed.push(name);
  }
  return indexed;
}

/**
 * Records an image that was just registered in the store (bake, import) in the registry of
 * `home`, opening and closing it. The store's rename is what registers an image: when the
 * registry cannot take the record now, the image is indexed the next time the registry is
 * read, and the failure is returned for the caller to warn about.
 */
export function recordInRegistry(home: string, image: StoredImage, how: 'bake' | 'import'): Error | null {
  let registry: Registry | undefined;
  try {
    registry = openRegistry(home);
    recordImage(registry, image, how);
    return null;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    registry?.close();
  }
}

/**
 * Records a `goldgate audit` of a stored image (recording the image too, if the registry did
 * not know it yet), so that the gate can use it.
 */
export function recordAuditInRegistry(home: string, image: StoredImage, summary: AuditSummary): void {
  const registry = openRegistry(home);
  try {
    recordImage(registry, image, 'index');
    recordAudit(registry, image, summary, 'audit');
  } finally {
    registry.close();
  }
}

/**
 * Records a stored proof of `goldgate verify` (recording the image too, if the registry did not
 * know it yet), so that the gate can use it.
 */
export function recordVerificationInRegistry(
  home: string,
  image: StoredImage,
  result: Parameters<typeof recordVerification>[2],
): void {
  const registry = openRegistry(home);
  try {
    recordImage(registry, image, 'index');
    recordVerification(registry, image, result);
  } finally {
    registry.close();
  }
}
