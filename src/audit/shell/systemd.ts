import type { Word } from './parse.js';

const PREFIX_CHARS = new Set(['-', '@', ':', '+', '!']);
const ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  s: ' ',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/** The value's leading `-`, `@`, `:`, `+`, `!`, `!!` prefixes, and the command line after them. */
function stripExecPrefixes(value: string): { prefixes: string; rest: string } {
  const text = value.trim();
  let i = 0;
  while (i < text.length && PREFIX_CHARS.has(text[i] as string)) i++;
  return { prefixes: text.slice(0, i), rest: text.slice(i) };
}

/**
 * Splits a command line the way systemd does for `ExecStart=`: whitespace separates words,
 * single or double quotes group them, and C-style escapes (`\n`, `\x41`, `\101`, `\u00e9`) are
 * decoded. `$VAR`, `${VAR}` and `%i`-style specifiers are marked dynamic (not with the `:`
 * prefix, which turns off variable expansion).
 */
export function splitSystemdWords(value: string): Word[] {
  const { prefixes, rest } = stripExecPrefixes(value);
  const expandVars = !prefixes.includes(':');
  const words: Word[] = [];
  let i = 0;
  while (i < rest.length) {
    while (i < rest.length && /\s/.test(rest[i] as string)) i++;
    if (i >= rest.length) break;
    const start = i;
    let out = '';
    let dynamic = false;
    let quote: string | undefined;
    while (i < rest.length) {
      const c = rest[i] as string;
      if (quote === undefined && /\s/.test(c)) break;
      if (c === quote) {
        quote = undefined;
        i++;
      } else if (quote === undefined && (c === '"' || c === "'")) {
        quote = c;
        i++;
      } else if (c === '\\' && i + 1 < rest.length) {
        const [text, length] = unescape(rest, i + 1);
        out += text;
        i += 1 + length;
      } else {
        const n = rest[i + 1];
        if (c === '$' && expandVars) {
          if (n === '$') {
            out += '$';
            i += 2;
            continue;
          }
          if (n === '{' || (n !== undefined && /[A-Za-z_]/.test(n))) dynamic = true;
        }
        if (c === '%') {
          if (n === '%') {
            out += '%';
            i += 2;
            continue;
          }
          if (n !== undefined && /[A-Za-z]/.test(n)) dynamic = true;
        }
        out += c;
        i++;
      }
    }
    words.push({ raw: rest.slice(start, i), value: out, dynamic, subs: [] });
  }
  // `@`: the second word is argv[0] as the program sees it, not an argument.
  if (prefixes.includes('@') && words.length >= 2) words.splice(1, 1);
  return words;
}

/** Decodes the escape after a backslash at `at`: its text and how many characters it used. */
function unescape(s: string, at: number): [string, number] {
  const c = s[at] as string;
  const simple = ESCAPES[c];
  if (simple !== undefined) return [simple, 1];
  const hex = (len: number): [string, number] | undefined => {
    const digits = s.slice(at + 1, at + 1 + len);
    if (digits.length !== len || !/^[0-9A-Fa-f]+$/.test(digits)) return undefined;
    const code = parseInt(digits, 16);
    return code <= 0x10ffff ? [String.fromCodePoint(code), 1 + len] : undefined;
  };
  if (c === 'x') return hex(2) ?? [c, 1];
  if (c === 'u') return hex(4) ?? [c, 1];
  if (c === 'U') return hex(8) ?? [c, 1];
  if (/[0-7]/.test(c)) {
    const digits = s.slice(at, at + 3);
    if (/^[0-7]{3}$/.test(digits)) return [String.fromCharCode(parseInt(digits, 8)), 3];
  }
  return [c, 1];
}
