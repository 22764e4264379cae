import { readFileSync, writeFileSync } from 'node:fs';

const MAX_USER_INSTANCES = '/proc/sys/fs/inotify/max_user_instances';
/** systemd as PID 1 holds five inotify instances; the rest leave room for journald and units. */
export const INOTIFY_PER_INSTANCE = 8;
/** What the host itself is left, beyond the instances. */
const HOST_INOTIFY = 128;

export interface LimitChange {
  sysctl: string;
  from: number;
  to: number;
  /** Why the limit could not be raised (a read-only /proc/sys in a container); `to` is then `from`. */
  failed?: string;
}

/**
 * Makes room for `instances` lab instances in the kernel's per-user inotify limit (Debian's
 * default of 128 stops the 26th systemd with "Failed to allocate notification fd"). Only
 * ever raises it, to at least 1024; returns the change made (or why it could not be made), if any.
 */
export function ensureInotifyRoom(
  instances: number,
  path: string = MAX_USER_INSTANCES,
): LimitChange | undefined {
  let current: number;
  try {
    current = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined; // not Linux, or /proc not mounted: nothing to adjust
  }
  const needed = HOST_INOTIFY + INOTIFY_PER_INSTANCE * instances;
  if (!Number.isFinite(current) || current >= needed) return undefined;
  const to = Math.max(1024, 2 ** Math.ceil(Math.log2(needed)));
  const sysctl = 'fs.inotify.max_user_instances';
  try {
    writeFileSync(path, `${to}\n`);
  } catch (error) {
    return {
      sysctl,
      from: current,
      to: current,
      failed: (error as NodeJS.ErrnoException).code ?? String(error),
    };
  }
  return { sysctl, from: current, to };
}
