import { describe, expect, it } from 'vitest';
import { epochOf, isTimeZone, localToEpoch } from './clock.js';

describe('placing local times', () => {
  it('reads them in the given zone', () => {
    expect(new Date(localToEpoch('2026-11-27T07:47:13', 'UTC')).toISOString()).toBe(
      '2026-11-27T07:47:13.000Z',
    );
    expect(new Date(localToEpoch('2026-11-27T07:47:13', 'Europe/Berlin')).toISOString()).toBe(
      '2026-11-27T06:47:13.000Z',
    );
    expect(new Date(localToEpoch('2026-07-01T07:47:13.250', 'Europe/Berlin')).toISOString()).toBe(
      '2026-07-01T05:47:13.250Z',
    );
    expect(new Date(localToEpoch('2026-11-27T07:47:13', 'America/New_York')).toISOString()).toBe(
      '2026-11-27T12:47:13.000Z',
    );
  });

  it('takes the earlier instant in the hour a clock is set back', () => {
    // Berlin, 2026-10-25: 02:30 happens twice (CEST, then CET).
    expect(new Date(localToEpoch('2026-10-25T02:30:00', 'Europe/Berlin')).toISOString()).toBe(
      '2026-10-25T00:30:00.000Z',
    );
  });

  it('reads a time in the hour a clock jumps forward with the offset before the jump', () => {
    // Berlin, 2026-03-29: 02:00-03:00 does not exist.
    expect(new Date(localToEpoch('2026-03-29T02:30:00', 'Europe/Berlin')).toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
  });

  it('keeps a zone the log gave', () => {
    expect(epochOf({ text: 'x', epochMs: 5 }, 'Europe/Berlin')).toBe(5);
    expect(epochOf(null, 'UTC')).toBeNull();
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
