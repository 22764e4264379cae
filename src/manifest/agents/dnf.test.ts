import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import type { ManifestProblem } from '../types.js';
import { DNF_AUTOMATIC_CONF, DNF_CONF, readDnf } from './dnf.js';
import { dnfBool, parseDnfIni } from './ini.js';
import type { OsRelease } from './os-release.js';

const FEDORA_AUTOMATIC = readFileSync(
  new URL('./__fixtures__/fedora-automatic.conf', import.meta.url),
  'utf8',
);
const AL2023: OsRelease = {
  id: 'amzn',
  idLike: ['fedora'],
  versionId: '2023',
  codename: null,
  prettyName: 'Amazon Linux 2023.6.20241010',
  source: { path: '/etc/os-release' },
};
const DNF_CONF_TEXT =
  '[main]\ngpgcheck=True\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=False\nskip_if_unavailable=True\n';

describe('readDnf: dnf-automatic', () => {
  it('reads the stock Fedora automatic.conf: apply_updates = no, reboot never', () => {
    const problems: ManifestProblem[] = [];
    const info = readDnf(
      treeFs({ '/usr/bin/dnf': '#!/usr/bin/python3\n', [DNF_AUTOMATIC_CONF]: FEDORA_AUTOMATIC }),
      null,
      problems,
    );
    const at = (line: number) => ({ path: DNF_AUTOMATIC_CONF, line });
    expect(info.present).toBe(true);
    expect(info.automatic).toEqual({
      files: [DNF_AUTOMATIC_CONF],
      settings: [
        { section: 'base', key: 'debuglevel', value: '1', source: at(66) },
        { section: 'commands', key: 'apply_updates', value: 'no', source: at(22) },
        { section: 'commands', key: 'download_updates', value: 'yes', source: at(17) },
        { section: 'commands', key: 'network_online_timeout', value: '60', source: at(10) },
        { section: 'commands', key: 'random_sleep', value: '0', source: at(6) },
        { section: 'commands', key: 'reboot', value: 'never', source: at(28) },
        {
          section: 'commands',
          key: 'reboot_command',
          value: "shutdown -r +5 'Rebooting after applying package updates'",
          source: at(31),
        },
        { section: 'commands', key: 'upgrade_type', value: 'default', source: at(5) },
        { section: 'email', key: 'email_from', value: 'root@example.com', source: at(53) },
        { section: 'email', key: 'email_host', value: 'localhost', source: at(59) },
        { section: 'email', key: 'email_to', value: 'root', source: at(56) },
        { section: 'emitters', key: 'emit_via', value: 'stdio', source: at(48) },
      ],
      applyUpdates: { raw: 'no', value: false, source: at(22) },
      downloadUpdates: { raw: 'yes', value: true, source: at(17) },
      upgradeType: { value: 'default', source: at(5) },
      reboot: { value: 'never', source: at(28) },
      emitVia: { value: 'stdio', source: at(48) },
    });
    expect(info.automatic5).toBeNull();
    expect(problems).toEqual([]);
  });

  it('sees apply_updates = yes and reboot = when-needed past commented look-alikes', () => {
    const conf =
      '[commands]\n# apply_updates = no\napply_updates = Yes\n;reboot = never\nreboot = when-needed\n';
    const info = readDnf(treeFs({ [DNF_AUTOMATIC_CONF]: conf }), null, []);
    expect(info.automatic?.applyUpdates).toEqual({
      raw: 'Yes',
      value: true,
      source: { path: DNF_AUTOMATIC_CONF, line: 3 },
    });
    expect(info.automatic?.reboot).toEqual({
      value: 'when-needed',
      source: { path: DNF_AUTOMATIC_CONF, line: 5 },
    });
  });

  it('layers dnf5 automatic: /usr/share defaults, then /etc/dnf/dnf5-plugins, then /etc/dnf/automatic.conf', () => {
    const info = readDnf(
      treeFs({
        '/usr/bin/dnf5': 'ELF',
        '/usr/share/dnf5/dnf5-plugins/automatic.conf':
          '[commands]\napply_updates = no\nreboot = never\n[emitters]\nemit_via = stdio\n',
        '/etc/dnf/dnf5-plugins/automatic.conf': '[commands]\nreboot = when-changed\n',
        [DNF_AUTOMATIC_CONF]: '[commands]\napply_updates = True\n',
      }),
      null,
      [],
    );
    expect(info.dnf5).toBe(true);
    expect(info.automatic5?.files).toEqual([
      '/usr/share/dnf5/dnf5-plugins/automatic.conf',
      '/etc/dnf/dnf5-plugins/automatic.conf',
      DNF_AUTOMATIC_CONF,
    ]);
    expect(info.automatic5?.applyUpdates).toEqual({
      raw: 'True',
      value: true,
      source: { path: DNF_AUTOMATIC_CONF, line: 2 },
    });
    expect(info.automatic5?.reboot).toEqual({
      value: 'when-changed',
      source: { path: '/etc/dnf/dnf5-plugins/automatic.conf', line: 2 },
    });
    expect(info.automatic5?.emitVia?.source).toEqual({
      path: '/usr/share/dnf5/dnf5-plugins/automatic.conf',
      line: 5,
    });
  });

  it('reports a value dnf would refuse as a boolean', () => {
    const problems: ManifestProblem[] = [];
    const info = readDnf(
      treeFs({ [DNF_AUTOMATIC_CONF]: '[commands]\napply_updates = yes please\n' }),
      null,
      problems,
    );
    expect(info.automatic?.applyUpdates).toEqual({
      raw: 'yes please',
      value: null,
      source: { path: DNF_AUTOMATIC_CONF, line: 2 },
    });
    expect(problems).toEqual([
      { path: DNF_AUTOMATIC_CONF, line: 2, reason: 'apply_updates = yes please is not a boolean' },
    ]);
  });
});

