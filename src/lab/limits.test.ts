import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { ensureInotifyRoom } from './limits.js';

function limitFile(value: string): string {
  const path = join(tempDir(), 'max_user_instances');
  writeFileSync(path, value);
  return path;
}

describe('ensureInotifyRoom', () => {
  it("raises Debian's 128 so that 50 instances fit, to a power of two of at least 1024", () => {
    const path = limitFile('128\n');
    expect(ensureInotifyRoom(50, path)).toEqual({
      sysctl: 'fs.inotify.max_user_instances',
      from: 128,
      to: 1024,
    });
    expect(readFileSync(path, 'utf8')).toBe('1024\n');
    expect(ensureInotifyRoom(51, path)).toBeUndefined();
  });

  it('grows past 1024 when many instances need it, and never lowers a higher limit', () => {
    const path = limitFile('1024\n');
    expect(ensureInotifyRoom(200, path)?.to).toBe(2048);
    const high = limitFile('65536\n');
    expect(ensureInotifyRoom(200, high)).toBeUndefined();
    expect(readFileSync(high, 'utf8')).toBe('65536\n');
  });

  it('says why when the limit cannot be raised (a read-only sysctl), and leaves it as it was', () => {
    // A read-only sysctl (mode 0444): even root cannot write it.
    const readOnly = '/proc/sys/kernel/ngroups_max';
    const before = readFileSync(readOnly, 'utf8');
    const change = ensureInotifyRoom(100_000, readOnly);
    expect(change).toMatchObject({ from: Number(before), to: Number(before) });
    expect(change?.failed).toMatch(/^E[A-Z]+$/);
    expect(readFileSync(readOnly, 'utf8')).toBe(before);
  });

  it('leaves a missing or unreadable sysctl alone', () => {
    expect(ensureInotifyRoom(10, join(tempDir(), 'absent'))).toBeUndefined();
  });
});
