import { join } from 'node:path';
import type { IndexedPackage, IndexProblem, ReleaseInfo } from './indexes.js';
import { readPackagesIndex } from './indexes.js';

/** Where an update comes from: a repository's suite and what its Release says. */
export interface UpdateOrigin {
  /** `lab:<name>` for a lab repository, the archive's URI for Debian's (`http://deb.distro-mirror.example/debian-security`). */
  repository: string;
  suite: string;
  origin: string | null;
  label: string | null;
  codename: string | null;
}

/** A version of a package a repository's suite offers. */
export interface Offer extends IndexedPackage {
  from: UpdateOrigin;
}

/** One suite read: where, how many versions of installed packages it offers, what went wrong. */
export interface SourceRead {
  from: UpdateOrigin;
  /** Versions of the image's installed packages the suite offers. */
  offered: number;
  problems: IndexProblem[];
}

/** The packages an image has installed, by name; and the architectures their indexes are read for. */
export interface Wanted {
  names: ReadonlySet<string>;
  /** The image's architectures (`amd64`), `all` excluded: each `binary-<arch>` index lists `all` packages too. */
  architectures: readonly string[];
}

/** The origin of a suite from its Release (the suite's own name when the Release does not say). */
export function originOf(repository: string, suite: string, release: ReleaseInfo): UpdateOrigin {
  return {
    repository,
    suite,
    origin: release.origin,
    label: release.label,
    codename: release.codename ?? suite,
  };
}

/**
 * Reads the Packages indexes of one suite (`dists/<suite>/<component>/binary-<arch>/Packages`)
 * for the components given and the image's architectures, keeping the packages it has installed.
 */
export async function readSuiteOffers(
  suiteDir: string,
  from: UpdateOrigin,
  components: readonly string[],
  release: ReleaseInfo,
  wanted: Wanted,
): Promise<{ offers: Offer[]; read: SourceRead }> {
  const problems: IndexProblem[] = [];
  const arches = wanted.architectures.length > 0 ? wanted.architectures : release.architectures;
  const seen = new Set<string>();
  const offers: Offer[] = [];
  for (const component of components) {
    if (release.components.length > 0 && !release.components.includes(component)) continue;
    for (const arch of arches) {
      if (release.architectures.length > 0 && !release.architectures.includes(arch)) continue;
      const index = await readPackagesIndex(
        join(suiteDir, component, `binary-${arch}`, 'Packages'),
        wanted.names,
      );
      problems.push(...index.problems);
      for (const pkg of index.packages) {
        const key = `${pkg.package}\0${pkg.version}\0${pkg.architecture}`;
        if (seen.has(key)) continue;
        seen.add(key);
        offers.push({ ...pkg, from });
      }
    }
  }
  return { offers, read: { from, offered: offers.length, problems } };
}
