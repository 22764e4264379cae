import { execInInstance } from '../lab/instance.js';
import { openDirRootFs } from '../rootfs/dir.js';
import type { RootFs } from '../rootfs/types.js';
import type { TimerRun } from './types.js';

// cron is the other way an instance runs things on its own: cron-apt, a nightly `apt-get
// upgrade`, a job that rewrites a file in /etc. The fast-forward runs each job of a running
// cron daemon once, as cron would: the command through /bin/sh as the job's user, with the
// crontab's variables.

/** One job of a system or user crontab. */
export interface CronJob {
  /** Where it is written: `/etc/cron.d/refresh:3`. */
  source: string;
  user: string;
  command: string;
  /** The crontab's variable assignments above the job (`PATH=…`, `MAILTO=…`). */
  env: Record<string, string>;
}

const SPECIAL = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;
const USER = /^[a-z_][a-z0-9_.-]*\$?$/;
/** cron reads only files in /etc/cron.d whose names are made of these (as run-parts does). */
const CRON_D_NAME = /^[A-Za-z0-9_-]+$/;
const MAX_CRONTAB = 256 * 1024;

function unquote(value: string): string {
  const v = value.trim();
  return (v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))
    ? v.slice(1, -1)
    : v;
}

/**
 * The jobs of one crontab. System crontabs (`/etc/crontab`, `/etc/cron.d/*`) name the user
 * after the schedule; a user's own crontab does not. `@reboot` jobs ran at boot already and
 * are left out. Lines cron would reject are skipped.
 */
export function parseCrontab(text: string, file: string, owner: string | null): CronJob[] {
  const jobs: CronJob[] = [];
  const env: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const tokens = [...line.matchAll(/\S+/g)].map((m) => ({ text: m[0], at: m.index }));
    const first = tokens[0]?.text ?? '';
    const assignment = ASSIGNMENT.exec(line);
    // A variable: NAME=value, before any schedule field (a schedule never holds "=").
    if (assignment !== null && !/\s/.test(line.slice(0, line.indexOf('=')).trim())) {
      env[assignment[1] as string] = unquote(assignment[2] ?? '');
      return;
    }
    let next: number;
    if (first.startsWith('@')) {
      if (!SPECIAL.test(first)) return; // @reboot ran at boot; anything else cron rejects
      next = 1;
    } else next = 5;
    let user = owner;
    if (user === null) {
      user = tokens[next]?.text ?? '';
      if (!USER.test(user)) return;
      next += 1;
    }
    const start = tokens[next]?.at;
    if (start === undefined) return;
    // cron turns an unescaped % into a newline and feeds what follows to stdin: the command ends there.
    const command = line
      .slice(start)
      .replace(/(^|[^\\])%[\s\S]*$/, '$1')
      .trim();
    if (command === '') return;
    jobs.push({ source: `${file}:${index + 1}`, user, command, env: { ...env } });
  });
  return jobs;
}

function readText(fs: RootFs, path: string): string | undefined {
  const info = fs.lstat(path);
  if (info?.kind !== 'file' || info.size > MAX_CRONTAB) return undefined;
  return fs.readText(path, { maxBytes: MAX_CRONTAB });
}

/**
 * Every job of the instance's crontabs, read from its root as if chrooted: a running
 * instance's `/proc/<init pid>/root` (its own mount namespace's view), or an image directory.
 */
export function cronJobs(root: string): CronJob[] {
  const fs = openDirRootFs(root, { keepRoot: root.startsWith('/proc/') });
  const jobs: CronJob[] = [];
  const system = readText(fs, '/etc/crontab');
  if (system !== undefined) jobs.push(...parseCrontab(system, '/etc/crontab', null));
  for (const entry of fs.readdir('/etc/cron.d').sort((a, b) => a.name.localeCompare(b.name))) {
    if (!CRON_D_NAME.test(entry.name)) continue;
    const text = readText(fs, entry.path);
    if (text !== undefined) jobs.push(...parseCrontab(text, entry.path, null));
  }
  for (const spool of ['/var/spool/cron/crontabs', '/var/spool/cron']) {
    for (const entry of fs.readdir(spool).sort((a, b) => a.name.localeCompare(b.name))) {
      if (!USER.test(entry.name)) continue;
      const text = readText(fs, entry.path);
      if (text !== undefined) jobs.push(...parseCrontab(text, entry.path, entry.name));
    }
  }
  return jobs;
}

/** True when a cron daemon runs in the instance (Debian's cron, or crond). */
export async function cronRunning(id: string, home: string): Promise<boolean> {
  const result = await execInInstance(id, ['systemctl', 'is-active', 'cron.service', 'crond.service'], {
    home,
    timeoutMs: 10_000,
  });
  return result.stdout.split('\n').some((state) => state.trim() === 'active');
}

/** Runs each job once, one after another, as cron would; returns each run as a timer run. */
export async function runCronJobs(
  id: string,
  home: string,
  jobs: CronJob[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TimerRun[]> {
  const runs: TimerRun[] = [];
  for (const job of jobs) {
    if (signal?.aborted === true) break;
    const env = { SHELL: '/bin/sh', PATH: '/usr/bin:/bin', LOGNAME: job.user, ...job.env };
    const startedAt = new Date().toISOString();
    const result = await execInInstance(
      id,
      [
        'runuser',
        '-u',
        job.user,
        '--',
        'env',
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        '/bin/sh',
        '-c',
        job.command,
      ],
      { home, timeoutMs },
    );
    runs.push({
      timer: `cron ${job.source}`,
      service: job.command.length > 120 ? `${job.command.slice(0, 117)}...` : job.command,
      triggered: 'fast-forward',
      startedAt,
      finishedAt: new Date().toISOString(),
      result: result.code === 0 ? 'success' : 'exit-code',
      exitStatus: result.code,
      nextAt: null,
    });
  }
  return runs;
}
