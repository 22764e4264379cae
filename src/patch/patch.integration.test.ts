import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect } from 'vitest';
import { bake } from '../bake/bake.js';
import type { BakeOptions } from '../bake/bake.js';
import { buildDeb } from '../repo/build-deb.js';
import { createRepo, publish } from '../repo/repo.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { tempDir } from '../test-support/tree.js';
import { preparePatch } from './patch.js';

const PACKAGES = join(import.meta.dirname, '../../examples/acme/packages');

/** The fixed acme image on the shared test base's request, taking updates from the lab's security suite. */
const SPEC = `name: acme-web
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, unattended-upgrades, acme-runtime]
repositories:
  - lab: acme
    suites: [bookworm, bookworm-security]
health:
  - command: { argv: [/usr/lib/acme/health] }
`;

interface ManifestFile {
  packages: { name: string; version: string; architecture: string; state: string }[];
}
const packagesOf = (imageDir: string): Map<string, string> =>
  new Map(
    (JSON.parse(readFileSync(join(imageDir, 'manifest.json'), 'utf8')) as ManifestFile).packages.map((p) => [
      `${p.name}:${p.architecture}`,
      `${p.version} ${p.state}`,
    ]),
  );

describe('a patch candidate', () => {
  itWithBase(
    'bakes into an image that differs from its parent by exactly the approved update',
    async () => {
      const home = tempDir('goldgate-patch-bake-');
      const debs = tempDir();
      await createRepo('acme', { home });
      await publish('acme', [await buildDeb(join(PACKAGES, 'acme-runtime-1.0'), debs)], {
        home,
        suite: 'bookworm',
      });
      const specPath = join(home, 'acme.yaml');
      writeFileSync(specPath, SPEC);
      const options: BakeOptions = {
        home,
        cacheDir: dirname(dirname(dirname(baseRootfs() ?? ''))),
        basePolicy: 'any',
      };
      const parent = (await bake(specPath, options)).image;

      // The security update is published after the image was baked.
      await publish('acme', [await buildDeb(join(PACKAGES, 'acme-runtime-1.0+deb12u1'), debs)], {
        home,
        suite: 'bookworm-security',
        origin: 'Debian',
        label: 'Debian-Security',
        codename: 'bookworm-security',
      });
      const patched = await preparePatch(specPath, { home, hostRoot: tempDir('goldgate-host-') });
      expect(patched.plan.image.id).toBe(parent.id);
      expect(patched.plan.approved.map((d) => `${d.update.name} ${d.update.from} -> ${d.update.to}`)).toEqual(
        ['acme-runtime 1.0 -> 1.0+deb12u1'],
      );

      const candidate = (await bake(patched.candidate?.path ?? '', options)).image;
      expect(candidate).toMatchObject({ name: 'acme-web', parent: parent.id, autoUpdates: 'disabled' });
      const before = packagesOf(parent.path);
      const after = packagesOf(candidate.path);
      const changed = [...new Set([...before.keys(), ...after.keys()])]
        .filter((key) => before.get(key) !== after.get(key))
        .map((key) => `${key} ${before.get(key) ?? '-'} -> ${after.get(key) ?? '-'}`);
      expect(changed).toEqual(['acme-runtime:all 1.0 installed -> 1.0+deb12u1 installed']);
    },
    600_000,
  );
});
