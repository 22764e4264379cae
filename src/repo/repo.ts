import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { goldgateHome } from '../core/home.js';
import { field, parseDeb822 } from '../debian/deb822.js';
import { compareDebianVersions } from '../debian/version.js';
import { readDeb } from './deb.js';
import type { DebFile } from './deb.js';
import { compareEntries, indexFiles, releaseFile, suiteArchitectures } from './index-files.js';
import type { ControlField, PoolEntry, SuiteMeta } from './index-files.js';
import { validateComponentName, validateRepoName, validateSuiteName } from './names.js';

/** Where repositories live: `home` defaults to goldgateHome(). */
export interface RepoLocation {
  home?: string;
}

export interface SuiteInfo {
  suite: string;
  origin: string;
  label: string;
  codename: string;
  components: string[];
  architectures: string[];
  /** Each package once, with every version the suite lists (oldest first). */
  packages: { name: string; versions: string[] }[];
}

export interface RepoInfo {
  name: string;
  path: string;
  suites: SuiteInfo[];
}

export interface PublishOptions extends RepoLocation {
  suite: string;
  component?: string;
  origin?: string;
  label?: string;
  codename?: string;
  description?: string;
  /** The Release file's Date; default now. */
  now?: Date;
}

export interface PublishedPackage {
  package: string;
  version: string;
  architecture: string;
  /** Relative to the repository root. */
  filename: string;
  /** False when the suite already listed this exact file (re-publishing is a no-op). */
  added: boolean;
}

export interface PublishResult {
  repo: RepoInfo;
  published: PublishedPackage[];
  /** Whether the suite's indexes were rewritten. */
  changed: boolean;
}

/** The directory of repository `name` (validated; it need not exist). */
export function repoPath(name: string, location: RepoLocation = {}): string {
  validateRepoName(name);
  return join(location.home ?? goldgateHome(), 'repos', name);
}

/** Creates an empty repository (`pool/` and `dists/`); refuses one that exists. */
export async function createRepo(name: string, location: RepoLocation = {}): Promise<RepoInfo> {
  const path = repoPath(name, location);
  await mkdir(dirname(path), { recursive: true });
  try {
    await mkdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError('REPO_EXISTS', `repository ${name} already exists at ${path}`, {
        hint: `publish into it with: goldgate repo publish ${name} --suite SUITE FILE.deb (or pick another name)`,
      });
    throw error;
  }
  await mkdir(join(path, 'pool'));
  await mkdir(join(path, 'dists'));
  return { name, path, suites: [] };
}

async function existingRepo(name: string, location: RepoLocation): Promise<string> {
  const path = repoPath(name, location);
  if (!existsSync(join(path, 'dists')))
    throw new UsageError('NO_REPO', `no repository named ${name} (looked in ${path})`, {
      hint: `create it with: goldgate repo create ${name}`,
    });
  return path;
}

/** Pool directory of a source package, as Debian lays it out: pool/main/a/acme, pool/main/libf/libfoo. */
export function poolDir(component: string, source: string): string {
  const prefix = source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1);
  return `pool/${component}/${prefix}/${source}`;
}

/** The canonical file name of a binary package: name_version_arch.deb, without the epoch. */
export function debFileName(pkg: string, version: string, architecture: string): string {
  return `${pkg}_${version.replace(/^\d+:/, '')}_${architecture}.deb`;
}

interface SuiteState {
  meta: SuiteMeta | undefined;
  components: string[];
  entries: PoolEntry[];
}

const ARCHIVE_FIELDS = new Set(['filename', 'size', 'md5sum', 'sha1', 'sha256', 'sha512']);

