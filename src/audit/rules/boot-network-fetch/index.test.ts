import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRemediations, remediationSteps } from '../../remediate.js';
import { auditDir, auditTree } from '../../../test-support/audit.js';
import { ENABLED, exe, lines, SCRIPT, service } from '../../../test-support/boot-trees.js';
import { makeTree } from '../../../test-support/tree.js';

const RULE = 'boot-network-fetch';
const PIPE_SUMMARY =
  'Bake what the script downloads into the image with a checksum; never pipe a download into a shell at boot.';
const FETCH_SUMMARY =
  'Bake what the script downloads into the image (with a checksum) instead of fetching it at boot.';
const CLOUD = {
  '/etc/cloud/cloud.cfg': lines(
    'cloud_init_modules:',
    ' - bootcmd',
    'cloud_config_modules:',
    ' - runcmd',
    'cloud_final_modules:',
    ' - package-update-upgrade-install',
    ' - scripts-per-boot',
    ' - scripts-user',
  ),
  '/usr/bin/cloud-init': exe('#!/usr/bin/python3\n'),
};
const SEED = '/var/lib/cloud/seed/nocloud/user-data';
/** Runs a shell script as /etc/rc.local and returns this rule's findings. */
const rcLocal = (...text: string[]) => auditTree({ '/etc/rc.local': exe(lines('#!/bin/sh', ...text)) }, RULE);

