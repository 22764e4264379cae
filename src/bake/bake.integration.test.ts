import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect } from 'vitest';
import { collectingSink } from '../core/events.js';
import { listImages } from '../images/store.js';
import { buildDeb } from '../repo/build-deb.js';
import { createRepo, publish } from '../repo/repo.js';
import { testDeb } from '../repo/test-debs.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { tempDir } from '../test-support/tree.js';
import { bake, BAKE_STEPS } from './bake.js';
import type { BakeOptions } from './bake.js';

const EXAMPLES = join(import.meta.dirname, '../../examples/acme/packages');

/** The acme image on exactly the shared test base's request (so no second bootstrap happens). */
function acmeSpec(autoUpdates: 'enabled' | 'disabled', extra = ''): string {
  return `name: acme-web
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, unattended-upgrades, acme-runtime]
repositories:
  - lab: acme
    suites: [bookworm]
files:
  - path: /etc/systemd/system/acme-httpd.service
    content: |
      [Unit]
      Description=acme web front
      [Service]
      ExecStart=/usr/lib/acme/health
      [Install]
      WantedBy=multi-user.target
  - path: /srv/acme/www/cgi-bin/health
    mode: '0755'
    owner: root:adm
    content: "#!/bin/sh\\necho ok\\n"
services:
  enable: [acme-httpd.service]
autoUpdates: ${autoUpdates}
${extra}`;
}

/** A GOLDGATE_HOME with the acme repository, 1.0 published to bookworm, and a spec in it. */
async function labHome(spec: string): Promise<{ home: string; specPath: string }> {
  const home = tempDir('goldgate-bake-');
  const debs = tempDir();
  await createRepo('acme', { home });
  await publish('acme', [await buildDeb(join(EXAMPLES, 'acme-runtime-1.0'), debs)], {
    suite: 'bookworm',
    home,
  });
  const specPath = join(home, 'spec.yaml');
  writeFileSync(specPath, spec);
  return { home, specPath };
}

function options(home: string, sink = collectingSink()): BakeOptions {
  // The shared base lives at <cache>/bases/<key>/rootfs: bake reuses it whatever its day.
  const cacheDir = dirname(dirname(dirname(baseRootfs() ?? '')));
  return { home, cacheDir, basePolicy: 'any', sink };
}

function inImage(root: string, ...args: string[]): string {
  const run = spawnSync('chroot', [root, ...args], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  if (run.status !== 0) throw new Error(`chroot ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

describe('bake', () => {
  itWithBase(
    'bakes the fixed acme image: lab package, files, services, clean audit; a rebake is the same image',
    async () => {
      const { home, specPath } = await labHome(acmeSpec('disabled'));
      const sink = collectingSink();
      const first = await bake(specPath, options(home, sink));
      expect(first.existing).toBe(false);
      const root = join(first.image.path, 'rootfs');
      expect(first.image.id).toMatch(/^img-[0-9a-f]{12}$/);
      expect(listImages(home).map((i) => i.id)).toEqual([first.image.id]);
      expect(inImage(root, 'dpkg-query', '-W', '-f', '${Version}', 'acme-runtime')).toBe('1.0');
      expect(readFileSync(join(root, 'etc/apt/sources.list.d/goldgate-acme.list'), 'utf8')).toBe(
        'deb [trusted=yes] http://acme.repo.goldgate.internal/ bookworm main\n',
      );
      // The bake's own copy of the repository and its lists are gone: instances fetch from the lab network.
      expect(existsSync(join(root, 'tmp/goldgate-bake-repos'))).toBe(false);
      expect(existsSync(join(root, 'tmp/goldgate-bake-sources.list'))).toBe(false);
      expect(readdirSync(join(root, 'var/lib/apt/lists')).filter((f) => f.includes('goldgate'))).toEqual([]);
      const health = statSync(join(root, 'srv/acme/www/cgi-bin/health'));
      expect(health.mode & 0o7777).toBe(0o755);
      expect(health.gid).toBe(4); // adm in Debian's base-passwd
      expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/acme-httpd.service'))).toBe(
        '/etc/systemd/system/acme-httpd.service',
      );
      expect(existsSync(join(root, 'usr/sbin/policy-rc.d'))).toBe(false);
      expect(first.image.audit.before.total).toBeGreaterThan(0);
      expect(first.image.audit.after.total).toBe(0);
      const record = JSON.parse(readFileSync(join(first.image.path, 'image.json'), 'utf8')) as {
        digest: string;
      };
      expect(record.digest).toBe(first.image.digest);
      expect(existsSync(join(first.image.path, 'manifest.json'))).toBe(true);
      expect(existsSync(join(first.image.path, 'audit.json'))).toBe(true);
      const steps = sink.events.flatMap((e) => (e.type === 'progress' && e.done === true ? [e.step] : []));
      for (const step of BAKE_STEPS) expect(steps).toContain(step);

      const again = await bake(specPath, options(home));
      expect(again.existing).toBe(true);
      expect(again.image.id).toBe(first.image.id);
      expect(readdirSync(join(home, 'images'))).toEqual([first.image.id]);
    },
    600_000,
  );

  itWithBase(
    'bakes the as-found image with its apt findings kept, and removes a dead staging directory',
    async () => {
      const { home, specPath } = await labHome(acmeSpec('enabled'));
      // pid 2^22+1 is above Linux's pid_max: never alive.
      const dead = join(home, 'images', '.staging-4194305-abcdef');
      mkdirSync(join(dead, 'rootfs'), { recursive: true });
      const { image } = await bake(specPath, options(home));
      expect(existsSync(dead)).toBe(false);
      expect(image.audit.after.total).toBeGreaterThan(0);
      expect(image.audit.after.rulesWithFindings).toContain('apt-unattended-upgrades');
      expect(readdirSync(join(home, 'images'))).toEqual([image.id]);
    },
    600_000,
  );

  itWithBase(
    'a failing step (a deb whose dependency is missing) leaves no image and no staging directory',
    async () => {
      const broken = await testDeb('needs-missing', '1', 'all', { Depends: 'no-such-package-xyz' });
      const { home, specPath } = await labHome(acmeSpec('disabled', `debs: [${broken}]\n`));
      await expect(bake(specPath, options(home))).rejects.toMatchObject({ code: 'BAKE_DEB_DEPENDENCIES' });
      expect(listImages(home)).toEqual([]);
      expect(readdirSync(join(home, 'images'))).toEqual([]);
    },
    600_000,
  );
});
