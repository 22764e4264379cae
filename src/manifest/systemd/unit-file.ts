import type { ManifestProblem, SourceRef } from '../types.js';

/** One `Key=Value` assignment of a unit file. `line` is the first physical line of a continued line. */
export interface UnitFileEntry {
  section: string;
  key: string;
  value: string;
  line: number;
}

/** A parsed unit file or drop-in. */
export interface ParsedUnitFile {
  path: string;
  entries: UnitFileEntry[];
  problems: ManifestProblem[];
  /** False when systemd would refuse the whole file (a broken section header). */
  loadable: boolean;
}

/** An assignment with its file, the unit of work of the `effective*` helpers. */
export interface Assignment {
  section: string;
  key: string;
  value: string;
  source: SourceRef;
}

const COMMENT_CHARS = '#;';

/**
 * Parses systemd's INI dialect (systemd.syntax(7), as src/shared/conf-parser.c reads it): lines are
 * stripped; lines whose first non-blank character is `#` or `;` are comments, even inside a
 * continuation; a line ending in an odd number of backslashes continues on the next line (the
 * backslash becomes a space). Malformed lines become problems and are skipped, as systemd does;
 * an unterminated section header makes systemd refuse the file, which `loadable` reports.
 */
export function parseUnitFile(text: string, path: string): ParsedUnitFile {
  const entries: UnitFileEntry[] = [];
  const problems: ManifestProblem[] = [];
  let loadable = true;
  let section: string | null = null;
  let continuation: string | null = null;
  let continuationLine = 0;

  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  const handle = (logical: string, line: number): void => {
    const l = logical.trim();
    if (l === '') return;
    if (l.startsWith('[')) {
      if (!l.endsWith(']')) {
        problems.push({
          path,
          line,
          reason: `invalid section header '${l}': systemd refuses to load this file`,
        });
        loadable = false;
        return;
      }
      section = l.slice(1, -1);
      return;
    }
    if (section === null) {
      problems.push({ path, line, reason: 'assignment outside of a section, ignored' });
      return;
    }
    const eq = l.indexOf('=');
    if (eq < 0) {
      problems.push({ path, line, reason: `missing '=' in '${l}', line ignored` });
      return;
    }
    const key = l.slice(0, eq).trim();
    if (key === '') {
      problems.push({ path, line, reason: `missing key name before '=' in '${l}', line ignored` });
      return;
    }
    entries.push({ section, key, value: l.slice(eq + 1).trim(), line });
  };

  lines.forEach((raw, index) => {
    const physical = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lineNo = index + 1;
    const first = physical.trimStart()[0];
    if (first !== undefined && COMMENT_CHARS.includes(first)) return;
    const joined: string = continuation === null ? physical : continuation + physical;
    if (continuation === null) continuationLine = lineNo;
    if (endsWithOddBackslashes(joined)) {
      continuation = `${joined.slice(0, -1)} `;
      return;
    }
    continuation = null;
    handle(joined, continuationLine);
  });
  if (continuation !== null) handle(continuation, continuationLine);

  return { path, entries, problems, loadable };
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n += 1;
  return n % 2 === 1;
}

/** All assignments of several files (fragment first, then drop-ins), in the order systemd applies them. */
export function assignmentsOf(files: readonly ParsedUnitFile[]): Assignment[] {
  return files.flatMap((file) =>
    file.entries.map((e) => ({
      section: e.section,
      key: e.key,
      value: e.value,
      source: { path: file.path, line: e.line },
    })),
  );
}

/**
 * The accumulated values of a list setting. An empty assignment to any of `keys` clears what was
 * collected so far: per key for `ExecStart=`, for the whole group for timers' `On*=` settings.
 */
export function effectiveList(
  list: readonly Assignment[],
  section: string,
  keys: readonly string[],
): Assignment[] {
  let out: Assignment[] = [];
  for (const a of list) {
    if (a.section !== section || !keys.includes(a.key)) continue;
    if (a.value === '') out = [];
    else out.push(a);
  }
  return out;
}

/** The last assignment of a single-valued setting; an empty assignment resets it to the default (null). */
export function effectiveValue(list: readonly Assignment[], section: string, key: string): Assignment | null {
  let out: Assignment | null = null;
  for (const a of list) {
    if (a.section === section && a.key === key) out = a.value === '' ? null : a;
  }
  return out;
}

/** Words of a space-separated list value (`WantedBy=a.target b.target`). */
export function splitWords(value: string): string[] {
  return value.split(/\s+/).filter((w) => w !== '');
}

/** systemd's parse_boolean; undefined when the text is not a boolean. */
export function parseSystemdBoolean(text: string): boolean | undefined {
  const v = text.trim().toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(v)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(v)) return false;
  return undefined;
}
