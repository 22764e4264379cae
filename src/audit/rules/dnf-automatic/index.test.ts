import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree } from '../../../test-support/audit.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';

const RULE = 'dnf-automatic';
const lines = (...text: string[]) => `${text.join('\n')}\n`;
/** Fedora's /etc/dnf/automatic.conf: `apply_updates = no` on line 22. */
const AUTOMATIC = readFileSync(new URL('./__fixtures__/automatic.conf', import.meta.url), 'utf8');
const applyUpdates = (value: string) => AUTOMATIC.replace('apply_updates = no', `apply_updates = ${value}`);
const LIB = '/usr/lib/systemd/system';

const TIMER = lines(
  '[Unit]',
  'Description=dnf-automatic timer',
  '# See comment in dnf-makecache.service',
  'ConditionPathExists=!/run/ostree-booted',
  'Wants=network-online.target',
  '',
  '[Timer]',
  'OnCalendar=*-*-* 6:00',
  'RandomizedDelaySec=60m',
  'Persistent=true',
  '',
  '[Install]',
  'WantedBy=timers.target',
);
const service = (args: string) =>
  lines(
    '[Unit]',
    'Description=dnf automatic',
    'ConditionPathExists=!/run/ostree-booted',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'Nice=19',
    'IOSchedulingClass=2',
    'IOSchedulingPriority=7',
    'Environment="ABRT_IGNORE_PYTHON=1"',
    `ExecStart=/usr/bin/dnf-automatic /etc/dnf/automatic.conf ${args}`,
  );

/** A Fedora-like image with dnf and the dnf-automatic package's units; `enable` links those timers. */
function fedora(enable: string[], entries: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  const tree: Record<string, TreeEntry> = {
    '/etc/os-release': 'NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\n',
    '/usr/bin/dnf': '',
    [`${LIB}/dnf-automatic.timer`]: TIMER,
    [`${LIB}/dnf-automatic.service`]: service('--timer'),
    [`${LIB}/dnf-automatic-install.timer`]: TIMER.replace(
      'dnf-automatic timer',
      'dnf-automatic-install timer',
    ),
    [`${LIB}/dnf-automatic-install.service`]: service('--timer --installupdates'),
    [`${LIB}/dnf-automatic-download.timer`]: TIMER,
    [`${LIB}/dnf-automatic-download.service`]: service('--timer --downloadupdates --no-installupdates'),
    [`${LIB}/dnf-automatic-notifyonly.timer`]: TIMER,
    [`${LIB}/dnf-automatic-notifyonly.service`]: service('--timer --no-installupdates --no-downloadupdates'),
    '/etc/dnf/automatic.conf': AUTOMATIC,
  };
  for (const timer of enable)
    tree[`/etc/systemd/system/timers.target.wants/${timer}`] = { link: `${LIB}/${timer}` };
  return { ...tree, ...entries };
}

