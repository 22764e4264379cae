/**
 * A tolerant, linear-time reader of POSIX/bash shell text. It does not build a full syntax
 * tree: it finds simple commands, the pipelines they form, their words (quotes removed) and
 * the commands nested in `$(...)`, backticks and `<(...)`. Bad input never throws; it just
 * yields fewer or odder commands.
 */

/** Stands for a command or process substitution inside a word's value. */
export const SUBST = '\u0000';

/** Nesting past this depth is skipped unparsed, so hostile input cannot exhaust the stack. */
const MAX_LEVEL = 24;

/** Commands nested in a word, run when the word is expanded. */
export interface Sub {
  kind: 'command' | 'backtick' | 'process';
  body: Pipeline[];
}

/** A shell word after quote removal. */
export interface Word {
  /** The word as written. */
  raw: string;
  /** Quotes removed; parameter expansions kept as written; substitutions replaced by `SUBST`. */
  value: string;
  /** The value depends on an expansion, so it is not known statically. */
  dynamic: boolean;
  subs: Sub[];
}

/** A here-document: its body is data, unless a shell reads it. */
export interface Heredoc {
  delimiter: string;
  /** A quoted delimiter: the body is taken literally. */
  quoted: boolean;
  /** `<<-`: leading tabs are stripped. */
  strip: boolean;
  body: string;
  bodyLine: number;
  /** Substitutions in an unquoted body: they run even though the body is data. */
  subs: Sub[];
}

/** A redirection; `target` is the word after the operator. */
export interface Redirect {
  op: string;
  target: Word | undefined;
  heredoc: Heredoc | undefined;
}

/** Words, assignments and redirections run as one command. */
export interface SimpleCommand {
  assigns: Word[];
  words: Word[];
  redirects: Redirect[];
  /** The text the offsets refer to. */
  src: string;
  start: number;
  end: number;
  line: number;
}

/** Commands joined by `|`: each one's stdout is the next one's stdin. */
export interface Pipeline {
  commands: SimpleCommand[];
}

type Frame = { kind: 'paren' } | { kind: 'case'; mode: 'pattern' | 'body' };

interface Acc {
  value: string;
  dynamic: boolean;
  subs: Sub[];
}

interface Builder {
  assigns: Word[];
  words: Word[];
  redirects: Redirect[];
  start: number;
  end: number;
}

const WORD_END = 1;
const PLAIN_STOP = 2;
const DQ_STOP = 4;
/** Character classes of ASCII, by code: a bit per class. */
const CLASSES = new Uint8Array(128);
const addClass = (chars: string, cls: number): void => {
  for (let i = 0; i < chars.length; i++)
    CLASSES[chars.charCodeAt(i)] = (CLASSES[chars.charCodeAt(i)] ?? 0) | cls;
};
addClass(' \t\r\n;&|<>()', WORD_END | PLAIN_STOP);
addClass('\\\'"$`', PLAIN_STOP);
addClass('"\\$`', DQ_STOP);

function is(s: string, i: number, cls: number): boolean {
  const code = s.charCodeAt(i);
  return code < 128 && ((CLASSES[code] as number) & cls) !== 0;
}

/** Substitutions parsed between two hand-overs of pipelines: past this, they are skipped unparsed. */
const SUB_BUDGET = 10_000;
const MAX_KEPT_PIPELINES = 10_000;
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;
const ARRAY_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=$/;
const REDIRECT_OPS = ['&>>', '<<<', '<<-', '&>', '<<', '<>', '<&', '>>', '>&', '>|', '<', '>'];
const NOOP_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'coproc']);
const END_KEYWORDS = new Set(['fi', 'done', '}', 'esac']);

/**
 * Parses shell text; `baseLine` is the line number of its first line. Never throws. With
 * `sink`, top-level pipelines are handed over as soon as they are complete (their here-documents
 * read) instead of returned, so a large input is never held as one tree.
 */
export function parseShell(
  src: string,
  baseLine = 1,
  level = 0,
  sink?: (pipeline: Pipeline) => void,
): Pipeline[] {
  return new Parser(src, baseLine, level, sink).parseList(null);
}

/** Parses only the substitutions of an unquoted here-document body. */
function parseHeredocExpansions(body: string, baseLine: number, level: number): Sub[] {
  const p = new Parser(body, baseLine, level);
  const acc: Acc = { value: '', dynamic: false, subs: [] };
  p.readExpansionsOnly(acc);
  return acc.subs;
}

