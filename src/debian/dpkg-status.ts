import type { Deb822Paragraph, Deb822Problem } from './deb822.js';
import { field, parseDeb822 } from './deb822.js';
import { isValidDebianVersion } from './version.js';

/** What the administrator asked for: the first word of `Status`. */
export type DpkgWant = 'unknown' | 'install' | 'hold' | 'deinstall' | 'purge';

/** Where the package really is: the last word of `Status`. */
export type DpkgState =
  | 'not-installed'
  | 'config-files'
  | 'half-installed'
  | 'unpacked'
  | 'half-configured'
  | 'triggers-awaited'
  | 'triggers-pending'
  | 'installed';

export interface DpkgPackage {
  name: string;
  /** `''` when the entry has none (allowed for not-installed). */
  version: string;
  /** `''` when the entry has none (allowed for not-installed and config-files). */
  architecture: string;
  /** The whole `Status` field, e.g. `install ok installed`. */
  status: string;
  state: DpkgState;
  want: DpkgWant;
  /** Source package name, when it differs from `name`. */
  source?: string;
  /** Source version, when `Source: name (version)` gives one (binNMUs). */
  sourceVersion?: string;
  multiArch?: string;
  /** Line of the package's paragraph in the status file. */
  line: number;
}

export type DpkgStatusProblem = Deb822Problem;

const WANTS: ReadonlySet<string> = new Set<DpkgWant>(['unknown', 'install', 'hold', 'deinstall', 'purge']);
const STATES: ReadonlySet<string> = new Set<DpkgState>([
  'not-installed',
  'config-files',
  'half-installed',
  'unpacked',
  'half-configured',
  'triggers-awaited',
  'triggers-pending',
  'installed',
]);
// "hold-reinstreq" is long obsolete but dpkg still reads it.
const FLAGS: ReadonlySet<string> = new Set(['ok', 'reinstreq', 'hold', 'hold-reinstreq']);

/**
 * Parses dpkg's status database (`/var/lib/dpkg/status`). Entries it cannot use are left out
 * and reported in `problems`; packages come sorted by name, then architecture.
 */
export function parseDpkgStatus(text: string): { packages: DpkgPackage[]; problems: DpkgStatusProblem[] } {
  const { paragraphs, problems } = parseDeb822(text);
  const packages: DpkgPackage[] = [];
  const seen = new Map<string, number>();
  for (const paragraph of paragraphs) {
    const pkg = toPackage(paragraph, problems);
    if (pkg === undefined) continue;
    const key = `${pkg.name}:${pkg.architecture}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ line: pkg.line, reason: `duplicate entry for ${key} (first at line ${first})` });
      continue;
    }
    seen.set(key, pkg.line);
    packages.push(pkg);
  }
  packages.sort((a, b) => compareText(a.name, b.name) || compareText(a.architecture, b.architecture));
  problems.sort((a, b) => a.line - b.line);
  return { packages, problems };
}

function toPackage(paragraph: Deb822Paragraph, problems: DpkgStatusProblem[]): DpkgPackage | undefined {
  const line = paragraph.line;
  const name = field(paragraph, 'Package');
  if (!name) {
    problems.push({ line, reason: 'entry without a Package field' });
    return undefined;
  }
  const status = field(paragraph, 'Status');
  const words = status?.split(/\s+/) ?? [];
  const [want, flag, state] = words;
  if (
    status === undefined ||
    words.length !== 3 ||
    !WANTS.has(want ?? '') ||
    !FLAGS.has(flag ?? '') ||
    !STATES.has(state ?? '')
  ) {
    problems.push({ line, reason: `${name}: unreadable Status ${JSON.stringify(status ?? '')}` });
    return undefined;
  }

  const pkg: DpkgPackage = {
    name,
    version: field(paragraph, 'Version') ?? '',
    architecture: field(paragraph, 'Architecture') ?? '',
    status,
    state: state as DpkgState,
    want: want as DpkgWant,
    line,
  };
  // dpkg itself requires these fields in the same states.
  if (pkg.version === '' && pkg.state !== 'not-installed') {
    problems.push({ line, reason: `${name}: missing Version` });
  } else if (pkg.version !== '' && !isValidDebianVersion(pkg.version)) {
    problems.push({ line, reason: `${name}: invalid Version ${JSON.stringify(pkg.version)}` });
  }
  if (pkg.architecture === '' && pkg.state !== 'not-installed' && pkg.state !== 'config-files') {
    problems.push({ line, reason: `${name}: missing Architecture` });
  }

  const sourceField = field(paragraph, 'Source');
  if (sourceField !== undefined) {
    const source = /^(\S+)(?:\s*\(([^()]*)\))?$/.exec(sourceField);
    if (source?.[1] === undefined)
      problems.push({ line, reason: `${name}: unreadable Source ${JSON.stringify(sourceField)}` });
    else pkg.source = source[1];
    if (source?.[2] !== undefined) pkg.sourceVersion = source[2].trim();
  }
  const multiArch = field(paragraph, 'Multi-Arch');
  if (multiArch !== undefined) pkg.multiArch = multiArch;
  return pkg;
}

// Locale-independent, so the order is the same on every machine.
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Files on disk and configured: installed, or only waiting on triggers. */
export function isInstalled(pkg: DpkgPackage): boolean {
  return pkg.state === 'installed' || pkg.state === 'triggers-awaited' || pkg.state === 'triggers-pending';
}

/** Some of the package's files are on disk, configured or not (unlike config-files or not-installed). */
export function isPresent(pkg: DpkgPackage): boolean {
  return pkg.state !== 'not-installed' && pkg.state !== 'config-files';
}
