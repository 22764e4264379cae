import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { GoldgateError } from '../core/errors.js';
import { tempDir } from '../test-support/tree.js';
import type { GroupDefinition } from './store.js';
import {
  checkGroupName,
  claimController,
  emptyState,
  groupDir,
  groupNames,
  liveController,
  readGroup,
  readState,
  writeGroup,
  writeState,
} from './store.js';

function definition(name: string, change: Partial<GroupDefinition> = {}): GroupDefinition {
  return {
    schemaVersion: 1,
    name,
    image: 'img-3f2a9c01b4d5',
    desired: 2,
    min: 1,
    max: 4,
    graceSeconds: 10,
    healthIntervalSeconds: 5,
    unhealthyThreshold: 3,
    checks: [{ name: 'web', http: { port: 80, path: '/', expect: 200 } }],
    imageChecks: {},
    createdAt: '2026-11-27T08:00:00.000Z',
    desiredRequest: { at: '2026-11-27T08:00:00.000Z', from: 0, verb: 'created' },
    ...change,
  };
}

/** What a call throws, for assertions on its code and message. */
function thrown(call: () => unknown): GoldgateError {
  try {
    call();
  } catch (error) {
    if (error instanceof GoldgateError) return error;
    throw error;
  }
  throw new Error('expected a GoldgateError, nothing was thrown');
}

let home = '';
beforeEach(() => {
  home = tempDir('goldgate-groups-');
});

describe('checkGroupName', () => {
  it('accepts letters, digits, dots, dashes and underscores, up to 64', () => {
    for (const name of ['web', 'acme-web.v2_1', '0', 'a'.repeat(64)])
      expect(() => checkGroupName(name)).not.toThrow();
  });

  it('refuses an empty name, a leading dot, a slash, .. and 65 characters', () => {
    for (const name of ['', '.web', 'a/b', '..', '-web', 'we b', 'a'.repeat(65)]) {
      const error = thrown(() => checkGroupName(name));
      expect(error.code).toBe('GROUP_BAD_NAME');
      expect(error.fault).toBe('user');
      expect(error.message).toBe(`"${name}" is not a valid group name`);
    }
  });
});

describe('group definitions', () => {
  it('reads back what it wrote', () => {
    const group = definition('web');
    writeGroup(home, group);
    expect(readGroup(home, 'web')).toEqual(group);
    const imageChecks = definition('api', {
      checks: null,
      imageChecks: {
        'img-3f2a9c01b4d5': [{ name: 'shell', command: { argv: ['/bin/true'], expectExit: 0 } }],
      },
      desiredRequest: { at: 'x', from: 2, verb: 'updated' },
    });
    writeGroup(home, imageChecks);
    expect(readGroup(home, 'api')).toEqual(imageChecks);
  });

  it('says GROUP_NOT_FOUND for a group that is missing or not a definition', () => {
    const missing = thrown(() => readGroup(home, 'nope'));
    expect(missing.code).toBe('GROUP_NOT_FOUND');
    expect(missing.message).toBe('no group "nope"');
    expect(missing.hint).toMatch(/goldgate group ls/);

    mkdirSync(groupDir(home, 'odd'), { recursive: true });
    writeFileSync(join(groupDir(home, 'odd'), 'group.json'), '{"schemaVersion": 2}\n');
    expect(thrown(() => readGroup(home, 'odd')).code).toBe('GROUP_NOT_FOUND');
    expect(thrown(() => readGroup(home, '../odd')).code).toBe('GROUP_BAD_NAME');
  });

  it('lists the groups sorted, skipping what is not a group', () => {
    expect(groupNames(home)).toEqual([]);
    for (const name of ['web', 'api', 'Zeta', 'b-2']) writeGroup(home, definition(name));
    const groups = join(home, 'groups');
    mkdirSync(join(groups, 'empty'));
    mkdirSync(join(groups, '.hidden'));
    writeFileSync(join(groups, '.hidden', 'group.json'), JSON.stringify(definition('.hidden')));
    writeFileSync(join(groups, 'notes.txt'), 'not a group\n');
    mkdirSync(join(groups, 'broken'));
    writeFileSync(join(groups, 'broken', 'group.json'), '{"schemaVersion": 1, "name": "bro');
    mkdirSync(join(groups, 'future'));
    writeFileSync(join(groups, 'future', 'group.json'), '{"schemaVersion": 2, "name": "future"}\n');
    expect(groupNames(home)).toEqual(['Zeta', 'api', 'b-2', 'web']);
  });
});

