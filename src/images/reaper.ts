import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { processStartTime } from '../lab/proc.js';

/**
 * The reaper's fixed text (data arrives only as argv): waits for the importer (pid and kernel
 * start time, so a reused pid is never taken for it) to end; if its staging directory is still
 * there, unmounts everything below it, deepest first (lazily if busy: a `mount -o loop` loop
 * device frees itself once unmounted), then removes it unless something is still mounted.
 */
const REAPER_SCRIPT = `
const { existsSync, readFileSync, rmSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const [pid, start, dir] = process.argv.slice(1);
const startOf = (p) => {
  try { return readFileSync('/proc/' + p + '/stat', 'utf8').split(') ').pop().split(' ')[19]; } catch { return undefined; }
};
const decode = (s) => s.replace(/\\\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
const below = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\\n')
  .map((line) => decode(line.split(' ')[4] || ''))
  .filter((p) => p === dir || p.startsWith(dir + '/'))
  .sort((a, b) => b.length - a.length);
const tick = () => {
  if (startOf(pid) === start) return setTimeout(tick, 200);
  if (existsSync(dir)) {
    for (const point of below())
      if (spawnSync('umount', [point]).status !== 0) spawnSync('umount', ['-l', point]);
    if (below().length === 0) rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
};
tick();
`;

/**
 * Starts a small detached process that cleans `dir` (a staging directory holding mounts) up
 * as soon as this process ends without having done it itself, even when it is killed with
 * SIGKILL: nothing stays mounted and no loop device stays attached. `stop()` ends the reaper
 * once this process has cleaned up on its own.
 */
export function startReaper(dir: string): { stop(): void } {
  const start = processStartTime(process.pid);
  if (start === undefined) return { stop: () => undefined };
  const child = spawn(
    process.execPath,
    ['-e', REAPER_SCRIPT, String(process.pid), String(start), resolve(dir)],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  child.on('error', () => undefined);
  child.unref();
  return {
    stop() {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
