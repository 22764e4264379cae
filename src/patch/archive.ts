import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic-write.js';
import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { runCommand } from '../core/run.js';
import { findExecutable } from '../core/which.js';
import { parseDeb822 } from '../debian/deb822.js';
import { collectAptSources } from '../manifest/apt/sources.js';
import type { AptSource } from '../manifest/apt/sources.js';
import { openDirRootFs } from '../rootfs/dir.js';
import type { IndexProblem } from './indexes.js';
import { readPackagesIndex } from './indexes.js';
import type { Offer, SourceRead, Wanted } from './offers.js';

// Debian's archive, read the way the host's apt reads it: the host's own sources for the
// image's suite, its -updates and its -security, fetched by the host's apt-get into a state
// directory of goldgate's own (never the host's /var/lib/apt), then listed by
// `apt-get indextargets` so that apt itself says which file holds which suite's Packages.

/** One stanza of the private sources file. */
export interface ArchiveEntry {
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
  architectures?: string;
  trusted?: boolean;
}

/** The suites of Debian's archive an image of `suite` takes updates from. */
export function archiveSuites(suite: string): string[] {
  return [suite, `${suite}-updates`, `${suite}-security`];
}

/**
 * The host's sources for the image's suites, one entry per host source that lists any of them
 * (with its own keyring, architectures and trust), plus the spec's base mirror for the suite
 * and its -updates. `missing` names the suites no source lists.
 */
export function archiveEntries(
  hostSources: readonly AptSource[],
  suite: string,
  mirror?: string,
): { entries: ArchiveEntry[]; missing: string[] } {
  const wanted = archiveSuites(suite);
  const entries: ArchiveEntry[] = [];
  if (mirror !== undefined)
    entries.push({ uris: [mirror], suites: wanted.slice(0, 2), components: ['main'] });
  for (const source of hostSources) {
    if (!source.enabled || !source.types.includes('deb')) continue;
    const suites = source.suites.filter((s) => wanted.includes(s));
    if (suites.length === 0 || source.components.length === 0) continue;
    const signedBy = source.options['signed-by'];
    entries.push({
      uris: source.uris,
      suites,
      components: source.components,
      // An inline key cannot be copied (the manifest keeps only that there is one): apt's own keyrings then apply.
      ...(signedBy === undefined || signedBy === 'inline' ? {} : { signedBy }),
      ...(source.options.arch === undefined
        ? {}
        : { architectures: source.options.arch.replaceAll(',', ' ') }),
      ...(source.trusted ? { trusted: true } : {}),
    });
  }
  const listed = new Set(entries.flatMap((entry) => entry.suites));
  return { entries, missing: wanted.filter((s) => !listed.has(s)) };
}

