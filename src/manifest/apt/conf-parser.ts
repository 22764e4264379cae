import { posix } from 'node:path';
import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import { listAptDir } from './conf-dir.js';

/** What a statement does: set a scalar, append to a list (a value with no tag inside a block), or `#clear` a tree. */
export type AptConfOp = 'set' | 'append' | 'clear';

/** One statement of an apt.conf file, in reading order. */
export interface AptConfAssignment {
  /** Full option name as written (`APT::Periodic::Unattended-Upgrade`); for `append`, the list's name. */
  key: string;
  /** `key` with ASCII letters lowercased: APT compares names case-insensitively. */
  lkey: string;
  /** The value as APT stores it (quotes removed, `%xx` decoded in unquoted words); `''` for `clear`. */
  value: string;
  /** True for `append`: the value is one more item of the list `key`. */
  list: boolean;
  op: AptConfOp;
  source: SourceRef;
}

/** The result of reading one apt.conf file and what it includes. */
export interface AptConfParse {
  assignments: AptConfAssignment[];
  problems: ManifestProblem[];
  /** Files read: the file itself, then each included file when it was met. */
  files: string[];
  /** Included directories' entries that APT skips. */
  ignoredFiles: string[];
  /**
   * True when APT itself stops on an error here (syntax error, missing include). APT then
   * refuses to start at all: apt, apt-get, apt.systemd.daily and unattended-upgrades fail.
   */
  fatal: boolean;
}

/** APT's limit: a file at depth 11 may not include further. */
export const APT_MAX_INCLUDE_DEPTH = 10;

interface Reader {
  fs: RootFs | undefined;
  out: AptConfParse;
}

/**
 * Parses apt.conf(5) text as APT's ReadConfigFile does (apt 2.6): `//`, `#` and `/* *\/`
 * comments, blocks at any depth, lists, `#clear`, `#include` (followed through `fs`), several
 * statements per line or one statement over several lines. Like APT, it stops reading a file at
 * its first error (reported as a problem, `fatal`); statements read before it are kept.
 * Backslashes are not escapes in APT: `"a\"b"` ends the string after `a\`.
 */
export function parseAptConf(text: string | Uint8Array, path: string, fs?: RootFs): AptConfParse {
  const reader: Reader = {
    fs,
    out: { assignments: [], problems: [], files: [path], ignoredFiles: [], fatal: false },
  };
  readText(reader, toBytes(text), path, 0, [fs?.resolve(path) ?? path]);
  return reader.out;
}

/** Reads an apt.conf file from the image (with its includes). A missing file is a fatal problem, as in APT. */
export function readAptConfFile(fs: RootFs, path: string): AptConfParse {
  const reader: Reader = {
    fs,
    out: { assignments: [], problems: [], files: [], ignoredFiles: [], fatal: false },
  };
  if (!readFile(reader, path, 0, [])) reader.out.fatal = true;
  return reader.out;
}

// APT works on bytes; a latin1 string maps each byte to one char, and back without loss.
function toBytes(text: string | Uint8Array): string {
  if (typeof text === 'string') return isAscii(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
  return Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('latin1');
}

function fromBytes(bytes: string): string {
  return isAscii(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8');
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** ASCII-only lowercasing, as APT's tolower_ascii. */
export function aptLower(key: string): string {
  return key.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

function readFile(reader: Reader, path: string, depth: number, chain: string[]): boolean {
  const { fs, out } = reader;
  const info = fs?.stat(path);
  const data = info?.kind === 'file' ? fs?.readFile(path) : undefined;
  if (fs === undefined || data === undefined) {
    out.problems.push({ path, reason: 'cannot read this file (APT: "Unable to read")' });
    return false;
  }
  const real = fs.resolve(path) ?? path;
  if (chain.includes(real)) {
    out.problems.push({
      path,
      reason: `include loop: this file includes itself (APT fails with "Too many nested includes")`,
    });
    return false;
  }
  out.files.push(path);
  return readText(reader, toBytes(data), path, depth, [...chain, real]);
}

const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a])) a++;
  while (b > a && isSpace(s[b - 1])) b--;
  return s.slice(a, b);
}

/** _strstrip: spaces and tabs in front, spaces, tabs, CR and LF behind. */
function strstrip(s: string): string {
  return s.replace(/^[ \t]+/, '').replace(/[ \t\r\n]+$/, '');
}

function quotesBefore(s: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) if (s[i] === '"') n++;
  return n;
}

const MAGIC_COMMENTS = ['clear', 'include', 'x-apt-configure-index'];

