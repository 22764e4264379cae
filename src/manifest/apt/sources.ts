import { field, parseDeb822 } from '../../debian/deb822.js';
import type { Deb822Paragraph } from '../../debian/deb822.js';
import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import { listAptDir } from './conf-dir.js';
import type { AptConfig } from './config.js';
import { aptBool, aptFindFile } from './config.js';

/** One package source: a line of a `.list` file or a stanza of a `.sources` file. */
export interface AptSource {
  /** `deb`, `deb-src`. */
  types: string[];
  /** As written (APT adds a trailing `/` when it uses them). */
  uris: string[];
  suites: string[];
  components: string[];
  /**
   * Options under their one-line names (`arch`, `signed-by`, `trusted`, `arch+`...), as APT maps
   * deb822 fields to them; list values comma-separated. An inline `Signed-By` key is `inline`.
   */
  options: Record<string, string>;
  /** False for `Enabled: no` stanzas and for `# deb ...` lines commented out; APT skips both. */
  enabled: boolean;
  /** `trusted=yes`: APT installs from it without any signature check. */
  trusted: boolean;
  format: 'one-line' | 'deb822';
  source: SourceRef;
}

/** What collectAptSources found. */
export interface AptSources {
  /** Files read: the main list, then the parts directory's `.list` and `.sources` files by name. */
  files: string[];
  /** Entries of the parts directory that APT skips. */
  ignoredFiles: string[];
  /** Sorted by path, then line. */
  sources: AptSource[];
  problems: ManifestProblem[];
}

const TYPES = new Set(['deb', 'deb-src']);
const FATAL = 'APT refuses to read its sources until this is fixed';

// pkgSourceList::Type::ParseStanza's mapping of deb822 fields to one-line options; `true` for lists.
const DEB822_OPTIONS: readonly (readonly [string, string, boolean])[] = [
  ['Architectures', 'arch', true],
  ['Architectures-Add', 'arch+', true],
  ['Architectures-Remove', 'arch-', true],
  ['Languages', 'lang', true],
  ['Languages-Add', 'lang+', true],
  ['Languages-Remove', 'lang-', true],
  ['Targets', 'target', true],
  ['Targets-Add', 'target+', true],
  ['Targets-Remove', 'target-', true],
  ['Trusted', 'trusted', false],
  ['Check-Valid-Until', 'check-valid-until', false],
  ['Valid-Until-Min', 'valid-until-min', false],
  ['Valid-Until-Max', 'valid-until-max', false],
  ['Check-Date', 'check-date', false],
  ['Date-Max-Future', 'date-max-future', false],
  ['Signed-By', 'signed-by', false],
  ['PDiffs', 'pdiffs', false],
  ['By-Hash', 'by-hash', false],
  ['Allow-Insecure', 'allow-insecure', false],
  ['Allow-Weak', 'allow-weak', false],
  ['Allow-Downgrade-To-Insecure', 'allow-downgrade-to-insecure', false],
  ['InRelease-Path', 'inrelease-path', false],
  ['Snapshot', 'snapshot', false],
];

/**
 * Reads APT's package sources from an image: the main list (`/etc/apt/sources.list`), then
 * `/etc/apt/sources.list.d/*.list` (one-line) and `*.sources` (deb822), with APT's file-name
 * rules. With `config`, `Dir::Etc::sourcelist` and `Dir::Etc::sourceparts` set in the image
 * are honoured. Entries APT would reject are problems; the rest of the file is still read.
 */