describe('group state', () => {
  it('is empty before the first pass, and when its file is corrupt', () => {
    const empty = { ...emptyState(), updatedAt: expect.any(String) as unknown };
    expect(readState(home, 'web')).toEqual(empty);
    mkdirSync(groupDir(home, 'web'), { recursive: true });
    writeFileSync(join(groupDir(home, 'web'), 'state.json'), '{"schemaVersion": 1, "members": [');
    expect(readState(home, 'web')).toEqual(empty);
    writeFileSync(join(groupDir(home, 'web'), 'state.json'), '{"schemaVersion": 1, "members": 3}');
    expect(readState(home, 'web')).toEqual(empty);
  });

  it('reads back what the controller wrote, with the days of members that had none', () => {
    writeGroup(home, definition('web'));
    const state = { ...emptyState(), seenDesired: 2, launched: 3, replaced: 1 };
    writeState(home, 'web', state);
    expect(readState(home, 'web')).toEqual(state);

    const member = {
      id: 'i-1a2b3c4d',
      image: 'img-3f2a9c01b4d5',
      lifecycle: 'InService',
      health: 'Healthy',
      launchedAt: '2026-11-27T08:00:00.000Z',
      inServiceAt: '2026-11-27T08:00:05.000Z',
      failures: 0,
      lastCheck: null,
      nextTimersAt: null,
      launchActivity: 'a1',
      terminateActivity: null,
    };
    writeFileSync(join(groupDir(home, 'web'), 'state.json'), JSON.stringify({ ...state, members: [member] }));
    expect(readState(home, 'web').members).toEqual([{ ...member, days: 0 }]);
  });
});

describe('claimController', () => {
  const record = () => join(groupDir(home, 'web'), 'controller.json');

  beforeEach(() => writeGroup(home, definition('web')));

  it('refuses a second controller while the first holds the group', () => {
    const release = claimController(home, 'web');
    expect(liveController(home, 'web')).toMatchObject({ pid: process.pid });
    const second = thrown(() => claimController(home, 'web'));
    expect(second.code).toBe('GROUP_CONTROLLER_RUNNING');
    expect(second.message).toBe(`group web already has a controller (pid ${process.pid})`);
    release();
    expect(existsSync(record())).toBe(false);
    expect(liveController(home, 'web')).toBeUndefined();
    claimController(home, 'web')();
  });

  it('takes over the record of a controller that died', () => {
    const dead = spawnSync('true').pid;
    expect(dead).toBeGreaterThan(0);
    const left = { pid: dead, startTime: 1, since: '2026-11-27T08:00:00.000Z' };
    writeFileSync(record(), `${JSON.stringify(left)}\n`);
    expect(liveController(home, 'web')).toBeUndefined();

    const release = claimController(home, 'web');
    const now = JSON.parse(readFileSync(record(), 'utf8')) as { pid: number; since: string };
    expect(now.pid).toBe(process.pid);
    expect(now.since).not.toBe(left.since);
    release();
    expect(existsSync(record())).toBe(false);
  });

  it('takes over a record that cannot be read', () => {
    writeFileSync(record(), '{"pid": ');
    claimController(home, 'web')();
    expect(existsSync(record())).toBe(false);
  });

  it('releases the record only while it is still its own', () => {
    const release = claimController(home, 'web');
    const other = `${JSON.stringify({ pid: 1, startTime: 7, since: '2026-11-27T09:00:00.000Z' })}\n`;
    writeFileSync(record(), other);
    release();
    expect(readFileSync(record(), 'utf8')).toBe(other);
  });
});
