import { open, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { readCappedFile } from '../core/read-capped.js';
import { findImage, imagesDir } from '../images/store.js';
import { ImageSpecSchema } from './schema.js';
import type { ImageSpec, ImageSpecDocument, LocalPath, ParentImage } from './schema.js';

/** One thing wrong with a spec, at the line and column (1-based) of the field it is about. */
export interface SpecProblem {
  file: string;
  line: number;
  col: number;
  /** The field, as `health[1].http.port`; empty for the whole document. */
  path: string;
  message: string;
}

export type SpecResult = { spec: ImageSpec; problems?: never } | { spec?: never; problems: SpecProblem[] };

export const SPEC_DOCS_HINT = 'every field is described in docs/spec.md';

export interface LoadOptions {
  /** goldgate's data directory, where `base.from` image ids are looked up; default goldgateHome(). */
  home?: string;
}

const IMAGE_ID = /^img-[0-9a-f]{12}$/;

/** A spec that does not validate: the message lists every problem, `problems` holds them. */
export class SpecError extends UsageError {
  readonly problems: SpecProblem[];

  constructor(file: string, problems: SpecProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      'SPEC_INVALID',
      [`${file} is not a valid image spec (${count}):`, ...problems.map(formatProblem)].join('\n  '),
      {
        hint: SPEC_DOCS_HINT,
      },
    );
    this.problems = problems;
  }
}

/** `acme.yaml:12:7 health[1].http.port: must be between 1 and 65535` */
export function formatProblem(problem: SpecProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.col}`;
  return problem.path === '' ? `${where} ${problem.message}` : `${where} ${problem.path}: ${problem.message}`;
}

/**
 * Reads and validates an image spec. Relative local paths are resolved against the spec's
 * directory and must exist; `base.from` must name a stored image or a root filesystem
 * directory. Throws a `SpecError` (code `SPEC_INVALID`) listing every problem. Returns the
 * text it read too, for a caller that records what the spec said (`pipeline run`'s digest).
 */
export async function loadSpec(
  path: string,
  options: LoadOptions = {},
): Promise<{ spec: ImageSpec; text: string; problems?: never }> {
  const text = readSpecText(path);
  const result = await parseSpec(text, path, options);
  if (result.problems !== undefined) throw new SpecError(path, result.problems);
  return { spec: result.spec, text };
}

/** The largest spec read: a spec is a few kilobytes; /dev/zero or a disk image given by mistake is not read. */
export const SPEC_MAX_BYTES = 1024 * 1024;

/** YAML aliases a spec may expand: enough for any real spec, far too few for an alias bomb. */
export const SPEC_MAX_ALIASES = 100;

const SPEC_FILE_HINT = 'give the path of an image spec (a YAML file; docs/spec.md)';

/** The spec's text: a regular file of at most SPEC_MAX_BYTES, read no further than that. */
function readSpecText(path: string): string {
  const read = readCappedFile(path, SPEC_MAX_BYTES);
  if (read.ok) return read.data.toString('utf8');
  switch (read.reason) {
    case 'missing':
      throw new UsageError('SPEC_NOT_FOUND', `${path} does not exist`, { hint: SPEC_FILE_HINT });
    case 'directory':
      throw new UsageError('SPEC_NOT_FILE', `${path} is a directory, not an image spec`, {
        hint: SPEC_FILE_HINT,
      });
    case 'not-a-file':
      throw new UsageError('SPEC_NOT_FILE', `${path} is not a regular file`, { hint: SPEC_FILE_HINT });
    case 'too-big':
      throw new UsageError(
        'SPEC_TOO_BIG',
        `${path} is larger than ${SPEC_MAX_BYTES / 1024 / 1024} MiB: not an image spec`,
        {
          hint: `an image spec is a few kilobytes; specs over ${SPEC_MAX_BYTES} bytes are not read`,
        },
      );
    case 'stat-failed':
    case 'unreadable':
      throw new UsageError('SPEC_NOT_FOUND', `cannot read the spec ${path}: ${read.code}`, {
        hint: SPEC_FILE_HINT,
        cause: read.error,
      });
  }
}

/**
 * Why a regular file cannot be read, or undefined when its first byte can: a kernel file
 * (/proc/self/mem) stats as a regular file and fails its reads.
 */
async function unreadableFile(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      await handle.read(Buffer.alloc(1), 0, 1, null);
    } finally {
      await handle.close();
    }
    return undefined;
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

/** The yaml package's errors whose own words speak to a programmer, in the spec writer's. */
const YAML_ERRORS: Partial<Record<string, string>> = {
  MULTIPLE_DOCS: 'a spec is one YAML document, and this file holds more than one (a second "---")',
  RESOURCE_EXHAUSTION: 'nested too deeply (a spec nests a few levels)',
};

/**
 * Validates spec text as if read from `file` (named in problems; relative paths in the spec
 * resolve against its directory). Problems are a value here; `loadSpec` throws them.
 */
export async function parseSpec(text: string, file: string, options: LoadOptions = {}): Promise<SpecResult> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number, path: string, message: string): SpecProblem => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col, path, message };
  };
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) =>
        at(
          error.pos[0],
          '',
          `YAML syntax error: ${YAML_ERRORS[error.code] ?? error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
        ),
      ),
    };
  }
  octalModes(doc);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: SPEC_MAX_ALIASES });
  } catch (error) {
    // The yaml package refuses an alias bomb (aliases expanding to millions of nodes).
    if (!(error instanceof ReferenceError)) throw error;
    return {
      problems: [
        at(0, '', `too many YAML aliases: more than ${SPEC_MAX_ALIASES} expansions (an alias bomb?)`),
      ],
    };
  }
  if (data === null || data === undefined) return { problems: [at(0, '', 'the spec is empty')] };

  const base = dirname(resolve(file));
  const problems: SpecProblem[] = [];
  const local = async (declared: string, path: (string | number)[]): Promise<LocalPath> => {
    const absolute = resolve(base, declared);
    const found = await stat(absolute).catch(() => undefined);
    const reason =
      found === undefined
        ? 'does not exist'
        : !found.isFile()
          ? 'is not a regular file'
          : await unreadableFile(absolute);
    if (reason !== undefined)
      problems.push(
        at(locate(doc, path).offset, formatPath(path), `${declared} ${reason} (looked for ${absolute})`),
      );
    return { path: absolute, declared };
  };
  const parent = async (declared: string): Promise<ParentImage> => {
    const problem = (message: string) =>
      problems.push(at(locate(doc, ['base', 'from']).offset, 'base.from', message));
    if (IMAGE_ID.test(declared)) {
      const image = findImage(declared, options.home);
      if (image === undefined) problem(`no stored image ${declared} (goldgate images lists them)`);
      return { declared, path: join(image?.path ?? '', 'rootfs'), image: declared };
    }
    const absolute = resolve(base, declared);
    const found = await stat(absolute).catch(() => undefined);
    if (found === undefined) problem(`${declared} does not exist (looked for ${absolute})`);
    else if (!found.isDirectory())
      problem(`${declared} is not a directory (give an image id or a root filesystem directory)`);
    else {
      const stored = await storedImage(absolute, options.home);
      if (stored !== undefined) return { declared, ...stored };
      if ((await stat(join(absolute, 'etc')).catch(() => undefined))?.isDirectory() !== true)
        problem(`${declared} is not a root filesystem (it has no etc/ directory)`);
    }
    return { declared, path: absolute };
  };
  const parsed = ImageSpecSchema.safeParse(data);
  if (!parsed.success) {
    // Every problem at once: the local files are checked too, where the value is a path at all.
    await checkRawPaths(data, local, parent);
    const invalid = flattenIssues(parsed.error.issues, []).flatMap((issue) =>
      toProblems(issue, data, doc, at),
    );
    return { problems: sortProblems(dedupe([...invalid, ...problems])) };
  }
  const spec = await resolvePaths(parsed.data, local, parent);
  if (problems.length > 0) return { problems: sortProblems(problems) };
  return { spec };
}

