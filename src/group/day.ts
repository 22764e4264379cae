import { execInInstance } from '../lab/instance.js';
import { advanceTime } from '../verify/fast-forward.js';
import { scheduledTimers } from '../verify/systemd.js';
import type { TimerRun } from '../verify/types.js';

// `--timers fast`: a day passes on a running instance. apt.systemd.daily runs a periodic job
// only when its stamp is a day old, so the stamps are aged by a day first (inside the
// instance, so that a link there never leads out of it); then time is fast-forwarded as
// verify does it (verify/fast-forward.ts).

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
 * One day on the instance: its apt stamps aged, then time fast-forwarded (every timer's
 * service once, its cron jobs once). Returns what ran, with results; an abort stops the
 * waiting (what started runs on).
 */
export async function passDay(
  id: string,
  labHome: string,
  instancePid: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TimerRun[]> {
  await ageAptStamps(id, labHome);
  return advanceTime(id, labHome, instancePid, await scheduledTimers(id, labHome), timeoutMs, signal);
}
