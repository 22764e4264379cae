import { parseDpkgStatus } from '../debian/dpkg-status.js';
import type { DpkgState } from '../debian/dpkg-status.js';
import type { RootFs } from '../rootfs/types.js';
import type { ManifestProblem, SourceRef } from './types.js';

export const DPKG_STATUS = '/var/lib/dpkg/status';

/** One package of the image's dpkg database. */
export interface ManifestPackage {
  name: string;
  version: string;
  architecture: string;
  /** The Status field as dpkg wrote it (`install ok installed`). */
  status: string;
  state: DpkgState;
  source: SourceRef;
}

/** Reads the dpkg status database; an image without one (not Debian-based) has no packages here. */
export function collectPackages(fs: RootFs): { packages: ManifestPackage[]; problems: ManifestProblem[] } {
  const text = fs.readText(DPKG_STATUS, { maxBytes: 64 * 1024 * 1024 });
  if (text === undefined) return { packages: [], problems: [] };
  const parsed = parseDpkgStatus(text);
  return {
    packages: parsed.packages.map((p) => ({
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      status: p.status,
      state: p.state,
      source: { path: DPKG_STATUS, line: p.line },
    })),
    problems: parsed.problems.map((p) => ({ path: DPKG_STATUS, line: p.line, reason: p.reason })),
  };
}

/** States in which a package's files are on disk and configured, as dpkg counts "installed". */
export function packageInstalled(
  packages: readonly ManifestPackage[],
  name: string,
): ManifestPackage | undefined {
  return packages.find(
    (p) =>
      p.name === name &&
      (p.state === 'installed' || p.state === 'triggers-awaited' || p.state === 'triggers-pending'),
  );
}
