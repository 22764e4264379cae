import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import type { TreeEntry } from '../../test-support/tree.js';
import {
  aptBool,
  aptFindFile,
  aptInt,
  aptList,
  aptPeriodicEnabled,
  aptPeriodicInterval,
  aptValue,
  collectAptConfig,
} from './config.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const D = '/etc/apt/apt.conf.d';
const AUTO = `${D}/20auto-upgrades`;
const UU = `${D}/50unattended-upgrades`;
const debian: Record<string, TreeEntry> = {
  [AUTO]: fixture('20auto-upgrades'),
  [UU]: fixture('50unattended-upgrades'),
};
const UNATTENDED = 'APT::Periodic::Unattended-Upgrade';

describe('collectAptConfig', () => {
  it("reads Debian's 20auto-upgrades and 50unattended-upgrades exactly", () => {
    const config = collectAptConfig(treeFs(debian));
    expect(config).toEqual({
      files: [AUTO, UU],
      ignoredFiles: [],
      fatal: false,
      values: [
        {
          key: UNATTENDED,
          lkey: 'apt::periodic::unattended-upgrade',
          value: '1',
          source: { path: AUTO, line: 2 },
          history: [{ path: AUTO, line: 2, op: 'set', value: '1' }],
        },
        {
          key: 'APT::Periodic::Update-Package-Lists',
          lkey: 'apt::periodic::update-package-lists',
          value: '1',
          source: { path: AUTO, line: 1 },
          history: [{ path: AUTO, line: 1, op: 'set', value: '1' }],
        },
        {
          key: 'Unattended-Upgrade::DevRelease',
          lkey: 'unattended-upgrade::devrelease',
          value: 'auto',
          source: { path: UU, line: 69 },
          history: [{ path: UU, line: 69, op: 'set', value: 'auto' }],
        },
        {
          key: 'Unattended-Upgrade::Origins-Pattern',
          lkey: 'unattended-upgrade::origins-pattern',
          value: '',
          list: [
            'origin=Debian,codename=${distro_codename},label=Debian',
            'origin=Debian,codename=${distro_codename},label=Debian-Security',
            'origin=Debian,codename=${distro_codename}-security,label=Debian-Security',
          ],
          source: { path: UU, line: 33 },
          history: [
            {
              path: UU,
              line: 31,
              op: 'append',
              value: 'origin=Debian,codename=${distro_codename},label=Debian',
            },
            {
              path: UU,
              line: 32,
              op: 'append',
              value: 'origin=Debian,codename=${distro_codename},label=Debian-Security',
            },
            {
              path: UU,
              line: 33,
              op: 'append',
              value: 'origin=Debian,codename=${distro_codename}-security,label=Debian-Security',
            },
          ],
        },
      ],
      problems: [],
    });
    // The commented-out `//Unattended-Upgrade::Automatic-Reboot "false";` sets nothing.
    expect(aptValue(config, 'Unattended-Upgrade::Automatic-Reboot')).toBeUndefined();
  });

  it('lets a later file override, and keeps where each value came from', () => {
    const config = collectAptConfig(
      treeFs({ ...debian, [`${D}/99-disable`]: 'APT::Periodic::Unattended-Upgrade "0";\n' }),
    );
    const value = aptValue(config, UNATTENDED);
    expect(value).toEqual({
      key: UNATTENDED,
      lkey: 'apt::periodic::unattended-upgrade',
      value: '0',
      source: { path: `${D}/99-disable`, line: 1 },
      history: [
        { path: AUTO, line: 2, op: 'set', value: '1' },
        { path: `${D}/99-disable`, line: 1, op: 'set', value: '0' },
      ],
    });
    expect(aptPeriodicInterval(value?.value)).toEqual({ runs: 'never', seconds: null });
  });

  it('applies #clear to what was read before it, across files, and says an emptied interval still runs', () => {
    const config = collectAptConfig(
      treeFs({
        ...debian,
        [`${D}/90-override`]: 'APT::Periodic::Unattended-Upgrade "0";\n',
        [`${D}/95-clear`]:
          '#clear APT::Periodic::Unattended-Upgrade;\n#clear Unattended-Upgrade::Origins-Pattern;\n',
      }),
    );
    const value = aptValue(config, UNATTENDED);
    expect(value?.value).toBe('');
    expect(value?.source).toEqual({ path: `${D}/95-clear`, line: 1 });
    expect(value?.history.map((e) => `${e.path}:${e.line} ${e.op} ${e.value}`)).toEqual([
      `${AUTO}:2 set 1`,
      `${D}/90-override:1 set 0`,
      `${D}/95-clear:1 clear null`,
    ]);
    // apt-config shell prints '' for the cleared option, and apt.systemd.daily then runs the job.
    expect(aptPeriodicInterval(value?.value)).toEqual({ runs: 'due', seconds: 0 });
    expect(config.problems).toEqual([
      {
        path: `${D}/95-clear`,
        line: 1,
        reason:
          'APT::Periodic::Unattended-Upgrade "" is not a plain interval; apt.systemd.daily runs the job every time',
      },
    ]);
    const origins = aptValue(config, 'unattended-upgrade::origins-pattern');
    expect(origins?.list).toEqual([]);
    expect(aptList(origins)).toEqual([]);
  });

  it('removes the options below a cleared tree', () => {
    const config = collectAptConfig(treeFs({ ...debian, [`${D}/99-clear`]: '#clear APT::Periodic;\n' }));
    expect(aptValue(config, UNATTENDED)).toMatchObject({
      value: null,
      source: { path: `${D}/99-clear`, line: 1 },
    });
    expect(aptPeriodicInterval(aptValue(config, UNATTENDED)?.value)).toEqual({
      runs: 'never',
      seconds: null,
    });
    expect(aptValue(config, 'APT::Periodic')).toMatchObject({ value: '', history: [{ op: 'clear' }] });
  });

  it('reads the nested-block form and overrides case-insensitively', () => {
    const config = collectAptConfig(
      treeFs({
        [`${D}/10periodic`]:
          'APT {\n  Periodic {\n    Update-Package-Lists "1";\n    Unattended-Upgrade "1";\n  };\n};\n',
        [`${D}/20lower`]: 'apt::periodic::unattended-upgrade "7";\n',
      }),
    );
    expect(config.values.map((v) => [v.key, v.value, v.source.path, v.source.line])).toEqual([
      [UNATTENDED, '7', `${D}/20lower`, 1],
      ['APT::Periodic::Update-Package-Lists', '1', `${D}/10periodic`, 3],
    ]);
    expect(aptPeriodicInterval(aptValue(config, 'APT::PERIODIC::UNATTENDED-UPGRADE')?.value)).toEqual({
      runs: 'due',
      seconds: 7 * 86400,
    });
  });

  it('ignores values inside /* */ and keeps // inside quotes', () => {
    const config = collectAptConfig(
      treeFs({
        [`${D}/10c`]:
          '/*\nAPT::Periodic::Unattended-Upgrade "1";\n*/\nAcquire::http::Proxy "http://proxy:3128//x"; // not "this"\n',
      }),
    );
    expect(config.values.map((v) => [v.key, v.value])).toEqual([
      ['Acquire::http::Proxy', 'http://proxy:3128//x'],
    ]);
  });

  it('reads only the file names APT reads', () => {
    const config = collectAptConfig(
      treeFs({
        [`${D}/10ok.conf`]: 'A::conf 1;\n',
        [`${D}/20noext`]: 'A::noext 1;\n',
        [`${D}/99disable.dpkg-old`]: 'APT::Periodic::Unattended-Upgrade "0";\n',
        [`${D}/foo.bak`]: 'A::bak 1;\n',
        [`${D}/99-goldgate.cfg`]: 'A::cfg 1;\n',
        [`${D}/99+plus`]: 'A::plus 1;\n',
        [`${D}/.hidden`]: 'A::hidden 1;\n',
        [`${D}/sub.conf/x`]: 'A::dir 1;\n',
        [`${D}/50link`]: { link: '../shared/link.conf' },
        '/etc/apt/shared/link.conf': 'A::link 1;\n',
      }),
    );
    expect(config.files).toEqual([`${D}/10ok.conf`, `${D}/20noext`, `${D}/50link`]);
    expect(config.ignoredFiles).toEqual([
      `${D}/.hidden`,
      `${D}/99+plus`,
      `${D}/99-goldgate.cfg`,
      `${D}/99disable.dpkg-old`,
      `${D}/foo.bak`,
    ]);
    expect(config.values.map((v) => v.key)).toEqual(['A::conf', 'A::link', 'A::noext']);
    expect(config.problems).toEqual([
      {
        path: `${D}/99+plus`,
        reason: 'ignored by APT: character "+" is not allowed in the name (only A-Z a-z 0-9 _ - : .)',
      },
      {
        path: `${D}/99-goldgate.cfg`,
        reason:
          'ignored by APT: invalid filename extension "cfg" (APT reads names with no extension or ".conf")',
      },
    ]);
  });

  it('reads /etc/apt/apt.conf after the parts, so it wins', () => {
    const config = collectAptConfig(
      treeFs({
        ...debian,
        '/etc/apt/apt.conf': 'APT::Periodic::Unattended-Upgrade "0";\n',
        [`${D}/99-last`]: 'APT::Periodic::Unattended-Upgrade "2";\n',
      }),
    );
    expect(config.files).toEqual([AUTO, UU, `${D}/99-last`, '/etc/apt/apt.conf']);
    expect(aptValue(config, UNATTENDED)).toMatchObject({
      value: '0',
      source: { path: '/etc/apt/apt.conf', line: 1 },
    });
  });

  it('follows Dir::Etc::main set in a part', () => {
    const config = collectAptConfig(
      treeFs({
        [`${D}/10x`]: 'Dir::Etc::Main "goldgate.conf";\n',
        '/etc/apt/apt.conf': 'A::from "apt.conf";\n',
        '/etc/apt/goldgate.conf': 'A::from "goldgate.conf";\n',
      }),
    );
    expect(config.files).toEqual([`${D}/10x`, '/etc/apt/goldgate.conf']);
    expect(aptValue(config, 'A::from')?.value).toBe('goldgate.conf');
    // APT's own spelling of the option wins, as in `apt-config dump`.
    expect(aptValue(config, 'dir::etc::main')?.key).toBe('Dir::Etc::main');
  });

  it('follows includes', () => {
    const config = collectAptConfig(
      treeFs({
        [`${D}/10inc`]: '#include "/etc/apt/goldgate/periodic.conf";\n',
        '/etc/apt/goldgate/periodic.conf': 'APT::Periodic::Unattended-Upgrade "1";\n',
      }),
    );
    expect(config.files).toEqual([`${D}/10inc`, '/etc/apt/goldgate/periodic.conf']);
    expect(aptValue(config, UNATTENDED)?.source).toEqual({
      path: '/etc/apt/goldgate/periodic.conf',
      line: 1,
    });
  });

  it('keeps earlier values and the other files when a file is malformed, and marks APT as failing', () => {
    const config = collectAptConfig(
      treeFs({
        [AUTO]: fixture('20auto-upgrades'),
        [`${D}/60broken`]:
          'APT::Periodic::Unattended-Upgrade "0";\nAPT::Periodic::Update-Package-Lists "0"\nA::after 1;\n',
        [`${D}/70fine`]: 'A::fine 1;\n',
      }),
    );
    expect(config.fatal).toBe(true);
    expect(config.values.map((v) => [v.key, v.value])).toEqual([
      ['A::fine', '1'],
      [UNATTENDED, '0'],
      ['APT::Periodic::Update-Package-Lists', '1'],
    ]);
    expect(config.problems).toEqual([
      {
        path: `${D}/60broken`,
        line: 3,
        reason: 'syntax error: Extra junk after value (APT stops reading here and refuses to run)',
      },
    ]);
  });

  it('flags settings that do not do what they seem to', () => {
    const config = collectAptConfig(
      treeFs({
        [`${D}/10x`]:
          'APT::Periodic::Enable "false";\nAPT::Periodic::Update-Package-Lists "true";\nAPT::Periodic::Unattended-Upgrade "always";\nDir::Etc::Parts "goldgate.d";\n',
      }),
    );
    expect(config.problems.map((p) => `${p.line} ${p.reason}`)).toEqual([
      '1 APT::Periodic::Enable "false" does not disable apt.systemd.daily: it tests the value as a number; use "0"',
      '2 APT::Periodic::Update-Package-Lists "true" is not a plain interval; apt.systemd.daily runs the job while its stamp file is missing (as on a fresh image), not afterwards',
      '4 Dir::Etc::parts set in the image has no effect: APT lists apt.conf.d before reading it',
    ]);
  });

  it('reads an image without APT configuration', () => {
    expect(collectAptConfig(treeFs({ '/etc/hostname': 'x\n' }))).toEqual({
      files: [],
      ignoredFiles: [],
      fatal: false,
      values: [],
      problems: [],
    });
  });
});

