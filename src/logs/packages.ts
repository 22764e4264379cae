/** What happened to a package in one apt run. */
export type PackageAction = 'install' | 'upgrade' | 'downgrade' | 'reinstall' | 'remove' | 'purge';

/**
 * One package changed by apt (a `history.log` entry), the unit the correlator matches
 * against dpkg.log and unattended-upgrades records.
 */
export interface PackageChange {
  action: PackageAction;
  /** The name without the architecture (`libc6`). */
  package: string;
  /** The architecture as the log wrote it (`amd64`, `i386`, `all`); null when it wrote none. */
  arch: string | null;
  /** The version before the change; null for an install. */
  from: string | null;
  /** The version after the change; null for a remove or purge. */
  to: string | null;
  /** Installed as a dependency (`(1.0, automatic)`), not asked for by name. */
  automatic: boolean;
}

/** A package as logs name it: `libc6:i386`, `acme-runtime`, or a record's `{ package, arch }`. */
export type PackageRef = string | { package: string; arch?: string | null };

/**
 * Splits `name[:arch]` into its parts (`libc6:i386` → `{ name: 'libc6', arch: 'i386' }`);
 * `arch` is null when the text names none. Surrounding blanks are dropped.
 */
export function normalizePackageName(nameWithArch: string): { name: string; arch: string | null } {
  const text = nameWithArch.trim();
  const colon = text.indexOf(':');
  if (colon === -1) return { name: text, arch: null };
  const arch = text.slice(colon + 1);
  return { name: text.slice(0, colon), arch: arch === '' ? null : arch };
}

function refParts(ref: PackageRef): { name: string; arch: string | null } {
  if (typeof ref === 'string') return normalizePackageName(ref);
  // A record that kept `name:arch` in its package field still compares by its parts.
  const parts = normalizePackageName(ref.package);
  return { name: parts.name, arch: ref.arch ?? parts.arch };
}

/**
 * Whether two references name the same installed package. Names must be equal; an
 * architecture that is missing or `all` matches any other, because an `Architecture: all`
 * package exists once and apt's history names it by the native architecture
 * (`acme-runtime:amd64`) where dpkg.log says `acme-runtime:all`. Two real architectures must
 * be equal: `libc6:i386` and `libc6:amd64` are different packages.
 */
export function samePackage(a: PackageRef, b: PackageRef): boolean {
  const pa = refParts(a);
  const pb = refParts(b);
  if (pa.name !== pb.name) return false;
  if (pa.arch === null || pb.arch === null || pa.arch === 'all' || pb.arch === 'all') return true;
  return pa.arch === pb.arch;
}
