import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRepo, publish } from '../repo/repo.js';
import { testDeb } from '../repo/test-debs.js';
import { plantImage } from './stored-image.js';
import { tempDir } from './tree.js';

/** The image the patch tests start from, and what it has installed. */
export const PATCH_IMAGE = 'img-00000000a001';
export const INSTALLED = [
  { name: 'acme-runtime', version: '1.0', architecture: 'all', state: 'installed' },
  { name: 'acme-tools', version: '2.0', architecture: 'all', state: 'installed' },
  { name: 'acme-old', version: '1.5', architecture: 'all', state: 'installed' },
  // Removed, its configuration kept: not installed, so never patched.
  { name: 'acme-gone', version: '1.0', architecture: 'all', state: 'config-files' },
];

export interface PatchDebs {
  runtimeFix: string;
  runtime10: string;
  tools21: string;
  old14: string;
  old15: string;
  gone20: string;
}

/** The .debs the patch tests publish, built once per test file. */
export async function patchDebs(): Promise<PatchDebs> {
  return {
    runtime10: await testDeb('acme-runtime', '1.0', 'all'),
    runtimeFix: await testDeb('acme-runtime', '1.0+deb12u1', 'all'),
    tools21: await testDeb('acme-tools', '2.1', 'all'),
    old14: await testDeb('acme-old', '1.4', 'all'),
    old15: await testDeb('acme-old', '1.5', 'all'),
    gone20: await testDeb('acme-gone', '2.0', 'all'),
  };
}

/** Writes a stored image's manifest.json with these packages (and no os-release). */
export function plantManifest(imageDir: string, packages: readonly object[], digest = 'sha256:00'): void {
  writeFileSync(
    join(imageDir, 'manifest.json'),
    JSON.stringify({ schema: 'goldgate.manifest/v1', digest, os: null, packages }),
  );
}

/**
 * A goldgate home for patch: the lab repository `acme` with a security suite (published as
 * Debian's: Origin Debian, Label Debian-Security) offering acme-runtime 1.0+deb12u1, and a
 * bookworm suite offering acme-tools 2.1 (not a security update), acme-old 1.4 and 1.5 (not
 * newer than installed) and acme-gone 2.0 (not installed); and the image acme-web to patch.
 */
export async function patchHome(debs: PatchDebs, home = tempDir('goldgate-patch-')): Promise<string> {
  await createRepo('acme', { home });
  await publish('acme', [debs.runtime10, debs.tools21, debs.old14, debs.old15, debs.gone20], {
    home,
    suite: 'bookworm',
  });
  await publish('acme', [debs.runtimeFix], {
    home,
    suite: 'bookworm-security',
    origin: 'Debian',
    label: 'Debian-Security',
    codename: 'bookworm-security',
  });
  plantManifest(
    plantImage(home, PATCH_IMAGE, { name: 'acme-web', digest: 'sha256:a001' }),
    INSTALLED,
    'sha256:a001',
  );
  return home;
}

/** Writes a spec of acme-web deriving from the patch image, with the lab repository and `extra` lines; returns its path. */
export function patchSpec(extra: readonly string[] = []): string {
  const path = join(tempDir('goldgate-patch-spec-'), 'acme.yaml');
  writeFileSync(
    path,
    [
      'name: acme-web',
      `base: { from: ${PATCH_IMAGE} }`,
      'repositories:',
      '  - { lab: acme, suites: [bookworm, bookworm-security] }',
      'health:',
      '  - command: { argv: [/usr/lib/acme/health] }',
      'dnsAllow: [api.acme.example]',
      ...extra,
      '',
    ].join('\n'),
  );
  return path;
}
