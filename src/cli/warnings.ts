import { printable } from '../core/printable.js';
import type { Terminal } from './terminal.js';

/** Warnings printed for one file; the rest are counted in one line (--json keeps them all). */
export const WARNINGS_PER_FILE = 20;

interface Problem {
  path: string;
  line?: number;
  reason: string;
}

/** Prints the problems found while reading an image, at most WARNINGS_PER_FILE per file. */
export function printProblems(terminal: Terminal, problems: readonly Problem[]): void {
  const shown = new Map<string, number>();
  for (const problem of problems) {
    const count = (shown.get(problem.path) ?? 0) + 1;
    shown.set(problem.path, count);
    if (count > WARNINGS_PER_FILE) continue;
    const where = `${problem.path}${problem.line !== undefined ? `:${problem.line}` : ''}`;
    terminal.err(`warning: ${printable(`${where}: ${problem.reason}`, { oneLine: true })}\n`);
  }
  for (const [path, count] of shown)
    if (count > WARNINGS_PER_FILE)
      terminal.err(
        `warning: ${printable(path, { oneLine: true })}: ${count - WARNINGS_PER_FILE} more warnings not shown (${count} in all; --json lists every one)\n`,
      );
}
