// Test support shared by the package-log parsers' tests: seeded mutations of fixtures, and
// the invariants every parser keeps on any input. Pure functions, no test framework.
import { parseText } from '../logs/read.js';
import type { LogParser, LogRecordBase } from '../logs/types.js';

/** A seeded PRNG (mulberry32): the same seed gives the same inputs on every run. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// NUL, CR, LF, lone UTF-8 lead/continuation bytes and bytes never valid in UTF-8.
const NASTY = [0x00, 0x0d, 0x0a, 0xff, 0xfe, 0xc3, 0x80, 0xe2, 0x28, 0x09, 0x20, 0x3a, 0x28, 0x29];

function lineSpans(bytes: Buffer): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      spans.push([start, i]);
      start = i + 1;
    }
  }
  return spans;
}

/**
 * One mutated copy of `text`: 1 to 4 of line truncation, byte deletion, duplication, swap,
 * insertion of nasty bytes, line deletion or swap, and cutting the file short. The bytes are
 * decoded as UTF-8 at the end, so invalid sequences become U+FFFD as they do when reading.
 */
export function mutate(text: string, random: () => number): string {
  let bytes = Buffer.from(text, 'utf8');
  const pick = (n: number) => Math.floor(random() * n);
  const steps = 1 + pick(4);
  for (let step = 0; step < steps; step++) {
    const at = pick(bytes.length + 1);
    const spans = lineSpans(bytes);
    const [start, end] = spans[pick(spans.length)] ?? [0, 0];
    switch (pick(8)) {
      case 0: // truncate a line at a random point
        bytes = Buffer.concat([bytes.subarray(0, start + pick(end - start + 1)), bytes.subarray(end)]);
        break;
      case 1:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + pick(3))]);
        break;
      case 2: {
        const piece = bytes.subarray(at, at + 1 + pick(8));
        bytes = Buffer.concat([bytes.subarray(0, at), piece, bytes.subarray(at)]);
        break;
      }
      case 3:
        if (at + 1 < bytes.length) {
          const a = bytes[at] ?? 0;
          bytes[at] = bytes[at + 1] ?? 0;
          bytes[at + 1] = a;
        }
        break;
      case 4: {
        const insert = Buffer.from(
          Array.from({ length: 1 + pick(4) }, () =>
            random() < 0.7 ? (NASTY[pick(NASTY.length)] ?? 0) : pick(256),
          ),
        );
        bytes = Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at)]);
        break;
      }
      case 5: // cut the file mid-record
        bytes = bytes.subarray(0, at);
        break;
      case 6: // delete a line
        bytes = Buffer.concat([bytes.subarray(0, start), bytes.subarray(Math.min(bytes.length, end + 1))]);
        break;
      default: {
        // duplicate a line
        const line = bytes.subarray(start, Math.min(bytes.length, end + 1));
        bytes = Buffer.concat([bytes.subarray(0, start), line, line, bytes.subarray(start + line.length)]);
      }
    }
  }
  return bytes.toString('utf8');
}

/** `count` mutated inputs made from the fixtures, in turn, with one seeded PRNG. */
export function fuzzInputs(fixtures: readonly string[], count: number, seed: number): string[] {
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => mutate(fixtures[i % fixtures.length] ?? '', random));
}

/** The number of lines `parseText` feeds a parser for this text. */
export function lineCount(text: string): number {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.length;
}

/**
 * Parses `text` and lists every broken invariant: a throw, a problem or record whose line is
 * outside the input, a record without its parser's id or the file's label. Empty when all hold.
 */
export function invariantViolations<R extends LogRecordBase>(
  parser: LogParser<R>,
  text: string,
): { violations: string[]; records: number; problems: number } {
  const lines = lineCount(text);
  const inRange = (n: number) => Number.isInteger(n) && n >= 1 && n <= lines;
  let result: ReturnType<typeof parseText<R>>;
  try {
    result = parseText(text, parser, 'fuzz.log');
  } catch (error) {
    return {
      violations: [`threw ${String(error)} on ${JSON.stringify(text.slice(0, 200))}`],
      records: 0,
      problems: 0,
    };
  }
  const violations: string[] = [];
  for (const problem of result.problems) {
    if (!inRange(problem.line))
      violations.push(`problem at line ${problem.line} of ${lines}: ${problem.reason}`);
    if (problem.file !== 'fuzz.log') violations.push(`problem in file ${problem.file}`);
  }
  for (const record of result.records) {
    if (!inRange(record.line)) violations.push(`record at line ${record.line} of ${lines}`);
    if (record.source !== parser.id) violations.push(`record from ${record.source}`);
    if (record.file !== 'fuzz.log') violations.push(`record in file ${record.file}`);
  }
  return { violations, records: result.records.length, problems: result.problems.length };
}

/** The first non-empty lines of a text, as `detect` receives them. */
export function headOf(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '')
    .slice(0, 5);
}

/** Runs `count` mutated inputs through a parser: the broken invariants (first 20) and totals. */
export function fuzzParser<R extends LogRecordBase>(
  parser: LogParser<R>,
  fixtures: readonly string[],
  options: { count?: number; seed?: number } = {},
): { inputs: number; violations: string[]; records: number; problems: number } {
  const inputs = fuzzInputs(fixtures, options.count ?? 600, options.seed ?? 20261127);
  const total = { inputs: inputs.length, violations: [] as string[], records: 0, problems: 0 };
  for (const input of inputs) {
    const { violations, records, problems } = invariantViolations(parser, input);
    total.violations.push(...violations.slice(0, 20 - total.violations.length));
    total.records += records;
    total.problems += problems;
  }
  return total;
}