export function collectAptSources(fs: RootFs, config?: AptConfig): AptSources {
  const result: AptSources = { files: [], ignoredFiles: [], sources: [], problems: [] };
  const main = aptFindFile(config, 'Dir::Etc::sourcelist');
  const partsDir = aptFindFile(config, 'Dir::Etc::sourceparts');
  const read = (path: string): void => {
    const text = fs.readText(path);
    if (text === undefined) {
      result.problems.push({ path, reason: `cannot read this file; ${FATAL}` });
      return;
    }
    result.files.push(path);
    if (path.endsWith('.sources')) readDeb822(text, path, result);
    else readOneLine(text, path, result);
  };
  if (fs.stat(main)?.kind === 'file') read(main);
  const parts = listAptDir(fs, partsDir, ['list', 'sources'], false);
  result.ignoredFiles.push(...parts.ignored);
  result.problems.push(...parts.problems);
  parts.files.forEach(read);
  result.sources.sort(
    (a, b) => compareText(a.source.path, b.source.path) || (a.source.line ?? 0) - (b.source.line ?? 0),
  );
  return result;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ParseQuoteWord as apt's one-line parser uses it: one word, quotes and `[..]` group, `%xx` decoded. */
function quoteWord(text: string, from: number): { word: string; next: number } | undefined {
  let c = from;
  while (text[c] === ' ') c++;
  if (c >= text.length) return undefined;
  for (; c < text.length && !/\s/.test(text[c] as string); c++) {
    for (const [open, close] of [
      ['"', '"'],
      ['[', ']'],
    ] as const) {
      if (text[c] === open) {
        c = text.indexOf(close, c + 1);
        if (c === -1) return undefined;
      }
    }
  }
  const word = text
    .slice(from, c)
    .replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replaceAll('"', '');
  while (c < text.length && /\s/.test(text[c] as string)) c++;
  return { word, next: c };
}

/** One entry of a one-line list (after its type), or the reason APT rejects it. */
function parseOneLineEntry(
  rest: string,
): { uri: string; suite: string; components: string[]; options: Record<string, string> } | string {
  const options: Record<string, string> = {};
  let pos = rest.search(/\S|$/);
  if (rest[pos] === '[') {
    pos++;
    while (/\s/.test(rest[pos] ?? '')) pos++;
    while (rest[pos] !== ']') {
      const got = quoteWord(rest, pos);
      if (got === undefined) return '[option] unparseable';
      let option = got.word;
      pos = got.next;
      if (option.length < 3) return '[option] too short';
      if (option.endsWith(']')) {
        pos = rest.lastIndexOf(']', pos);
        option = option.slice(0, -1);
      }
      const eq = option.indexOf('=');
      if (eq === -1) return '[option] not assignment';
      if (eq === 0) return '[option] no key';
      if (eq === option.length - 1) return '[option] no value';
      options[option.slice(0, eq)] = option.slice(eq + 1);
    }
    pos++;
    while (/\s/.test(rest[pos] ?? '')) pos++;
  }
  const uri = quoteWord(rest, pos);
  if (uri === undefined) return 'URI';
  const suite = quoteWord(rest, uri.next);
  if (suite === undefined) return 'Suite';
  if (!uri.word.includes(':')) return 'URI parse';
  const components: string[] = [];
  for (let next = quoteWord(rest, suite.next); next !== undefined; next = quoteWord(rest, next.next)) {
    components.push(next.word);
  }
  if (suite.word.endsWith('/')) {
    if (components.length > 0) return 'absolute Suite Component';
  } else if (components.length === 0) return 'Component';
  return { uri: uri.word, suite: suite.word, components, options };
}

function oneLine(
  line: string,
): { type: string; entry: ReturnType<typeof parseOneLineEntry> } | { error: string } | undefined {
  const text = line.replace(/^[ \t\r]+/, '').replace(/[ \t\r]+$/, '');
  if (text === '') return undefined;
  const end = text.search(/[ \t\v]/);
  if (end <= 0) return { error: 'Malformed line (type)' };
  const type = text.slice(0, end);
  if (!TYPES.has(type)) return { error: `Type '${type}' is not known` };
  return { type, entry: parseOneLineEntry(text.slice(end)) };
}

/** A `#` starts a comment unless it is inside `[...]` options. */
function stripListComment(raw: string): string {
  for (let at = raw.indexOf('#'); at !== -1; at = raw.indexOf('#', at + 1)) {
    const before = raw.slice(0, at);
    if ((before.match(/\[/g)?.length ?? 0) > (before.match(/\]/g)?.length ?? 0)) continue;
    return before;
  }
  return raw;
}

function readOneLine(text: string, path: string, result: AptSources): void {
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const code = stripListComment(raw);
    const parsed = oneLine(code);
    if (parsed === undefined) {
      // A commented-out entry (`# deb http://...`) is kept as a disabled source.
      const commented = /^\s*#+(.*)$/.exec(raw)?.[1];
      const disabled = commented === undefined ? undefined : oneLine(stripListComment(commented));
      if (disabled !== undefined && 'type' in disabled && typeof disabled.entry !== 'string') {
        result.sources.push(fromOneLine(disabled.type, disabled.entry, false, path, line));
      }
      return;
    }
    if ('error' in parsed) {
      result.problems.push({ path, line, reason: `${parsed.error}; ${FATAL}` });
      return;
    }
    if (typeof parsed.entry === 'string') {
      result.problems.push({ path, line, reason: `Malformed entry (${parsed.entry}); ${FATAL}` });
      return;
    }
    result.sources.push(fromOneLine(parsed.type, parsed.entry, true, path, line));
  });
}

