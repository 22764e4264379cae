import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** A package installed in an image, as its stored manifest lists it. */
export interface PackageVersion {
  name: string;
  version: string;
  architecture: string;
}

/** The packages of a stored image, or null when its manifest cannot be read; problems say why. */
export interface StoredPackages {
  packages: PackageVersion[] | null;
  problems: string[];
}

/** Far above any real manifest (a Debian desktop's is a few MB): a bigger file is not read. */
const MANIFEST_MAX_BYTES = 256 * 1024 * 1024;

/** dpkg states in which a package is not on the system, only remembered. */
const NOT_INSTALLED = new Set(['not-installed', 'config-files']);

const manifestSchema = z.looseObject({ packages: z.array(z.unknown()) });

// Lenient: `architecture` as the manifest writes it, `arch` as older or hand-made ones do.
const packageSchema = z.looseObject({
  name: z.string().min(1),
  version: z.string().min(1),
  architecture: z.string().optional().catch(undefined),
  arch: z.string().optional().catch(undefined),
  state: z.string().optional().catch(undefined),
});

/**
 * Reads the installed packages from a stored image's `manifest.json` (written by bake and
 * import beside `rootfs/`), through a lenient schema: an entry without a name or version is
 * skipped and counted as a problem, other fields are ignored. A missing or unreadable manifest
 * gives `packages: null` and the reason.
 */
export function readStoredPackages(imageDir: string): StoredPackages {
  const file = join(imageDir, 'manifest.json');
  const text = readManifestText(file);
  if (text.problem !== undefined) return { packages: null, problems: [`${file} ${text.problem}`] };
  let raw: unknown;
  try {
    raw = JSON.parse(text.data);
  } catch {
    return { packages: null, problems: [`${file} is not JSON`] };
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) return { packages: null, problems: [`${file} has no packages list`] };
  const packages: PackageVersion[] = [];
  let skipped = 0;
  for (const entry of parsed.data.packages) {
    const item = packageSchema.safeParse(entry);
    if (!item.success) {
      skipped += 1;
      continue;
    }
    if (item.data.state !== undefined && NOT_INSTALLED.has(item.data.state)) continue;
    packages.push({
      name: item.data.name,
      version: item.data.version,
      architecture: item.data.architecture ?? item.data.arch ?? '',
    });
  }
  return {
    packages,
    problems:
      skipped === 0
        ? []
        : [`${file}: ${skipped} package entr${skipped === 1 ? 'y' : 'ies'} without a name or version`],
  };
}

/**
 * The manifest's text. It is a record goldgate wrote into its own store, not a file a person
 * named: stat, then read whole (readCappedFile would allocate its cap for every read).
 */
function readManifestText(
  file: string,
): { data: string; problem?: never } | { data?: never; problem: string } {
  try {
    const stats = statSync(file, { throwIfNoEntry: false });
    if (stats === undefined) return { problem: 'is missing' };
    if (!stats.isFile()) return { problem: 'is not a regular file' };
    if (stats.size > MANIFEST_MAX_BYTES)
      return { problem: `is larger than ${MANIFEST_MAX_BYTES / 1024 / 1024} MiB` };
    return { data: readFileSync(file, 'utf8') };
  } catch (error) {
    return { problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
}
