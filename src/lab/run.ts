import { runCommand } from '../core/run.js';

/** A finished child process. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of every command run in an instance: nothing of the caller's leaks in. */
export const INSTANCE_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  container: 'goldgate',
};

/** Runs argv (never through a shell) and collects its output; kills it after timeoutMs. */
export async function run(
  argv: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const result = await runCommand(argv, { ...options, env: options.env ?? INSTANCE_ENV });
  return {
    code: result.code ?? (result.signal === null ? 1 : 128),
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
