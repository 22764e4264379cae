import { describe, expect, it } from 'vitest';
import { auditTree } from '../../../test-support/audit.js';
import type { TreeEntry } from '../../../test-support/tree.js';

const RULE = 'container-mutable-tag';
const SUMMARY =
  'Refer to each image by digest (name@sha256:…), and pull it when the image is baked, not at boot.';
const QUADLET_SUMMARY = 'Pin Image= to a digest (image@sha256:…) and pull it into the image at bake time.';
const DIGEST = `sha256:${'3f9c2a1b'.repeat(8)}`;
const lines = (...text: string[]) => `${text.join('\n')}\n`;
const exe = (content: string) => ({ content, mode: 0o755 });

/** An enabled web.service whose [Service] has these lines (from line 7 on). */
function webService(...service: string[]): Record<string, TreeEntry> {
  return {
    '/etc/systemd/system/web.service': lines(
      '[Unit]',
      'Description=Web container',
      'After=docker.service',
      'Requires=docker.service',
      '',
      '[Service]',
      ...service,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
    ),
    '/etc/systemd/system/multi-user.target.wants/web.service': { link: '/etc/systemd/system/web.service' },
  };
}
/** Runs a shell script as /etc/rc.local and returns this rule's findings. */
const rcLocal = (...text: string[]) => auditTree({ '/etc/rc.local': exe(lines('#!/bin/sh', ...text)) }, RULE);

