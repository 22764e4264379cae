import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import { collectCloudInit } from './index.js';

const DEBIAN_CFG = readFileSync(new URL('./__fixtures__/debian12-cloud.cfg', import.meta.url), 'utf8');
const CFG = '/etc/cloud/cloud.cfg';

describe('collectCloudInit: configuration files', () => {
  it('reads Debian 12 stock cloud.cfg: settings with lines, modules per stage', () => {
    const section = collectCloudInit(
      treeFs({ [CFG]: DEBIAN_CFG, '/usr/bin/cloud-init': '#!/usr/bin/python3\n' }),
    );
    expect(section.present).toBe(true);
    expect(section.presence).toEqual([{ path: CFG }, { path: '/usr/bin/cloud-init' }]);
    expect(section.disabled).toBeNull();
    expect(section.files).toEqual([CFG]);
    expect(section.problems).toEqual([]);
    expect(section.settings.map((s) => [s.key, s.source])).toEqual([
      ['apt.preserve_sources_list', { path: CFG, line: 19 }],
      ['cloud_init_modules', { path: CFG, line: 31 }],
      ['cloud_config_modules', { path: CFG, line: 49 }],
      ['cloud_final_modules', { path: CFG, line: 65 }],
    ]);
    expect(section.settings[0]!.value).toBe(true);
    expect(section.modules.init).toHaveLength(15);
    expect(section.modules.config).toHaveLength(13);
    expect(section.modules.final).toHaveLength(23);
    expect(section.enabled.package_update_upgrade_install).toEqual({
      name: 'package_update_upgrade_install',
      raw: 'package-update-upgrade-install',
      stage: 'final',
      frequency: null,
      source: { path: CFG, line: 66 },
    });
    expect(section.enabled.runcmd).toEqual({
      name: 'runcmd',
      raw: 'runcmd',
      stage: 'config',
      frequency: null,
      source: { path: CFG, line: 61 },
    });
    expect(section.enabled.scripts_user?.source).toEqual({ path: CFG, line: 82 });
    expect(section.enabled.bootcmd?.stage).toBe('init');
    expect(section.enabled.apt_configure?.source).toEqual({ path: CFG, line: 57 });
    expect(section.enabled.snap?.stage).toBe('config');
    expect(section.repoUpgrade).toEqual({ value: null, source: null, amazonLinux: false, effective: null });
    expect(section.userData).toEqual([]);
  });

  it('finds package_upgrade set by a drop-in, with its line', () => {
    const dropIn = '/etc/cloud/cloud.cfg.d/99-upgrade.cfg';
    const section = collectCloudInit(
      treeFs({
        [CFG]: DEBIAN_CFG,
        [dropIn]: '# Baked by the image pipeline\n# Upgrade at first boot\npackage_upgrade: true\n',
      }),
    );
    expect(section.files).toEqual([CFG, dropIn]);
    expect(section.settings.find((s) => s.key === 'package_upgrade')).toEqual({
      key: 'package_upgrade',
      value: true,
      source: { path: dropIn, line: 3 },
    });
    expect(section.config['package_upgrade']).toBe(true);
  });

  it('lets the lexically later drop-in win, and merges dicts key by key across files', () => {
    const section = collectCloudInit(
      treeFs({
        [CFG]: DEBIAN_CFG,
        '/etc/cloud/cloud.cfg.d/10-a.cfg': 'package_upgrade: true\npackages: [curl, jq]\n',
        '/etc/cloud/cloud.cfg.d/90-b.cfg':
          'package_upgrade: false\npackages:\n  - htop\napt:\n  sources:\n    lab: {source: "deb http://mirror.example/lab stable main"}\n',
        '/etc/cloud/cloud.cfg.d/README': 'package_update: true\n',
      }),
    );
    expect(section.files).toEqual([
      CFG,
      '/etc/cloud/cloud.cfg.d/10-a.cfg',
      '/etc/cloud/cloud.cfg.d/90-b.cfg',
    ]);
    const byKey = Object.fromEntries(section.settings.map((s) => [s.key, s]));
    expect(byKey['package_upgrade']).toEqual({
      key: 'package_upgrade',
      value: false,
      source: { path: '/etc/cloud/cloud.cfg.d/90-b.cfg', line: 1 },
    });
    expect(byKey['packages']).toEqual({
      key: 'packages',
      value: ['htop'],
      source: { path: '/etc/cloud/cloud.cfg.d/90-b.cfg', line: 2 },
    });
    expect(byKey['apt.preserve_sources_list']?.source).toEqual({ path: CFG, line: 19 });
    expect(byKey['apt.sources']?.source).toEqual({ path: '/etc/cloud/cloud.cfg.d/90-b.cfg', line: 5 });
    expect(byKey['package_update']).toBeUndefined();
  });

  it('reads booleans as PyYAML does: `y` stays a string', () => {
    const section = collectCloudInit(treeFs({ [CFG]: 'package_update: yes\npackage_upgrade: y\n' }));
    expect(section.settings.map((s) => [s.key, s.value])).toEqual([
      ['package_update', true],
      ['package_upgrade', 'y'],
    ]);
  });

  it('ignores a broken YAML file entirely (as load_yaml does) and still reads the others', () => {
    const broken = '/etc/cloud/cloud.cfg.d/50-broken.cfg';
    const section = collectCloudInit(
      treeFs({
        [CFG]: DEBIAN_CFG,
        [broken]: 'package_upgrade: true\nruncmd: [echo, hi\nbootcmd: []\n',
        '/etc/cloud/cloud.cfg.d/60-ok.cfg': 'package_update: true\n',
      }),
    );
    expect(section.problems).toEqual([
      {
        path: broken,
        line: 3,
        reason: expect.stringMatching(/^not valid YAML, ignored: /) as unknown as string,
      },
    ]);
    expect(section.files).toContain(broken);
    const keys = section.settings.map((s) => s.key);
    expect(keys).toContain('package_update');
    expect(keys).not.toContain('package_upgrade');
  });

  it('honours conf_d and reports merge_how it does not implement', () => {
    const section = collectCloudInit(
      treeFs({
        [CFG]: 'conf_d: /etc/cloud/site.d\n',
        '/etc/cloud/cloud.cfg.d/99-ignored.cfg': 'package_upgrade: true\n',
        '/etc/cloud/site.d/10-site.cfg':
          'merge_how: "dict(recurse_array)+list(append)"\npackage_update: true\n',
      }),
    );
    expect(section.files).toEqual([CFG, '/etc/cloud/site.d/10-site.cfg']);
    expect(section.settings.map((s) => s.key)).toEqual(['package_update']);
    expect(section.config).toEqual({ conf_d: '/etc/cloud/site.d', package_update: true });
    expect(section.problems).toEqual([
      {
        path: '/etc/cloud/site.d/10-site.cfg',
        line: 1,
        reason: 'merge_how is not honoured here: default merge rules assumed',
      },
    ]);
  });

  it('reads module entries written as lists and dicts', () => {
    const section = collectCloudInit(
      treeFs({
        [CFG]:
          'cloud_final_modules:\n  - [scripts-user, always]\n  - {name: package_update_upgrade_install, frequency: once}\n  - 42\n',
      }),
    );
    expect(section.modules.final).toEqual([
      {
        name: 'scripts_user',
        raw: 'scripts-user',
        stage: 'final',
        frequency: 'always',
        source: { path: CFG, line: 2 },
      },
      {
        name: 'package_update_upgrade_install',
        raw: 'package_update_upgrade_install',
        stage: 'final',
        frequency: 'once',
        source: { path: CFG, line: 3 },
      },
    ]);
    expect(section.enabled.runcmd).toBeNull();
  });

  it('reports an absent cloud-init and the disabled marker', () => {
    expect(collectCloudInit(treeFs({ '/etc/hostname': 'x\n' }))).toMatchObject({
      present: false,
      presence: [],
      disabled: null,
      files: [],
      config: {},
      settings: [],
      userData: [],
      problems: [],
    });
    const disabled = collectCloudInit(treeFs({ [CFG]: DEBIAN_CFG, '/etc/cloud/cloud-init.disabled': '' }));
    expect(disabled.disabled).toEqual({ path: '/etc/cloud/cloud-init.disabled' });
  });
});

