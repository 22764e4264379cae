/** Milliseconds per unit of a written duration: m minutes, h hours, d days, w weeks. */
export const DURATION_UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/**
 * A duration as people write it in flags and specs: `30m`, `12h`, `2d`, `1w`, `0`; a number
 * without a unit is days. Milliseconds, or undefined when `text` is not one (callers word the
 * error and set their own bounds).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([mhdw]?)$/.exec(text.trim());
  if (match === null) return undefined;
  const value = Number(match[1]);
  if (!Number.isFinite(value)) return undefined;
  return value * DURATION_UNITS[(match[2] || 'd') as keyof typeof DURATION_UNITS];
}

/** `3 days`, `5 hours`, `45 minutes`: a duration for people. */
export function humanDuration(seconds: number): string {
  if (seconds >= 2 * 86400) return `${Math.floor(seconds / 86400)} days`;
  if (seconds >= 2 * 3600) return `${Math.floor(seconds / 3600)} hours`;
  if (seconds >= 120) return `${Math.floor(seconds / 60)} minutes`;
  return `${Math.round(seconds)} seconds`;
}
