import { accessSync, constants, statSync } from 'node:fs';
import { z } from 'zod';
import { readCappedFile } from '../core/read-capped.js';
import { field, parseDeb822 } from '../debian/deb822.js';
import type { Deb822Paragraph } from '../debian/deb822.js';
import { isValidDebianVersion } from '../debian/version.js';
import { forEachLine, openLogStream } from '../logs/read.js';

// The archive indexes patch reads: a suite's Release and its Packages files, through the deb822
// parser and a schema, one stanza at a time (Debian's main Packages index is tens of megabytes).

/** Something read from an index that is not what an archive writes: reported, never thrown. */
export interface IndexProblem {
  file: string;
  line?: number;
  reason: string;
}

/** A binary package an index lists. */
export interface IndexedPackage {
  package: string;
  version: string;
  architecture: string;
}

/** What a suite's Release file says about it. */
export interface ReleaseInfo {
  origin: string | null;
  label: string | null;
  suite: string | null;
  codename: string | null;
  architectures: string[];
  components: string[];
}

/** A stanza larger than this is not a package's: it is skipped and reported. */
export const MAX_STANZA_BYTES = 1024 * 1024;
/** A Release file is a few kilobytes (Debian's, with every checksum, well under one megabyte). */
const MAX_RELEASE_BYTES = 16 * 1024 * 1024;

const words = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter((word) => word !== '');

/** The fields of a deb822 paragraph as an object keyed by lower-cased name, for a schema. */
function fieldsOf(paragraph: Deb822Paragraph): Record<string, string> {
  return Object.fromEntries([...paragraph.fields.entries()].map(([key, f]) => [key, f.value]));
}

const oneLine = z
  .string()
  .transform((value) => value.trim())
  .refine((value) => value !== '' && !value.includes('\n'));

const ReleaseSchema = z.looseObject({
  origin: oneLine.optional().catch(undefined),
  label: oneLine.optional().catch(undefined),
  suite: oneLine.optional().catch(undefined),
  codename: oneLine.optional().catch(undefined),
  architectures: z.string().optional().catch(undefined),
  components: z.string().optional().catch(undefined),
});

const PackageStanzaSchema = z.looseObject({
  package: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, { error: 'Package is not a package name' }),
  version: z.string().refine(isValidDebianVersion, { error: 'Version is not a Debian version' }),
  architecture: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'Architecture is not an architecture' }),
});

/** The signed text of a clearsigned InRelease file (dash-escaping undone); other text as it is. */
export function unsignedText(text: string): string {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '-----BEGIN PGP SIGNED MESSAGE-----') return text;
  const start = lines.indexOf('');
  const end = lines.findIndex((line) => line.trim() === '-----BEGIN PGP SIGNATURE-----');
  if (start < 0 || end < start) return '';
  return lines
    .slice(start + 1, end)
    .map((line) => (line.startsWith('- ') ? line.slice(2) : line))
    .join('\n');
}

/** Reads a Release or InRelease file; undefined (with a problem) when it is missing or unreadable. */
export function readRelease(path: string, problems: IndexProblem[]): ReleaseInfo | undefined {
  const read = readCappedFile(path, MAX_RELEASE_BYTES);
  if (!read.ok) {
    problems.push({
      file: path,
      reason: read.reason === 'missing' ? 'no Release file' : `cannot read the Release file (${read.reason})`,
    });
    return undefined;
  }
  const document = parseDeb822(unsignedText(read.data.toString('utf8')));
  const paragraph = document.paragraphs[0];
  if (paragraph === undefined) {
    problems.push({ file: path, reason: 'the Release file has no fields' });
    return undefined;
  }
  const release = ReleaseSchema.parse(fieldsOf(paragraph));
  return {
    origin: release.origin ?? null,
    label: release.label ?? null,
    suite: release.suite ?? null,
    codename: release.codename ?? null,
    architectures: words(release.architectures),
    components: words(release.components),
  };
}

/**
 * Streams a Packages index (plain or gzip) with constant memory, and returns the packages it
 * lists whose names are in `wanted` (every package when `wanted` is undefined). Stanzas of
 * other packages are skipped unparsed; a stanza that does not read as a package's is a problem.
 */
export async function readPackagesIndex(
  path: string,
  wanted?: ReadonlySet<string>,
): Promise<{ packages: IndexedPackage[]; problems: IndexProblem[] }> {
  const packages: IndexedPackage[] = [];
  const problems: IndexProblem[] = [];
  let lines: string[] = [];
  let bytes = 0;
  let first = 0;
  let skip = false;
  let tooBig = false;

  const finish = () => {
    if (lines.length > 0 && !skip) {
      if (tooBig)
        problems.push({
          file: path,
          line: first,
          reason: `a stanza larger than ${MAX_STANZA_BYTES} bytes, skipped`,
        });
      else readStanza(lines.join('\n'), path, first, packages, problems);
    }
    lines = [];
    bytes = 0;
    skip = false;
    tooBig = false;
  };

  // Opened only once known to be a readable regular file: a stream's open error would come too late to report.
  const unreadable = unreadableFile(path);
  if (unreadable !== undefined) {
    problems.push({ file: path, reason: `cannot read the index (${unreadable})` });
    return { packages, problems };
  }
  const stream = await openLogStream(path);
  await forEachLine(
    stream,
    (text, n) => {
      if (/^[ \t]*$/.test(text)) return finish();
      if (skip) return;
      if (lines.length === 0) first = n;
      const name = /^Package:\s*(\S+)\s*$/i.exec(text)?.[1];
      if (name !== undefined && wanted !== undefined && !wanted.has(name)) {
        skip = true;
        return;
      }
      bytes += text.length + 1;
      if (bytes > MAX_STANZA_BYTES) tooBig = true;
      else lines.push(text);
    },
    {
      onLong: (n) => problems.push({ file: path, line: n, reason: 'a line longer than 1 MiB, cut' }),
      onError: (error, n) =>
        problems.push({ file: path, line: n, reason: `unreadable from here: ${error.message}` }),
    },
  );
  finish();
  return { packages, problems };
}

function unreadableFile(path: string): string | undefined {
  try {
    const stats = statSync(path);
    if (!stats.isFile()) return 'not a regular file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

function readStanza(
  text: string,
  file: string,
  first: number,
  packages: IndexedPackage[],
  problems: IndexProblem[],
): void {
  const document = parseDeb822(text);
  for (const problem of document.problems)
    problems.push({ file, line: first + problem.line - 1, reason: problem.reason });
  const paragraph = document.paragraphs[0];
  if (paragraph === undefined) return;
  const parsed = PackageStanzaSchema.safeParse(fieldsOf(paragraph));
  if (!parsed.success) {
    const name = field(paragraph, 'Package') ?? 'a stanza';
    problems.push({
      file,
      line: first,
      reason: `${name}: ${parsed.error.issues.map((issue) => (issue.path.length > 0 && issue.code === 'invalid_type' ? `no ${String(issue.path[0])}` : issue.message)).join(', ')}`,
    });
    return;
  }
  const { package: name, version, architecture } = parsed.data;
  packages.push({ package: name, version, architecture });
}
