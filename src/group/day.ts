import { execInInstance } from '../lab/instance.js';
import { cronJobs, cronRunning, runCronJobs } from '../verify/cron.js';
import { scheduledTimers, serviceRuns, startServices } from '../verify/systemd.js';
import type { TimerRun } from '../verify/types.js';

// `--timers fast`: a day passes on a running instance. apt.systemd.daily runs a periodic job
// only when its stamp is a day old, so the stamps are aged by a day first (inside the
// instance, so that a link there never leads out of it); then the service of every active
// timer starts once, in their After= order, then each cron job once.

const DAY_S = 86_400;

/** Fixed text: the time arrives as an argument. Only regular files are touched, never through a link. */
const AGE_APT_STAMPS = `
for f in /var/lib/apt/periodic/*; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then touch -d "@$1" "$f"; fi
done
`;

/** Ages the instance's apt periodic stamps by a day (and a minute, past apt's midnight rounding). */
export async function ageAptStamps(id: string, labHome: string, now = Date.now()): Promise<void> {
  const at = Math.floor(now / 1000) - DAY_S - 60;
  await execInInstance(id, ['/bin/sh', '-c', AGE_APT_STAMPS, 'age-apt-stamps', String(at)], {
    home: labHome,
    timeoutMs: 30_000,
  });
}

/**
 * One day on the instance: its apt stamps aged, every timer's service started once, its cron
 * jobs run once. Returns what ran, with results; an abort stops the waiting (what started runs on).
 */
export async function passDay(
  id: string,
  labHome: string,
  instancePid: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TimerRun[]> {
  await ageAptStamps(id, labHome);
  const timers = await scheduledTimers(id, labHome);
  await startServices(
    id,
    labHome,
    timers.map((t) => t.service),
    timeoutMs,
    signal,
  );
  const runs = await serviceRuns(id, labHome, timers, 'fast-forward');
  if (await cronRunning(id, labHome))
    runs.push(...(await runCronJobs(id, labHome, cronJobs(`/proc/${instancePid}/root`), timeoutMs, signal)));
  return runs;
}
