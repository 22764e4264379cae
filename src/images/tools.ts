import { EnvironmentError } from '../core/errors.js';
import { runCommand } from '../core/run.js';
import type { CommandResult } from '../core/run.js';
import { findExecutable } from '../core/which.js';

/** The Debian package of each command the importer runs, for the hint when one is missing. */
const PACKAGES: Record<string, string> = {
  tar: 'tar',
  zstd: 'zstd',
  'qemu-img': 'qemu-utils',
  mount: 'mount',
  umount: 'mount',
  blkid: 'util-linux',
};

/** The full path of a command the importer needs, or an EnvironmentError naming its package. */
export function tool(name: string): string {
  const path = findExecutable(name);
  if (path !== undefined) return path;
  const pkg = PACKAGES[name] ?? name;
  throw new EnvironmentError('IMPORT_TOOL_MISSING', `${name} not found`, {
    hint: `apt-get install ${pkg}`,
  });
}

export type ToolResult = CommandResult;

/**
 * Runs after setpriv has armed the death signal: if goldgate (`$1`) is no longer its parent, it
 * died before the signal was armed (which then never comes), so the command must not start.
 * Fixed text; the command arrives only as arguments.
 */
const PARENT_GUARD = 'test "$PPID" = "$1" || exit 137; shift; exec "$@"';

/**
 * Argv of a long child that writes below the staging directory, wrapped so the kernel kills
 * it when goldgate dies (even by SIGKILL): no orphan keeps filling a directory being removed,
 * also when goldgate dies while the child is being started.
 */
export function dieWithParent(argv: string[]): string[] {
  const setpriv = findExecutable('setpriv');
  const sh = findExecutable('sh');
  if (setpriv === undefined || sh === undefined) return argv;
  return [setpriv, '--pdeathsig', 'KILL', '--', sh, '-c', PARENT_GUARD, 'sh', String(process.pid), ...argv];
}

/** Runs a command (argument array, no shell) in the C locale, capturing its output; never rejects on a non-zero exit. */
export function runTool(argv: string[], options: { timeoutMs?: number } = {}): Promise<ToolResult> {
  return runCommand(argv, { ...options, env: { ...process.env, LC_ALL: 'C' } });
}

/** The last non-empty lines of a tool's error output, for a one-line message. */
export function lastLines(text: string, count = 3): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-count)
    .join('; ');
}
