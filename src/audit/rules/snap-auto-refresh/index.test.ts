import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree } from '../../../test-support/audit.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';
import { withChanges } from '../../../test-support/tree.js';

const RULE = 'snap-auto-refresh';
const STATE = '/var/lib/snapd/state.json';
const SERVICE_LINK = '/etc/systemd/system/multi-user.target.wants/snapd.service';
const SOCKET_LINK = '/etc/systemd/system/sockets.target.wants/snapd.socket';

// snapd 2.57's units, verbatim.
const SNAPD_SERVICE = `[Unit]
Description=Snap Daemon
After=snapd.socket time-set.target
Wants=time-set.target
Requires=snapd.socket
OnFailure=snapd.failure.service
# This is handled by snapd
# X-Snapd-Snap: do-not-start

[Service]
# Disabled because it breaks lxd
# (https://bugs.launchpad.net/snapd/+bug/1709536)
#Nice=-5
OOMScoreAdjust=-900
ExecStart=/usr/lib/snapd/snapd
EnvironmentFile=-/etc/environment
Restart=always
WatchdogSec=5m
Type=notify
SuccessExitStatus=42
RestartPreventExitStatus=42
KillMode=process

[Install]
WantedBy=multi-user.target
`;
const SNAPD_SOCKET = `[Unit]
Description=Socket activation for snappy daemon

[Socket]
ListenStream=/run/snapd.socket
ListenStream=/run/snapd-snap.socket
SocketMode=0666
# these are the defaults, but can't hurt to specify them anyway:
SocketUser=root
SocketGroup=root

[Install]
WantedBy=sockets.target
`;
const SEED = `snaps:
  - name: core22
    channel: latest/stable
    file: core22_1380.snap
  - name: snapd
    channel: latest/stable
    file: snapd_21759.snap
  - name: lxd
    channel: 5.21/stable/ubuntu-22.04
    file: lxd_29351.snap
`;

/** state.json as snapd writes it, with `refresh` as the system refresh configuration. */
function state(refresh?: Record<string, unknown>): string {
  const core = refresh === undefined ? { experimental: { 'snapd-snap': true } } : { refresh };
  return JSON.stringify({
    data: { config: { core }, 'seed-time': '2026-10-02T09:12:44.211Z', snaps: {} },
    changes: {},
    tasks: {},
    'last-change-id': 3,
    'last-task-id': 41,
    'last-lane-id': 0,
  });
}

type Changes = Record<string, TreeEntry | null>;

/** An Ubuntu 22.04-like image (merged /usr) with snapd installed, its service and socket enabled. */
function ubuntu(changes: Changes = {}): Record<string, TreeEntry> {
  const entries: Changes = {
    '/lib': { link: 'usr/lib' },
    '/usr/lib/snapd/snapd': { content: '\x7fELF', mode: 0o755 },
    '/usr/bin/snap': { content: '\x7fELF', mode: 0o755 },
    '/usr/lib/systemd/system/snapd.service': SNAPD_SERVICE,
    '/usr/lib/systemd/system/snapd.socket': SNAPD_SOCKET,
    [SERVICE_LINK]: { link: '/lib/systemd/system/snapd.service' },
    [SOCKET_LINK]: { link: '/lib/systemd/system/snapd.socket' },
    '/var/lib/snapd/seed/seed.yaml': SEED,
    ...changes,
  };
  return withChanges(entries);
}

const BASE_EVIDENCE = [
  { path: '/usr/lib/snapd/snapd' },
  { path: '/usr/bin/snap' },
  { path: SERVICE_LINK },
  { path: SOCKET_LINK },
];
const REMEDIATION = {
  summary: 'Hold refreshes in the image (snap refresh --hold), or mask snapd if the image needs no snaps.',
  steps: [{ action: 'command', argv: ['snap', 'refresh', '--hold'] }],
};

