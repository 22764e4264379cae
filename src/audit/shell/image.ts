import { SUBST } from './parse.js';

const DIGEST = /@(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/** Why an image reference can change under the same name, or undefined when a digest pins it. */
export interface ImageVerdict {
  pinned: boolean;
  /** `no digest (tag :1.2)`, `no digest (tag :latest)`, `no tag (implies :latest)`, ... */
  reason: string;
}

/**
 * Judges `[registry[:port]/]path[:tag][@digest]`. Only a well-formed sha256 or sha512 digest
 * pins an image; a tag, even a version-looking one, can be moved. The registry's port is
 * not mistaken for a tag: a tag is a `:` in the last path component only.
 */
export function judgeImage(ref: string, dynamic: boolean): ImageVerdict {
  const at = ref.indexOf('@');
  if (at >= 0) {
    const digest = ref.slice(at);
    if (DIGEST.test(digest)) return { pinned: true, reason: 'pinned by digest' };
    if (/[$`]/.test(digest) || digest.includes(SUBST)) return { pinned: false, reason: 'digest not static' };
    return { pinned: false, reason: `malformed digest (${digest.slice(1)})` };
  }
  const name = ref.slice(ref.lastIndexOf('/') + 1);
  // `%` only comes from systemd specifiers (`%i`): image names cannot hold it.
  if (dynamic && (/[$`%]/.test(name) || name.includes(SUBST))) {
    return { pinned: false, reason: 'reference not static, no digest' };
  }
  const colon = name.indexOf(':');
  if (colon < 0) return { pinned: false, reason: 'no tag (implies :latest)' };
  return { pinned: false, reason: `no digest (tag :${name.slice(colon + 1)})` };
}
