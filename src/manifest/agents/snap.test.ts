import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import type { ManifestProblem } from '../types.js';
import { SNAP_SEED, SNAP_STATE, readSnap } from './snap.js';

function state(refresh: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    data: {
      auth: { users: [] },
      config: { core: { refresh, seed: { loaded: true } }, lxd: { 'snap-cohort': 'x' } },
      snaps: { core22: { type: 'base', sequence: [{ name: 'core22', revision: '1380' }] } },
      ...extra,
    },
    changes: {},
    tasks: {},
    'last-change-id': 3,
  });
}

const SEED = `snaps:
  - name: snapd
    channel: latest/stable
    file: snapd_21759.snap
  - name: core22
    channel: latest/stable
    file: core22_1380.snap
  - name: lxd
    channel: 5.21/stable/ubuntu-24.04
    file: lxd_29351.snap
`;

describe('readSnap', () => {
  it('reads a forever hold, the timer, per-snap holds and the seeded snaps', () => {
    const problems: ManifestProblem[] = [];
    const fs = treeFs({
      '/usr/lib/snapd/snapd': 'ELF',
      '/usr/bin/snap': 'ELF',
      [SNAP_STATE]: state(
        { hold: 'forever', timer: '00:00~24:00/4' },
        {
          'snaps-hold': {
            lxd: { system: { 'first-held': '2024-05-01T10:00:00Z', 'hold-until': '2315-05-01T10:00:00Z' } },
            core22: { lxd: { 'first-held': '2024-05-01T10:00:00Z', 'hold-until': '2024-05-03T10:00:00Z' } },
          },
        },
      ),
      [SNAP_SEED]: SEED,
    });
    expect(readSnap(fs, problems)).toEqual({
      present: true,
      presence: [{ path: '/usr/lib/snapd/snapd' }, { path: '/usr/bin/snap' }],
      hold: { value: 'forever', source: { path: SNAP_STATE }, kind: 'forever' },
      timer: { value: '00:00~24:00/4', source: { path: SNAP_STATE } },
      schedule: null,
      metered: null,
      snapHolds: [
        { snap: 'core22', holder: 'lxd', holdUntil: '2024-05-03T10:00:00Z' },
        { snap: 'lxd', holder: 'system', holdUntil: '2315-05-01T10:00:00Z' },
      ],
      stateSource: { path: SNAP_STATE },
      seededSnaps: ['core22', 'lxd', 'snapd'],
      seedSource: { path: SNAP_SEED },
    });
    expect(problems).toEqual([]);
  });

  it('tells a dated hold from a value snapd would not accept', () => {
    const dated = readSnap(
      treeFs({ [SNAP_STATE]: state({ hold: '2025-01-31T00:00:00+01:00', schedule: '00:00-04:59' }) }),
      [],
    );
    expect(dated.hold).toEqual({
      value: '2025-01-31T00:00:00+01:00',
      source: { path: SNAP_STATE },
      kind: 'until',
    });
    expect(dated.schedule).toEqual({ value: '00:00-04:59', source: { path: SNAP_STATE } });
    expect(dated.present).toBe(false);
    const invalid = readSnap(treeFs({ [SNAP_STATE]: state({ hold: 'next tuesday' }) }), []);
    expect(invalid.hold?.kind).toBe('invalid');
  });

  it('has no hold when the state has no refresh configuration', () => {
    const info = readSnap(treeFs({ '/usr/bin/snap': 'ELF', [SNAP_STATE]: JSON.stringify({ data: {} }) }), []);
    expect(info).toMatchObject({
      present: true,
      hold: null,
      timer: null,
      snapHolds: [],
      stateSource: { path: SNAP_STATE },
    });
  });

  it('reports a state.json that is not JSON and still reads the seed', () => {
    const problems: ManifestProblem[] = [];
    const info = readSnap(treeFs({ [SNAP_STATE]: '{"data": {', [SNAP_SEED]: SEED }), problems);
    expect(info.hold).toBeNull();
    expect(info.stateSource).toBeNull();
    expect(info.seededSnaps).toEqual(['core22', 'lxd', 'snapd']);
    expect(problems).toEqual([
      { path: SNAP_STATE, reason: expect.stringMatching(/^not valid JSON: /) as unknown as string },
    ]);
  });

  it('is absent on an image without snapd', () => {
    expect(readSnap(treeFs({ '/etc/hostname': 'x\n' }), [])).toEqual({
      present: false,
      presence: [],
      hold: null,
      timer: null,
      schedule: null,
      metered: null,
      snapHolds: [],
      stateSource: null,
      seededSnaps: [],
      seedSource: null,
    });
  });
});
