import type { EventSink, GoldgateEvent } from '../core/events.js';
import { printable } from '../core/printable.js';

/** Where the CLI writes: stdout for results, stderr for progress and errors. Tests pass a recording one. */
export interface Terminal {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal a person watches (progress is drawn only then, unless asked). */
  readonly interactive: boolean;
  readonly color: boolean;
}

export function createTerminal(): Terminal {
  const interactive = process.stderr.isTTY === true;
  // `goldgate audit … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    interactive,
    color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  };
}

/** A terminal that keeps what is written, for tests. */
export function recordingTerminal(): Terminal & { stdout: string; stderr: string } {
  const rec = {
    stdout: '',
    stderr: '',
    interactive: false,
    color: false,
    out(text: string) {
      rec.stdout += text;
    },
    err(text: string) {
      rec.stderr += text;
    },
  };
  return rec;
}

const paint = (code: number) => (text: string, on: boolean) =>
  on ? `\u001b[${code}m${text}\u001b[0m` : text;
export const style = {
  bold: paint(1),
  dim: paint(2),
  red: paint(31),
  green: paint(32),
  yellow: paint(33),
  cyan: paint(36),
};

/** Renders library events on stderr: progress steps with their timings, warnings. Quiet unless interactive or verbose. */
export function progressSink(
  terminal: Terminal,
  options: { verbose?: boolean; quiet?: boolean } = {},
): EventSink {
  const show = options.quiet !== true && (terminal.interactive || options.verbose === true);
  return {
    emit(event: GoldgateEvent) {
      if (event.type === 'warning') {
        if (options.quiet !== true)
          terminal.err(
            `warning: ${printable(`${event.path !== undefined ? `${event.path}: ` : ''}${event.message}`, { oneLine: true })}\n`,
          );
        return;
      }
      if (!show || event.type !== 'progress') return;
      const timing = event.elapsedMs === undefined ? '' : ` (${(event.elapsedMs / 1000).toFixed(2)} s)`;
      terminal.err(
        `${event.done === true ? '✓' : '…'} ${printable(`${event.step}: ${event.message}`, { oneLine: true })}${timing}\n`,
      );
    },
  };
}
