import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { compareDebianVersions } from '../debian/version.js';

/** One control field, in the order the package's control file has it. */
export interface ControlField {
  name: string;
  /** deb822 value: continuation lines joined by `\n`, a ` .` line as an empty line. */
  value: string;
}

/** A package as an archive index lists it: its control fields and where its file is. */
export interface PoolEntry {
  component: string;
  package: string;
  version: string;
  architecture: string;
  /** Every field of the package's control file (Package, Version, … Description), in order. */
  control: ControlField[];
  /** Path of the .deb relative to the repository root (pool/main/a/acme/acme_1.0_all.deb). */
  filename: string;
  size: number;
  md5: string;
  sha256: string;
}

/** Release metadata of one suite; `Date` is given when the file is written. */
export interface SuiteMeta {
  origin: string;
  label: string;
  suite: string;
  codename: string;
  description: string;
}

/** An index file of a suite: its path relative to dists/<suite> and its bytes. */
export interface IndexFile {
  path: string;
  data: Buffer;
}

/** dpkg order: by package, then version (Debian ordering), then architecture. */
export function compareEntries(a: PoolEntry, b: PoolEntry): number {
  if (a.package !== b.package) return a.package < b.package ? -1 : 1;
  const byVersion = compareDebianVersions(a.version, b.version);
  if (byVersion !== 0) return byVersion;
  return a.architecture < b.architecture ? -1 : a.architecture > b.architecture ? 1 : 0;
}

function fieldText(name: string, value: string): string {
  const [first = '', ...rest] = value.split('\n');
  const head = first === '' ? `${name}:` : `${name}: ${first}`;
  return [head, ...rest.map((line) => ` ${line === '' ? '.' : line}`)].join('\n');
}

// Fields the archive computes; a control file's own copies are never passed through.
const ARCHIVE_FIELDS = new Set(['filename', 'size', 'md5sum', 'sha1', 'sha256', 'sha512']);

/**
 * One Packages stanza: Package first, the other control fields in their order, then
 * Filename, Size, MD5sum, SHA256, and Description last (as apt-ftparchive puts it).
 */
export function packagesStanza(entry: PoolEntry): string {
  const lines: string[] = [fieldText('Package', entry.package)];
  let description: ControlField | undefined;
  for (const f of entry.control) {
    const key = f.name.toLowerCase();
    if (key === 'package' || ARCHIVE_FIELDS.has(key)) continue;
    if (key === 'description') description = f;
    else lines.push(fieldText(f.name, f.value));
  }
  lines.push(
    `Filename: ${entry.filename}`,
    `Size: ${entry.size}`,
    `MD5sum: ${entry.md5}`,
    `SHA256: ${entry.sha256}`,
  );
  if (description !== undefined) lines.push(fieldText('Description', description.value));
  return `${lines.join('\n')}\n`;
}

/** A Packages file: the stanzas of `entries` in dpkg order, separated by empty lines. */
export function packagesFile(entries: readonly PoolEntry[]): string {
  return [...entries].sort(compareEntries).map(packagesStanza).join('\n');
}

/** The architectures a suite's indexes cover: always amd64 and all, plus every one a package has. */
export function suiteArchitectures(entries: readonly PoolEntry[]): string[] {
  const arches = new Set(['all', 'amd64']);
  for (const entry of entries) arches.add(entry.architecture);
  return [...arches].sort();
}

/**
 * The index files of a suite, relative to dists/<suite>: for each component and each
 * architecture, `binary-<arch>/Packages` and `Packages.gz`. An `all` package is listed in
 * every binary-* index (binary-all included), as Debian's archive does.
 */
export function indexFiles(entries: readonly PoolEntry[], components: readonly string[]): IndexFile[] {
  const arches = suiteArchitectures(entries);
  const files: IndexFile[] = [];
  for (const component of [...components].sort()) {
    for (const arch of arches) {
      const listed = entries.filter(
        (e) => e.component === component && (e.architecture === arch || e.architecture === 'all'),
      );
      const text = Buffer.from(packagesFile(listed));
      const dir = `${component}/binary-${arch}`;
      files.push({ path: `${dir}/Packages`, data: text });
      // gzip from zlib writes no name and a zero mtime: the same index gives the same bytes.
      files.push({ path: `${dir}/Packages.gz`, data: gzipSync(text, { level: 9 }) });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** RFC 2822 date in UTC, as Debian's Release files write it: `Sat, 10 Jun 2023 08:53:07 UTC`. */
export function releaseDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, 'UTC');
}

function hashLines(files: readonly IndexFile[], algorithm: 'md5' | 'sha256'): string[] {
  return files.map((file) => {
    const hash = createHash(algorithm).update(file.data).digest('hex');
    return ` ${hash} ${String(file.data.length).padStart(16)} ${file.path}`;
  });
}

/** The suite's Release file, listing every index file with its size and checksums. */
export function releaseFile(
  meta: SuiteMeta,
  date: Date,
  architectures: readonly string[],
  components: readonly string[],
  files: readonly IndexFile[],
): string {
  const lines = [
    `Origin: ${meta.origin}`,
    `Label: ${meta.label}`,
    `Suite: ${meta.suite}`,
    `Codename: ${meta.codename}`,
    `Date: ${releaseDate(date)}`,
    `Architectures: ${architectures.join(' ')}`,
    `Components: ${[...components].sort().join(' ')}`,
    `Description: ${meta.description}`,
    'MD5Sum:',
    ...hashLines(files, 'md5'),
    'SHA256:',
    ...hashLines(files, 'sha256'),
  ];
  return `${lines.join('\n')}\n`;
}
