import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { diskFullError } from './disk-full.js';
import { UsageError } from './errors.js';

describe('diskFullError', () => {
  it('turns ENOSPC and EDQUOT into DISK_FULL, naming the place and what was being done, with a hint', () => {
    const dir = tempDir();
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const cause = Object.assign(new Error(`${code}: no space left on device, write`), { code });
      const error = diskFullError(cause, dir, 'bake of web.yaml stopped at step store');
      expect(error?.code).toBe('DISK_FULL');
      expect(error?.fault).toBe('environment');
      expect(error?.message).toMatch(
        new RegExp(
          `^bake of web\\.yaml stopped at step store: the disk holding ${dir} is full \\(\\d+ MiB free\\)$`,
        ),
      );
      expect(error?.hint).toContain(`df -h ${dir}`);
      expect(error?.cause).toBe(cause);
    }
  });

  it("recognises a tool's words for it, also as the cause of another error", () => {
    const tool = new Error('copy: cp exited 1:\ncp: error writing x: No space left on device');
    expect(diskFullError(tool, tempDir(), 'copy')?.code).toBe('DISK_FULL');
    const wrapped = new Error('import failed', { cause: new Error('tar: y: Disk quota exceeded') });
    expect(diskFullError(wrapped, tempDir(), 'import')?.code).toBe('DISK_FULL');
  });

  it("leaves the user's own mistakes and an error that already says so alone", () => {
    const mistake = new UsageError('BAKE_DEB_DEPENDENCIES', 'debs: libfoo is needed');
    expect(diskFullError(mistake, tempDir(), 'bake')).toBeUndefined();
    const said = diskFullError(Object.assign(new Error('x'), { code: 'ENOSPC' }), tempDir(), 'bake');
    expect(diskFullError(said, tempDir(), 'bake again')).toBeUndefined();
  });

  it('leaves any other error alone on a disk with room', () => {
    expect(diskFullError(new Error('EACCES: permission denied'), tempDir(), 'bake')).toBeUndefined();
    expect(diskFullError('a string', tempDir(), 'bake')).toBeUndefined();
  });
});