describe('container-mutable-tag: boot scripts', () => {
  it('finds `docker run` of a versioned tag in a boot script, saying the tag has no digest', () => {
    const findings = auditTree(
      {
        '/etc/systemd/system/bootstrap.service': lines(
          '[Service]',
          'Type=oneshot',
          'ExecStart=/usr/local/bin/bootstrap.sh',
          '[Install]',
          'WantedBy=multi-user.target',
        ),
        '/etc/systemd/system/multi-user.target.wants/bootstrap.service': { link: '../bootstrap.service' },
        '/usr/local/bin/bootstrap.sh': exe(
          lines(
            '#!/bin/bash',
            'set -e',
            'docker network create web || true',
            'docker run -d --name web -p 80:80 registry.local:5000/web:1.4',
          ),
        ),
      },
      RULE,
    );
    expect(findings).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'A container image is pulled at boot by a tag that can move',
        message:
          'systemd bootstrap.service ExecStart at boot: docker run registry.local:5000/web:1.4 (registry.local:5000/web:1.4: no digest (tag :1.4), line 4).',
        evidence: [
          {
            path: '/usr/local/bin/bootstrap.sh',
            line: 4,
            text: 'docker run -d --name web -p 80:80 registry.local:5000/web:1.4',
          },
        ],
        remediation: { summary: SUMMARY, steps: [] },
      },
    ]);
  });

  it('finds :latest and a name without a tag', () => {
    expect(
      rcLocal('docker run -d --restart=always nginx:latest', 'docker run -d -p 8080:80 nginx').map(
        (f) => f.message,
      ),
    ).toEqual([
      '/etc/rc.local at boot: docker run nginx:latest (nginx:latest: no digest (tag :latest), line 2); docker run nginx (nginx: no tag (implies :latest), line 3).',
    ]);
  });

  it('does not find an image pinned by digest (with or without a tag), nor commands that pull nothing', () => {
    expect(
      rcLocal(
        `docker run -d --name web nginx@${DIGEST}`,
        `docker pull registry.local:5000/web:1.4@${DIGEST}`,
        'docker ps -a',
        'docker images',
        'docker logs web',
        'docker stop web',
        'echo "docker run nginx:latest"',
        '# docker pull nginx',
      ),
    ).toEqual([]);
  });

  it('finds a malformed digest', () => {
    expect(rcLocal('docker pull nginx@sha256:1234').map((f) => f.message)).toEqual([
      '/etc/rc.local at boot: docker pull nginx@sha256:1234 (nginx@sha256:1234: malformed digest (sha256:1234), line 2).',
    ]);
  });

  it('finds ExecStartPre pull and ExecStart run of a unit together, each at its line, without steps', () => {
    const findings = auditTree(
      webService(
        'TimeoutStartSec=0',
        'ExecStartPre=-/usr/bin/docker rm -f web',
        'ExecStartPre=/usr/bin/docker pull ghcr.io/acme/api:stable',
        'ExecStart=/usr/bin/docker run --rm --name web -p 80:8080 ghcr.io/acme/api:stable',
        'ExecStop=/usr/bin/docker stop web',
      ),
      RULE,
    );
    expect(findings).toEqual([
      expect.objectContaining({
        message:
          'systemd web.service ExecStartPre, systemd web.service ExecStart at boot: docker pull ghcr.io/acme/api:stable (ghcr.io/acme/api:stable: no digest (tag :stable), line 9); docker run ghcr.io/acme/api:stable (ghcr.io/acme/api:stable: no digest (tag :stable), line 10).',
        evidence: [
          {
            path: '/etc/systemd/system/web.service',
            line: 9,
            text: '/usr/bin/docker pull ghcr.io/acme/api:stable',
          },
          {
            path: '/etc/systemd/system/web.service',
            line: 10,
            text: '/usr/bin/docker run --rm --name web -p 80:8080 ghcr.io/acme/api:stable',
          },
        ],
        remediation: { summary: SUMMARY, steps: [] },
      }),
    ]);
  });

  it('finds an image built from a variable as not static', () => {
    const findings = auditTree(
      webService('Environment=TAG=1.4', 'ExecStart=/usr/bin/docker run --rm registry.local/web:${TAG}'),
      RULE,
    );
    expect(findings.map((f) => f.message)).toEqual([
      'systemd web.service ExecStart at boot: docker run registry.local/web:${TAG} (registry.local/web:${TAG}: reference not static, no digest, line 8).',
    ]);
  });

  it('does not find the unit when it is not enabled', () => {
    const tree = webService('ExecStart=/usr/bin/docker run --rm nginx:1.25');
    delete (tree as Record<string, unknown>)['/etc/systemd/system/multi-user.target.wants/web.service'];
    expect(auditTree(tree, RULE)).toEqual([]);
  });

  it('finds podman and ctr too, in user-data and in a unit', () => {
    const findings = auditTree(
      {
        '/etc/cloud/cloud.cfg': 'cloud_final_modules:\n - scripts-user\n',
        '/usr/bin/cloud-init': exe('#!/usr/bin/python3\n'),
        '/var/lib/cloud/seed/nocloud/user-data': lines(
          '#!/bin/bash',
          'podman run -d --name cache docker.io/library/redis:7',
        ),
        ...webService('ExecStart=/usr/bin/ctr --namespace k8s.io image pull docker.io/library/busybox:1.36'),
      },
      RULE,
    );
    expect(findings.map((f) => [f.message, f.evidence[0]?.line])).toEqual([
      [
        'systemd web.service ExecStart at boot: ctr pull docker.io/library/busybox:1.36 (docker.io/library/busybox:1.36: no digest (tag :1.36), line 7).',
        7,
      ],
      [
        'cloud-init user-data shell at boot: podman run docker.io/library/redis:7 (docker.io/library/redis:7: no digest (tag :7), line 2).',
        2,
      ],
    ]);
  });
});

