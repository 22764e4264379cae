/** One `key = value` of an INI file; a later one of the same section and key replaces it. */
export interface IniEntry {
  section: string;
  key: string;
  value: string;
  /** Line of the key (a continued value starts there). */
  line: number;
}

export interface IniParse {
  entries: IniEntry[];
  problems: Array<{ line: number; reason: string }>;
}

/*
 * libdnf's IniParser (dnf5 libdnf5/utils/iniparser.cpp, the same rules as dnf4's libdnf):
 * - a comment is a line whose FIRST character is `#` or `;`; there are no inline comments on
 *   key lines (`apply_updates = yes # no` has the value `yes # no`);
 * - `[section]` may be followed by a comment only;
 * - `key=value` or `key = value`, split at the first `=`; `:` is not a separator;
 * - an indented line continues the previous value (joined with a newline);
 * - a value wholly enclosed in matching single or double quotes loses them;
 * - the same key again in a section replaces the value.
 * Where libdnf rejects the whole file, the bad line is reported and the rest is still read.
 */
export function parseDnfIni(text: string): IniParse {
  const entries: IniEntry[] = [];
  const problems: IniParse['problems'] = [];
  let section = '';
  let current: IniEntry | undefined;
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  const finish = (): void => {
    if (current === undefined) return;
    let value = current.value.replace(/\n+$/, '');
    if (value.length > 1 && value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'")) {
      value = value.slice(1, -1);
    }
    entries.push({ ...current, value });
    current = undefined;
  };
  const reject = (line: number, reason: string): void => {
    problems.push({ line, reason: `${reason}; dnf rejects the whole file` });
  };

  lines.forEach((raw, index) => {
    const line = index + 1;
    const text = raw.replace(/\r$/, '');
    if (text === '' || text[0] === '#' || text[0] === ';') {
      finish();
      return;
    }
    const start = text.search(/[^ \t\r]/);
    if (start < 0) {
      if (current !== undefined) current.value += '\n';
      return;
    }
    const trimmed = text.slice(start).replace(/[ \t\r]+$/, '');
    if (current !== undefined && (start === 0 || trimmed[0] === '[')) finish();
    if (trimmed[0] === '[') {
      const close = trimmed.indexOf(']');
      if (close < 0) return reject(line, "missing ']'");
      if (close === 1) return reject(line, 'empty section name');
      const after = trimmed.slice(close + 1).trim();
      if (after !== '' && after[0] !== '#' && after[0] !== ';')
        return reject(line, 'text after the section name');
      section = trimmed.slice(1, close);
      return;
    }
    if (section === '') return reject(line, 'key outside any section');
    if (start > 0) {
      if (current === undefined) return reject(line, 'indented line that continues nothing');
      current.value += `\n${trimmed}`;
      return;
    }
    const eq = trimmed.indexOf('=');
    if (eq === 0) return reject(line, 'missing key name');
    if (eq < 0) return reject(line, "missing '='");
    current = {
      section,
      key: trimmed.slice(0, eq).trimEnd(),
      value: trimmed.slice(eq + 1).trimStart(),
      line,
    };
  });
  finish();
  return { entries, problems };
}

// libdnf OptionBool: compared lower-cased against these lists (libdnf5/conf/option_bool.cpp).
const DNF_TRUE = new Set(['1', 'yes', 'true', 'on']);
const DNF_FALSE = new Set(['0', 'no', 'false', 'off']);

/** A dnf/yum boolean; null when the text is neither (dnf refuses such a value). */
export function dnfBool(value: string): boolean | null {
  const lower = value.toLowerCase();
  if (DNF_FALSE.has(lower)) return false;
  if (DNF_TRUE.has(lower)) return true;
  return null;
}
