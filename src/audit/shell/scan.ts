import { literalWord, programName, shellJoin } from './args.js';
import { parseShell } from './parse.js';
import type { Pipeline, SimpleCommand, Sub, Word } from './parse.js';
import { splitSystemdWords } from './systemd.js';
import { classify, interpreterUse, isKnownProgram } from './tools.js';
import type { InterpreterUse, ToolHit } from './tools.js';
import type { CommandHit, ScanArgvOptions, ScanShellOptions } from './types.js';
import { isWrapper, unwrap } from './wrappers.js';

/** How deep `sh -c '...'` strings inside `sh -c` strings are followed. */
const MAX_SHELL_DEPTH = 8;
/** Package-managed program directories: a command there is a program, not a boot script. */
const SYSTEM_BIN = /^\/(?:usr\/)?s?bin\//;

interface Analysis {
  hits: ToolHit[];
  /** The hit whose fetched content can be piped into an interpreter. */
  streams: ToolHit | undefined;
  interpreter: InterpreterUse | undefined;
  /** The program run, after wrappers, when its name is static. */
  program: Word | undefined;
}

interface Shared {
  hits: CommandHit[];
  paths: Set<string>;
  /** Fetches already reported as part of a pipe-to-shell. */
  consumed: Set<SimpleCommand>;
}

interface Ctx {
  shared: Shared;
  /** Set inside `sh -c '...'` strings: every hit reports the line of the outer command. */
  fixedLine: number | undefined;
  depth: number;
}

function newCtx(fixedLine?: number): Ctx {
  return {
    shared: { hits: [], paths: new Set(), consumed: new Set() },
    fixedLine,
    depth: 0,
  };
}

const NOTHING: Analysis = { hits: [], streams: undefined, interpreter: undefined, program: undefined };

/** Cheap and pure, so it is simply recomputed where a command is looked at twice. */
function analyze(cmd: SimpleCommand): Analysis {
  const argv = unwrap(cmd.words);
  const name = programName(argv[0]);
  if (name === undefined) return NOTHING;
  const args = argv.slice(1);
  const hits = classify(name, args);
  return {
    hits,
    streams: hits.find((h) => h.streams),
    interpreter: interpreterUse(name, args),
    program: argv[0],
  };
}

function commandText(cmd: SimpleCommand): string {
  return cmd.src.slice(cmd.start, cmd.end).trim();
}

function toHit(hit: ToolHit, command: string, line: number): CommandHit {
  const out: CommandHit = { category: hit.category, tool: hit.tool, action: hit.action, command, line };
  if (hit.detail !== undefined) out.detail = hit.detail;
  if (hit.target !== undefined) out.target = hit.target;
  return out;
}

/** A command directly inside the substitutions whose output it fetches from the network. */
function findFetch(subs: Sub[]): { cmd: SimpleCommand; hit: ToolHit } | undefined {
  for (const sub of subs) {
    for (const pipeline of sub.body) {
      for (const cmd of pipeline.commands) {
        const hit = analyze(cmd).streams;
        if (hit) return { cmd, hit };
      }
    }
  }
  return undefined;
}

function walkList(pipelines: Pipeline[], ctx: Ctx): void {
  for (const pipeline of pipelines) walkPipeline(pipeline, ctx);
}

function walkPipeline(pipeline: Pipeline, ctx: Ctx): void {
  const cmds = pipeline.commands;
  const analyses = cmds.map(analyze);
  // `curl ... | sh`: the fetch feeds a later interpreter that reads its code on stdin.
  const pipedTo = new Map<number, number>();
  for (let i = 0; i < cmds.length; i++) {
    if (!analyses[i]?.streams) continue;
    for (let j = i + 1; j < cmds.length; j++) {
      if (analyses[j]?.interpreter?.stdin) {
        pipedTo.set(i, j);
        break;
      }
    }
  }
  for (let i = 0; i < cmds.length; i++) {
    const j = pipedTo.get(i);
    walkCommand(
      cmds[i] as SimpleCommand,
      analyses[i] as Analysis,
      ctx,
      j === undefined ? undefined : (cmds[j] as SimpleCommand),
    );
  }
}