/** The local paths of a spec that did not validate, checked where they are strings. */
async function checkRawPaths(
  data: unknown,
  local: (declared: string, path: (string | number)[]) => Promise<LocalPath>,
  parent: (declared: string) => Promise<ParentImage>,
): Promise<void> {
  const field = (value: unknown, key: string): unknown =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)[key]
      : undefined;
  const debs = field(data, 'debs');
  if (Array.isArray(debs))
    for (const [i, deb] of debs.entries())
      if (typeof deb === 'string' && deb !== '') await local(deb, ['debs', i]);
  const files = field(data, 'files');
  if (Array.isArray(files))
    for (const [i, file] of files.entries()) {
      const source = field(file, 'source');
      if (typeof source === 'string' && source !== '') await local(source, ['files', i, 'source']);
    }
  const userDataFile = field(field(data, 'userData'), 'file');
  if (typeof userDataFile === 'string' && userDataFile !== '')
    await local(userDataFile, ['userData', 'file']);
  const from = field(field(data, 'base'), 'from');
  if (typeof from === 'string' && from !== '') await parent(from);
}

/** The stored image whose `rootfs/` (or image directory) `absolute` is, if it is one. */
async function storedImage(
  absolute: string,
  home?: string,
): Promise<{ path: string; image: string } | undefined> {
  const real = await realpath(absolute);
  const store = await realpath(imagesDir(home)).catch(() => undefined);
  if (store === undefined) return undefined;
  const dir = basename(real) === 'rootfs' ? dirname(real) : real;
  if (dirname(dir) !== store) return undefined;
  const image = findImage(basename(dir), home);
  return image === undefined ? undefined : { path: join(image.path, 'rootfs'), image: image.id };
}

