import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gc, listInstances, terminateInstance } from '../lab/instance.js';

/**
 * Temporary goldgate homes for tests that boot lab instances: `<home>/lab` is the lab home,
 * `<home>/repos` the lab repositories. Each has its own lab network, so test files running in
 * parallel never share one. `cleanUp` (for afterEach) terminates whatever is left in them,
 * runs gc and removes them, also after a failed test.
 */
export function labHomes(prefix = 'goldgate-lab-'): {
  create(): string;
  track(home: string): void;
  cleanUp(): Promise<void>;
} {
  const homes: string[] = [];
  return {
    create() {
      const home = mkdtempSync(join(tmpdir(), prefix));
      homes.push(home);
      return home;
    },
    track(home) {
      homes.push(home);
    },
    async cleanUp() {
      for (const home of homes.splice(0)) {
        const lab = join(home, 'lab');
        for (const { id } of listInstances({ home: lab }))
          await terminateInstance(id, { home: lab }).catch(() => undefined);
        await gc({ home: lab }).catch(() => undefined);
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

/** Mount points at or below `dir` in this process's mount table (the host's). */
export function hostMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Pids of processes (other than this one) whose command line contains `text`. */
export function processesNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}