describe('collectCloudInit: repo_upgrade on Amazon Linux', () => {
  const osRelease = 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n';

  it('defaults to security when unset', () => {
    const section = collectCloudInit(treeFs({ [CFG]: 'users: [default]\n', '/etc/os-release': osRelease }));
    expect(section.repoUpgrade).toEqual({
      value: null,
      source: null,
      amazonLinux: true,
      effective: 'security',
    });
  });

  it('records where it is set', () => {
    const section = collectCloudInit(
      treeFs({ [CFG]: 'users: [default]\nrepo_upgrade: none\n', '/etc/os-release': osRelease }),
    );
    expect(section.repoUpgrade).toEqual({
      value: 'none',
      source: { path: CFG, line: 2 },
      amazonLinux: true,
      effective: 'none',
    });
  });
});

describe('collectCloudInit: baked user-data and boot scripts', () => {
  it('reads a NoCloud seed with package_update/upgrade and runcmd', () => {
    const seed = '/var/lib/cloud/seed/nocloud/user-data';
    const section = collectCloudInit(
      treeFs({
        [CFG]: DEBIAN_CFG,
        [seed]:
          '#cloud-config\npackage_update: true\npackage_upgrade: true\nruncmd:\n  - apt-get install -y nginx\n  - [systemctl, enable, --now, nginx]\n',
        '/var/lib/cloud/seed/nocloud/meta-data': 'instance-id: lab-i-0001\n',
      }),
    );
    expect(section.userData).toEqual([
      {
        path: seed,
        kind: 'user-data',
        phase: null,
        executable: null,
        gzip: false,
        parts: [
          {
            type: 'cloud-config',
            contentType: 'text/cloud-config',
            startLine: 1,
            encoded: false,
            jinja: false,
            config: {
              package_update: true,
              package_upgrade: true,
              runcmd: ['apt-get install -y nginx', ['systemctl', 'enable', '--now', 'nginx']],
            },
            settings: [
              { key: 'package_update', value: true, source: { path: seed, line: 2 } },
              { key: 'package_upgrade', value: true, source: { path: seed, line: 3 } },
              {
                key: 'runcmd',
                value: ['apt-get install -y nginx', ['systemctl', 'enable', '--now', 'nginx']],
                source: { path: seed, line: 4 },
              },
            ],
          },
        ],
      },
    ]);
  });

  it('reports an instance directory once even through the /var/lib/cloud/instance link', () => {
    const section = collectCloudInit(
      treeFs({
        [CFG]: DEBIAN_CFG,
        '/var/lib/cloud/instances/i-0abc/user-data.txt': '#!/bin/sh\necho first boot\n',
        '/var/lib/cloud/instances/i-0abc/vendor-data.txt': '',
        '/var/lib/cloud/instance': { link: '/var/lib/cloud/instances/i-0abc' },
      }),
    );
    expect(section.userData.map((u) => [u.path, u.kind, u.parts.map((p) => p.type)])).toEqual([
      ['/var/lib/cloud/instance/user-data.txt', 'user-data', ['shell']],
    ]);
  });

  it('reads per-boot/per-instance/per-once scripts with their executable bit', () => {
    const section = collectCloudInit(
      treeFs({
        '/var/lib/cloud/scripts/per-boot/10-pull.sh': {
          content: '#!/bin/sh\ndocker pull nginx:latest\n',
          mode: 0o755,
        },
        '/var/lib/cloud/scripts/per-once/notes.txt': { content: 'not a script\n', mode: 0o644 },
      }),
    );
    expect(section.userData).toEqual([
      {
        path: '/var/lib/cloud/scripts/per-boot/10-pull.sh',
        kind: 'script',
        phase: 'per-boot',
        executable: true,
        gzip: false,
        parts: [
          {
            type: 'shell',
            contentType: 'text/x-shellscript',
            startLine: 1,
            encoded: false,
            jinja: false,
            text: '#!/bin/sh\ndocker pull nginx:latest\n',
          },
        ],
      },
      {
        path: '/var/lib/cloud/scripts/per-once/notes.txt',
        kind: 'script',
        phase: 'per-once',
        executable: false,
        gzip: false,
        parts: [
          {
            type: 'unknown',
            contentType: 'application/octet-stream',
            startLine: 1,
            encoded: false,
            jinja: false,
          },
        ],
      },
    ]);
  });
});
