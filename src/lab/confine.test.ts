import { describe, expect, it } from 'vitest';
import { makeTree, tempDir } from '../test-support/tree.js';
import { launchInstance } from './instance.js';

// The lab reads the image as if chrooted: a link in the image never makes a host file count.

const asRoot = process.getuid?.() === 0 ? it : it.skip;

describe('lab instance preparation reads the image, not the host', () => {
  asRoot('a cloud-init link to a program that exists only on the host is no cloud-init', async () => {
    const rootfs = makeTree({
      '/lib/systemd/systemd': { content: '#!/bin/sh\n', mode: 0o755 },
      '/usr/bin/cloud-init': { link: '/bin/sh' },
      ...Object.fromEntries(
        ['/proc', '/sys', '/dev', '/run', '/tmp'].map((d) => [d, { dir: true as const }]),
      ),
    });
    await expect(
      launchInstance({ rootfs, home: tempDir('goldgate-lab-'), userData: '#cloud-config\n' }),
    ).rejects.toMatchObject({ code: 'LAB_NO_CLOUD_INIT' });
  });
});