/** The entries as a deb822 `.sources` file. */
export function sourcesText(entries: readonly ArchiveEntry[]): string {
  return entries
    .map((entry) =>
      [
        'Types: deb',
        `URIs: ${entry.uris.join(' ')}`,
        `Suites: ${entry.suites.join(' ')}`,
        `Components: ${entry.components.join(' ')}`,
        ...(entry.signedBy === undefined ? [] : [`Signed-By: ${entry.signedBy}`]),
        ...(entry.architectures === undefined ? [] : [`Architectures: ${entry.architectures}`]),
        ...(entry.trusted === true ? ['Trusted: yes'] : []),
      ].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

/** The host's apt sources (those of the root filesystem at `hostRoot`, `/` by default). */
export function hostAptSources(hostRoot = '/'): AptSource[] {
  return collectAptSources(openDirRootFs(hostRoot)).sources;
}

/** The goldgate state directory of apt: `$GOLDGATE_HOME/patch/apt`. */
export function archiveStateDir(home: string): string {
  return join(home, 'patch', 'apt');
}

/** apt options that make it read and write only the state directory: its lists, its cache, its sources file. */
export function aptOptions(stateDir: string): string[] {
  return [
    ['Dir::State::Lists', join(stateDir, 'lists')],
    ['Dir::Cache', join(stateDir, 'cache')],
    ['Dir::Cache::pkgcache', ''],
    ['Dir::Cache::srcpkgcache', ''],
    ['Dir::Etc::SourceList', join(stateDir, 'goldgate.sources')],
    ['Dir::Etc::SourceParts', '-'],
    ['Acquire::Languages', 'none'],
    // Kept uncompressed, so that goldgate's reader (plain or gzip) reads them whatever the host's apt.conf says.
    ['Acquire::GzipIndexes', 'false'],
  ].flatMap(([name, value]) => ['-o', `${name}=${value}`]);
}

const UPDATE_TIMEOUT_MS = 10 * 60_000;

function lastErrors(output: string): string {
  const lines = output.split('\n').filter((line) => /^(E|W|Err):/.test(line.trim()));
  return (lines.length > 0 ? lines : output.trim().split('\n')).slice(-5).join('; ');
}

/**
 * Writes the sources file and runs the host's `apt-get update` on the state directory. Lists
 * apt could not fetch are problems: the suites it did fetch are still read.
 */
export async function updateArchive(
  stateDir: string,
  entries: readonly ArchiveEntry[],
  sink: EventSink = silent,
): Promise<IndexProblem[]> {
  const aptGet = findExecutable('apt-get');
  if (aptGet === undefined)
    return [{ file: 'apt-get', reason: "apt-get not found: Debian's archive is read with the host's apt" }];
  for (const dir of [join(stateDir, 'lists', 'partial'), join(stateDir, 'cache', 'archives', 'partial')])
    mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(stateDir, 'goldgate.sources'), sourcesText(entries));
  const started = Date.now();
  sink.emit({ type: 'progress', step: 'archive', message: `apt-get update (${entries.length} sources)` });
  const result = await runCommand([aptGet, '-q', ...aptOptions(stateDir), 'update'], {
    timeoutMs: UPDATE_TIMEOUT_MS,
    env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' },
  });
  sink.emit({
    type: 'progress',
    step: 'archive',
    message: result.code === 0 ? 'indexes fetched' : 'indexes fetched in part',
    done: true,
    elapsedMs: Date.now() - started,
  });
  if (result.code === 0) return [];
  return [
    {
      file: join(stateDir, 'goldgate.sources'),
      reason:
        result.signal !== null
          ? `apt-get update did not finish in ${UPDATE_TIMEOUT_MS / 60_000} minutes`
          : `apt-get update exited ${result.code}: ${lastErrors(`${result.stdout}\n${result.stderr}`)}`,
    },
  ];
}

/** An index apt keeps for a suite: which file, and the Release fields apt read for it. */
export interface IndexTarget {
  filename: string;
  site: string;
  /** The suite as the sources name it (`bookworm-security`). */
  release: string;
  component: string;
  architecture: string;
  origin: string | null;
  label: string | null;
  codename: string | null;
}

const text = z.string().min(1);
const IndexTargetSchema = z.looseObject({
  filename: text,
  site: text,
  release: text,
  component: text,
  architecture: text,
  'created-by': text,
  origin: text.optional().catch(undefined),
  label: text.optional().catch(undefined),
  codename: text.optional().catch(undefined),
});

/** Reads `apt-get indextargets` output: the Packages indexes, each with its file and its suite's Release fields. */
export function parseIndexTargets(output: string): { targets: IndexTarget[]; problems: IndexProblem[] } {
  const targets: IndexTarget[] = [];
  const problems: IndexProblem[] = [];
  const document = parseDeb822(output);
  for (const problem of document.problems)
    problems.push({ file: 'apt-get indextargets', line: problem.line, reason: problem.reason });
  for (const paragraph of document.paragraphs) {
    const fields = Object.fromEntries([...paragraph.fields.entries()].map(([key, f]) => [key, f.value]));
    const parsed = IndexTargetSchema.safeParse(fields);
    if (!parsed.success) {
      problems.push({
        file: 'apt-get indextargets',
        line: paragraph.line,
        reason: 'an index target without its file, site or suite',
      });
      continue;
    }
    const t = parsed.data;
    if (t['created-by'] !== 'Packages') continue;
    targets.push({
      filename: t.filename,
      site: t.site,
      release: t.release,
      component: t.component,
      architecture: t.architecture,
      origin: t.origin ?? null,
      label: t.label ?? null,
      codename: t.codename ?? null,
    });
  }
  return { targets, problems };
}

/** The Packages indexes the state directory holds, as apt lists them. */
export async function archiveTargets(
  stateDir: string,
): Promise<{ targets: IndexTarget[]; problems: IndexProblem[] }> {
  const aptGet = findExecutable('apt-get');
  if (aptGet === undefined) return { targets: [], problems: [] };
  const result = await runCommand([aptGet, ...aptOptions(stateDir), 'indextargets'], {
    timeoutMs: 60_000,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (result.code !== 0)
    return {
      targets: [],
      problems: [
        { file: 'apt-get indextargets', reason: `exited ${result.code}: ${lastErrors(result.stderr)}` },
      ],
    };
  return parseIndexTargets(result.stdout);
}

/**
 * What the fetched indexes offer of the image's installed packages, one read per suite of
 * each archive (a suite's indexes are read for the image's architectures only).
 */
export async function archiveOffers(
  targets: readonly IndexTarget[],
  wanted: Wanted,
): Promise<{ offers: Offer[]; reads: SourceRead[] }> {
  const offers: Offer[] = [];
  const reads = new Map<string, SourceRead>();
  const seen = new Set<string>();
  for (const target of targets) {
    if (wanted.architectures.length > 0 && !wanted.architectures.includes(target.architecture)) continue;
    if (!existsSync(target.filename)) continue;
    const from = {
      repository: target.site,
      suite: target.release,
      origin: target.origin,
      label: target.label,
      codename: target.codename ?? target.release,
    };
    const key = `${target.site}\0${target.release}`;
    const read = reads.get(key) ?? { from, offered: 0, problems: [] };
    reads.set(key, read);
    const index = await readPackagesIndex(target.filename, wanted.names);
    read.problems.push(...index.problems);
    for (const pkg of index.packages) {
      const id = `${key}\0${pkg.package}\0${pkg.version}\0${pkg.architecture}`;
      if (seen.has(id)) continue;
      seen.add(id);
      offers.push({ ...pkg, from });
      read.offered += 1;
    }
  }
  return { offers, reads: [...reads.values()] };
}
