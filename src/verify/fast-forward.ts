import { cronJobs, cronRunning, runCronJobs } from './cron.js';
import { serviceRuns, settle, startServices } from './systemd.js';
import type { ScheduledTimer } from './systemd.js';
import type { TimerRun } from './types.js';

/**
 * Time passes on a running instance: the service of each of its timers starts once, in their
 * `After=` order, then, when it runs a cron daemon, each cron job once, as cron would; returns
 * what ran, with results. Verify's fast-forward, and a lab group's day. An abort stops the
 * waiting (what was started runs on).
 */
export async function advanceTime(
  id: string,
  labHome: string,
  instancePid: number,
  timers: readonly ScheduledTimer[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<TimerRun[]> {
  await startServices(
    id,
    labHome,
    timers.map((t) => t.service),
    timeoutMs,
    signal,
  );
  const runs = await serviceRuns(id, labHome, timers, 'fast-forward');
  if (await cronRunning(id, labHome)) {
    // Read through the instance's own mount namespace: its init's root is the merged view.
    runs.push(...(await runCronJobs(id, labHome, cronJobs(`/proc/${instancePid}/root`), timeoutMs, signal)));
    await settle(id, labHome, timeoutMs, signal);
  }
  return runs;
}
