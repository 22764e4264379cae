import { UsageError } from '../core/errors.js';
import { getChannel } from '../registry/channels.js';
import type { Registry } from '../registry/db.js';
import { getImage, indexStore, registeredImages } from '../registry/images.js';
import type { RegisteredImage } from '../registry/images.js';
import { revocationOf } from '../registry/revoke.js';

/** The image a patch starts from, and how it was chosen. */
export interface PatchTarget {
  image: RegisteredImage;
  /** `channel`: the image the channel points to; `newest`: the newest image of the name not revoked. */
  chosenBy: 'channel' | 'newest';
  /** The channel looked at, if any. */
  channel: string | null;
  /** Why the channel's image was not taken, when a channel was looked at and `newest` chosen. */
  note: string | null;
}

/**
 * The image to patch: the one `channel` points to (when given and not revoked), else the newest
 * image named `name` that is not revoked. The store is indexed first, so an image baked before
 * the registry existed counts. No image at all is a usage error saying how to make one.
 */
export function patchTarget(registry: Registry, name: string, channel?: string): PatchTarget {
  indexStore(registry);
  let note: string | null = null;
  if (channel !== undefined) {
    const found = getChannel(registry, channel);
    const current = found?.current ?? null;
    if (found === undefined) note = `no channel ${channel} yet`;
    else if (current === null) note = `channel ${channel} points to no image yet`;
    else if (found.revoked !== null) note = `channel ${channel} points to ${current.imageId}, revoked`;
    else {
      const image = getImage(registry, current.imageId);
      if (image !== undefined) return { image, chosenBy: 'channel', channel, note: null };
    }
  }
  const image = registeredImages(registry, name).find(
    (candidate) => revocationOf(registry, candidate.id) === undefined,
  );
  if (image === undefined)
    throw new UsageError(
      'PATCH_NO_IMAGE',
      `no image of ${name} to patch${registeredImages(registry, name).length > 0 ? ' (every one is revoked)' : ''}`,
      {
        hint: `bake one first: goldgate bake <spec>`,
      },
    );
  return { image, chosenBy: 'newest', channel: channel ?? null, note };
}