/** Removes `//`, `#` and `/* *\/` comments from one line; returns the remaining fragment and the comment state. */
function stripComments(input: string, inComment: boolean): { fragment: string; inComment: boolean } {
  let line = input;
  if (inComment) {
    const end = line.indexOf('*/');
    if (end === -1) return { fragment: '', inComment: true };
    line = line.slice(end + 2);
  }
  for (let start = 0; (start = line.indexOf('//', start)) !== -1; start++) {
    if (quotesBefore(line, start) % 2 === 0) {
      line = line.slice(0, start);
      break;
    }
  }
  for (let start = 0; (start = line.indexOf('#', start)) !== -1; start++) {
    const magic = MAGIC_COMMENTS.some((m) => line.startsWith(m, start + 1));
    if (quotesBefore(line, start) % 2 === 0 && !magic) {
      line = line.slice(0, start);
      break;
    }
  }
  let fragment = '';
  for (let start = 0; (start = line.indexOf('/*', start)) !== -1;) {
    if (quotesBefore(line, start) % 2 !== 0) {
      start += 2;
      continue;
    }
    fragment += line.slice(0, start);
    const end = line.indexOf('*/', start + 2);
    if (end === -1) return { fragment, inComment: true };
    line = line.slice(end + 2);
    start = 0;
  }
  return { fragment: fragment + line, inComment: false };
}

/** A cursor over a C string, for the two word parsers of APT's strutl. */
interface Cursor {
  s: string;
  i: number;
}

/** ParseQuoteWord: one word; quotes group (and are removed), `[..]` groups, `%xx` is decoded. */
function parseQuoteWord(cur: Cursor): string | undefined {
  const { s } = cur;
  let c = cur.i;
  while (s[c] === ' ') c++;
  if (c >= s.length) return undefined;
  for (; c < s.length && !isSpace(s[c]); c++) {
    if (s[c] === '"') {
      c = s.indexOf('"', c + 1);
      if (c === -1) return undefined;
    }
    if (s[c] === '[') {
      c = s.indexOf(']', c + 1);
      if (c === -1) return undefined;
    }
  }
  let res = '';
  for (let i = cur.i; i < c;) {
    const ch = s[i] as string;
    if (ch === '%' && i + 2 < c && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      res += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
      continue;
    }
    if (ch !== '"') res += ch;
    i++;
  }
  while (c < s.length && isSpace(s[c])) c++;
  cur.i = c;
  return res;
}

/** ParseCWord: only quoted strings, concatenated, whitespace between them becoming one space. */
function parseCWord(cur: Cursor): string | undefined {
  const { s } = cur;
  let c = cur.i;
  while (s[c] === ' ') c++;
  if (c >= s.length) return undefined;
  let res = '';
  for (; c < s.length; c++) {
    if (s[c] === '"') {
      const end = s.indexOf('"', c + 1);
      if (end === -1) return undefined;
      res += s.slice(c + 1, end);
      c = end;
      continue;
    }
    if (c !== cur.i && isSpace(s[c]) && isSpace(s[c - 1])) continue;
    if (!isSpace(s[c])) return undefined;
    res += ' ';
  }
  cur.i = c;
  return res;
}

