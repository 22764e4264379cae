import { join } from 'node:path';
import { buildDeb } from '../repo/build-deb.js';
import { createRepo, publish } from '../repo/repo.js';

// The incident's app in a lab repository, for the tests that bake the example images and
// boot them: acme-runtime 1.0 in the main suite, and its breaking security update published
// later to a suite stock unattended-upgrades trusts as Debian's security archive.

const PACKAGES = join(import.meta.dirname, '../../examples/acme/packages');

/** The breaking security update of acme-runtime. */
export const ACME_UPDATE = '1.0+deb12u1';

/** Creates the lab repository `acme` in `home` with acme-runtime 1.0 in suite bookworm. */
export async function publishAcmeApp(home: string): Promise<void> {
  await createRepo('acme', { home });
  await publish('acme', [await buildDeb(join(PACKAGES, 'acme-runtime-1.0'), join(home, 'debs'))], {
    suite: 'bookworm',
    home,
  });
}

/** Publishes the update to bookworm-security, posing as Debian-Security, as upstream did. */
export async function publishAcmeUpdate(home: string): Promise<void> {
  await publish('acme', [await buildDeb(join(PACKAGES, `acme-runtime-${ACME_UPDATE}`), join(home, 'debs'))], {
    suite: 'bookworm-security',
    origin: 'Debian',
    label: 'Debian-Security',
    codename: 'bookworm-security',
    home,
  });
}