class Parser {
  pos = 0;
  private lineStarts: number[] | undefined;
  private pending: Heredoc[] = [];
  private budget = SUB_BUDGET;

  constructor(
    private readonly src: string,
    private readonly baseLine: number,
    private level: number,
    private readonly sink?: (pipeline: Pipeline) => void,
  ) {}

  lineAt(offset: number): number {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = this.src.indexOf('\n'); i >= 0; i = this.src.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.baseLine + lo;
  }

  parseList(term: ')' | null): Pipeline[] {
    const s = this.src;
    const out: Pipeline[] = [];
    const frames: Frame[] = [];
    let pipeline: SimpleCommand[] = [];
    let cmd: Builder | null = null;

    const endCommand = (): void => {
      if (cmd && (cmd.words.length > 0 || cmd.assigns.length > 0 || cmd.redirects.length > 0)) {
        pipeline.push({
          assigns: cmd.assigns,
          words: cmd.words,
          redirects: cmd.redirects,
          src: s,
          start: cmd.start,
          end: cmd.end,
          line: this.lineAt(cmd.start),
        });
      }
      cmd = null;
    };
    const sink = term === null ? this.sink : undefined;
    const flush = (): void => {
      // Not while a here-document is open: its body, read at the next newline, belongs to a command.
      if (!sink || this.pending.length > 0) return;
      for (const p of out) sink(p);
      out.length = 0;
      this.budget = SUB_BUDGET;
    };
    const endPipeline = (): void => {
      endCommand();
      // A list that is kept (inside `$(...)`) stops growing at a size no real script reaches.
      if (pipeline.length > 0 && (sink || out.length < MAX_KEPT_PIPELINES)) out.push({ commands: pipeline });
      pipeline = [];
      flush();
    };
    const toPattern = (): void => {
      const top = frames[frames.length - 1];
      if (top?.kind === 'case') top.mode = 'pattern';
    };

    while (this.pos < s.length) {
      this.skipBlanks();
      if (this.pos >= s.length) break;
      const c = s[this.pos];
      if (c === '\n') {
        endPipeline();
        this.pos++;
        this.readHeredocBodies();
        flush();
        continue;
      }
      const top = frames[frames.length - 1];
      if (top?.kind === 'case' && top.mode === 'pattern' && cmd === null) {
        this.readCasePattern(top, frames);
        continue;
      }
      const next = s[this.pos + 1];
      if (c === '#') {
        this.skipComment();
        continue;
      }
      if (c === ';') {
        if (next === ';' || next === '&') {
          this.pos += next === ';' && (s[this.pos + 2] === '&' || s[this.pos + 2] === '|') ? 3 : 2;
          endPipeline();
          toPattern();
        } else {
          this.pos++;
          endPipeline();
        }
        continue;
      }
      if (c === '&' && next !== '>') {
        this.pos += next === '&' ? 2 : 1;
        endPipeline();
        continue;
      }
      if (c === '|') {
        if (next === '|') {
          this.pos += 2;
          endPipeline();
        } else {
          this.pos += next === '&' ? 2 : 1;
          endCommand();
        }
        continue;
      }
      if (c === '(') {
        const current: Builder | null = cmd;
        if (
          current &&
          current.words.length === 1 &&
          current.assigns.length === 0 &&
          this.isFunctionParens()
        ) {
          cmd = null; // `name() { ...; }`: the body follows as ordinary commands
          continue;
        }
        const forArith = current?.words.length === 1 && current.words[0]?.raw === 'for';
        if (next === '(' && (current === null || forArith)) {
          this.pos = skipBalanced(s, this.pos);
          continue;
        }
        endCommand();
        frames.push({ kind: 'paren' });
        this.pos++;
        continue;
      }
      if (c === ')') {
        this.pos++;
        if (top?.kind === 'paren') {
          frames.pop();
          endCommand();
          continue;
        }
        if (term === ')') {
          endPipeline();
          return out;
        }
        endCommand();
        continue;
      }
      if ((c === '<' || c === '>' || c === '&') && next !== '(') {
        cmd ??= { assigns: [], words: [], redirects: [], start: this.pos, end: this.pos };
        this.readRedirect(cmd);
        continue;
      }

      const start = this.pos;
      const word = this.readWord();
      if (!word) {
        this.pos++;
        continue;
      }
      if ((s[this.pos] === '<' || s[this.pos] === '>') && /^\d+$/.test(word.raw)) {
        cmd ??= { assigns: [], words: [], redirects: [], start, end: this.pos }; // `2>&1`: a file descriptor
        continue;
      }
      const current: Builder | null = cmd;
      const atCommandStart =
        current === null ||
        (current.words.length === 0 && current.assigns.length === 0 && current.redirects.length === 0);
      const literal = word.raw === word.value && !word.dynamic;
      if (atCommandStart && literal) {
        if (NOOP_KEYWORDS.has(word.raw)) continue;
        if (END_KEYWORDS.has(word.raw)) {
          endCommand();
          if (word.raw === 'esac') {
            while (frames.length > 0 && frames.pop()?.kind !== 'case');
          }
          continue;
        }
        if (word.raw === 'function') {
          this.skipBlanks();
          this.readWord();
          this.skipBlanks();
          this.isFunctionParens();
          continue;
        }
      }
      if (current && current.words.length === 2 && current.words[0]?.raw === 'case' && word.raw === 'in') {
        current.end = this.pos;
        endCommand();
        frames.push({ kind: 'case', mode: 'pattern' });
        continue;
      }
      const builder: Builder = current ?? { assigns: [], words: [], redirects: [], start, end: start };
      cmd = builder;
      if (builder.words.length === 0 && ASSIGNMENT.test(word.raw)) builder.assigns.push(word);
      else builder.words.push(word);
      builder.end = this.pos;
    }
    endPipeline();
    flush();
    return out;
  }