describe('container-mutable-tag: podman quadlets', () => {
  const QUADLET = lines(
    '[Unit]',
    'Description=Web server',
    '',
    '[Container]',
    'Image=docker.io/library/nginx:1.25',
    'PublishPort=80:80',
    '',
    '[Install]',
    'WantedBy=multi-user.target default.target',
  );

  it('finds Image= without a digest in a quadlet started at boot', () => {
    expect(auditTree({ '/etc/containers/systemd/web.container': QUADLET }, RULE)).toEqual([
      {
        rule: RULE,
        severity: 'high',
        title: 'A container image is pulled at boot by a tag that can move',
        message:
          'quadlet web.container runs docker.io/library/nginx:1.25: no digest (tag :1.25); podman pulls it when the service starts.',
        evidence: [
          {
            path: '/etc/containers/systemd/web.container',
            line: 5,
            text: 'Image=docker.io/library/nginx:1.25',
          },
        ],
        remediation: { summary: QUADLET_SUMMARY, steps: [] },
      },
    ]);
  });

  it('finds a quadlet in /usr/share/containers/systemd', () => {
    expect(
      auditTree({ '/usr/share/containers/systemd/web.container': QUADLET }, RULE).map(
        (f) => f.evidence[0]?.path,
      ),
    ).toEqual(['/usr/share/containers/systemd/web.container']);
  });

  it('does not find a quadlet pinned by digest', () => {
    expect(
      auditTree({ '/etc/containers/systemd/web.container': QUADLET.replace(':1.25', `@${DIGEST}`) }, RULE),
    ).toEqual([]);
  });

  it('does not find a quadlet without [Install] (nothing starts it at boot)', () => {
    expect(
      auditTree({ '/etc/containers/systemd/web.container': QUADLET.replace(/\[Install\][^]*$/, '') }, RULE),
    ).toEqual([]);
  });

  it('does not find a quadlet whose service is masked', () => {
    expect(
      auditTree(
        {
          '/etc/containers/systemd/web.container': QUADLET,
          '/etc/systemd/system/web.service': { link: '/dev/null' },
        },
        RULE,
      ),
    ).toEqual([]);
    expect(
      auditTree(
        {
          '/etc/containers/systemd/web.container': QUADLET.replace(
            '[Container]\n',
            '[Container]\nServiceName=nginx-web\n',
          ),
          '/etc/systemd/system/nginx-web.service': { link: '/dev/null' },
        },
        RULE,
      ),
    ).toEqual([]);
  });

  it('judges the last Image= only, and ignores comments', () => {
    const text = QUADLET.replace(
      'Image=docker.io/library/nginx:1.25\n',
      `#Image=nginx:latest\nImage=nginx:1.24\nImage=docker.io/library/nginx@${DIGEST}\n`,
    );
    expect(auditTree({ '/etc/containers/systemd/web.container': text }, RULE)).toEqual([]);
  });

  it('lets /etc/containers/systemd hide the same name in /usr/share/containers/systemd', () => {
    expect(
      auditTree(
        {
          '/usr/share/containers/systemd/web.container': QUADLET,
          '/etc/containers/systemd/web.container': QUADLET.replace(':1.25', `@${DIGEST}`),
        },
        RULE,
      ),
    ).toEqual([]);
  });

  it('follows Image= naming a .image quadlet to the image it pulls', () => {
    const container = QUADLET.replace('Image=docker.io/library/nginx:1.25', 'Image=nginx.image');
    const image = (ref: string) => lines('[Image]', `Image=${ref}`);
    expect(
      auditTree(
        {
          '/etc/containers/systemd/web.container': container,
          '/etc/containers/systemd/nginx.image': image(`docker.io/library/nginx@${DIGEST}`),
        },
        RULE,
      ),
    ).toEqual([]);
    expect(
      auditTree(
        {
          '/etc/containers/systemd/web.container': container,
          '/etc/containers/systemd/nginx.image': image('docker.io/library/nginx:mainline'),
        },
        RULE,
      ),
    ).toEqual([
      expect.objectContaining({
        message:
          'quadlet web.container runs docker.io/library/nginx:mainline: no digest (tag :mainline); podman pulls it when the service starts.',
        evidence: [
          { path: '/etc/containers/systemd/web.container', line: 5, text: 'Image=nginx.image' },
          {
            path: '/etc/containers/systemd/nginx.image',
            line: 2,
            text: 'Image=docker.io/library/nginx:mainline',
          },
        ],
      }),
    ]);
  });

  it('does not read other quadlet kinds or backups', () => {
    expect(
      auditTree(
        {
          '/etc/containers/systemd/web.container.bak': QUADLET,
          '/etc/containers/systemd/web.volume': lines('[Volume]', 'Label=app=web'),
        },
        RULE,
      ),
    ).toEqual([]);
  });
});