describe('APT value helpers', () => {
  it('aptBool reads what FindB reads', () => {
    const cases: [string | null | undefined, boolean | undefined][] = [
      ['1', true],
      ['0', false],
      [' 0x1', true],
      ['true', true],
      ['YES', true],
      ['with', true],
      ['on', true],
      ['enable', true],
      ['false', false],
      ['No', false],
      ['without', false],
      ['off', false],
      ['disable', false],
      ['2', undefined],
      [' 1 ', undefined],
      ['', undefined],
      ['maybe', undefined],
      [null, undefined],
      [undefined, undefined],
    ];
    for (const [value, expected] of cases) expect(aptBool(value), String(value)).toBe(expected);
  });

  it('aptInt reads what FindI reads', () => {
    const cases: [string | null | undefined, number | undefined][] = [
      ['1', 1],
      ['1d', 1],
      ['010', 8],
      ['0x10', 16],
      ['0x', 0],
      ['-1', -1],
      [' 7 ', 7],
      ['4294967297', 1],
      ['yes', undefined],
      ['', undefined],
      [null, undefined],
    ];
    for (const [value, expected] of cases) expect(aptInt(value), String(value)).toBe(expected);
  });

  it('aptPeriodicInterval reads what apt.systemd.daily reads', () => {
    const cases: [string | null | undefined, ReturnType<typeof aptPeriodicInterval>][] = [
      [undefined, { runs: 'never', seconds: null }],
      [null, { runs: 'never', seconds: null }],
      ['0', { runs: 'never', seconds: null }],
      [' 0', { runs: 'never', seconds: null }],
      ['00', { runs: 'due', seconds: 0 }],
      ['1', { runs: 'due', seconds: 86400 }],
      ['2d', { runs: 'due', seconds: 172800 }],
      ['12h', { runs: 'due', seconds: 43200 }],
      ['30m', { runs: 'due', seconds: 1800 }],
      ['90s', { runs: 'due', seconds: 90 }],
      ['always', { runs: 'always', seconds: null }],
      ['', { runs: 'due', seconds: 0 }],
      ['true', { runs: 'due', seconds: null }],
      ['yes', { runs: 'due', seconds: null }],
    ];
    for (const [value, expected] of cases)
      expect(aptPeriodicInterval(value), String(value)).toEqual(expected);
  });

  it('aptPeriodicEnabled reads APT::Periodic::Enable as apt.systemd.daily does', () => {
    expect([undefined, '1', '0', '00', ' 0', 'false', 'no', '', '0 1'].map(aptPeriodicEnabled)).toEqual([
      true,
      true,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });

  it('aptList reads a list or a comma-separated value, as FindVector', () => {
    const config = collectAptConfig(treeFs({ [`${D}/10x`]: 'A::L { "a"; "b"; };\nA::S "x,y";\n' }));
    expect(aptList(aptValue(config, 'a::l'))).toEqual(['a', 'b']);
    expect(aptList(aptValue(config, 'A::S'))).toEqual(['x', 'y']);
    expect(aptList(aptValue(config, 'A::missing'))).toEqual([]);
  });

  it('aptFindFile resolves file options like FindFile', () => {
    expect(aptFindFile(undefined, 'Dir::Etc::sourcelist')).toBe('/etc/apt/sources.list');
    expect(aptFindFile(undefined, 'Dir::Etc::sourceparts')).toBe('/etc/apt/sources.list.d');
    const moved = collectAptConfig(
      treeFs({
        [`${D}/10x`]:
          'Dir::Etc "/srv/apt/";\nDir::Etc::SourceList "/opt/list";\nDir::Etc::sourceparts "parts.d";\n',
      }),
    );
    expect(aptFindFile(moved, 'Dir::Etc::sourcelist')).toBe('/opt/list');
    expect(aptFindFile(moved, 'Dir::Etc::sourceparts')).toBe('/srv/apt/parts.d');
    const cleared = collectAptConfig(treeFs({ [`${D}/10x`]: '#clear Dir::Etc::sourcelist;\n' }));
    expect(aptFindFile(cleared, 'Dir::Etc::sourcelist')).toBe('/dev/null');
  });
});