function walkCommand(cmd: SimpleCommand, a: Analysis, ctx: Ctx, pipeEnd: SimpleCommand | undefined): void {
  const { shared } = ctx;
  const line = ctx.fixedLine ?? cmd.line;
  const interp = a.interpreter;
  const hereString = interp?.stdin ? cmd.redirects.find((r) => r.op === '<<<')?.target : undefined;

  // `bash -c "$(curl ...)"`, `bash <(curl ...)`, `eval "$(wget -O- ...)"`: one pipe-to-shell hit.
  let codeHits: CommandHit[] | undefined;
  let ranAsCode: Word[] | undefined;
  if (interp) {
    for (const word of [interp.code, interp.script, hereString]) {
      const found = word && findFetch(word.subs);
      if (!word || !found) continue;
      shared.consumed.add(found.cmd);
      (ranAsCode ??= []).push(word);
      const hit = { ...found.hit, action: 'pipe-to-shell', detail: `downloaded code run by ${interp.name}` };
      (codeHits ??= []).push(toHit(hit, commandText(cmd), line));
    }
  }

  // Substitutions run first, wherever they are in the command.
  const shellReadsHeredoc = interp?.stdin === true && interp.shell;
  for (const word of cmd.assigns) for (const sub of word.subs) walkList(sub.body, ctx);
  for (const word of cmd.words) for (const sub of word.subs) walkList(sub.body, ctx);
  for (const r of cmd.redirects) {
    for (const sub of r.target?.subs ?? []) walkList(sub.body, ctx);
    if (r.heredoc && !shellReadsHeredoc) for (const sub of r.heredoc.subs) walkList(sub.body, ctx);
  }

  if (a.hits.length > 0 && !shared.consumed.has(cmd)) {
    for (const hit of a.hits) {
      if (hit === a.streams && pipeEnd) {
        const endName = analyze(pipeEnd).interpreter?.name ?? 'a shell';
        const pipeText = cmd.src.slice(cmd.start, pipeEnd.end).trim();
        shared.hits.push(
          toHit({ ...hit, action: 'pipe-to-shell', detail: `piped to ${endName}` }, pipeText, line),
        );
      } else shared.hits.push(toHit(hit, commandText(cmd), line));
    }
  }
  if (codeHits) shared.hits.push(...codeHits);

  if (interp?.shell) {
    if (interp.code && !ranAsCode?.includes(interp.code)) scanNested(interp.code.value, line, ctx);
    if (hereString && !ranAsCode?.includes(hereString)) scanNested(hereString.value, line, ctx);
    if (interp.stdin && ctx.depth < MAX_SHELL_DEPTH) {
      for (const r of cmd.redirects) {
        if (!r.heredoc) continue;
        const inner = { ...ctx, depth: ctx.depth + 1 };
        parseShell(r.heredoc.body, r.heredoc.bodyLine, inner.depth, (p) => walkPipeline(p, inner));
      }
    }
  }
  collectScriptPaths(cmd, a, shared);
}

/** Shell code given as a string: scanned, each hit at the outer command's line. */
function scanNested(code: string, line: number, ctx: Ctx): void {
  if (ctx.depth >= MAX_SHELL_DEPTH || code.trim() === '') return;
  const inner = { ...ctx, fixedLine: line, depth: ctx.depth + 1 };
  parseShell(code, line, inner.depth, (p) => walkPipeline(p, inner));
}

function addPath(shared: Shared, word: Word | undefined): void {
  if (!word || word.dynamic || !word.value.startsWith('/')) return;
  shared.paths.add(word.value);
}

function collectScriptPaths(cmd: SimpleCommand, a: Analysis, shared: Shared): void {
  const program = a.program;
  const name = programName(program);
  if (program && name !== undefined && !SYSTEM_BIN.test(program.value) && !a.interpreter) {
    if (!isKnownProgram(name) && !isWrapper(name)) addPath(shared, program);
  }
  const interp = a.interpreter;
  if (!interp?.shell) return;
  addPath(shared, interp.script);
  if (interp.stdin) for (const r of cmd.redirects) if (r.op === '<') addPath(shared, r.target);
}

