import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect } from 'vitest';
import { collectingSink } from '../core/events.js';
import { findImage } from '../images/store.js';
import { manifestOf } from '../manifest/manifest.js';
import { buildDeb } from '../repo/build-deb.js';
import { createRepo, publish } from '../repo/repo.js';
import { baseRootfs, copyOfBase, itWithBase } from '../test-support/base-image.js';
import { tempDir } from '../test-support/tree.js';
import { bake } from './bake.js';
import type { BakeOptions } from './bake.js';

const EXAMPLES = join(import.meta.dirname, '../../examples/acme/packages');

/** The as-found acme image (automatic updates on) on the shared test base's request. */
const PARENT = `name: acme-web
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, unattended-upgrades, acme-runtime]
repositories:
  - lab: acme
    suites: [bookworm]
autoUpdates: enabled
`;

/** What a team adds on top of an image it did not build: a file, a service, a health check. */
function derived(from: string, extra = ''): string {
  return `name: acme-lab
base:
  from: ${from}
files:
  - path: /etc/acme/lab.conf
    content: "lab=1\\n"
  - path: /etc/systemd/system/acme-lab.service
    content: |
      [Unit]
      Description=acme lab probe
      [Service]
      ExecStart=/usr/lib/acme/health
      [Install]
      WantedBy=multi-user.target
services:
  enable: [acme-lab]
health:
  - unit: { name: acme-lab }
${extra}`;
}

/** A GOLDGATE_HOME with the acme repository (1.0 in bookworm). */
async function labHome(): Promise<string> {
  const home = tempDir('goldgate-derive-');
  await createRepo('acme', { home });
  await publish('acme', [await buildDeb(join(EXAMPLES, 'acme-runtime-1.0'), tempDir())], {
    suite: 'bookworm',
    home,
  });
  return home;
}

function writeSpec(home: string, name: string, text: string): string {
  const path = join(home, name);
  writeFileSync(path, text);
  return path;
}

function options(home: string, sink = collectingSink()): BakeOptions {
  const cacheDir = dirname(dirname(dirname(baseRootfs() ?? '')));
  return { home, cacheDir, basePolicy: 'any', sink };
}

describe('bake from a parent image (base.from)', () => {
  itWithBase(
    'derives from a stored image: parent recorded, changes applied, auto-updates remediated, parent untouched',
    async () => {
      const home = await labHome();
      const parent = (await bake(writeSpec(home, 'parent.yaml', PARENT), options(home))).image;
      expect(parent.audit.after.rulesWithFindings).toContain('apt-unattended-upgrades');
      const parentManifest = readFileSync(join(parent.path, 'manifest.json'), 'utf8');

      const sink = collectingSink();
      const spec = writeSpec(
        home,
        'derived.yaml',
        derived(
          parent.id,
          'packages: [acme-runtime]\nrepositories:\n  - lab: acme\n    suites: [bookworm]\n',
        ),
      );
      const { image, existing } = await bake(spec, options(home, sink));
      expect(existing).toBe(false);
      expect(image.id).not.toBe(parent.id);
      const record = JSON.parse(readFileSync(join(image.path, 'image.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(record).toMatchObject({ name: 'acme-lab', parent: parent.id, base: `from:${parent.id}` });
      const root = join(image.path, 'rootfs');
      expect(readFileSync(join(root, 'etc/acme/lab.conf'), 'utf8')).toBe('lab=1\n');
      expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/acme-lab.service'))).toBe(
        '/etc/systemd/system/acme-lab.service',
      );
      // autoUpdates: disabled on a parent with unattended-upgrades on: the remediations are applied.
      expect(image.audit.before.rulesWithFindings).toContain('apt-unattended-upgrades');
      expect(image.audit.applied).toBeGreaterThan(0);
      expect(image.audit.after.total).toBe(0);
      const baseStep = sink.events.find((e) => e.type === 'progress' && e.step === 'base' && e.done === true);
      expect(baseStep).toMatchObject({ message: `from ${parent.id}` });

      // The parent is as it was: same manifest, none of the child's changes.
      expect((await manifestOf(join(parent.path, 'rootfs'))).digest).toBe(parent.digest);
      expect(readFileSync(join(parent.path, 'manifest.json'), 'utf8')).toBe(parentManifest);
      expect(existsSync(join(parent.path, 'rootfs/etc/acme/lab.conf'))).toBe(false);
      expect(findImage(parent.id, home)?.autoUpdates).toBe('enabled');
    },
    600_000,
  );

  itWithBase(
    'derives from a root filesystem directory, recording its absolute path; parents never share an id',
    async () => {
      const home = await labHome();
      const rootfs = copyOfBase();
      const { image } = await bake(writeSpec(home, 'derived.yaml', derived(rootfs)), options(home));
      expect(image.parent).toBe(rootfs);
      expect(image.base).toBe(`from:${rootfs}`);
      expect(readFileSync(join(image.path, 'rootfs/etc/acme/lab.conf'), 'utf8')).toBe('lab=1\n');
      expect(image.audit.after.total).toBe(0);

      // The same tree under another path is another parent: another image.
      const again = join(tempDir(), 'rootfs');
      execFileSync('cp', ['-a', rootfs, again]);
      const other = await bake(writeSpec(home, 'other.yaml', derived(again)), options(home));
      expect(other.image.digest).toBe(image.digest);
      expect(other.image.id).not.toBe(image.id);
    },
    600_000,
  );

  itWithBase(
    'refuses Debian packages no lab repository offers, before anything is copied',
    async () => {
      const home = await labHome();
      const spec = writeSpec(
        home,
        'derived.yaml',
        derived(
          baseRootfs() ?? '',
          'packages: [acme-runtime, curl]\nrepositories:\n  - lab: acme\n    suites: [bookworm]\n',
        ),
      );
      const error = (await bake(spec, options(home)).catch((e: unknown) => e)) as Record<string, unknown>;
      expect(error).toMatchObject({
        code: 'BAKE_DERIVED_PACKAGES',
        fault: 'user',
        hint: 'a derived image installs packages only from lab repositories or debs; put them in the parent image',
      });
      expect(error.message).toMatch(/^packages: curl is offered by no lab repository of the spec/);
      expect(existsSync(join(home, 'images')) ? readdirSync(join(home, 'images')) : []).toEqual([]);
    },
    600_000,
  );
});