describe('snap-auto-refresh: found', () => {
  it('reports snapd enabled without a refresh hold, with its seeded snaps', () => {
    expect(auditTree(ubuntu({ [STATE]: state() }), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'snapd refreshes snaps on its own',
        message:
          'snapd is installed and snapd.service and snapd.socket start at boot; no refresh hold is set; seeded snaps: core22, lxd, snapd.',
        evidence: [...BASE_EVIDENCE, { path: STATE }],
        remediation: REMEDIATION,
      },
    ]);
  });

  it('reports it before snapd ever ran (no state.json)', () => {
    const findings = auditTree(ubuntu(), RULE);
    expect(findings.map((f) => f.evidence)).toEqual([BASE_EVIDENCE]);
  });

  it('says when the hold has expired', () => {
    const findings = auditTree(ubuntu({ [STATE]: state({ hold: '2026-01-15T00:00:00Z' }) }), RULE);
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'high',
        message:
          'snapd is installed and snapd.service and snapd.socket start at boot; its refresh hold expired on 2026-01-15T00:00:00Z; seeded snaps: core22, lxd, snapd.',
        evidence: [...BASE_EVIDENCE, { path: STATE }],
        remediation: REMEDIATION,
      }),
    ]);
  });

  it('says when the hold is not a value snapd accepts', () => {
    const findings = auditTree(ubuntu({ [STATE]: state({ hold: 'next tuesday' }) }), RULE);
    expect(findings.map((f) => f.message)).toEqual([
      'snapd is installed and snapd.service and snapd.socket start at boot; its refresh hold "next tuesday" is not one snapd accepts; seeded snaps: core22, lxd, snapd.',
    ]);
  });

  it('reports snapd started by its socket alone', () => {
    const findings = auditTree(ubuntu({ [SERVICE_LINK]: null, '/var/lib/snapd/seed/seed.yaml': null }), RULE);
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        'snapd is installed and snapd.socket starts at boot; no refresh hold is set.',
        [{ path: '/usr/lib/snapd/snapd' }, { path: '/usr/bin/snap' }, { path: SOCKET_LINK }],
      ],
    ]);
  });

  it('reports snapd with only the snap command present', () => {
    const findings = auditTree(ubuntu({ '/usr/lib/snapd/snapd': null }), RULE);
    expect(findings.map((f) => f.evidence[0])).toEqual([{ path: '/usr/bin/snap' }]);
  });

  it('counts per-snap holds as no system hold: unheld and later-installed snaps still refresh', () => {
    const held = JSON.parse(state()) as { data: Record<string, unknown> };
    held.data['snaps-hold'] = { lxd: { system: { 'hold-until': '2099-01-01T00:00:00Z' } } };
    expect(auditTree(ubuntu({ [STATE]: JSON.stringify(held) }), RULE)).toHaveLength(1);
  });
});

describe('snap-auto-refresh: not found', () => {
  it.each<[string, Changes]>([
    ['held forever (snap refresh --hold)', { [STATE]: state({ hold: 'forever' }) }],
    ['held until a future date', { [STATE]: state({ hold: '2027-03-01T00:00:00Z' }) }],
    ['held until a future date with an offset', { [STATE]: state({ hold: '2026-12-01T10:00:00.5+02:00' }) }],
    [
      'with both units masked',
      {
        '/etc/systemd/system/snapd.service': { link: '/dev/null' },
        '/etc/systemd/system/snapd.socket': { link: '/dev/null' },
      },
    ],
    [
      // systemd refuses to start a socket whose service is masked.
      'with snapd.service masked and the socket still enabled',
      { '/etc/systemd/system/snapd.service': { link: '/dev/null' } },
    ],
    ['with neither unit enabled', { [SERVICE_LINK]: null, [SOCKET_LINK]: null }],
    ['without snapd installed', { '/usr/lib/snapd/snapd': null, '/usr/bin/snap': null }],
  ])('snapd %s', (_name, changes) => {
    expect(auditTree(ubuntu(changes), RULE)).toEqual([]);
  });
});

describe('snap-auto-refresh: applying the fix', () => {
  it('leaves the hold to the image build: goldgate fix does not run commands', () => {
    const root = makeTree(ubuntu());
    const findings = auditDir(root, RULE);
    expect(applyRemediations(root, remediationSteps(findings))).toEqual([
      {
        rule: RULE,
        step: REMEDIATION.steps[0],
        applied: false,
        reason: 'commands are not run by goldgate fix; run it in the image build',
      },
    ]);
    // What `snap refresh --hold` leaves in state.json ends the finding.
    expect(auditTree(ubuntu({ [STATE]: state({ hold: 'forever' }) }), RULE)).toEqual([]);
  });
});
