import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRules } from '../../engine.js';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { buildManifest } from '../../../manifest/manifest.js';
import { openDirRootFs } from '../../../rootfs/dir.js';
import { auditDir, auditTree } from '../../../test-support/audit.js';
import { ENABLED, exe, lines, SCRIPT, service, UNIT } from '../../../test-support/boot-trees.js';
import { APT_DAILY_SERVICE } from '../../../test-support/debian-files.js';
import { makeTree } from '../../../test-support/tree.js';
import type { TreeEntry } from '../../../test-support/tree.js';
import { RULES } from '../api.js';

const RULE = 'boot-script-package-install';
const SUMMARY =
  'Install these packages when the image is baked (the spec’s packages), and remove the install from the boot path.';

const DEBIAN_CFG = lines(
  'users:',
  '   - default',
  'cloud_init_modules:',
  ' - seed_random',
  ' - bootcmd',
  ' - write-files',
  'cloud_config_modules:',
  ' - locale',
  ' - apt-configure',
  ' - runcmd',
  'cloud_final_modules:',
  ' - package-update-upgrade-install',
  ' - scripts-vendor',
  ' - scripts-per-once',
  ' - scripts-per-boot',
  ' - scripts-per-instance',
  ' - scripts-user',
  ' - final-message',
);
function cloud(entries: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  return {
    '/etc/cloud/cloud.cfg': DEBIAN_CFG,
    '/usr/bin/cloud-init': exe('#!/usr/bin/python3\n'),
    ...entries,
  };
}
const SEED = '/var/lib/cloud/seed/nocloud/user-data';

