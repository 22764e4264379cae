import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { runGroup } from './controller.js';
import { groupDir, writeGroup } from './store.js';

describe('group run', () => {
  afterEach(() => vi.restoreAllMocks());

  it('refuses to run without root, at once, and leaves no controller record', async () => {
    const home = tempDir('goldgate-group-');
    writeGroup(home, {
      schemaVersion: 1,
      name: 'web',
      image: 'img-3f2a9c01b4d5',
      desired: 1,
      min: 1,
      max: 1,
      graceSeconds: 10,
      healthIntervalSeconds: 5,
      unhealthyThreshold: 3,
      checks: null,
      imageChecks: {},
      createdAt: '2026-11-27T08:00:00.000Z',
      desiredRequest: { at: '2026-11-27T08:00:00.000Z', from: 0, verb: 'created' },
    });
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    await expect(runGroup({ home, name: 'web', durationMs: 60_000 })).rejects.toMatchObject({
      code: 'LAB_NOT_ROOT',
      fault: 'environment',
    });
    expect(existsSync(join(groupDir(home, 'web'), 'controller.json'))).toBe(false);
    expect(existsSync(join(groupDir(home, 'web'), 'activities.jsonl'))).toBe(false);
  });
});
