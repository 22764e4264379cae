import type { LogTime } from '../../types.js';

/**
 * cloud-init's banner lines, the same in `cloud-init.log` and `cloud-init-output.log`:
 * `Cloud-init v. 22.4.2 running 'init' at Fri, 27 Nov 2026 07:57:54 +0000. Up 1564.78 seconds.`
 * and `Cloud-init v. 22.4.2 finished at <date>. Datasource <ds>.  Up 1572.47 seconds`.
 */
export type CloudInitBanner =
  | { kind: 'start'; cloudInitVersion: string; stage: string; at: LogTime | null; upSeconds: number | null }
  | {
      kind: 'finished';
      cloudInitVersion: string;
      at: LogTime | null;
      datasource: string;
      upSeconds: number | null;
    };

const START = /^Cloud-init v\. (\S+) running '([^']*)' at (.+?)\. Up (\d+(?:\.\d+)?) seconds\.?\s*$/;
const FINISHED =
  /^Cloud-init v\. (\S+) finished at (.+?)\. Datasource (.*?)\.?\s+Up (\d+(?:\.\d+)?) seconds\.?\s*$/;

/** Reads a banner line; null when the text is not one. `at` is null when its date is malformed. */
export function parseBanner(text: string): CloudInitBanner | null {
  if (!text.startsWith('Cloud-init v. ')) return null;
  const start = START.exec(text);
  if (start !== null) {
    const [, cloudInitVersion = '', stage = '', at = '', up = ''] = start;
    return { kind: 'start', cloudInitVersion, stage, at: rfc2822Time(at) ?? null, upSeconds: Number(up) };
  }
  const finished = FINISHED.exec(text);
  if (finished !== null) {
    const [, cloudInitVersion = '', at = '', datasource = '', up = ''] = finished;
    return {
      kind: 'finished',
      cloudInitVersion,
      at: rfc2822Time(at) ?? null,
      datasource,
      upSeconds: Number(up),
    };
  }
  return null;
}

/** The date part of a banner, for problems: `Fri, 27 Nov 2026 07:57:54 +0000`. */
export function bannerDateText(text: string): string | null {
  return / at (.+?)\. (?:Up|Datasource) /.exec(text)?.[1] ?? null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const RFC2822 =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:([+-])(\d{2})(\d{2})|GMT|UTC|Z)$/;

/** An RFC 2822 date as Python's `time.strftime('%a, %d %b %Y %H:%M:%S %z')` writes it; undefined if malformed. */
export function rfc2822Time(text: string): LogTime | undefined {
  const match = RFC2822.exec(text);
  if (match === null) return undefined;
  const [, d, mon = '', y, h, mi, s, sign, oh, om] = match;
  const month = MONTHS.indexOf(mon);
  if (month < 0) return undefined;
  const utc = Date.UTC(Number(y), month, Number(d), Number(h), Number(mi), Number(s));
  const date = new Date(utc);
  // Reject 31 Nov and 25:00:00 rather than let Date roll them over.
  if (
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi)
  )
    return undefined;
  if (Number(s) > 59 || Number(om ?? 0) > 59) return undefined;
  const offset = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return { text, epochMs: utc - offset };
}

const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
};

/**
 * The strings of a Python list repr (`['apt-get', "it's", b'raw', '\\x00']`), as cloud-init
 * logs a command's argv; undefined when the text is not such a list. Items that are not
 * string literals (numbers, `PosixPath(...)`) are kept as written.
 */
export function parsePythonList(text: string): string[] | undefined {
  const s = text.trim();
  if (!s.startsWith('[') || !s.endsWith(']')) return undefined;
  const items: string[] = [];
  let i = 1;
  const skipBlanks = () => {
    while (s[i] === ' ') i++;
  };
  skipBlanks();
  if (s[i] === ']') return i === s.length - 1 ? items : undefined;
  for (;;) {
    skipBlanks();
    let c = s[i];
    if ((c === 'b' || c === 'u') && (s[i + 1] === "'" || s[i + 1] === '"')) c = s[++i];
    if (c === "'" || c === '"') {
      const quote = c;
      let value = '';
      i++;
      for (;;) {
        const ch = s[i];
        if (ch === undefined) return undefined;
        if (ch === quote) break;
        if (ch === '\\') {
          const next = s[i + 1];
          if (next === undefined) return undefined;
          const hex = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
          if (hex > 0) {
            const digits = s.slice(i + 2, i + 2 + hex);
            const code = /^[0-9a-fA-F]+$/.test(digits) && digits.length === hex ? parseInt(digits, 16) : NaN;
            if (Number.isNaN(code) || code > 0x10ffff) return undefined;
            value += String.fromCodePoint(code);
            i += 2 + hex;
            continue;
          }
          value += ESCAPES[next] ?? `\\${next}`;
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      items.push(value);
      i++;
    } else {
      // A bare item: up to the next comma or the closing bracket, brackets balanced.
      const start = i;
      let depth = 0;
      while (i < s.length - 1 && !(depth === 0 && s[i] === ',')) {
        if (s[i] === '(' || s[i] === '[') depth++;
        else if (s[i] === ')' || s[i] === ']') depth--;
        i++;
      }
      const item = s.slice(start, i).trim();
      if (item === '' || depth !== 0) return undefined;
      items.push(item);
    }
    skipBlanks();
    if (s[i] === ',') {
      i++;
      continue;
    }
    return s[i] === ']' && i === s.length - 1 ? items : undefined;
  }
}