/** Reads a published suite back from its Release and Packages files (they are the record). */
async function readSuite(repo: string, suite: string): Promise<SuiteState> {
  const dir = join(repo, 'dists', suite);
  let releaseText: string;
  try {
    releaseText = await readFile(join(dir, 'Release'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { meta: undefined, components: [], entries: [] };
    throw error;
  }
  const release = parseDeb822(releaseText).paragraphs[0];
  const get = (name: string) => (release === undefined ? undefined : field(release, name));
  const meta: SuiteMeta = {
    origin: get('Origin') ?? '',
    label: get('Label') ?? '',
    suite: get('Suite') ?? suite,
    codename: get('Codename') ?? suite,
    description: get('Description') ?? '',
  };
  const components = (get('Components') ?? '').split(/\s+/).filter((c) => c !== '');
  const byKey = new Map<string, PoolEntry>();
  for (const component of components) {
    let arches: string[];
    try {
      arches = (await readdir(join(dir, component))).filter((d) => d.startsWith('binary-'));
    } catch {
      continue;
    }
    for (const archDir of arches.sort()) {
      let text: string;
      try {
        text = await readFile(join(dir, component, archDir, 'Packages'), 'utf8');
      } catch {
        continue;
      }
      for (const paragraph of parseDeb822(text).paragraphs) {
        const entry = entryFromStanza(component, paragraph.fields);
        if (entry !== undefined) byKey.set(entryKey(entry), entry);
      }
    }
  }
  return { meta, components, entries: [...byKey.values()] };
}

function entryFromStanza(
  component: string,
  fields: Map<string, { name: string; value: string }>,
): PoolEntry | undefined {
  const get = (name: string) => fields.get(name)?.value;
  const pkg = get('package');
  const version = get('version');
  const architecture = get('architecture');
  const filename = get('filename');
  const md5 = get('md5sum');
  const sha256 = get('sha256');
  const size = Number(get('size'));
  if (
    pkg === undefined ||
    version === undefined ||
    architecture === undefined ||
    filename === undefined ||
    md5 === undefined ||
    sha256 === undefined ||
    !Number.isSafeInteger(size)
  )
    return undefined;
  const control: ControlField[] = [...fields.entries()]
    .filter(([key]) => !ARCHIVE_FIELDS.has(key))
    .map(([, f]) => ({ name: f.name, value: f.value }));
  return { component, package: pkg, version, architecture, control, filename, size, md5, sha256 };
}

function entryKey(e: { package: string; version: string; architecture: string }): string {
  return `${e.package}\u0000${e.version}\u0000${e.architecture}`;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function refuseChange(deb: DebFile, where: string): UsageError {
  return new UsageError(
    'VERSION_ALREADY_PUBLISHED',
    `${deb.package} ${deb.version} (${deb.architecture}) is already published as a different file (${where}); an archive never changes a published version`,
    { hint: 'build the change as a new version (e.g. bump 1.0+deb12u1 to 1.0+deb12u2) and publish that' },
  );
}

/**
 * Publishes .deb files into a suite of a repository: copies them into the pool (every
 * version published before stays), and rewrites the suite's Packages indexes and Release
 * as one atomic switch. Publishing a file the suite already lists is a no-op; a different
 * file for a published package+version+architecture is refused.
 */
export async function publish(
  name: string,
  debPaths: readonly string[],
  options: PublishOptions,
): Promise<PublishResult> {
  const repo = await existingRepo(name, options);
  const suite = options.suite;
  const component = options.component ?? 'main';
  validateSuiteName(suite);
  validateComponentName(component);
  if (options.codename !== undefined) validateSuiteName(options.codename);
  for (const [flag, value] of [
    ['origin', options.origin],
    ['label', options.label],
    ['description', options.description],
  ] as const) {
    if (value !== undefined && (value === '' || /[\n\r]/.test(value)))
      throw new UsageError('BAD_RELEASE_FIELD', `--${flag} must be one non-empty line`, {
        hint: `e.g. --${flag} ${flag === 'label' ? 'Debian-Security' : 'Debian'}`,
      });
  }
  if (debPaths.length === 0)
    throw new UsageError('NO_DEBS', 'nothing to publish', { hint: 'pass one or more .deb files' });

  // Read everything first: a bad file fails the command before anything changes.
  const debs: DebFile[] = [];
  for (const path of debPaths) debs.push(await readDeb(path));

  const state = await readSuite(repo, suite);
  const byKey = new Map(state.entries.map((e) => [entryKey(e), e]));
  const published: PublishedPackage[] = [];
  const toCopy: { deb: DebFile; target: string }[] = [];
  for (const deb of debs) {
    const filename = `${poolDir(component, deb.source)}/${debFileName(deb.package, deb.version, deb.architecture)}`;
    const key = entryKey(deb);
    const listed = byKey.get(key);
    const record = { package: deb.package, version: deb.version, architecture: deb.architecture };
    if (listed !== undefined) {
      if (listed.sha256 !== deb.sha256) throw refuseChange(deb, `${suite}: ${listed.filename}`);
      published.push({ ...record, filename: listed.filename, added: false });
      continue;
    }
    const target = join(repo, filename);
    if (existsSync(target) && (await sha256OfFile(target)) !== deb.sha256) throw refuseChange(deb, filename);
    if (!existsSync(target)) toCopy.push({ deb, target });
    const entry: PoolEntry = {
      component,
      package: deb.package,
      version: deb.version,
      architecture: deb.architecture,
      control: deb.control,
      filename,
      size: deb.size,
      md5: deb.md5,
      sha256: deb.sha256,
    };
    byKey.set(key, entry);
    published.push({ ...record, filename, added: true });
  }

  const meta: SuiteMeta = {
    origin: options.origin ?? state.meta?.origin ?? 'goldgate',
    label: options.label ?? state.meta?.label ?? 'goldgate lab',
    suite,
    codename: options.codename ?? state.meta?.codename ?? suite,
    description: options.description ?? state.meta?.description ?? `goldgate lab repository ${name}`,
  };
  const components = [...new Set([...state.components, component])].sort();
  const changed =
    state.meta === undefined ||
    published.some((p) => p.added) ||
    JSON.stringify(meta) !== JSON.stringify(state.meta) ||
    components.join(' ') !== state.components.join(' ');

  if (changed) {
    for (const { deb, target } of toCopy) await atomicCopy(deb.path, target);
    const entries = [...byKey.values()].sort(compareEntries);
    await switchSuite(repo, suite, meta, components, entries, options.now ?? new Date());
  }
  return { repo: await repoInfo(name, repo), published, changed };
}

async function atomicCopy(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await copyFile(source, temp);
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Writes the suite into a fresh directory `dists/.<suite>_<id>`, then points the symlink
 * `dists/<suite>` at it with one rename: a reader sees the old suite or the new one, never
 * a Release whose checksums do not match its indexes.
 */
async function switchSuite(
  repo: string,
  suite: string,
  meta: SuiteMeta,
  components: string[],
  entries: PoolEntry[],
  now: Date,
): Promise<void> {
  const dists = join(repo, 'dists');
  const id = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  const snapshot = `.${suite}_${id}`;
  const dir = join(dists, snapshot);
  const files = indexFiles(entries, components);
  for (const file of files) {
    await mkdir(dirname(join(dir, file.path)), { recursive: true });
    await writeFile(join(dir, file.path), file.data);
  }
  await writeFile(
    join(dir, 'Release'),
    releaseFile(meta, now, suiteArchitectures(entries), components, files),
  );

  const link = join(dists, suite);
  const existing = await lstat(link).catch(() => undefined);
  if (existing !== undefined && !existing.isSymbolicLink()) {
    // A suite directory not made by goldgate: move it aside first (the one non-atomic step).
    await rename(link, join(dists, `.${suite}_legacy${id}`));
  }
  const tempLink = join(dists, `.${suite}_link${id}`);
  await symlink(snapshot, tempLink);
  await rename(tempLink, link);

  // Old snapshots (and leftovers of an interrupted publish) go once the switch is done.
  const current = await readlink(link);
  for (const entry of await readdir(dists)) {
    if (entry.startsWith(`.${suite}_`) && entry !== current)
      await rm(join(dists, entry), { recursive: true, force: true });
  }
}

async function suiteInfo(repo: string, suite: string): Promise<SuiteInfo | undefined> {
  const state = await readSuite(repo, suite);
  if (state.meta === undefined) return undefined;
  const versions = new Map<string, Set<string>>();
  for (const e of state.entries) {
    const set = versions.get(e.package) ?? new Set<string>();
    set.add(e.version);
    versions.set(e.package, set);
  }
  return {
    suite,
    origin: state.meta.origin,
    label: state.meta.label,
    codename: state.meta.codename,
    components: state.components,
    architectures: suiteArchitectures(state.entries),
    packages: [...versions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([pkg, set]) => ({ name: pkg, versions: [...set].sort(compareDebianVersions) })),
  };
}

async function repoInfo(name: string, path: string): Promise<RepoInfo> {
  const suites: SuiteInfo[] = [];
  for (const entry of (await readdir(join(path, 'dists'))).sort()) {
    if (entry.startsWith('.')) continue;
    const info = await suiteInfo(path, entry);
    if (info !== undefined) suites.push(info);
  }
  return { name, path, suites };
}

/** One repository, its suites and their packages. */
export async function showRepo(name: string, location: RepoLocation = {}): Promise<RepoInfo> {
  return repoInfo(name, await existingRepo(name, location));
}

/** Every repository under the goldgate home, by name. */
export async function listRepos(location: RepoLocation = {}): Promise<RepoInfo[]> {
  const root = join(location.home ?? goldgateHome(), 'repos');
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const repos: RepoInfo[] = [];
  for (const name of names.sort()) {
    const path = join(root, name);
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name) || !existsSync(join(path, 'dists'))) continue;
    repos.push(await repoInfo(name, path));
  }
  return repos;
}
