import { describe, expect, it } from 'vitest';
import { localTime, zonedTime } from './time.js';

describe('log times', () => {
  it('reads local wall-clock times without a zone', () => {
    expect(localTime('2026-11-27  07:47:13')).toEqual({
      text: '2026-11-27  07:47:13',
      local: '2026-11-27T07:47:13',
    });
    expect(localTime('2026-11-27 07:47:13,095')?.local).toBe('2026-11-27T07:47:13.095');
    expect(localTime('2026-02-31 07:47:13')).toBeUndefined();
    expect(localTime('2026-11-27 25:00:00')).toBeUndefined();
  });

  it('reads zoned times and refuses impossible ones instead of rolling them over', () => {
    expect(zonedTime('2026-11-27T07:47:12Z')?.epochMs).toBe(Date.parse('2026-11-27T07:47:12Z'));
    expect(zonedTime('2026-11-27T08:47:12.5+01:00')?.epochMs).toBe(Date.parse('2026-11-27T07:47:12.500Z'));
    expect(zonedTime('2026-02-31T00:00:00Z')).toBeUndefined();
    expect(zonedTime('2026-11-27T24:00:00Z')).toBeUndefined();
    expect(zonedTime('2026-11-27 07:47:12Z')).toBeUndefined();
  });
});
