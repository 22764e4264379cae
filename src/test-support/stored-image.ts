import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageRecord } from '../images/store.js';

const summary = {
  total: 0,
  bySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
  rulesRun: 13,
  rulesWithFindings: [],
};

/** A whole `image.json` record, as registerImage writes one; `fields` replace its values. */
export function imageRecord(id: string, fields: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id,
    name: 'acme-web',
    digest: 'sha256:00',
    createdAt: '2026-11-27T10:00:00.000Z',
    spec: '/specs/acme.yaml',
    base: '0123456789abcdef@2026-11-27',
    autoUpdates: 'disabled',
    audit: { before: summary, after: summary, applied: 0, notApplied: 0 },
    ...fields,
  };
}

/**
 * Plants an image in a home's store as bake or import leaves it: `images/<id>/rootfs/` (empty:
 * fill it) and a whole `image.json`. Returns the image's directory.
 */
export function plantImage(home: string, id: string, fields: Partial<ImageRecord> = {}): string {
  const dir = join(home, 'images', id);
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  writeFileSync(join(dir, 'image.json'), JSON.stringify(imageRecord(id, fields)));
  return dir;
}

/**
 * Writes a stored image's `manifest.json` as bake does, with only what the lineage reads:
 * `packages` (`{ name: version }`, each installed, architecture `amd64`).
 */
export function plantManifest(home: string, id: string, packages: Record<string, string>): void {
  const manifest = {
    schema: 'goldgate.manifest/v1',
    digest: `sha256:${id}`,
    packages: Object.entries(packages).map(([name, version]) => ({
      name,
      version,
      architecture: 'amd64',
      status: 'install ok installed',
      state: 'installed',
    })),
  };
  writeFileSync(join(home, 'images', id, 'manifest.json'), JSON.stringify(manifest));
}
