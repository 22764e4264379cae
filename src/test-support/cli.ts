import { afterEach, beforeEach } from 'vitest';
import { main } from '../cli/main.js';
import { recordingTerminal } from '../cli/terminal.js';
import { tempDir } from './tree.js';

/** Runs the goldgate CLI in this process and returns its exit status and what it wrote. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const terminal = recordingTerminal();
  const code = await main(['node', 'goldgate', ...args], terminal);
  return { code, stdout: terminal.stdout, stderr: terminal.stderr };
}

/** Gives every test of the file its own empty GOLDGATE_HOME and restores the old one after; returns a getter for it. */
export function useTempHome(): () => string {
  let saved: string | undefined;
  let home = '';
  beforeEach(() => {
    saved = process.env.GOLDGATE_HOME;
    home = tempDir('goldgate-home-');
    process.env.GOLDGATE_HOME = home;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.GOLDGATE_HOME;
    else process.env.GOLDGATE_HOME = saved;
  });
  return () => home;
}
