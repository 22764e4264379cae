import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import { readImageText } from './read.js';
import { parseShellAssignments } from './shell.js';

/** The fields of os-release(5) that tell which distribution and release an image is. */
export interface OsRelease {
  /** `ID` (`debian`, `ubuntu`, `amzn`, `fedora`, `flatcar`), or null when absent. */
  id: string | null;
  /** `ID_LIKE`, split on whitespace. */
  idLike: string[];
  versionId: string | null;
  codename: string | null;
  prettyName: string | null;
  /** The file read (`/etc/os-release`, or `/usr/lib/os-release` when the former is missing). */
  source: SourceRef;
}

export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'] as const;

/**
 * Reads os-release(5): `/etc/os-release`, falling back to `/usr/lib/os-release`. Values use
 * shell quoting; a later assignment of the same key wins. Null when neither file is readable.
 */
export function readOsRelease(fs: RootFs, problems: ManifestProblem[]): OsRelease | null {
  for (const path of OS_RELEASE_PATHS) {
    const text = readImageText(fs, path, problems, 64 * 1024);
    if (text === undefined) continue;
    const parsed = parseShellAssignments(text);
    for (const problem of parsed.problems) problems.push({ path, ...problem });
    const fields = new Map<string, string>();
    for (const { key, value } of parsed.assignments) fields.set(key, value);
    const get = (key: string): string | null => fields.get(key) ?? null;
    return {
      id: get('ID'),
      idLike: (get('ID_LIKE') ?? '').split(/\s+/).filter((word) => word !== ''),
      versionId: get('VERSION_ID'),
      codename: get('VERSION_CODENAME'),
      prettyName: get('PRETTY_NAME'),
      source: { path },
    };
  }
  return null;
}

/** Amazon Linux (any version): os-release `ID=amzn`. */
export function isAmazonLinux(os: OsRelease | null): boolean {
  return os?.id === 'amzn';
}