function fromOneLine(
  type: string,
  entry: Exclude<ReturnType<typeof parseOneLineEntry>, string>,
  enabled: boolean,
  path: string,
  line: number,
): AptSource {
  const options = sortKeys(entry.options);
  return {
    types: [type],
    uris: [entry.uri],
    suites: [entry.suite],
    components: entry.components,
    options,
    enabled,
    trusted: aptBool(options.trusted) === true,
    format: 'one-line',
    source: { path, line },
  };
}

function sortKeys(options: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(options).sort(([a], [b]) => compareText(a, b)));
}

const words = (value: string | undefined): string[] => (value ?? '').split(/\s+/).filter((w) => w !== '');

function readDeb822(text: string, path: string, result: AptSources): void {
  const doc = parseDeb822(text);
  for (const problem of doc.problems) {
    result.problems.push({ path, line: problem.line, reason: `${problem.reason}; ${FATAL}` });
  }
  doc.paragraphs.forEach((paragraph, index) => {
    const source = fromStanza(paragraph);
    const enabledField = field(paragraph, 'Enabled');
    const enabled = enabledField === undefined || enabledField === '' || aptBool(enabledField) !== false;
    const reject = (what: string): void => {
      result.problems.push({
        path,
        line: paragraph.line,
        reason: `Malformed stanza ${index + 1} (${what}); ${FATAL}`,
      });
    };
    source.enabled = enabled;
    source.source = { path, line: paragraph.line };
    // APT skips a disabled stanza before checking anything else in it.
    if (enabled) {
      if (field(paragraph, 'Types') === undefined) return reject('type');
      const unknown = source.types.find((t) => !TYPES.has(t));
      if (unknown !== undefined) {
        result.problems.push({
          path,
          line: paragraph.line,
          reason: `Type '${unknown}' is not known on stanza ${index + 1}; ${FATAL}`,
        });
        return;
      }
      if (source.uris.length === 0) return reject('URI');
      if (source.uris.some((u) => !u.includes(':'))) return reject('URI parse');
      if (source.suites.length === 0) return reject('Suite');
      for (const suite of source.suites) {
        if (suite.endsWith('/') && source.components.length > 0) return reject('absolute Suite Component');
        if (!suite.endsWith('/') && source.components.length === 0) return reject('Component');
      }
    }
    result.sources.push(source);
  });
}

function fromStanza(paragraph: Deb822Paragraph): AptSource {
  const options: Record<string, string> = {};
  for (const [name, option, isList] of DEB822_OPTIONS) {
    const value = field(paragraph, name);
    if (value === undefined) continue;
    // An inline key is kept out of the manifest: only the fact that there is one.
    if (name === 'Signed-By' && value.includes('BEGIN PGP')) options[option] = 'inline';
    else options[option] = words(value).join(isList ? ',' : ' ');
  }
  const sorted = sortKeys(options);
  return {
    types: words(field(paragraph, 'Types')),
    uris: words(field(paragraph, 'URIs')),
    suites: words(field(paragraph, 'Suites')),
    components: words(field(paragraph, 'Components')),
    options: sorted,
    enabled: true,
    trusted: aptBool(sorted.trusted) === true,
    format: 'deb822',
    source: { path: '', line: paragraph.line },
  };
}
