import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect } from 'vitest';
import { copyOfBase, itWithBase } from '../test-support/base-image.js';
import { labHomes } from '../test-support/lab-home.js';
import { execInInstance, launchInstance } from './instance.js';

// An instance's preparation (the files the init script binds over the image) against an
// image whose links lead out of it: nothing is created on the host.

const homes = labHomes('goldgate-lab-confine-');
// Not under /tmp: the instance mounts a tmpfs on its /tmp, which would hide a path of the image there.
const outside = mkdtempSync('/var/tmp/goldgate-outside-');
afterAll(() => rmSync(outside, { recursive: true, force: true }));

describe('lab instance preparation confined to the image', { sequential: true }, () => {
  afterEach(homes.cleanUp, 180_000);

  itWithBase(
    "an instance that does not come up within the launch's time is the machine's fault (exit 3), with a hint",
    async () => {
      const home = homes.create();
      const error = await launchInstance({
        rootfs: copyOfBase(),
        home: join(home, 'lab'),
        reposDir: join(home, 'repos'),
        timeoutMs: 1,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'LAB_BOOT_TIMEOUT', fault: 'environment' });
      expect((error as { hint?: string }).hint).toMatch(/lab launch --timeout/);
    },
    120_000,
  );

  itWithBase(
    "an image whose systemd cannot run is the image's fault (exit 2), with its console's words and a hint",
    async () => {
      // A dynamically linked program without its loader in the image: chroot cannot run it.
      const rootfs = mkdtempSync('/var/tmp/goldgate-nosystemd-');
      try {
        for (const dir of ['proc', 'sys', 'dev', 'run', 'tmp', 'etc', 'lib/systemd'])
          mkdirSync(join(rootfs, dir), { recursive: true });
        execFileSync('cp', ['/bin/true', join(rootfs, 'lib/systemd/systemd')]);
        const home = homes.create();
        const error = await launchInstance({
          rootfs,
          home: join(home, 'lab'),
          reposDir: join(home, 'repos'),
        }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'LAB_BOOT_FAILED', fault: 'user' });
        expect((error as Error).message).toMatch(/exited while booting: .*\/lib\/systemd\/systemd/);
        expect((error as { hint?: string }).hint).toMatch(/the image's systemd ended as it booted/);
      } finally {
        rmSync(rootfs, { recursive: true, force: true });
      }
    },
    120_000,
  );

  itWithBase(
    'an image whose /etc is a link to a host directory boots with the lab resolv.conf, and the host directory stays empty',
    async () => {
      const rootfs = copyOfBase();
      // The image's /etc lives, inside the image, at the path of the host directory.
      mkdirSync(dirname(join(rootfs, outside)), { recursive: true });
      renameSync(join(rootfs, 'etc'), join(rootfs, outside));
      rmSync(join(rootfs, outside, 'resolv.conf'), { force: true });
      symlinkSync(outside, join(rootfs, 'etc'));
      const home = homes.create();
      const info = await launchInstance({ rootfs, home: join(home, 'lab'), reposDir: join(home, 'repos') });
      expect(['running', 'degraded']).toContain(info.state);
      expect(readdirSync(outside)).toEqual([]);
      const resolv = await execInInstance(info.id, ['cat', '/etc/resolv.conf'], { home: join(home, 'lab') });
      expect(resolv.stdout).toContain('nameserver');
      expect(readdirSync(outside)).toEqual([]);
    },
    300_000,
  );

  itWithBase(
    'a seed directory linked out of the image is refused before boot, and nothing is made where it points',
    async () => {
      const rootfs = copyOfBase();
      writeFileSync(join(rootfs, 'usr/bin/cloud-init'), '#!/bin/sh\n', { mode: 0o755 });
      mkdirSync(join(rootfs, 'var/lib'), { recursive: true });
      rmSync(join(rootfs, 'var/lib/cloud'), { recursive: true, force: true });
      symlinkSync(outside, join(rootfs, 'var/lib/cloud'));
      const home = homes.create();
      await expect(
        launchInstance({
          rootfs,
          home: join(home, 'lab'),
          reposDir: join(home, 'repos'),
          userData: '#cloud-config\n',
        }),
      ).rejects.toMatchObject({ code: 'LAB_SEED_PATH' });
      expect(readdirSync(outside)).toEqual([]);
      expect(execFileSync('ls', ['-A', outside], { encoding: 'utf8' })).toBe('');
    },
    300_000,
  );
});