describe('boot-network-fetch: where boot scripts are found', () => {
  it('finds `curl | sh` in the script an enabled service runs, at its line, with a removal step', () => {
    expect(auditTree(service(ENABLED), RULE)).toEqual([
      {
        rule: RULE,
        severity: 'medium',
        title: 'A boot script fetches code or data from the network',
        message:
          'systemd bootstrap.service ExecStart at boot: curl pipe-to-shell https://get.example.com (line 5).',
        evidence: [
          { path: '/usr/local/bin/bootstrap.sh', line: 5, text: 'curl -fsSL https://get.example.com | sh' },
        ],
        remediation: {
          summary: PIPE_SUMMARY,
          steps: [
            {
              action: 'remove-line',
              path: '/usr/local/bin/bootstrap.sh',
              line: 5,
              text: 'curl -fsSL https://get.example.com | sh',
            },
          ],
        },
      },
    ]);
  });

  it('does not find the script of a service that is not enabled, or is masked', () => {
    expect(auditTree(service(), RULE)).toEqual([]);
    expect(
      auditTree(
        service({ ...ENABLED, '/etc/systemd/system/bootstrap.service': { link: '/dev/null' } }),
        RULE,
      ),
    ).toEqual([]);
  });

  it('finds a fetch in ExecStartPre itself, without a step (a unit line is not the command alone)', () => {
    const findings = auditTree(
      {
        '/etc/systemd/system/agent.service': lines(
          '[Service]',
          'ExecStartPre=/usr/bin/wget -q -O /opt/agent/agent.tar.gz https://downloads.example.com/agent/latest.tar.gz',
          'ExecStart=/opt/agent/bin/agent',
          '[Install]',
          'WantedBy=multi-user.target',
        ),
        '/etc/systemd/system/multi-user.target.wants/agent.service': { link: '../agent.service' },
      },
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message:
          'systemd agent.service ExecStartPre at boot: wget download https://downloads.example.com/agent/latest.tar.gz (line 2).',
        evidence: [
          {
            path: '/etc/systemd/system/agent.service',
            line: 2,
            text: '/usr/bin/wget -q -O /opt/agent/agent.tar.gz https://downloads.example.com/agent/latest.tar.gz',
          },
        ],
        remediation: { summary: FETCH_SUMMARY, steps: [] },
      }),
    ]);
  });

  it('finds fetches in cloud-init runcmd (string and list forms), at each entry’s line', () => {
    const findings = auditTree(
      {
        ...CLOUD,
        '/etc/cloud/cloud.cfg.d/50-bootstrap.cfg': lines(
          'runcmd:',
          '  - curl -fsSL https://get.docker.com -o /tmp/get-docker.sh',
          '  - [ sh, -c, "wget -qO- https://install.example.com/agent.sh | bash" ]',
          '  - [ git, clone, "https://github.com/example/app.git", /opt/app ]',
        ),
      },
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message:
          'cloud-init runcmd at boot: curl download https://get.docker.com (line 2); wget pipe-to-shell https://install.example.com/agent.sh (line 3); git clone https://github.com/example/app.git (line 4).',
        evidence: [
          {
            path: '/etc/cloud/cloud.cfg.d/50-bootstrap.cfg',
            line: 2,
            text: 'curl -fsSL https://get.docker.com -o /tmp/get-docker.sh',
          },
          {
            path: '/etc/cloud/cloud.cfg.d/50-bootstrap.cfg',
            line: 3,
            text: 'wget -qO- https://install.example.com/agent.sh | bash',
          },
          {
            path: '/etc/cloud/cloud.cfg.d/50-bootstrap.cfg',
            line: 4,
            text: 'git clone https://github.com/example/app.git /opt/app',
          },
        ],
        remediation: { summary: PIPE_SUMMARY, steps: [] },
      }),
    ]);
  });

  it('finds bootcmd and runcmd in baked user-data', () => {
    const findings = auditTree(
      {
        ...CLOUD,
        [SEED]: lines(
          '#cloud-config',
          'bootcmd:',
          '  - [ cloud-init-per, once, fetch, curl, -fsSLo, /etc/motd, "https://motd.example.com" ]',
          'runcmd:',
          '  - aws s3 cp s3://acme-config/web/app.env /etc/app.env',
        ),
      },
      RULE,
    );
    expect(findings.map((f) => f.evidence)).toEqual([
      [
        {
          path: SEED,
          line: 3,
          text: 'cloud-init-per once fetch curl -fsSLo /etc/motd https://motd.example.com',
        },
        { path: SEED, line: 5, text: 'aws s3 cp s3://acme-config/web/app.env /etc/app.env' },
      ],
    ]);
  });

  it('finds an #include user-data at the URL’s line', () => {
    const findings = auditTree(
      { ...CLOUD, [SEED]: lines('#include', 'https://config.example.com/web/user-data.yaml', '# comment') },
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message:
          'cloud-init user-data include at boot: cloud-init include https://config.example.com/web/user-data.yaml (line 2).',
        evidence: [{ path: SEED, line: 2, text: '#include https://config.example.com/web/user-data.yaml' }],
        remediation: { summary: FETCH_SUMMARY, steps: [] },
      }),
    ]);
  });

  it('finds a user-data shell script and a per-boot script', () => {
    const findings = auditTree(
      {
        ...CLOUD,
        [SEED]: lines('#!/bin/bash', 'set -e', 'apt-get update'),
        '/var/lib/cloud/scripts/per-boot/pull-config.sh': exe(
          lines('#!/bin/sh', 'rsync -a deploy@config.example.com:/srv/web/ /etc/web/'),
        ),
      },
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence[0]])).toEqual([
      [
        'cloud-init scripts/per-boot at boot: rsync download deploy@config.example.com:/srv/web/ (line 2).',
        {
          path: '/var/lib/cloud/scripts/per-boot/pull-config.sh',
          line: 2,
          text: 'rsync -a deploy@config.example.com:/srv/web/ /etc/web/',
        },
      ],
      [
        'cloud-init user-data shell at boot: apt-get update (line 3).',
        { path: SEED, line: 3, text: 'apt-get update' },
      ],
    ]);
  });

  it('finds cron @reboot fetches only when a cron daemon is installed', () => {
    const tab = {
      '/etc/cron.d/refresh':
        '@reboot root curl -fsS -o /etc/app/config.json https://config.example.com/app.json\n',
    };
    expect(auditTree({ '/usr/sbin/cron': exe(''), ...tab }, RULE).map((f) => f.evidence)).toEqual([
      [
        {
          path: '/etc/cron.d/refresh',
          line: 1,
          text: 'curl -fsS -o /etc/app/config.json https://config.example.com/app.json',
        },
      ],
    ]);
    expect(auditTree(tab, RULE)).toEqual([]);
  });

  it('finds an executable rc.local, and not one without the x bit', () => {
    const rc = lines('#!/bin/sh -e', 'wget -O /usr/local/bin/tool https://tools.example.com/tool', 'exit 0');
    expect(auditTree({ '/etc/rc.local': exe(rc) }, RULE).map((f) => f.message)).toEqual([
      '/etc/rc.local at boot: wget download https://tools.example.com/tool (line 2).',
    ]);
    expect(auditTree({ '/etc/rc.local': { content: rc, mode: 0o644 } }, RULE)).toEqual([]);
  });
});

