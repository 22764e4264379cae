import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem } from '../types.js';

/** What APT would read from a `*.d` directory, and what it skips. */
export interface AptDirListing {
  /** Whether the directory exists (following symlinks). */
  exists: boolean;
  /** Paths APT reads, in its order (byte order of the name). */
  files: string[];
  /** Paths of entries APT skips (hidden files, wrong extension, bad characters, not regular files). */
  ignored: string[];
  /** Skipped entries that look like a mistake (APT prints a notice or silently drops them). */
  problems: ManifestProblem[];
}

// APT's default Dir::Ignore-Files-Silently: leftovers of package upgrades and editors.
const SILENTLY_IGNORED = [
  /~$/i,
  /\.disabled$/i,
  /\.bak$/i,
  /\.dpkg-[a-z]+$/i,
  /\.ucf-[a-z]+$/i,
  /\.save$/i,
  /\.orig$/i,
  /\.distUpgrade$/i,
];

/**
 * Lists a directory the way APT's GetListOfFilesInDir does: no hidden files, only regular
 * files (symlinks followed), an extension from `extensions` (or none, when `allowNoExtension`),
 * only `[A-Za-z0-9_:.-]` in the name, not ending in a period; sorted by name.
 */
export function listAptDir(
  fs: RootFs,
  dir: string,
  extensions: readonly string[],
  allowNoExtension: boolean,
): AptDirListing {
  const listing: AptDirListing = {
    exists: fs.stat(dir)?.kind === 'dir',
    files: [],
    ignored: [],
    problems: [],
  };
  if (!listing.exists) return listing;
  const allowed = [
    ...(allowNoExtension ? ['no extension'] : []),
    ...extensions.map((ext) => `".${ext}"`),
  ].join(' or ');
  const skip = (path: string, name: string, reason: string | undefined): void => {
    listing.ignored.push(path);
    if (reason !== undefined && !SILENTLY_IGNORED.some((re) => re.test(name))) {
      listing.problems.push({ path, reason: `ignored by APT: ${reason}` });
    }
  };

  for (const entry of fs.readdir(dir)) {
    const { name, path } = entry;
    if (name.startsWith('.')) {
      skip(path, name, undefined);
      continue;
    }
    const kind = entry.kind === 'file' ? 'file' : fs.stat(path)?.kind;
    if (kind === 'dir') continue;
    if (kind !== 'file') {
      skip(path, name, 'not a regular file');
      continue;
    }
    // APT adds "" to the accepted extensions when no extension is allowed, so "name." passes here.
    const dot = name.lastIndexOf('.');
    const ext = dot === -1 ? undefined : name.slice(dot + 1);
    if (
      ext === undefined ? !allowNoExtension : !(extensions.includes(ext) || (ext === '' && allowNoExtension))
    ) {
      const what = ext === undefined ? 'it has no filename extension' : `invalid filename extension "${ext}"`;
      skip(path, name, `${what} (APT reads names with ${allowed})`);
      continue;
    }
    const bad = [...name].find((c) => !/^[A-Za-z0-9_:-]$/.test(c) && !(c === '.' && extensions.length > 0));
    if (bad !== undefined) {
      skip(
        path,
        name,
        `character ${JSON.stringify(bad)} is not allowed in the name (only A-Z a-z 0-9 _ - : .)`,
      );
      continue;
    }
    if (name.endsWith('.')) {
      skip(path, name, 'the name ends with a period');
      continue;
    }
    listing.files.push(path);
  }
  return listing;
}
