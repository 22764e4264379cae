import { splitLines } from './read.js';

/** One `KEY=value` line of a shell-style file, with the value unquoted. */
export interface ShellAssignment {
  key: string;
  value: string;
  line: number;
}

export interface ShellParse {
  assignments: ShellAssignment[];
  problems: Array<{ line: number; reason: string }>;
}

const ASSIGNMENT = /^(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
// Inside double quotes the shell removes a backslash only before these.
const DQ_ESCAPABLE = new Set(['$', '`', '"', '\\']);

/** Unquotes one shell word; `rest` is what follows the word, `error` when a quote is left open. */
function shellWord(text: string): { value: string; rest: string; error?: string } {
  let value = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t') break;
    if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return { value, rest: '', error: 'unterminated single quote' };
      value += text.slice(i + 1, close);
      i = close + 1;
    } else if (ch === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < text.length && DQ_ESCAPABLE.has(text[i + 1]!)) {
          value += text[i + 1];
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) return { value, rest: '', error: 'unterminated double quote' };
    } else if (ch === '\\' && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
  return { value, rest: text.slice(i) };
}

/**
 * Parses `KEY=value` lines with shell quoting (os-release(5), Flatcar update.conf,
 * /etc/environment): `#` comment lines, an optional `export`, single and double quotes,
 * backslash escapes. Nothing is expanded. Lines that are not assignments are problems.
 */
export function parseShellAssignments(text: string): ShellParse {
  const assignments: ShellAssignment[] = [];
  const problems: ShellParse['problems'] = [];
  splitLines(text).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = ASSIGNMENT.exec(trimmed);
    if (match === null) {
      problems.push({ line, reason: 'not a KEY=value assignment' });
      return;
    }
    const word = shellWord(match[2]!);
    if (word.error !== undefined) {
      problems.push({ line, reason: `${match[1]!}: ${word.error}` });
      return;
    }
    const rest = word.rest.trim();
    if (rest !== '' && !rest.startsWith('#')) {
      problems.push({
        line,
        reason: `${match[1]!}: unquoted space in the value; the rest of the line is ignored`,
      });
    }
    assignments.push({ key: match[1]!, value: word.value, line });
  });
  return { assignments, problems };
}
