import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { readCappedFile } from './read-capped.js';

afterEach(() => vi.restoreAllMocks());

describe('readCappedFile', () => {
  it('sets aside what the file holds, not the whole cap', () => {
    const file = join(tempDir('goldgate-capped-'), 'small');
    writeFileSync(file, 'ten bytes\n');
    const alloc = vi.spyOn(Buffer, 'alloc');
    const read = readCappedFile(file, 256 * 1024 * 1024);
    expect(read).toEqual({ ok: true, data: Buffer.from('ten bytes\n') });
    expect(Math.max(...alloc.mock.calls.map(([size]) => size))).toBeLessThanOrEqual(64 * 1024);
  });

  it('reads a kernel file that stats as empty, and stops at the cap', () => {
    const whole = readCappedFile('/proc/self/status', 1024 * 1024);
    expect(whole.ok && whole.data.toString()).toMatch(/^Name:/);
    expect(readCappedFile('/proc/self/status', 10)).toEqual({ ok: false, reason: 'too-big' });
  });

  it('grows past its first guess for a file that reads on beyond its size', () => {
    // /proc/self/smaps stats as 0 bytes and holds well over the 64 KiB first buffer for Node.
    const read = readCappedFile('/proc/self/smaps', 64 * 1024 * 1024);
    expect(read.ok && read.data.length).toBeGreaterThan(64 * 1024);
    expect(read.ok && read.data.toString().trimEnd().split('\n').at(-1)).toMatch(/^VmFlags:/);
  });
});
