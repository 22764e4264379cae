import { compareDebianVersions } from '../debian/version.js';
import type { UpdateOrigin } from './offers.js';

// Which updates are pending, as a pure function of what the image has installed and what its
// repositories offer (each offer with the time goldgate first saw it).

/** An installed package of the image to patch. */
export interface InstalledPackage {
  name: string;
  version: string;
  architecture: string;
}

/** A version offered, with when goldgate first saw it offered (its own record: `observeVersions`). */
export interface SeenOffer {
  package: string;
  version: string;
  architecture: string;
  from: UpdateOrigin;
  firstSeen: string;
}

/** A newer version of an installed package that one suite of one repository offers. */
export interface PendingUpdate {
  name: string;
  architecture: string;
  from: string;
  to: string;
  origin: UpdateOrigin;
  security: boolean;
  /** When goldgate first saw this version offered by this suite (ISO 8601). */
  firstSeen: string;
}

/**
 * Whether a suite is a security archive: its Release says Label `Debian-Security`, or the suite
 * or its codename ends in `-security` (Debian's `bookworm-security`, Ubuntu's `jammy-security`,
 * the lab's security suites), or its Origin or Label names security (`Ubuntu Security`).
 */
export function isSecurityOrigin(origin: UpdateOrigin): boolean {
  if (origin.label === 'Debian-Security') return true;
  if (/-security$/.test(origin.suite) || /-security$/.test(origin.codename ?? '')) return true;
  return /\bsecurity\b/i.test(origin.origin ?? '') || /\bsecurity\b/i.test(origin.label ?? '');
}

/** An offer fits an installed package of the same name and architecture (`all` fits any, as apt takes it). */
function fits(offer: SeenOffer, installed: InstalledPackage): boolean {
  return (
    offer.package === installed.name &&
    (offer.architecture === installed.architecture ||
      offer.architecture === 'all' ||
      installed.architecture === 'all')
  );
}

const originKey = (origin: UpdateOrigin): string => `${origin.repository}\0${origin.suite}`;

/**
 * The pending updates: for each installed package and each repository suite, the newest
 * version it offers that is greater than the installed one (dpkg's order). Versions not newer
 * than the installed one are no update. Sorted by package, then repository and suite.
 */
export function pendingUpdates(
  installed: readonly InstalledPackage[],
  offers: readonly SeenOffer[],
): PendingUpdate[] {
  const byName = new Map<string, SeenOffer[]>();
  for (const offer of offers) {
    const list = byName.get(offer.package) ?? [];
    list.push(offer);
    byName.set(offer.package, list);
  }
  const updates: PendingUpdate[] = [];
  for (const pkg of installed) {
    const newest = new Map<string, SeenOffer>();
    for (const offer of byName.get(pkg.name) ?? []) {
      if (!fits(offer, pkg) || compareDebianVersions(offer.version, pkg.version) <= 0) continue;
      const key = originKey(offer.from);
      const best = newest.get(key);
      if (best === undefined || compareDebianVersions(offer.version, best.version) > 0)
        newest.set(key, offer);
    }
    for (const offer of newest.values())
      updates.push({
        name: pkg.name,
        architecture: pkg.architecture,
        from: pkg.version,
        to: offer.version,
        origin: offer.from,
        security: isSecurityOrigin(offer.from),
        firstSeen: offer.firstSeen,
      });
  }
  return updates.sort(compareUpdates);
}

const text = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** By package, architecture, repository, suite. */
export function compareUpdates(a: PendingUpdate, b: PendingUpdate): number {
  return (
    text(a.name, b.name) ||
    text(a.architecture, b.architecture) ||
    text(a.origin.repository, b.origin.repository) ||
    text(a.origin.suite, b.origin.suite)
  );
}
