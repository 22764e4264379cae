import type { LogTime } from './types.js';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$/;

/** A local wall-clock time (`2026-11-27  07:47:13`, `2026-11-27 07:47:13,095`) without a zone; undefined if malformed. */
export function localTime(text: string): LogTime | undefined {
  const match = LOCAL.exec(text.trim().replace(/\s+/, ' '));
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s, frac] = match;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  // Reject 2026-02-31 and 25:00:00: Date would roll them over.
  if (
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi)
  )
    return undefined;
  const ms = frac === undefined ? '' : `.${frac.padEnd(3, '0').slice(0, 3)}`;
  return { text, local: `${y}-${mo}-${d}T${h}:${mi}:${s}${ms}` };
}

/** A time with a zone (ISO 8601 with `Z` or an offset); undefined if malformed or impossible (Feb 31, 24:00). */
export function zonedTime(text: string): LogTime | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const wall = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (
    wall.getUTCDate() !== Number(d) ||
    wall.getUTCMonth() !== Number(mo) - 1 ||
    wall.getUTCHours() !== Number(h) ||
    Number(s) > 59
  )
    return undefined;
  const epochMs = Date.parse(text);
  return Number.isNaN(epochMs) ? undefined : { text, epochMs };
}
