import { describe, expect, it } from 'vitest';
import { makeTree, tempDir } from '../test-support/tree.js';
import { prepareBindTargets } from './bind-targets.js';

// The lab's resolv.conf is created owned by root.
const asRoot = process.getuid?.() === 0 ? it : it.skip;

describe("the lab's bind targets", () => {
  asRoot('refuses a seed path that ends on a file, naming the whole path in the hint', () => {
    const rootfs = makeTree({ '/var/lib/cloud/seed/nocloud': 'not a directory\n' });
    expect(() => prepareBindTargets(rootfs, tempDir(), true)).toThrow(
      expect.objectContaining({
        code: 'LAB_SEED_PATH',
        message: `${rootfs}: /var/lib/cloud/seed/nocloud leads nowhere in the image (a link out of it, or a file on the way or at its end): the instance's user-data has nowhere to go`,
        hint: 'make /var/lib/cloud/seed/nocloud a directory of the image, each folder above it a directory or a link inside the image',
      }),
    );
  });
});
