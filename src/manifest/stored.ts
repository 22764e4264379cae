import { join } from 'node:path';
import { z } from 'zod';
import { EnvironmentError } from '../core/errors.js';
import { readCappedFile } from '../core/read-capped.js';
import type { DpkgState } from '../debian/dpkg-status.js';

/** A package of a stored manifest, as `manifest.json` records it. */
export interface StoredPackage {
  name: string;
  version: string;
  architecture: string;
  /** dpkg's state (`installed`, `config-files`, …), as recorded. */
  state: string;
}

/** The parts of an image's stored `manifest.json` that later steps read (the rest is kept on disk). */
export interface StoredManifest {
  digest: string;
  /** os-release's ID and VERSION_CODENAME, when the image has one. */
  os: { id: string | null; codename: string | null } | null;
  packages: StoredPackage[];
}

/** A manifest is a few megabytes at most (the dpkg database of a large image, with every unit). */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

const ManifestFileSchema = z.looseObject({
  digest: z.string(),
  os: z.looseObject({ id: z.string().nullable(), codename: z.string().nullable() }).nullable(),
  packages: z.array(
    z.looseObject({
      name: z.string(),
      version: z.string(),
      architecture: z.string(),
      state: z.string(),
    }),
  ),
});

/**
 * Reads `manifest.json` of a stored image (`images/<id>/`) through its schema. A missing or
 * damaged manifest is an error naming the file: the store holds no image without one.
 */
export function readStoredManifest(imageDir: string): StoredManifest {
  const path = join(imageDir, 'manifest.json');
  const read = readCappedFile(path, MAX_MANIFEST_BYTES);
  const damaged = (why: string, cause?: unknown) =>
    new EnvironmentError('MANIFEST_UNREADABLE', `${path}: ${why}`, {
      hint: 'the image store is damaged: bake or import the image again',
      ...(cause === undefined ? {} : { cause }),
    });
  if (!read.ok) throw damaged(read.reason === 'missing' ? 'no such file' : `cannot be read (${read.reason})`);
  let json: unknown;
  try {
    json = JSON.parse(read.data.toString('utf8'));
  } catch (error) {
    throw damaged('is not JSON', error);
  }
  const parsed = ManifestFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw damaged(
      `is not a goldgate manifest (${issue === undefined ? '' : `${issue.path.join('.')}: ${issue.message}`})`,
    );
  }
  const { digest, os, packages } = parsed.data;
  return {
    digest,
    os: os === null ? null : { id: os.id, codename: os.codename },
    packages: packages.map((p) => ({
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      state: p.state,
    })),
  };
}

const INSTALLED: ReadonlySet<string> = new Set<DpkgState>([
  'installed',
  'triggers-awaited',
  'triggers-pending',
]);

/** The packages dpkg counts as installed (their files on disk and configured). */
export function installedPackages(manifest: StoredManifest): StoredPackage[] {
  return manifest.packages.filter((p) => INSTALLED.has(p.state));
}
