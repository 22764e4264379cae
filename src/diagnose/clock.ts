import { UsageError } from '../core/errors.js';
import type { LogTime } from '../logs/types.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether a zone name is one this runtime knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** Throws a usage error for an unknown zone. */
export function checkTimeZone(zone: string): void {
  if (!isTimeZone(zone))
    throw new UsageError('BAD_TIMEZONE', `"${zone}" is not a time zone`, {
      hint: 'use an IANA name such as UTC or Europe/Berlin',
    });
}

/** The zone's offset from UTC at an instant, in milliseconds (Berlin in winter: +3600000). */
function offsetAt(zone: string, epochMs: number): number {
  const parts = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(epochMs))
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * A local wall-clock time (`YYYY-MM-DDTHH:MM:SS[.sss]`) in a zone, as milliseconds since the
 * epoch. In the hour a clock is set back the earlier instant is taken; in the hour it jumps
 * forward, the time is read with the offset before the jump.
 */
export function localToEpoch(local: string, zone: string): number {
  const naive = Date.parse(`${local}Z`);
  // The zone's offset a day either side covers both offsets around any clock change.
  const before = offsetAt(zone, naive - 86_400_000);
  const after = offsetAt(zone, naive + 86_400_000);
  const valid = [...new Set([before, after])]
    .map((o) => naive - o)
    .filter((t) => naive - offsetAt(zone, t) === t);
  return valid.length > 0 ? Math.min(...valid) : naive - before;
}

/** A log time as milliseconds since the epoch: its own zone when it has one, else the given zone. */
export function epochOf(time: LogTime | null, zone: string): number | null {
  if (time === null) return null;
  if (time.epochMs !== undefined) return time.epochMs;
  if (time.local !== undefined) return localToEpoch(time.local, zone);
  return null;
}