async function resolvePaths(
  doc: ImageSpecDocument,
  local: (declared: string, path: (string | number)[]) => Promise<LocalPath>,
  parent: (declared: string) => Promise<ParentImage>,
): Promise<ImageSpec> {
  const debs = await Promise.all(doc.debs.map((deb, i) => local(deb, ['debs', i])));
  const files = await Promise.all(
    doc.files.map(async (file, i) => ({
      ...file,
      source: file.source === undefined ? undefined : await local(file.source, ['files', i, 'source']),
    })),
  );
  let userData: ImageSpec['userData'];
  if (typeof doc.userData === 'object')
    userData = { file: await local(doc.userData.file, ['userData', 'file']) };
  else userData = doc.userData;
  const base: ImageSpec['base'] = 'from' in doc.base ? { from: await parent(doc.base.from) } : doc.base;
  const spec: ImageSpec = { ...doc, base, debs, files, userData };
  if (spec.userData === undefined) delete spec.userData;
  if (spec.dnsAllow === undefined) delete spec.dnsAllow;
  if (spec.channels === undefined) delete spec.channels;
  if (spec.patch === undefined) delete spec.patch;
  for (const f of spec.files) {
    if (f.source === undefined) delete f.source;
    if (f.content === undefined) delete f.content;
  }
  return spec;
}

/**
 * YAML 1.2 reads `mode: 0644` as the decimal 644. A mode is octal as chmod reads it, so a plain
 * integer (`0644`, `644`, `0755`) is taken as octal text; `0o644` stays the number it is.
 */
function octalModes(doc: Document): void {
  const files = doc.get('files', true);
  if (!isSeq(files)) return;
  for (const file of files.items) {
    if (!isMap(file)) continue;
    const mode = file.get('mode', true);
    if (isScalar(mode) && mode.type === 'PLAIN' && typeof mode.value === 'number') {
      const source = (mode as { source?: string }).source;
      if (source !== undefined && /^[0-9]+$/.test(source)) mode.value = source;
    }
  }
}

type Issue = z.core.$ZodIssue;

/** Unions report every branch; keep the branch that matched the value's type, when only one did. */
function flattenIssues(issues: readonly Issue[], prefix: PropertyKey[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const fitting = issue.errors.filter(
        (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
      );
      if (fitting.length === 1 && fitting[0] !== undefined) {
        out.push(...flattenIssues(fitting[0], path));
        continue;
      }
    }
    out.push({ ...issue, path } as Issue);
  }
  return out;
}

function toProblems(
  issue: Issue,
  data: unknown,
  doc: Document,
  at: (offset: number, path: string, message: string) => SpecProblem,
): SpecProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(ImageSpecSchema, path);
    return issue.keys.map((key) => {
      const where = locate(doc, [...path, key]);
      const suggestion = closest(key, known);
      const hint =
        suggestion !== undefined
          ? ` (did you mean ${suggestion}?)`
          : known.length > 0
            ? ` (known keys: ${known.join(', ')})`
            : '';
      return at(where.offset, formatPath([...path, key]), `unknown key${hint}`);
    });
  }
  const where = locate(doc, path);
  let message = issue.message;
  if (issue.code === 'invalid_type') {
    const value = valueAt(data, path);
    message =
      value === undefined
        ? 'is required'
        : `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describe(value)}`;
  } else if (issue.code === 'invalid_value') {
    const value = valueAt(data, path);
    message = `must be one of ${issue.values.map(String).join(', ')}, not ${describe(value)}`;
  }
  return [at(where.offset, formatPath(path), message)];
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function describe(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return String(value);
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** `health[1].http.port` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? key : `.${key}`;
  return out;
}

/**
 * The source offset of the field at `path`: the key of a mapping entry (where a reader looks
 * for the field), the item of a list, or the closest existing parent when the field is missing.
 */
function locate(doc: Document, path: readonly (string | number)[]): { offset: number } {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const key of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (pair === undefined) return { offset };
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (item === undefined) return { offset };
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      return { offset };
    }
  }
  return { offset };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return range === undefined || range === null ? undefined : range[0];
}

/** The keys a strict object accepts at `path` of the schema, for "did you mean". */
function knownKeys(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let node: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    for (;;) {
      if (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
      else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
      else return s;
    }
  };
  const objectIn = (s: z.ZodType): z.ZodObject | undefined => {
    const u = unwrap(s);
    if (u instanceof z.ZodObject) return u;
    if (u instanceof z.ZodUnion)
      for (const option of u.options as z.ZodType[]) {
        const o = objectIn(option);
        if (o !== undefined) return o;
      }
    return undefined;
  };
  for (const key of path) {
    if (node === undefined) return [];
    const u = unwrap(node);
    if (typeof key === 'number' && u instanceof z.ZodArray) node = u.element as z.ZodType;
    else node = objectIn(u)?.shape[key] as z.ZodType | undefined;
  }
  const object = node === undefined ? undefined : objectIn(node);
  return object === undefined ? [] : Object.keys(object.shape);
}

/** The known key closest to a typo, if close enough to be what was meant. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    if (candidate.toLowerCase() === key.toLowerCase()) return candidate;
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      // a transposition (pakcages) counts as one edit
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        current[j] = Math.min(current[j] ?? 0, (beforePrevious[j - 2] ?? 0) + 1);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function dedupe(problems: SpecProblem[]): SpecProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortProblems(problems: SpecProblem[]): SpecProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}