  /** Spaces, tabs, carriage returns and backslash-newline continuations. */
  private skipBlanks(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\\' && s[this.pos + 1] === '\n') this.pos += 2;
      else if (c === '\\' && s[this.pos + 1] === '\r' && s[this.pos + 2] === '\n') this.pos += 3;
      else break;
    }
  }

  private skipComment(): void {
    const nl = this.src.indexOf('\n', this.pos);
    this.pos = nl < 0 ? this.src.length : nl;
  }

  /** At `(`: consumes `( )` of a function definition if that is what follows. */
  private isFunctionParens(): boolean {
    const s = this.src;
    if (s[this.pos] !== '(') return false;
    let i = this.pos + 1;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== ')') return false;
    this.pos = i + 1;
    return true;
  }

  private readCasePattern(frame: { kind: 'case'; mode: 'pattern' | 'body' }, frames: Frame[]): void {
    const s = this.src;
    const c = s[this.pos];
    if (c === '#') {
      this.skipComment();
      return;
    }
    if (c === ';') {
      this.pos++;
      return;
    }
    if (s.startsWith('esac', this.pos) && isDelimiter(s[this.pos + 4])) {
      this.pos += 4;
      while (frames.length > 0 && frames.pop() !== frame);
      return;
    }
    if (c === '(') this.pos++;
    while (this.pos < s.length) {
      this.skipBlanks();
      const d = s[this.pos];
      if (d === ')') {
        this.pos++;
        break;
      }
      if (d === '|') {
        this.pos++;
        continue;
      }
      if (d === '\n' || d === undefined) break;
      if (!this.readWord()) this.pos++;
    }
    frame.mode = 'body';
  }

  private readRedirect(cmd: Builder): void {
    const s = this.src;
    let op = s[this.pos] as string;
    for (const o of REDIRECT_OPS) {
      if (s.startsWith(o, this.pos)) {
        op = o;
        break;
      }
    }
    this.pos += op.length;
    this.skipBlanks();
    const target = this.readWord() ?? undefined;
    let heredoc: Heredoc | undefined;
    if ((op === '<<' || op === '<<-') && target) {
      heredoc = {
        delimiter: target.value,
        quoted: /['"\\]/.test(target.raw),
        strip: op === '<<-',
        body: '',
        bodyLine: 0,
        subs: [],
      };
      this.pending.push(heredoc);
    }
    cmd.redirects.push({ op, target, heredoc });
    cmd.end = this.pos;
  }

  /** After a newline: the bodies of the here-documents opened on the line just ended. */
  private readHeredocBodies(): void {
    const s = this.src;
    const pending = this.pending;
    this.pending = [];
    for (const doc of pending) {
      const bodyStart = this.pos;
      let bodyEnd = s.length;
      while (this.pos < s.length) {
        const nl = s.indexOf('\n', this.pos);
        const lineEnd = nl < 0 ? s.length : nl;
        let line = s.slice(this.pos, lineEnd);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (doc.strip) line = line.replace(/^\t+/, '');
        const lineStart = this.pos;
        this.pos = nl < 0 ? s.length : nl + 1;
        if (line === doc.delimiter) {
          bodyEnd = lineStart;
          break;
        }
      }
      doc.body = s.slice(bodyStart, bodyEnd);
      doc.bodyLine = this.lineAt(bodyStart);
      if (!doc.quoted && /[$`]/.test(doc.body)) {
        doc.subs = parseHeredocExpansions(doc.body, doc.bodyLine, this.level + 1);
      }
    }
  }

  private readWord(): Word | null {
    const s = this.src;
    const start = this.pos;
    const acc: Acc = { value: '', dynamic: false, subs: [] };
    while (this.pos < s.length) {
      const c = s[this.pos] as string;
      if (is(s, this.pos, WORD_END)) {
        if ((c === '<' || c === '>') && s[this.pos + 1] === '(' && this.pos === start) {
          this.pos += 2;
          acc.subs.push({ kind: 'process', body: this.nested() });
          acc.value += SUBST;
          acc.dynamic = true;
          continue;
        }
        if (c === '(' && this.pos > start) {
          if ('@!+*?'.includes(s[this.pos - 1] as string)) {
            const end = skipBalanced(s, this.pos);
            acc.value += s.slice(this.pos, end);
            this.pos = end;
            continue;
          }
          if (ARRAY_ASSIGNMENT.test(s.slice(start, this.pos))) {
            this.readArray(acc);
            continue;
          }
        }
        break;
      }
      if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === '\n') this.pos += 2;
        else if (n === '\r' && s[this.pos + 2] === '\n') this.pos += 3;
        else if (n === undefined) this.pos++;
        else {
          acc.value += n;
          this.pos += 2;
        }
      } else if (c === "'") {
        const close = s.indexOf("'", this.pos + 1);
        const end = close < 0 ? s.length : close;
        acc.value += s.slice(this.pos + 1, end);
        this.pos = close < 0 ? s.length : close + 1;
      } else if (c === '"') {
        this.readDouble(acc);
      } else if (c === '$') {
        this.readDollar(acc, false);
      } else if (c === '`') {
        this.readBacktick(acc);
      } else {
        let j = this.pos + 1;
        while (j < s.length && !is(s, j, PLAIN_STOP)) j++;
        acc.value += s.slice(this.pos, j);
        this.pos = j;
      }
    }
    if (this.pos === start) return null;
    return { raw: s.slice(start, this.pos), value: acc.value, dynamic: acc.dynamic, subs: acc.subs };
  }

  /** `name=( a b $(c) )`: the elements' substitutions run. */
  private readArray(acc: Acc): void {
    const s = this.src;
    const open = this.pos;
    if (this.level >= MAX_LEVEL) {
      this.pos = skipBalanced(s, open);
      acc.value += s.slice(open, this.pos);
      return;
    }
    this.level++;
    this.pos++;
    while (this.pos < s.length) {
      this.skipBlanks();
      const c = s[this.pos];
      if (c === ')') {
        this.pos++;
        break;
      }
      if (c === '#') {
        this.skipComment();
        continue;
      }
      const word = this.readWord();
      if (word) {
        acc.subs.push(...word.subs);
        acc.dynamic ||= word.dynamic;
      } else this.pos++;
    }
    this.level--;
    acc.value += s.slice(open, this.pos);
  }

  private readDouble(acc: Acc): void {
    const s = this.src;
    this.pos++;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === '$' || n === '`' || n === '"' || n === '\\') {
          acc.value += n;
          this.pos += 2;
        } else if (n === '\n') this.pos += 2;
        else {
          acc.value += '\\';
          this.pos++;
        }
      } else if (c === '$') this.readDollar(acc, true);
      else if (c === '`') this.readBacktick(acc);
      else {
        let j = this.pos + 1;
        while (j < s.length && !is(s, j, DQ_STOP)) j++;
        acc.value += s.slice(this.pos, j);
        this.pos = j;
      }
    }
  }

  /** The whole text as an unquoted here-document body: only `$...` and backticks matter. */
  readExpansionsOnly(acc: Acc): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\\') this.pos += 2;
      else if (c === '$') this.readDollar(acc, true);
      else if (c === '`') this.readBacktick(acc);
      else this.pos++;
    }
  }

  private readDollar(acc: Acc, inDouble: boolean): void {
    const s = this.src;
    const p = this.pos;
    const n = s[p + 1];
    if (n === "'" && !inDouble) {
      this.readAnsiC(acc);
      return;
    }
    if (n === '"' && !inDouble) {
      this.pos++;
      this.readDouble(acc);
      return;
    }
    if (n === '(') {
      if (s[p + 2] === '(') {
        this.pos = skipBalanced(s, p + 1);
        acc.value += s.slice(p, this.pos);
      } else {
        this.pos = p + 2;
        acc.subs.push({ kind: 'command', body: this.nested() });
        acc.value += SUBST;
      }
      acc.dynamic = true;
      return;
    }
    if (n === '{') {
      this.readBraceParam(acc, inDouble);
      return;
    }
    if (n !== undefined && /[A-Za-z_]/.test(n)) {
      let j = p + 2;
      while (j < s.length && /[A-Za-z0-9_]/.test(s[j] as string)) j++;
      acc.value += s.slice(p, j);
      acc.dynamic = true;
      this.pos = j;
      return;
    }
    if (n !== undefined && /[0-9@#?$!*-]/.test(n)) {
      acc.value += s.slice(p, p + 2);
      acc.dynamic = true;
      this.pos = p + 2;
      return;
    }
    acc.value += '$';
    this.pos++;
  }

  /** `${...}`, kept as written; substitutions inside it still count. */
  private readBraceParam(acc: Acc, inDouble: boolean): void {
    const s = this.src;
    const p = this.pos;
    acc.dynamic = true;
    if (this.level >= MAX_LEVEL) {
      const close = s.indexOf('}', p);
      this.pos = close < 0 ? s.length : close + 1;
      acc.value += s.slice(p, this.pos);
      return;
    }
    this.level++;
    this.pos = p + 2;
    const inner: Acc = { value: '', dynamic: true, subs: acc.subs };
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '}') {
        this.pos++;
        break;
      }
      if (c === '\\') this.pos += 2;
      else if (c === "'" && !inDouble) {
        const close = s.indexOf("'", this.pos + 1);
        this.pos = close < 0 ? s.length : close + 1;
      } else if (c === '"') this.readDouble(inner);
      else if (c === '$') this.readDollar(inner, inDouble);
      else if (c === '`') this.readBacktick(inner);
      else this.pos++;
    }
    this.level--;
    acc.value += s.slice(p, this.pos);
  }

  private readAnsiC(acc: Acc): void {
    const s = this.src;
    this.pos += 2;
    const escapes: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '\\': '\\',
      "'": "'",
      '"': '"',
      e: '\x1b',
    };
    while (this.pos < s.length) {
      const c = s[this.pos] as string;
      if (c === "'") {
        this.pos++;
        return;
      }
      if (c === '\\' && this.pos + 1 < s.length) {
        const n = s[this.pos + 1] as string;
        acc.value += escapes[n] ?? n;
        this.pos += 2;
      } else {
        acc.value += c;
        this.pos++;
      }
    }
  }

  private readBacktick(acc: Acc): void {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    let content = '';
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '`') {
        this.pos++;
        break;
      }
      if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === '`' || n === '$' || n === '\\') {
          content += n;
          this.pos += 2;
          continue;
        }
        content += '\\';
        this.pos++;
        continue;
      }
      let j = this.pos + 1;
      while (j < s.length && s[j] !== '`' && s[j] !== '\\') j++;
      content += s.slice(this.pos, j);
      this.pos = j;
    }
    const skip = this.level >= MAX_LEVEL || this.budget-- <= 0;
    const body = skip ? [] : parseShell(content, this.lineAt(start), this.level + 1);
    acc.subs.push({ kind: 'backtick', body });
    acc.value += SUBST;
    acc.dynamic = true;
  }

  /** After `$(` or `<(`: the commands up to the matching `)`. */
  private nested(): Pipeline[] {
    if (this.level >= MAX_LEVEL || this.budget-- <= 0) {
      this.pos = skipBalanced(this.src, this.pos - 1);
      return [];
    }
    this.level++;
    try {
      return this.parseList(')');
    } finally {
      this.level--;
    }
  }
}

function isDelimiter(c: string | undefined): boolean {
  return c === undefined || is(c, 0, WORD_END);
}

/** From an opening `(`, the offset just past its matching `)` (or the end of the text). */
function skipBalanced(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return s.length;
}