function byLine(hits: CommandHit[]): CommandHit[] {
  return hits
    .map((hit, order) => ({ hit, order }))
    .sort((x, y) => x.hit.line - y.hit.line || x.order - y.order)
    .map((x) => x.hit);
}

function argvCommand(words: Word[], text: string, line: number): SimpleCommand {
  return { assigns: [], words, redirects: [], src: text, start: 0, end: text.length, line };
}

function walkSafely(run: () => void): void {
  try {
    run();
  } catch {
    // The scanner is best effort: a bug on odd input loses hits, it never fails the audit.
  }
}

/**
 * Finds the commands in shell text that make a booting instance change itself: package
 * installs, network fetches, containers run from mutable image references. Hits are sorted
 * by line; `startLine` is the line of the text's first line in its file. Never throws.
 */
export function scanShell(text: string, options: ScanShellOptions = {}): CommandHit[] {
  const ctx = newCtx();
  walkSafely(() => parseShell(String(text), options.startLine ?? 1, 0, (p) => walkPipeline(p, ctx)));
  return byLine(ctx.shared.hits);
}

/**
 * Scans an argv that is executed without a shell (cloud-init list form, a systemd command
 * after splitting). Only a shell given `-c` makes its string shell code. Every hit has `line`.
 */
export function scanArgv(argv: readonly string[], options: ScanArgvOptions = {}): CommandHit[] {
  const line = options.line ?? 1;
  const ctx = newCtx(line);
  walkSafely(() => {
    const words = argv.map((a) => literalWord(String(a)));
    walkList([{ commands: [argvCommand(words, shellJoin(argv.map(String)), line)] }], ctx);
  });
  return ctx.shared.hits;
}

/**
 * Scans a systemd `ExecStart=`/`ExecStartPre=`/`ExecStartPost=` (or any `Exec*=`) value:
 * strips the `-@:+!` prefixes, splits it with systemd's quoting rules, then scans the argv.
 * `command` in each hit is the value as written.
 */
export function scanSystemdExec(value: string, options: ScanArgvOptions = {}): CommandHit[] {
  const line = options.line ?? 1;
  const ctx = newCtx(line);
  walkSafely(() => {
    const words = splitSystemdWords(String(value));
    if (words.length > 0) walkList([{ commands: [argvCommand(words, String(value).trim(), line)] }], ctx);
  });
  return ctx.shared.hits;
}

/** The argv systemd runs for an `Exec*=` value: prefixes stripped, words unquoted and unescaped. */
export function splitSystemdExec(value: string): string[] {
  try {
    return splitSystemdWords(String(value)).map((w) => w.value);
  } catch {
    return [];
  }
}

/**
 * Absolute paths of the scripts that shell text (or an exec'd argv) runs directly, in order of
 * appearance: commands given by path (`/usr/local/bin/bootstrap.sh`, `sudo /opt/x/run`),
 * scripts given to a shell (`bash /opt/x/init.sh`, `sh < /opt/x.sh`) or sourced
 * (`. /etc/profile.d/app.sh`), also inside `sh -c` strings. Programs in `/bin`, `/sbin`,
 * `/usr/bin` and `/usr/sbin` are left out unless given to a shell, and so are paths that are
 * only data to another command (`chmod +x /opt/x.sh`), relative paths and paths built from
 * variables. The caller reads and scans them; check that a file is a shell script first.
 */
export function scriptPathsOf(input: string | readonly string[]): string[] {
  const ctx = newCtx(typeof input === 'string' ? undefined : 1);
  walkSafely(() => {
    if (typeof input === 'string') parseShell(input, 1, 0, (p) => walkPipeline(p, ctx));
    else {
      const words = input.map((a) => literalWord(String(a)));
      walkList([{ commands: [argvCommand(words, shellJoin(input.map(String)), 1)] }], ctx);
    }
  });
  return [...ctx.shared.paths];
}
