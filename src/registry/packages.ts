import type { Registry } from './db.js';
import { nowIso } from './db.js';

/** A package version offered by a repository, as goldgate saw it. */
export interface SeenVersion {
  /** The repository: `lab:<name>` or the URI of an archive. */
  source: string;
  suite: string;
  package: string;
  version: string;
  arch: string;
  origin: string | null;
  label: string | null;
}

/** A seen version with the time goldgate first saw it. */
export interface ObservedVersion extends SeenVersion {
  firstSeen: string;
}

/**
 * Records the versions a repository offers now and returns each with the time goldgate first
 * saw it (now, for a version never seen before). This is what `minAge` is measured from:
 * Debian's archive does not say when a version appeared, goldgate remembers.
 */
export function observeVersions(
  registry: Registry,
  versions: readonly SeenVersion[],
  now: Date = new Date(),
): ObservedVersion[] {
  const at = nowIso(now);
  const insert = registry.db.prepare(
    `INSERT INTO package_versions (source, suite, package, version, arch, origin, label, first_seen)
     VALUES (@source, @suite, @package, @version, @arch, @origin, @label, @at)
     ON CONFLICT DO NOTHING`,
  );
  const read = registry.db.prepare(
    'SELECT first_seen FROM package_versions WHERE source = ? AND suite = ? AND package = ? AND version = ? AND arch = ?',
  );
  return registry.db
    .transaction(() =>
      versions.map((v) => {
        insert.run({ ...v, at });
        const row = read.get(v.source, v.suite, v.package, v.version, v.arch) as { first_seen: string };
        return { ...v, firstSeen: row.first_seen };
      }),
    )
    .immediate();
}
