import { statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { findImage, isImageId } from './store.js';
import type { StoredImage } from './store.js';

/** An image as a command names it, resolved to what can be read. */
export interface ResolvedImage {
  kind: 'stored' | 'directory' | 'tarball';
  /** What to read: the root filesystem directory, or the tarball. */
  source: string;
  /** For a stored image, its record. */
  stored?: StoredImage;
}

export interface ResolveImageOptions {
  /** Whether the command reads a .tar / .tar.gz (audit, manifest) or needs a directory (lab, verify). */
  tarball: boolean;
  /** goldgate's data directory; default goldgateHome(). */
  home?: string;
}

/**
 * The one reading of an image reference shared by audit, manifest, lab launch and verify:
 * `img-<12 hex>` names a stored image (goldgate images), anything else is a path: a root
 * filesystem directory or, where the command reads one, a tarball of it. A stored id wins
 * over a file of the same name in the working directory; `./img-…` names the file.
 */
export function resolveImageRef(ref: string, options: ResolveImageOptions): ResolvedImage {
  const forms = options.tarball
    ? 'give a root filesystem directory, a .tar / .tar.gz of one, or a stored image id (goldgate images lists them)'
    : 'give a root filesystem directory or a stored image id (goldgate images lists them)';
  if (isImageId(ref)) {
    const stored = findImage(ref, options.home);
    if (stored !== undefined) return { kind: 'stored', source: join(stored.path, 'rootfs'), stored };
  }
  const stats = statSync(ref, { throwIfNoEntry: false });
  if (stats === undefined) {
    if (isImageId(ref))
      throw new UsageError('IMAGE_NOT_STORED', `no stored image ${ref} (goldgate images lists them)`, {
        hint: forms,
      });
    throw new UsageError('IMAGE_NOT_FOUND', `${ref} does not exist`, { hint: forms });
  }
  if (stats.isDirectory()) return { kind: 'directory', source: ref };
  if (stats.isFile()) {
    if (options.tarball) return { kind: 'tarball', source: ref };
    throw new UsageError('IMAGE_NOT_DIRECTORY', `${ref} is a file, not a root filesystem directory`, {
      hint: 'import it first (goldgate image import FILE --name NAME), then give the id it prints',
    });
  }
  throw new UsageError('IMAGE_NOT_FILE', `${ref} is neither a directory nor a file`, { hint: forms });
}
