import type { Word } from './parse.js';

/** A word known statically, as an exec'd argv element is. */
export function literalWord(value: string, dynamic = false): Word {
  return { raw: value, value, dynamic, subs: [] };
}

/** The program's base name, or undefined when the word is not a static name. */
export function programName(word: Word | undefined): string | undefined {
  if (!word || word.dynamic || word.value === '') return undefined;
  const slash = word.value.lastIndexOf('/');
  const name = slash >= 0 ? word.value.slice(slash + 1) : word.value;
  return name === '' ? undefined : name;
}

/** A read-only set of strings: the option and verb tables. */
export function set(...items: string[]): ReadonlySet<string> {
  return new Set(items);
}

/** Argv split into options and operands. */
export interface ParsedArgs {
  operands: Word[];
  /** Index in the input of each operand. */
  operandIndex: number[];
  /** Every option given, one per flag: `-yq` gives `-y` and `-q`; `--opt=v` gives `--opt`. */
  flags: string[];
  /** The value of each option that took one, by flag. */
  values: Map<string, Word>;
}

/**
 * Splits argv into options and operands, GNU style: `--` ends options, `-abc` is a cluster of
 * short flags in which a value-taking flag consumes the rest of the cluster or the next word.
 * `valueOptions` lists the flags (`-o`, `--option`) that take a separate value.
 * With `stopAtOperand`, everything from the first operand on is an operand.
 */
export function parseArgs(
  args: readonly Word[],
  valueOptions: ReadonlySet<string>,
  stopAtOperand = false,
): ParsedArgs {
  const out: ParsedArgs = { operands: [], operandIndex: [], flags: [], values: new Map() };
  let optionsDone = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as Word;
    const v = word.value;
    if (optionsDone || !v.startsWith('-') || v === '-') {
      out.operands.push(word);
      out.operandIndex.push(i);
      if (stopAtOperand) optionsDone = true;
      continue;
    }
    if (v === '--') {
      optionsDone = true;
      continue;
    }
    if (v.startsWith('--')) {
      const eq = v.indexOf('=');
      const flag = eq >= 0 ? v.slice(0, eq) : v;
      out.flags.push(flag);
      if (eq >= 0) out.values.set(flag, { ...word, value: v.slice(eq + 1) });
      else if (valueOptions.has(flag) && i + 1 < args.length) out.values.set(flag, args[++i] as Word);
      continue;
    }
    for (let k = 1; k < v.length; k++) {
      const flag = `-${v[k]}`;
      out.flags.push(flag);
      if (valueOptions.has(flag)) {
        if (k + 1 < v.length) out.values.set(flag, { ...word, value: v.slice(k + 1).replace(/^=/, '') });
        else if (i + 1 < args.length) out.values.set(flag, args[++i] as Word);
        break;
      }
    }
  }
  return out;
}

/** Whether any of `flags` was given. */
export function hasFlag(parsed: ParsedArgs, ...flags: string[]): boolean {
  return parsed.flags.some((f) => flags.includes(f));
}

/** The first operand that is a known verb, and where it is; unknown operands before it are skipped. */
export function findVerb(
  parsed: ParsedArgs,
  known: ReadonlySet<string>,
): { verb: string; index: number; operand: number } | undefined {
  for (let k = 0; k < parsed.operands.length; k++) {
    const word = parsed.operands[k] as Word;
    if (!word.dynamic && known.has(word.value)) {
      return { verb: word.value, index: parsed.operandIndex[k] as number, operand: k };
    }
  }
  return undefined;
}

/** Argv as one line of shell, quoting what needs it: for reporting an exec'd command. */
export function shellJoin(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}