/** ReadConfigFile. Returns false where APT's returns false (the file's reading stops there). */
function readText(reader: Reader, bytes: string, path: string, depth: number, chain: string[]): boolean {
  const { out } = reader;
  const fail = (line: number, message: string): false => {
    out.problems.push({
      path,
      line,
      reason: `syntax error: ${message} (APT stops reading here and refuses to run)`,
    });
    out.fatal = true;
    return false;
  };
  const emit = (item: string, value: string, line: number, op?: 'clear'): void => {
    const append = op === undefined && (item === '' || item.endsWith('::'));
    const key = fromBytes(append && item !== '' ? item.slice(0, -2) : item);
    out.assignments.push({
      key,
      lkey: aptLower(key),
      value: fromBytes(value),
      list: append,
      op: op ?? (append ? 'append' : 'set'),
      source: { path, line },
    });
  };

  let lineBuffer = '';
  let parentTag = '';
  const stack: { saved: string; name: string; line: number }[] = [];
  const leave = (line: number): void => {
    const top = stack.pop();
    if (top === undefined) {
      out.problems.push({ path, line, reason: "'}' closes no block (APT ignores it)" });
      parentTag = '';
    } else parentTag = top.saved;
  };

  const lines = bytes.split('\n');
  let inComment = false;
  for (let index = 0; index < lines.length; index++) {
    const curLine = index + 1;
    const input = trimSpace((lines[index] as string).replaceAll('\t', '        '));
    const stripped = stripComments(input, inComment);
    inComment = stripped.inComment;
    const fragment = stripped.fragment;
    if (fragment === '') continue;

    let inQuote = false;
    let start = 0;
    for (let i = 0; i < fragment.length; i++) {
      const ch = fragment[i];
      if (ch === '"') inQuote = !inQuote;
      if (inQuote || (ch !== '{' && ch !== ';' && ch !== '}')) continue;

      const piece = trimSpace(fragment.slice(start, i));
      if (lineBuffer !== '' && piece !== '') lineBuffer += ' ';
      lineBuffer += piece;
      start = i + 1;

      if (ch === '{' && lineBuffer === '') return fail(curLine, 'Block starts with no name.');
      if (lineBuffer === '') {
        if (ch === '}') leave(curLine);
        continue;
      }

      const cur: Cursor = { s: lineBuffer, i: 0 };
      let tag = parseQuoteWord(cur);
      if (tag === undefined) return fail(curLine, 'Malformed tag');
      let word = parseCWord(cur) ?? parseQuoteWord(cur);
      let noWord = false;
      if (word === undefined) {
        if (ch !== '{') {
          word = tag;
          tag = '';
        } else {
          noWord = true;
          word = '';
        }
      }
      if (cur.i < lineBuffer.length) return fail(curLine, 'Extra junk after value');

      if (ch === '{') {
        const name = parentTag === '' ? tag : `${parentTag}::${tag}`;
        stack.push({ saved: parentTag, name, line: curLine });
        parentTag = name;
        tag = '';
      }
      let item: string;
      if (parentTag === '') item = tag;
      else item = ch !== '{' || tag !== '' ? `${parentTag}::${tag}` : parentTag;

      if (tag.startsWith('#')) {
        if (parentTag !== '') return fail(curLine, 'Directives can only be done at the top level');
        const directive = tag.slice(1);
        if (directive === 'clear') emit(word, '', curLine, 'clear');
        else if (directive === 'include') {
          if (depth > APT_MAX_INCLUDE_DEPTH) return fail(curLine, 'Too many nested includes');
          if (!include(reader, fromBytes(word), path, curLine, depth, chain)) {
            return fail(curLine, 'Included from here');
          }
        } else if (directive === 'x-apt-configure-index') {
          // A developer aid (option type checking) that changes no option; APT stops reading
          // the file, without failing, when the index cannot be loaded.
          const index = fromBytes(word);
          if (reader.fs !== undefined && reader.fs.stat(index)?.kind !== 'file') {
            out.problems.push({
              path,
              line: curLine,
              reason: `configure index ${index} cannot be read: APT stops reading this file here`,
            });
            return true;
          }
        } else return fail(curLine, `Unsupported directive '${fromBytes(directive)}'`);
      } else if (tag === '' && !noWord && word === '#clear') {
        return fail(curLine, 'clear directive requires an option tree as argument');
      } else if (!noWord) {
        if (item === '') {
          out.problems.push({
            path,
            line: curLine,
            reason: `value ${JSON.stringify(fromBytes(word))} has no option name (APT files it under an empty name: it sets nothing)`,
          });
        }
        emit(item, word, curLine);
      }
      lineBuffer = '';
      if (ch === '}') leave(curLine);
    }

    const rest = strstrip(fragment.slice(start));
    if (rest !== '' && lineBuffer !== '') lineBuffer += ' ';
    lineBuffer += rest;
  }

  if (lineBuffer !== '') return fail(lines.length, 'Extra junk at end of file');
  for (const open of stack) {
    out.problems.push({
      path,
      line: open.line,
      reason: `block ${JSON.stringify(fromBytes(open.name))} is never closed (APT accepts this)`,
    });
  }
  return true;
}

function include(
  reader: Reader,
  word: string,
  from: string,
  line: number,
  depth: number,
  chain: string[],
): boolean {
  const { fs, out } = reader;
  if (fs === undefined) {
    out.problems.push({
      path: from,
      line,
      reason: `#include "${word}" not followed: no image to read it from`,
    });
    return true;
  }
  let target = word;
  if (!word.startsWith('/')) {
    // APT opens the name as given, so it is relative to the working directory of whatever
    // reads the configuration: / for the apt-daily services, anything for a user's shell.
    target = posix.resolve('/', word);
    out.problems.push({
      path: from,
      line,
      reason: `relative #include "${word}" is resolved against the working directory of the apt process, not this file's directory (read here as ${target})`,
    });
  }
  if (word.length > 2 && word.endsWith('/')) {
    const listing = listAptDir(fs, target, ['conf'], true);
    out.ignoredFiles.push(...listing.ignored);
    out.problems.push(...listing.problems);
    if (!listing.exists) {
      out.problems.push({ path: from, line, reason: `included directory ${target} does not exist` });
      return false;
    }
    let ok = true;
    for (const file of listing.files) ok = readFile(reader, file, depth + 1, chain) && ok;
    return ok;
  }
  return readFile(reader, posix.normalize(target), depth + 1, chain);
}