describe('dnf-automatic: dnf4', () => {
  it('finds dnf-automatic.timer enabled with apply_updates = yes', () => {
    expect(
      auditTree(fedora(['dnf-automatic.timer'], { '/etc/dnf/automatic.conf': applyUpdates('yes') }), RULE),
    ).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'dnf-automatic or yum-cron installs updates on running instances',
        message:
          'dnf-automatic.timer starts at boot and installs updates: apply_updates = yes (/etc/dnf/automatic.conf).',
        evidence: [
          { path: '/etc/systemd/system/timers.target.wants/dnf-automatic.timer' },
          { path: `${LIB}/dnf-automatic.timer` },
          { path: '/etc/dnf/automatic.conf', line: 22, text: 'apply_updates = yes' },
        ],
        remediation: {
          summary: 'Mask dnf-automatic.timer and set apply_updates = no; ship updates by baking a new image.',
          steps: [
            { action: 'mask-units', units: ['dnf-automatic.timer'] },
            {
              action: 'set-line',
              path: '/etc/dnf/automatic.conf',
              match: 'apply_updates',
              line: 'apply_updates = no',
            },
          ],
        },
      },
    ]);
  });

  it('reads booleans as dnf does (True, 1, on are yes)', () => {
    for (const value of ['True', '1', 'on']) {
      expect(
        auditTree(fedora(['dnf-automatic.timer'], { '/etc/dnf/automatic.conf': applyUpdates(value) }), RULE),
      ).toHaveLength(1);
    }
  });

  it('does not find apply_updates = no, an unset apply_updates, or a value dnf refuses', () => {
    expect(auditTree(fedora(['dnf-automatic.timer']), RULE)).toEqual([]);
    expect(
      auditTree(
        fedora(['dnf-automatic.timer'], {
          '/etc/dnf/automatic.conf': '[commands]\nupgrade_type = security\n',
        }),
        RULE,
      ),
    ).toEqual([]);
    expect(
      auditTree(fedora(['dnf-automatic.timer'], { '/etc/dnf/automatic.conf': applyUpdates('maybe') }), RULE),
    ).toEqual([]);
    // No automatic.conf at all: dnf-automatic's default is not to apply.
    const tree = fedora(['dnf-automatic.timer']);
    delete tree['/etc/dnf/automatic.conf'];
    expect(auditTree(tree, RULE)).toEqual([]);
  });

  it('does not find a commented-out apply_updates = yes', () => {
    expect(
      auditTree(
        fedora(['dnf-automatic.timer'], {
          '/etc/dnf/automatic.conf': AUTOMATIC.replace('apply_updates = no', '# apply_updates = yes'),
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('does not find the timer when it is not enabled, is masked, or its service is masked', () => {
    const yes = { '/etc/dnf/automatic.conf': applyUpdates('yes') };
    expect(auditTree(fedora([], yes), RULE)).toEqual([]);
    expect(
      auditTree(
        fedora(['dnf-automatic.timer'], {
          ...yes,
          '/etc/systemd/system/dnf-automatic.timer': { link: '/dev/null' },
        }),
        RULE,
      ),
    ).toEqual([]);
    expect(
      auditTree(
        fedora(['dnf-automatic.timer'], {
          ...yes,
          '/etc/systemd/system/dnf-automatic.service': { link: '/dev/null' },
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds dnf-automatic-install.timer whatever apply_updates says', () => {
    expect(auditTree(fedora(['dnf-automatic-install.timer']), RULE)).toEqual([
      expect.objectContaining({
        message:
          'dnf-automatic-install.timer starts at boot and installs updates: it runs dnf-automatic --installupdates, whatever apply_updates says.',
        evidence: [
          { path: '/etc/systemd/system/timers.target.wants/dnf-automatic-install.timer' },
          { path: `${LIB}/dnf-automatic-install.timer` },
        ],
        remediation: {
          summary: 'Mask dnf-automatic-install.timer; ship updates by baking a new image.',
          steps: [{ action: 'mask-units', units: ['dnf-automatic-install.timer'] }],
        },
      }),
    ]);
  });

  it('does not find the download and notify-only timers, even with apply_updates = yes', () => {
    expect(
      auditTree(
        fedora(['dnf-automatic-download.timer', 'dnf-automatic-notifyonly.timer'], {
          '/etc/dnf/automatic.conf': applyUpdates('yes'),
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('makes the rule quiet once its steps are applied', () => {
    const root = makeTree(
      fedora(['dnf-automatic.timer', 'dnf-automatic-install.timer'], {
        '/etc/dnf/automatic.conf': applyUpdates('yes'),
      }),
    );
    const findings = auditDir(root, RULE);
    expect(findings).toHaveLength(2);
    expect(applyRemediations(root, remediationSteps(findings)).every((a) => a.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
    expect(readFileSync(join(root, '/etc/dnf/automatic.conf'), 'utf8').split('\n')[21]).toBe(
      'apply_updates = no',
    );
  });
});

describe('dnf-automatic: dnf5', () => {
  const DNF5_DEFAULTS = '/usr/share/dnf5/dnf5-plugins/automatic.conf';
  function fedora41(entries: Record<string, TreeEntry>): Record<string, TreeEntry> {
    return {
      '/etc/os-release': 'NAME="Fedora Linux"\nVERSION_ID=41\nID=fedora\n',
      '/usr/bin/dnf5': '',
      '/usr/bin/dnf': { link: 'dnf5' },
      [`${LIB}/dnf5-automatic.timer`]: TIMER.replace('dnf-automatic timer', 'dnf5-automatic timer'),
      [`${LIB}/dnf5-automatic.service`]: lines(
        '[Service]',
        'Type=oneshot',
        'ExecStart=/usr/bin/dnf5 automatic --timer',
      ),
      '/etc/systemd/system/timers.target.wants/dnf5-automatic.timer': { link: `${LIB}/dnf5-automatic.timer` },
      [DNF5_DEFAULTS]: lines(
        '[commands]',
        'upgrade_type = default',
        'download_updates = yes',
        'apply_updates = no',
        'reboot = never',
      ),
      ...entries,
    };
  }

  it('finds dnf5-automatic.timer with apply_updates = yes in /etc/dnf/dnf5-plugins, citing that file', () => {
    const findings = auditTree(
      fedora41({ '/etc/dnf/dnf5-plugins/automatic.conf': '[commands]\napply_updates = yes\n' }),
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message:
          'dnf5-automatic.timer starts at boot and installs updates: apply_updates = yes (/etc/dnf/dnf5-plugins/automatic.conf).',
        evidence: [
          { path: '/etc/systemd/system/timers.target.wants/dnf5-automatic.timer' },
          { path: `${LIB}/dnf5-automatic.timer` },
          { path: '/etc/dnf/dnf5-plugins/automatic.conf', line: 2, text: 'apply_updates = yes' },
        ],
        remediation: {
          summary:
            'Mask dnf5-automatic.timer and set apply_updates = no; ship updates by baking a new image.',
          steps: [
            { action: 'mask-units', units: ['dnf5-automatic.timer'] },
            {
              action: 'set-line',
              path: '/etc/dnf/dnf5-plugins/automatic.conf',
              match: 'apply_updates',
              line: 'apply_updates = no',
            },
          ],
        },
      }),
    ]);
  });

  it('does not find dnf5-automatic with only the shipped defaults', () => {
    expect(auditTree(fedora41({}), RULE)).toEqual([]);
  });

  it('lets /etc/dnf/automatic.conf override the dnf5 plugin files', () => {
    expect(
      auditTree(
        fedora41({
          '/etc/dnf/dnf5-plugins/automatic.conf': '[commands]\napply_updates = yes\n',
          '/etc/dnf/automatic.conf': '[commands]\napply_updates = no\n',
        }),
        RULE,
      ),
    ).toEqual([]);
    expect(
      auditTree(fedora41({ '/etc/dnf/automatic.conf': '[commands]\napply_updates = yes\n' }), RULE).map((f) =>
        f.evidence.at(-1),
      ),
    ).toEqual([{ path: '/etc/dnf/automatic.conf', line: 2, text: 'apply_updates = yes' }]);
  });

  it('makes the rule quiet once its steps are applied', () => {
    const root = makeTree(
      fedora41({ '/etc/dnf/dnf5-plugins/automatic.conf': '[commands]\napply_updates = yes\n' }),
    );
    applyRemediations(root, remediationSteps(auditDir(root, RULE)));
    expect(auditDir(root, RULE)).toEqual([]);
  });
});

describe('dnf-automatic: yum-cron', () => {
  const YUM_CRON = lines(
    '[commands]',
    '#  What kind of update to use:',
    'update_cmd = default',
    'update_messages = yes',
    'download_updates = yes',
    'apply_updates = yes',
    'random_sleep = 360',
    '',
    '[emitters]',
    'system_name = None',
    'emit_via = stdio',
  );
  const UNIT = lines(
    '[Unit]',
    'Description=Run automatic yum updates as a cron job',
    '',
    '[Service]',
    'Type=oneshot',
    'ExecStart=/bin/touch /var/lock/subsys/yum-cron',
    'ExecStop=/bin/rm -f /var/lock/subsys/yum-cron',
    'RemainAfterExit=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );
  const centos7 = (entries: Record<string, TreeEntry>, enabled = true): Record<string, TreeEntry> => ({
    '/etc/os-release':
      'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n',
    '/usr/bin/yum': '',
    [`${LIB}/yum-cron.service`]: UNIT,
    ...(enabled
      ? {
          '/etc/systemd/system/multi-user.target.wants/yum-cron.service': { link: `${LIB}/yum-cron.service` },
        }
      : {}),
    '/etc/yum/yum-cron-hourly.conf': YUM_CRON.replace('apply_updates = yes', 'apply_updates = no'),
    ...entries,
  });

  it('finds yum-cron.service enabled with apply_updates = yes', () => {
    expect(auditTree(centos7({ '/etc/yum/yum-cron.conf': YUM_CRON }), RULE)).toEqual([
      expect.objectContaining({
        message:
          'yum-cron.service starts at boot and installs updates: apply_updates = yes (/etc/yum/yum-cron.conf).',
        evidence: [
          { path: '/etc/systemd/system/multi-user.target.wants/yum-cron.service' },
          { path: `${LIB}/yum-cron.service` },
          { path: '/etc/yum/yum-cron.conf', line: 6, text: 'apply_updates = yes' },
        ],
        remediation: {
          summary: 'Mask yum-cron.service and set apply_updates = no; ship updates by baking a new image.',
          steps: [
            { action: 'mask-units', units: ['yum-cron.service'] },
            {
              action: 'set-line',
              path: '/etc/yum/yum-cron.conf',
              match: 'apply_updates',
              line: 'apply_updates = no',
            },
          ],
        },
      }),
    ]);
  });

  it('does not find yum-cron disabled, or with apply_updates = no', () => {
    expect(auditTree(centos7({ '/etc/yum/yum-cron.conf': YUM_CRON }, false), RULE)).toEqual([]);
    expect(
      auditTree(
        centos7({ '/etc/yum/yum-cron.conf': YUM_CRON.replace('apply_updates = yes', 'apply_updates = no') }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds the hourly job applying updates', () => {
    const findings = auditTree(
      centos7({
        '/etc/yum/yum-cron.conf': YUM_CRON.replace('apply_updates = yes', 'apply_updates = no'),
        '/etc/yum/yum-cron-hourly.conf': YUM_CRON.replace('update_cmd = default', 'update_cmd = security'),
      }),
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence.at(-1), f.remediation.steps.at(-1)])).toEqual([
      [
        'yum-cron.service starts at boot and installs updates: apply_updates = yes (/etc/yum/yum-cron-hourly.conf).',
        { path: '/etc/yum/yum-cron-hourly.conf', line: 6, text: 'apply_updates = yes' },
        {
          action: 'set-line',
          path: '/etc/yum/yum-cron-hourly.conf',
          match: 'apply_updates',
          line: 'apply_updates = no',
        },
      ],
    ]);
  });

  it('makes the rule quiet once its steps are applied', () => {
    const root = makeTree(
      centos7({ '/etc/yum/yum-cron.conf': YUM_CRON, '/etc/yum/yum-cron-hourly.conf': YUM_CRON }),
    );
    expect(auditDir(root, RULE)).toHaveLength(2);
    applyRemediations(root, remediationSteps(auditDir(root, RULE)));
    expect(auditDir(root, RULE)).toEqual([]);
  });
});