describe('boot-network-fetch: what counts as a fetch', () => {
  it('treats downloaded code run by a shell as pipe-to-shell', () => {
    const findings = rcLocal(
      'curl -fsSL https://get.example.com/a.sh | sudo bash -s -- --yes',
      'bash <(curl -fsSL https://get.example.com/b.sh)',
      'sh -c "$(wget -qO- https://get.example.com/c.sh)"',
    );
    expect(findings.map((f) => [f.message, f.remediation.summary])).toEqual([
      [
        '/etc/rc.local at boot: curl pipe-to-shell https://get.example.com/a.sh (line 2); curl pipe-to-shell https://get.example.com/b.sh (line 3); wget pipe-to-shell https://get.example.com/c.sh (line 4).',
        PIPE_SUMMARY,
      ],
    ]);
  });

  it('counts `apt-get update` alone as a fetch (lists from the network), and not `apt-get install` as one', () => {
    expect(rcLocal('apt-get update').map((f) => f.message)).toEqual([
      '/etc/rc.local at boot: apt-get update (line 2).',
    ]);
    expect(rcLocal('apt-get install -y nginx')).toEqual([]);
  });

  it('does not find the instance metadata service, loopback, or commands that fetch nothing', () => {
    expect(
      rcLocal(
        'TOKEN=$(curl -sX PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")',
        'curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id',
        'curl -fsS http://localhost:8080/healthz',
        'wget -q -O- http://127.0.0.1:9100/metrics',
        'curl --version',
        'echo "curl https://get.example.com | sh"',
        '# curl https://get.example.com | sh',
        "cat > /etc/motd <<'EOF'",
        'curl https://get.example.com | sh',
        'EOF',
        'git status',
        'exit 0',
      ),
    ).toEqual([]);
  });

  it('leaves Debian’s apt-daily.service (apt-get update at boot) to the apt rules', () => {
    expect(
      auditTree(
        {
          '/usr/lib/systemd/system/apt-daily.service': lines(
            '[Service]',
            'Type=oneshot',
            'ExecStartPre=-/usr/lib/apt/apt-helper wait-online',
            'ExecStart=/usr/lib/apt/apt.systemd.daily update',
          ),
          '/usr/lib/systemd/system/apt-daily.timer': lines(
            '[Timer]',
            'OnCalendar=*-*-* 6,18:00',
            'Persistent=true',
            '[Install]',
            'WantedBy=timers.target',
          ),
          '/etc/systemd/system/timers.target.wants/apt-daily.timer': {
            link: '/usr/lib/systemd/system/apt-daily.timer',
          },
          '/usr/lib/apt/apt.systemd.daily': exe(lines('#!/bin/sh', 'apt-get update')),
        },
        RULE,
      ),
    ).toEqual([]);
  });
});

describe('boot-network-fetch: remediation', () => {
  it('makes the rule quiet once its steps are applied, keeping the rest of the script', () => {
    const root = makeTree(service(ENABLED));
    const findings = auditDir(root, RULE);
    const applied = applyRemediations(root, remediationSteps(findings));
    expect(applied.every((a) => a.applied)).toBe(true);
    expect(auditDir(root, RULE)).toEqual([]);
    expect(readFileSync(join(root, '/usr/local/bin/bootstrap.sh'), 'utf8')).toBe(
      SCRIPT.replace('curl -fsSL https://get.example.com | sh\n', ''),
    );
  });

  it('offers no step for a fetch on a continued line', () => {
    const findings = rcLocal(
      'mkdir -p /opt/app && \\',
      '  curl -fsSLo /opt/app/app.tgz https://releases.example.com/app.tgz',
      'exit 0',
    );
    expect(findings.map((f) => [f.evidence, f.remediation.steps])).toEqual([
      [
        [
          {
            path: '/etc/rc.local',
            line: 3,
            text: 'curl -fsSLo /opt/app/app.tgz https://releases.example.com/app.tgz',
          },
        ],
        [],
      ],
    ]);
  });
});