describe('boot-script-package-install: systemd services', () => {
  it('finds an enabled service’s ExecStartPre, and the package install in the script its ExecStart runs', () => {
    const findings = auditTree(service(ENABLED), RULE);
    expect(findings).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'A boot script installs or upgrades packages',
        message: 'systemd bootstrap.service ExecStartPre at boot: apt-get install (line 9).',
        evidence: [
          {
            path: '/usr/lib/systemd/system/bootstrap.service',
            line: 9,
            text: '/usr/bin/apt-get install -y nginx',
          },
        ],
        remediation: { summary: SUMMARY, steps: [] },
      },
      {
        rule: RULE,
        severity: 'high',
        title: 'A boot script installs or upgrades packages',
        message: 'systemd bootstrap.service ExecStart at boot: pip install (line 6).',
        evidence: [
          { path: '/usr/local/bin/bootstrap.sh', line: 6, text: 'pip install -r /opt/app/requirements.txt' },
        ],
        remediation: {
          summary: SUMMARY,
          steps: [
            {
              action: 'remove-line',
              path: '/usr/local/bin/bootstrap.sh',
              line: 6,
              text: 'pip install -r /opt/app/requirements.txt',
            },
          ],
        },
      },
    ]);
  });

  it('does not find a service that nothing enables', () => {
    expect(auditTree(service(), RULE)).toEqual([]);
  });

  it('does not find an enabled service that is masked', () => {
    expect(
      auditTree(
        service({ ...ENABLED, '/etc/systemd/system/bootstrap.service': { link: '/dev/null' } }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds a service enabled by a vendor link under /usr/lib', () => {
    const findings = auditTree(
      service({
        '/usr/lib/systemd/system/multi-user.target.wants/bootstrap.service': { link: '../bootstrap.service' },
      }),
      RULE,
    );
    expect(findings.map((f) => f.evidence[0]?.path)).toEqual([
      '/usr/lib/systemd/system/bootstrap.service',
      '/usr/local/bin/bootstrap.sh',
    ]);
  });

  it('finds a service that only an enabled timer starts, and not when the timer is disabled or masked', () => {
    const tree = {
      '/etc/systemd/system/refresh.service': lines(
        '[Unit]',
        'Description=Refresh packages',
        '',
        '[Service]',
        'Type=oneshot',
        'ExecStart=/usr/bin/dnf -y upgrade',
      ),
      '/etc/systemd/system/refresh.timer': lines(
        '[Unit]',
        'Description=Refresh',
        '',
        '[Timer]',
        'OnBootSec=5min',
        '',
        '[Install]',
        'WantedBy=timers.target',
      ),
    };
    const link = {
      '/etc/systemd/system/timers.target.wants/refresh.timer': { link: '/etc/systemd/system/refresh.timer' },
    };
    expect(auditTree({ ...tree, ...link }, RULE)).toEqual([
      expect.objectContaining({
        message: 'systemd refresh.service ExecStart at boot: dnf upgrade (line 6).',
        evidence: [{ path: '/etc/systemd/system/refresh.service', line: 6, text: '/usr/bin/dnf -y upgrade' }],
      }),
    ]);
    expect(auditTree(tree, RULE)).toEqual([]);
    const maskedTimer = {
      ...tree,
      '/usr/lib/systemd/system/refresh.timer': tree['/etc/systemd/system/refresh.timer'],
    };
    delete (maskedTimer as Record<string, unknown>)['/etc/systemd/system/refresh.timer'];
    expect(
      auditTree(
        {
          ...maskedTimer,
          '/etc/systemd/system/timers.target.wants/refresh.timer': {
            link: '/usr/lib/systemd/system/refresh.timer',
          },
          '/etc/systemd/system/refresh.timer': { link: '/dev/null' },
        },
        RULE,
      ),
    ).toEqual([]);
  });

  it('cites the drop-in that replaces ExecStart, not the vendor unit', () => {
    const findings = auditTree(
      service({
        ...ENABLED,
        '/usr/local/bin/bootstrap.sh': exe('#!/bin/sh\nexit 0\n'),
        '/usr/lib/systemd/system/bootstrap.service': UNIT.replace(
          'ExecStartPre=/usr/bin/apt-get install -y nginx\n',
          '',
        ),
        '/etc/systemd/system/bootstrap.service.d/override.conf': lines(
          '[Service]',
          'ExecStart=',
          'ExecStart=/usr/bin/dnf -y install httpd',
        ),
      }),
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        'systemd bootstrap.service ExecStart at boot: dnf install (line 3).',
        [
          {
            path: '/etc/systemd/system/bootstrap.service.d/override.conf',
            line: 3,
            text: '/usr/bin/dnf -y install httpd',
          },
        ],
      ],
    ]);
  });

  it('finds commands in a `bash -c` string, at the Exec line', () => {
    const findings = auditTree(
      {
        '/etc/systemd/system/agent.service': lines(
          '[Service]',
          "ExecStart=/bin/bash -c 'apt-get update && apt-get install -y jq && exec /opt/agent/run'",
          '[Install]',
          'WantedBy=multi-user.target',
        ),
        '/etc/systemd/system/multi-user.target.wants/agent.service': { link: '../agent.service' },
      },
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message: 'systemd agent.service ExecStart at boot: apt-get install (line 2).',
        evidence: [{ path: '/etc/systemd/system/agent.service', line: 2, text: 'apt-get install -y jq' }],
        remediation: { summary: SUMMARY, steps: [] },
      }),
    ]);
  });

  it('scans a script without a #! line that a shell is given, but not one systemd must exec itself', () => {
    const unit = (exec: string) => ({
      '/etc/systemd/system/setup.service': lines(
        '[Service]',
        'Type=oneshot',
        `ExecStart=${exec}`,
        '[Install]',
        'WantedBy=multi-user.target',
      ),
      '/etc/systemd/system/multi-user.target.wants/setup.service': { link: '../setup.service' },
      '/opt/app/setup': exe(lines('# no #! line: run by a shell', 'yum install -y httpd')),
    });
    expect(auditTree(unit('/bin/bash /opt/app/setup'), RULE)).toEqual([
      expect.objectContaining({
        message: 'systemd setup.service ExecStart at boot: yum install (line 2).',
        evidence: [{ path: '/opt/app/setup', line: 2, text: 'yum install -y httpd' }],
      }),
    ]);
    // systemd execs the file itself: without #! the kernel refuses it, nothing runs.
    expect(auditTree(unit('/opt/app/setup'), RULE)).toEqual([]);
  });

  it('does not scan a script in another language', () => {
    expect(
      auditTree(
        service({
          ...ENABLED,
          '/usr/lib/systemd/system/bootstrap.service': UNIT.replace(
            'ExecStartPre=/usr/bin/apt-get install -y nginx\n',
            '',
          ),
          '/usr/local/bin/bootstrap.sh': exe(
            lines('#!/usr/bin/python3', 'import os', 'os.system("apt-get install -y nginx")'),
          ),
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('cites the script a symlink leads to, so that the fix edits the script and not the link', () => {
    const root = makeTree(
      service({
        ...ENABLED,
        '/usr/lib/systemd/system/bootstrap.service': UNIT.replace(
          'ExecStartPre=/usr/bin/apt-get install -y nginx\n',
          '',
        ),
        '/usr/local/bin/bootstrap.sh': { link: '/opt/app/bootstrap.sh' },
        '/opt/app/bootstrap.sh': exe(SCRIPT),
      }),
    );
    const findings = auditDir(root, RULE);
    expect(findings.map((f) => f.evidence)).toEqual([
      [{ path: '/opt/app/bootstrap.sh', line: 6, text: 'pip install -r /opt/app/requirements.txt' }],
    ]);
    applyRemediations(root, remediationSteps(findings));
    expect(lstatSync(join(root, '/usr/local/bin/bootstrap.sh')).isSymbolicLink()).toBe(true);
    expect(statSync(join(root, '/opt/app/bootstrap.sh')).mode & 0o777).toBe(0o755);
    expect(auditDir(root, RULE)).toEqual([]);
  });

  it('follows scripts that scripts run, and stops at a loop', () => {
    const findings = auditTree(
      {
        '/etc/systemd/system/first-boot.service': lines(
          '[Service]',
          'ExecStart=/opt/boot/a.sh',
          '[Install]',
          'WantedBy=multi-user.target',
        ),
        '/etc/systemd/system/multi-user.target.wants/first-boot.service': { link: '../first-boot.service' },
        '/opt/boot/a.sh': exe(lines('#!/bin/sh', '/opt/boot/b.sh', 'apt-get install -y a')),
        '/opt/boot/b.sh': exe(lines('#!/bin/sh', 'sh /opt/boot/a.sh', 'apt-get install -y b')),
      },
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence[0]?.path])).toEqual([
      ['systemd first-boot.service ExecStart at boot: apt-get install (line 3).', '/opt/boot/a.sh'],
      [
        'systemd first-boot.service ExecStart → /opt/boot/a.sh at boot: apt-get install (line 3).',
        '/opt/boot/b.sh',
      ],
    ]);
  });

  it('does not read a large program that ExecStart runs (no oversized-file problem either)', () => {
    const root = makeTree({
      '/etc/systemd/system/app.service': lines(
        '[Service]',
        'ExecStart=/opt/app/bin/server --port 8080',
        '[Install]',
        'WantedBy=multi-user.target',
      ),
      '/etc/systemd/system/multi-user.target.wants/app.service': { link: '../app.service' },
      '/opt/app/bin/server': exe(`\u007fELF\u0002\u0001\u0001${'\u0000'.repeat(2 * 1024 * 1024)}`),
    });
    const fs = openDirRootFs(root);
    const rule = RULES.get(RULE);
    if (rule === undefined) throw new Error('rule missing');
    expect(runRules(buildManifest(fs), fs, [rule]).findings).toEqual([]);
    expect(fs.problems).toEqual([]);
  });

  it('leaves Debian’s apt-daily.service to the apt rules', () => {
    const tree = {
      '/usr/lib/systemd/system/apt-daily.service': APT_DAILY_SERVICE,
      '/usr/lib/systemd/system/apt-daily.timer': lines(
        '[Timer]',
        'OnCalendar=*-*-* 6,18:00',
        'RandomizedDelaySec=12h',
        'Persistent=true',
        '',
        '[Install]',
        'WantedBy=timers.target',
      ),
      '/etc/systemd/system/timers.target.wants/apt-daily.timer': {
        link: '/usr/lib/systemd/system/apt-daily.timer',
      },
      '/usr/lib/apt/apt.systemd.daily': exe(
        lines('#!/bin/sh', 'apt-get update', 'apt-get -y dist-upgrade', 'unattended-upgrade -d'),
      ),
    };
    expect(auditTree(tree, RULE)).toEqual([]);
    expect(auditTree(tree, 'boot-network-fetch')).toEqual([]);
  });
});

describe('boot-script-package-install: cloud-init', () => {
  it('finds runcmd and bootcmd entries (string and list forms) in the configuration, each at its own line', () => {
    const findings = auditTree(
      cloud({
        '/etc/cloud/cloud.cfg.d/50-bootstrap.cfg': lines(
          'bootcmd:',
          '  - echo starting > /dev/console',
          '  - yum -y install htop',
          'runcmd:',
          '  - apt-get install -y nginx',
          '  - [ pip, install, flask ]',
          '  - [ systemctl, restart, nginx ]',
        ),
      }),
      RULE,
    );
    expect(findings).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'A boot script installs or upgrades packages',
        message:
          'cloud-init bootcmd, cloud-init runcmd at boot: yum install (line 3); apt-get install (line 5); pip install (line 6).',
        evidence: [
          { path: '/etc/cloud/cloud.cfg.d/50-bootstrap.cfg', line: 3, text: 'yum -y install htop' },
          { path: '/etc/cloud/cloud.cfg.d/50-bootstrap.cfg', line: 5, text: 'apt-get install -y nginx' },
          { path: '/etc/cloud/cloud.cfg.d/50-bootstrap.cfg', line: 6, text: 'pip install flask' },
        ],
        remediation: { summary: SUMMARY, steps: [] },
      },
    ]);
  });

  it('finds runcmd in a flow list and in a sequence at the key’s indentation', () => {
    const flow = auditTree(
      cloud({
        '/etc/cloud/cloud.cfg.d/50-x.cfg': 'locale: C\nruncmd: [ "apt-get install -y jq", [ls, /] ]\n',
      }),
      RULE,
    );
    expect(flow.map((f) => f.evidence)).toEqual([
      [{ path: '/etc/cloud/cloud.cfg.d/50-x.cfg', line: 2, text: 'apt-get install -y jq' }],
    ]);
    const flush = auditTree(
      cloud({
        '/etc/cloud/cloud.cfg.d/50-x.cfg':
          'runcmd:\n- echo hi\n# install\n- apt-get install -y jq\nlocale: C\n',
      }),
      RULE,
    );
    expect(flush.map((f) => f.evidence)).toEqual([
      [{ path: '/etc/cloud/cloud.cfg.d/50-x.cfg', line: 4, text: 'apt-get install -y jq' }],
    ]);
  });

  it('finds runcmd in baked user-data, and cites each line of a `- |` block', () => {
    const findings = auditTree(
      cloud({
        [SEED]: lines(
          '#cloud-config',
          'hostname: web-01',
          'runcmd:',
          '  - |',
          '    set -e',
          '    apt-get update',
          '    apt-get install -y nginx',
          '  - [ npm, install, -g, pm2 ]',
        ),
      }),
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message: 'cloud-init runcmd at boot: apt-get install (line 7); npm install (line 8).',
        evidence: [
          { path: SEED, line: 7, text: 'apt-get install -y nginx' },
          { path: SEED, line: 8, text: 'npm install -g pm2' },
        ],
        remediation: {
          summary: SUMMARY,
          steps: [{ action: 'remove-line', path: SEED, line: 7, text: 'apt-get install -y nginx' }],
        },
      }),
    ]);
  });

  it('does not find runcmd when scripts-user is not in any stage (runcmd only writes the script), but still bootcmd', () => {
    const cfg = DEBIAN_CFG.replace(' - scripts-user\n', '');
    const findings = auditTree(
      cloud({
        '/etc/cloud/cloud.cfg': cfg,
        '/etc/cloud/cloud.cfg.d/50-x.cfg':
          'bootcmd:\n  - dnf -y install tmux\nruncmd:\n  - apt-get install -y nginx\n',
      }),
      RULE,
    );
    expect(findings.map((f) => f.message)).toEqual(['cloud-init bootcmd at boot: dnf install (line 2).']);
  });

  it('finds `packages:` of cloud-config', () => {
    const findings = auditTree(
      cloud({ [SEED]: '#cloud-config\npackages:\n  - nginx\n  - [libpython3, "3.11"]\n' }),
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message: 'cloud-init packages at boot: cloud-init install (line 2).',
        evidence: [{ path: SEED, line: 2, text: 'packages: ["nginx",["libpython3","3.11"]]' }],
      }),
    ]);
  });

  it('cites one file for all hits of user-data reached through the /var/lib/cloud/instance link', () => {
    const real = '/var/lib/cloud/instances/i-0abc123/user-data.txt';
    const findings = auditTree(
      cloud({
        '/var/lib/cloud/instance': { link: '/var/lib/cloud/instances/i-0abc123' },
        [real]: '#cloud-config\npackages: [nginx]\nruncmd:\n  - apt-get install -y jq\n',
      }),
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [
        { path: real, line: 2, text: 'packages: ["nginx"]' },
        { path: real, line: 4, text: 'apt-get install -y jq' },
      ],
    ]);
  });

  it('finds a shell-script user-data at its lines, with removal steps', () => {
    const findings = auditTree(
      cloud({
        [SEED]: lines(
          '#!/bin/bash',
          'set -e',
          'apt-get update',
          'apt-get install -y nginx',
          'systemctl enable --now nginx',
        ),
      }),
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message: 'cloud-init user-data shell at boot: apt-get install (line 4).',
        evidence: [{ path: SEED, line: 4, text: 'apt-get install -y nginx' }],
        remediation: {
          summary: SUMMARY,
          steps: [{ action: 'remove-line', path: SEED, line: 4, text: 'apt-get install -y nginx' }],
        },
      }),
    ]);
  });

  it('does not scan a user-data script in another language, nor one scripts-user would not run', () => {
    expect(
      auditTree(
        cloud({
          [SEED]: lines(
            '#!/usr/bin/env python3',
            'import subprocess',
            'subprocess.run("apt-get install -y nginx", shell=True)',
          ),
        }),
        RULE,
      ),
    ).toEqual([]);
    expect(
      auditTree(
        cloud({
          '/etc/cloud/cloud.cfg': DEBIAN_CFG.replace(' - scripts-user\n', ''),
          [SEED]: '#!/bin/sh\napt-get install -y nginx\n',
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds a boothook part', () => {
    const findings = auditTree(
      cloud({ [SEED]: '#cloud-boothook\n#!/bin/sh\nyum -y install nfs-utils\n' }),
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        'cloud-init user-data boothook at boot: yum install (line 3).',
        [{ path: SEED, line: 3, text: 'yum -y install nfs-utils' }],
      ],
    ]);
  });

  it('finds an executable per-boot script, not one without the x bit, not one when scripts-per-boot does not run', () => {
    const script = '#!/bin/sh\n# refresh tooling\nnpm install -g pm2\n';
    const path = '/var/lib/cloud/scripts/per-boot/10-tools.sh';
    expect(auditTree(cloud({ [path]: exe(script) }), RULE)).toEqual([
      expect.objectContaining({
        message: 'cloud-init scripts/per-boot at boot: npm install (line 3).',
        evidence: [{ path, line: 3, text: 'npm install -g pm2' }],
        remediation: {
          summary: SUMMARY,
          steps: [{ action: 'remove-line', path, line: 3, text: 'npm install -g pm2' }],
        },
      }),
    ]);
    expect(auditTree(cloud({ [path]: { content: script, mode: 0o644 } }), RULE)).toEqual([]);
    expect(
      auditTree(
        cloud({
          '/etc/cloud/cloud.cfg': DEBIAN_CFG.replace(' - scripts-per-boot\n', ''),
          [path]: exe(script),
        }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('follows a baked script that runcmd runs', () => {
    const findings = auditTree(
      cloud({
        '/etc/cloud/cloud.cfg.d/50-x.cfg':
          'runcmd:\n  - [ /opt/bootstrap/run.sh, --role, web ]\n  - bash /opt/bootstrap/post.sh\n',
        '/opt/bootstrap/run.sh': exe('#!/bin/bash\ndnf install -y httpd\n'),
        '/opt/bootstrap/post.sh': 'pip3 install --upgrade awscli\n',
      }),
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        'cloud-init runcmd at boot: pip install (line 1).',
        [{ path: '/opt/bootstrap/post.sh', line: 1, text: 'pip3 install --upgrade awscli' }],
      ],
      [
        'cloud-init runcmd at boot: dnf install (line 2).',
        [{ path: '/opt/bootstrap/run.sh', line: 2, text: 'dnf install -y httpd' }],
      ],
    ]);
  });

  it('does not find anything when cloud-init is disabled or absent', () => {
    const data = {
      '/etc/cloud/cloud.cfg.d/50-x.cfg': 'runcmd:\n  - apt-get install -y nginx\n',
      [SEED]: '#!/bin/sh\napt-get install -y nginx\n',
    };
    expect(auditTree(cloud({ ...data, '/etc/cloud/cloud-init.disabled': '' }), RULE)).toEqual([]);
    expect(auditTree(data, RULE)).toEqual([]);
  });
});

describe('boot-script-package-install: rc.local and cron', () => {
  const RC = lines('#!/bin/sh -e', '#', '# rc.local', '', 'apt-get install -y nginx', 'exit 0');

  it('finds an executable /etc/rc.local, and not one without the x bit', () => {
    expect(auditTree({ '/etc/rc.local': exe(RC) }, RULE)).toEqual([
      expect.objectContaining({
        message: '/etc/rc.local at boot: apt-get install (line 5).',
        evidence: [{ path: '/etc/rc.local', line: 5, text: 'apt-get install -y nginx' }],
        remediation: {
          summary: SUMMARY,
          steps: [
            { action: 'remove-line', path: '/etc/rc.local', line: 5, text: 'apt-get install -y nginx' },
          ],
        },
      }),
    ]);
    expect(auditTree({ '/etc/rc.local': { content: RC, mode: 0o644 } }, RULE)).toEqual([]);
  });

  it('names each caller once in the chain of scripts rc.local runs', () => {
    const findings = auditTree(
      {
        '/etc/rc.local': exe('#!/bin/sh\n/opt/setup.sh\nexit 0\n'),
        '/opt/setup.sh': exe('#!/bin/sh\nyum -y update\n'),
      },
      RULE,
    );
    expect(findings.map((f) => f.message)).toEqual(['/etc/rc.local at boot: yum update (line 2).']);
  });

  it('cites and fixes RHEL’s /etc/rc.d/rc.local through the /etc/rc.local link', () => {
    const root = makeTree({
      '/etc/rc.local': { link: 'rc.d/rc.local' },
      '/etc/rc.d/rc.local': exe(lines('#!/bin/bash', 'touch /var/lock/subsys/local', 'dnf -y install httpd')),
    });
    const findings = auditDir(root, RULE);
    expect(findings.map((f) => [f.evidence, f.remediation.steps])).toEqual([
      [
        [{ path: '/etc/rc.d/rc.local', line: 3, text: 'dnf -y install httpd' }],
        [{ action: 'remove-line', path: '/etc/rc.d/rc.local', line: 3, text: 'dnf -y install httpd' }],
      ],
    ]);
    applyRemediations(root, remediationSteps(findings));
    expect(readFileSync(join(root, '/etc/rc.d/rc.local'), 'utf8')).toBe(
      '#!/bin/bash\ntouch /var/lock/subsys/local\n',
    );
    expect(lstatSync(join(root, '/etc/rc.local')).isSymbolicLink()).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
  });

  it('finds cron @reboot lines in /etc/cron.d (after the user field) when a cron daemon is installed', () => {
    const crontab = lines(
      'SHELL=/bin/sh',
      'PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin',
      '',
      '@reboot root apt-get install -y nginx',
      '0 4 * * * root apt-get install -y nginx',
    );
    expect(auditTree({ '/usr/sbin/cron': exe(''), '/etc/cron.d/bootstrap': crontab }, RULE)).toEqual([
      expect.objectContaining({
        message: 'cron @reboot (bootstrap) at boot: apt-get install (line 4).',
        evidence: [{ path: '/etc/cron.d/bootstrap', line: 4, text: 'apt-get install -y nginx' }],
        remediation: { summary: SUMMARY, steps: [] },
      }),
    ]);
    expect(auditTree({ '/etc/cron.d/bootstrap': crontab }, RULE)).toEqual([]);
  });

  it('reads /etc/cron.d names the way each cron does', () => {
    const tab = {
      '/etc/cron.d/app.cron': '@reboot root yum -y install httpd\n',
      '/etc/cron.d/app~': '@reboot root yum -y install httpd\n',
    };
    // Debian's cron reads run-parts names only; cronie reads any name but backups.
    expect(auditTree({ '/usr/sbin/cron': exe(''), ...tab }, RULE)).toEqual([]);
    expect(auditTree({ '/usr/sbin/crond': exe(''), ...tab }, RULE).map((f) => f.evidence[0]?.path)).toEqual([
      '/etc/cron.d/app.cron',
    ]);
  });

  it('finds @reboot in user crontabs: Debian’s /var/spool/cron/crontabs and cronie’s /var/spool/cron', () => {
    const debian = auditTree(
      { '/usr/sbin/cron': exe(''), '/var/spool/cron/crontabs/root': '@reboot apt-get install -y nginx\n' },
      RULE,
    );
    expect(debian.map((f) => [f.message, f.evidence])).toEqual([
      [
        'cron @reboot (root) at boot: apt-get install (line 1).',
        [{ path: '/var/spool/cron/crontabs/root', line: 1, text: 'apt-get install -y nginx' }],
      ],
    ]);
    const rhel = auditTree(
      {
        '/usr/sbin/crond': exe(''),
        '/var/spool/cron/ec2-user': '# m h dom mon dow command\n@reboot pip3 install --user boto3\n',
      },
      RULE,
    );
    expect(rhel.map((f) => [f.message, f.evidence])).toEqual([
      [
        'cron @reboot (ec2-user) at boot: pip install (line 2).',
        [{ path: '/var/spool/cron/ec2-user', line: 2, text: 'pip3 install --user boto3' }],
      ],
    ]);
  });

  it('follows the script a @reboot line runs', () => {
    const findings = auditTree(
      {
        '/usr/sbin/cron': exe(''),
        '/etc/crontab': '@reboot root /opt/boot.sh >/var/log/boot.log 2>&1\n',
        '/opt/boot.sh': exe('#!/bin/sh\napk add --no-cache curl\n'),
      },
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence])).toEqual([
      [
        'cron @reboot (crontab) at boot: apk add (line 2).',
        [{ path: '/opt/boot.sh', line: 2, text: 'apk add --no-cache curl' }],
      ],
    ]);
  });
});

describe('boot-script-package-install: look-alikes', () => {
  it('does not find echoed, commented, heredoc or read-only package commands', () => {
    const script = lines(
      '#!/bin/bash',
      'echo "apt-get install x"',
      '# apt-get install -y nginx',
      "cat > /etc/motd <<'EOF'",
      'Run: apt-get install -y nginx',
      'pip install -r requirements.txt',
      'EOF',
      'apt-get update',
      'apt-cache policy nginx',
      'dpkg -l nginx',
      'rpm -qa',
      'yum list installed',
      'pip --version',
      'printf "%s\\n" "dnf -y upgrade"',
      'exit 0',
    );
    expect(auditTree({ '/etc/rc.local': exe(script) }, RULE)).toEqual([]);
  });
});

describe('boot-script-package-install: remediation', () => {
  it('makes the rule quiet once its steps are applied, and leaves valid shell behind', () => {
    const rc = lines(
      '#!/bin/bash',
      'set -e',
      'if [ ! -f /var/lib/bootstrap.done ]; then',
      '  apt-get install -y nginx',
      '  touch /var/lib/bootstrap.done',
      'fi',
      'apt-get install -y jq',
      'exit 0',
    );
    const root = makeTree({
      '/etc/rc.local': exe(rc),
      ...cloud({ [SEED]: lines('#!/bin/sh', 'yum -y install httpd', 'systemctl start httpd') }),
      '/var/lib/cloud/scripts/per-boot/tools.sh': exe('#!/bin/sh\nnpm install -g pm2\n'),
    });
    const findings = auditDir(root, RULE);
    expect(
      findings.flatMap((f) => f.remediation.steps).map((s) => ('line' in s ? `${s.path}:${s.line}` : '')),
    ).toEqual([
      '/etc/rc.local:7',
      '/etc/rc.local:4',
      '/var/lib/cloud/scripts/per-boot/tools.sh:2',
      `${SEED}:2`,
    ]);
    const applied = applyRemediations(root, remediationSteps(findings));
    expect(applied.every((a) => a.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
    expect(readFileSync(join(root, '/etc/rc.local'), 'utf8')).toBe(
      lines(
        '#!/bin/bash',
        'set -e',
        'if [ ! -f /var/lib/bootstrap.done ]; then',
        '  touch /var/lib/bootstrap.done',
        'fi',
        'exit 0',
      ),
    );
    execFileSync('bash', ['-n', join(root, '/etc/rc.local')]);
  });

  it('offers no removal that would leave an empty body or join two commands', () => {
    const rc = lines(
      '#!/bin/bash',
      'if ! command -v nginx >/dev/null; then',
      '  apt-get install -y nginx',
      'fi',
      'for pkg in jq curl; do',
      '  # one at a time',
      '  apt-get install -y "$pkg"',
      'done',
      'install_tools() {',
      '  pip install awscli',
      '}',
      'systemctl daemon-reload && \\',
      '  yum -y install htop',
      'install_tools',
    );
    const root = makeTree({ '/etc/rc.local': exe(rc) });
    const findings = auditDir(root, RULE);
    expect(findings.map((f) => f.evidence.map((e) => e.line))).toEqual([[3, 7, 10, 13]]);
    expect(findings[0]?.remediation.steps).toEqual([]);
  });
});
