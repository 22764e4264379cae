import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * goldgate's data directory: `$GOLDGATE_HOME` when set, else `~/.local/share/goldgate`
 * (or `$XDG_DATA_HOME/goldgate`). A relative `$GOLDGATE_HOME` is taken from the current directory.
 */
export function goldgateHome(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.GOLDGATE_HOME;
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'goldgate');
  return join(homedir(), '.local', 'share', 'goldgate');
}