describe('readDnf: releasever', () => {
  it('sees Amazon Linux 2023 pinned to a release in /etc/dnf/vars/releasever', () => {
    const info = readDnf(
      treeFs({ [DNF_CONF]: DNF_CONF_TEXT, '/etc/dnf/vars/releasever': '2023.6.20241010\n' }),
      AL2023,
      [],
    );
    expect(info.amazonLinux2023).toBe(true);
    expect(info.releasever).toEqual({
      dnfConf: null,
      varsFile: { value: '2023.6.20241010', source: { path: '/etc/dnf/vars/releasever', line: 1 } },
      effective: { value: '2023.6.20241010', source: { path: '/etc/dnf/vars/releasever', line: 1 } },
    });
    expect(info.dnfConf?.map((s) => s.key)).toEqual([
      'best',
      'clean_requirements_on_remove',
      'gpgcheck',
      'installonly_limit',
      'skip_if_unavailable',
    ]);
  });

  it('prefers the vars file (latest) over releasever= in dnf.conf', () => {
    const info = readDnf(
      treeFs({
        [DNF_CONF]: '[main]\nreleasever=2023.5.20240805\n',
        '/etc/dnf/vars/releasever': '  latest  \n',
      }),
      AL2023,
      [],
    );
    expect(info.releasever).toEqual({
      dnfConf: { value: '2023.5.20240805', source: { path: DNF_CONF, line: 2 } },
      varsFile: { value: 'latest', source: { path: '/etc/dnf/vars/releasever', line: 1 } },
      effective: { value: 'latest', source: { path: '/etc/dnf/vars/releasever', line: 1 } },
    });
  });

  it('leaves releasever unset when nothing pins it', () => {
    const info = readDnf(treeFs({ [DNF_CONF]: DNF_CONF_TEXT }), null, []);
    expect(info.amazonLinux2023).toBe(false);
    expect(info.releasever).toEqual({ dnfConf: null, varsFile: null, effective: null });
  });
});

describe('readDnf: yum', () => {
  it('reads yum-cron and yum-cron-hourly apply_updates, and yum.conf [main]', () => {
    const info = readDnf(
      treeFs({
        '/etc/yum.conf':
          '[main]\ncachedir=/var/cache/yum/$basearch/$releasever\nkeepcache=0\ndistroverpkg=system-release\n',
        '/etc/yum/yum-cron.conf':
          '[commands]\nupdate_cmd = security\nupdate_messages = yes\ndownload_updates = yes\napply_updates = yes\nrandom_sleep = 360\n',
        '/etc/yum/yum-cron-hourly.conf': '[commands]\nupdate_cmd = default\napply_updates = no\n',
      }),
      null,
      [],
    );
    expect(info.present).toBe(false);
    expect(info.yumConf?.map((s) => [s.key, s.value])).toEqual([
      ['cachedir', '/var/cache/yum/$basearch/$releasever'],
      ['distroverpkg', 'system-release'],
      ['keepcache', '0'],
    ]);
    expect(info.yumCron?.applyUpdates).toEqual({
      raw: 'yes',
      value: true,
      source: { path: '/etc/yum/yum-cron.conf', line: 5 },
    });
    expect(info.yumCron?.upgradeType).toEqual({
      value: 'security',
      source: { path: '/etc/yum/yum-cron.conf', line: 2 },
    });
    expect(info.yumCronHourly?.applyUpdates?.value).toBe(false);
    expect(info.automatic).toBeNull();
  });
});

describe('parseDnfIni (libdnf rules)', () => {
  it('keeps inline comments in values, joins continuation lines, strips enclosing quotes', () => {
    const parsed = parseDnfIni(
      '[main]\nexclude = kernel* # pinned\nbaseurl=http://a.example/\n  http://b.example/\nname="quoted"\nname2=\'x\' y\n  [other] ; comment\nk=v\n',
    );
    expect(parsed).toEqual({
      entries: [
        { section: 'main', key: 'exclude', value: 'kernel* # pinned', line: 2 },
        { section: 'main', key: 'baseurl', value: 'http://a.example/\nhttp://b.example/', line: 3 },
        { section: 'main', key: 'name', value: 'quoted', line: 5 },
        { section: 'main', key: 'name2', value: "'x' y", line: 6 },
        { section: 'other', key: 'k', value: 'v', line: 8 },
      ],
      problems: [],
    });
  });

  it('reports lines libdnf rejects and reads the rest', () => {
    const parsed = parseDnfIni(
      'orphan=1\n[commands]\nno equals sign\n=value\n[broken\napply_updates = yes\n',
    );
    expect(parsed.entries).toEqual([{ section: 'commands', key: 'apply_updates', value: 'yes', line: 6 }]);
    expect(parsed.problems).toEqual([
      { line: 1, reason: 'key outside any section; dnf rejects the whole file' },
      { line: 3, reason: "missing '='; dnf rejects the whole file" },
      { line: 4, reason: 'missing key name; dnf rejects the whole file' },
      { line: 5, reason: "missing ']'; dnf rejects the whole file" },
    ]);
  });

  it.each([
    ['1', true],
    ['YES', true],
    ['On', true],
    ['false', false],
    ['0', false],
    ['y', null],
    ['', null],
  ] as const)('dnfBool(%j) is %s', (text, expected) => {
    expect(dnfBool(text)).toBe(expected);
  });
});
