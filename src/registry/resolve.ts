import { UsageError } from '../core/errors.js';
import { isImageId } from '../images/store.js';
import type { Registry } from './db.js';
import { fromImageRow, getImage, registeredImages } from './images.js';
import type { RegisteredImage } from './images.js';

/** What a name (not an id) means: the newest image of that name, or only a name with one image. */
export type ByName = 'newest' | 'unique';

/** An image named by a command, and how the name was read. */
export interface NamedImage {
  image: RegisteredImage;
  /** How `ref` named it: its whole id, a prefix of its id, or its name. */
  by: 'id' | 'prefix' | 'name';
  /** For a name: how many images have it. */
  ofName?: number;
}

const PREFIX = /^img-[0-9a-f]{1,11}$/;
const LIST_HINT = 'goldgate images lists them';

/**
 * Reads an image reference of the gate's commands (promote, revoke): a whole id as
 * `resolveImageRef` reads it (`img-` and 12 hex digits, the same "no stored image" answer), a
 * unique prefix of an id (`img-3f2a`), or an image name: its newest image (`byName: 'newest'`,
 * for promote) or its only one (`'unique'`, for revoke: revoking the newest of several by a
 * name is too easy a mistake). The registry must have indexed the store first (`indexStore`).
 */
export function resolveRegisteredImage(registry: Registry, ref: string, byName: ByName): NamedImage {
  if (isImageId(ref)) {
    const image = getImage(registry, ref);
    if (image === undefined)
      throw new UsageError('IMAGE_NOT_STORED', `no stored image ${ref} (${LIST_HINT})`, {
        hint: 'give a stored image id, a unique prefix of one, or an image name',
      });
    return { image, by: 'id' };
  }
  if (PREFIX.test(ref)) {
    const rows = registry.db
      .prepare('SELECT * FROM images WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC, id LIMIT 11')
      .all(ref.length, ref) as Parameters<typeof fromImageRow>[1][];
    const matches = rows.map((row) => fromImageRow(registry, row));
    if (matches.length === 1) return { image: matches[0] as RegisteredImage, by: 'prefix' };
    if (matches.length === 0)
      throw new UsageError('IMAGE_NOT_STORED', `no stored image starts with ${ref} (${LIST_HINT})`, {
        hint: 'give a stored image id, a unique prefix of one, or an image name',
      });
    throw new UsageError('IMAGE_AMBIGUOUS', `${ref} is the start of several images: ${list(matches)}`, {
      hint: 'give more of the id',
    });
  }
  const named = registeredImages(registry, ref);
  if (named.length === 0)
    throw new UsageError('IMAGE_NOT_STORED', `no stored image named or identified ${ref} (${LIST_HINT})`, {
      hint: 'give a stored image id (img- and 12 hex digits), a unique prefix of one, or an image name',
    });
  if (byName === 'unique' && named.length > 1)
    throw new UsageError('IMAGE_AMBIGUOUS', `${named.length} images are named ${ref}: ${list(named)}`, {
      hint: 'give the id of the one you mean (goldgate images --lineage shows them)',
    });
  return { image: named[0] as RegisteredImage, by: 'name', ofName: named.length };
}

function list(images: readonly RegisteredImage[]): string {
  const shown = images.slice(0, 10).map((i) => `${i.id} (${i.createdAt})`);
  return images.length > 10 ? `${shown.join(', ')}, …` : shown.join(', ');
}
