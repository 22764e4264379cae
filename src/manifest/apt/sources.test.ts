import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import { collectApt } from './index.js';
import { collectAptSources } from './sources.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const LIST = '/etc/apt/sources.list';
const PARTS = '/etc/apt/sources.list.d';
const FATAL = 'APT refuses to read its sources until this is fixed';

describe('collectAptSources', () => {
  it('reads a one-line sources.list with options, comments and commented-out entries', () => {
    const result = collectAptSources(treeFs({ [LIST]: fixture('sources.list') }));
    expect(result).toEqual({
      files: [LIST],
      ignoredFiles: [],
      sources: [
        {
          types: ['deb'],
          uris: ['http://deb.distro-mirror.example/debian'],
          suites: ['bookworm'],
          components: ['main', 'contrib', 'non-free-firmware'],
          options: {},
          enabled: true,
          trusted: false,
          format: 'one-line',
          source: { path: LIST, line: 4 },
        },
        {
          types: ['deb-src'],
          uris: ['http://deb.distro-mirror.example/debian'],
          suites: ['bookworm'],
          components: ['main'],
          options: {},
          enabled: true,
          trusted: false,
          format: 'one-line',
          source: { path: LIST, line: 5 },
        },
        {
          types: ['deb'],
          uris: ['https://repo.example.com/apt'],
          suites: ['stable'],
          components: ['main'],
          options: { arch: 'amd64', 'signed-by': '/usr/share/keyrings/goldgate.gpg' },
          enabled: true,
          trusted: false,
          format: 'one-line',
          source: { path: LIST, line: 7 },
        },
        {
          types: ['deb'],
          uris: ['http://10.0.0.5/debian'],
          suites: ['./'],
          components: [],
          options: { trusted: 'yes' },
          enabled: true,
          trusted: true,
          format: 'one-line',
          source: { path: LIST, line: 8 },
        },
        {
          types: ['deb'],
          uris: ['http://deb.distro-mirror.example/debian'],
          suites: ['bookworm-backports'],
          components: ['main'],
          options: {},
          enabled: false,
          trusted: false,
          format: 'one-line',
          source: { path: LIST, line: 9 },
        },
        {
          types: ['deb-src'],
          uris: ['http://deb.distro-mirror.example/debian'],
          suites: ['bookworm-backports'],
          components: ['main'],
          options: {},
          enabled: false,
          trusted: false,
          format: 'one-line',
          source: { path: LIST, line: 10 },
        },
      ],
      problems: [],
    });
  });

  it("reads Debian 12 cloud images' deb822 debian.sources", () => {
    const path = `${PARTS}/debian.sources`;
    const result = collectAptSources(treeFs({ [path]: fixture('debian.sources') }));
    expect(result.problems).toEqual([]);
    expect(result.sources).toEqual([
      {
        types: ['deb', 'deb-src'],
        uris: ['mirror+file:///etc/apt/mirrors/debian.list'],
        suites: ['bookworm', 'bookworm-updates', 'bookworm-backports'],
        components: ['main'],
        options: {},
        enabled: true,
        trusted: false,
        format: 'deb822',
        source: { path, line: 1 },
      },
      {
        types: ['deb', 'deb-src'],
        uris: ['mirror+file:///etc/apt/mirrors/debian-security.list'],
        suites: ['bookworm-security'],
        components: ['main'],
        options: {},
        enabled: true,
        trusted: false,
        format: 'deb822',
        source: { path, line: 6 },
      },
    ]);
  });

  it('reads deb822 options, Enabled: no, and an inline key without keeping it', () => {
    const path = `${PARTS}/extra.sources`;
    const text = [
      '# A disabled mirror',
      'Types: deb',
      'URIs: http://a.example/debian http://b.example/debian',
      'Suites: bookworm',
      'Components: main contrib',
      'Enabled: no',
      '',
      'Types: deb',
      'URIs: https://vendor.example/apt',
      'Suites: stable/',
      'Architectures: amd64 arm64',
      'Trusted: yes',
      'Signed-By:',
      ' -----BEGIN PGP PUBLIC KEY BLOCK-----',
      ' .',
      ' mDMEZQAAABYJKwYBBAHaRw8BAQdA',
      ' -----END PGP PUBLIC KEY BLOCK-----',
      'X-Repolib-Name: vendor',
      '',
    ].join('\n');
    const result = collectAptSources(treeFs({ [path]: text }));
    expect(result.problems).toEqual([]);
    expect(result.sources).toEqual([
      {
        types: ['deb'],
        uris: ['http://a.example/debian', 'http://b.example/debian'],
        suites: ['bookworm'],
        components: ['main', 'contrib'],
        options: {},
        enabled: false,
        trusted: false,
        format: 'deb822',
        source: { path, line: 2 },
      },
      {
        types: ['deb'],
        uris: ['https://vendor.example/apt'],
        suites: ['stable/'],
        components: [],
        options: { arch: 'amd64,arm64', 'signed-by': 'inline', trusted: 'yes' },
        enabled: true,
        trusted: true,
        format: 'deb822',
        source: { path, line: 8 },
      },
    ]);
    expect(JSON.stringify(result)).not.toContain('mDMEZQ');
  });

  it('reports entries APT rejects and still reads the rest', () => {
    const list = [
      'deb http://ok.example/debian bookworm main',
      'deb http://no-components.example/debian bookworm',
      'rpm http://x.example/ fedora main',
      'deb [arch] http://x.example/debian bookworm main',
      'deb no-colon bookworm main',
      'deb http://abs.example/debian ./ main',
      'debhttp://x',
      'deb [arch=amd64 http://x.example/debian bookworm main',
      'deb http://ok2.example/debian bookworm main',
    ].join('\n');
    const sources = [
      'Types: deb',
      'URIs: http://x.example/',
      'Components: main',
      '',
      'URIs: http://y.example/',
      'Suites: s',
      'Components: main',
      '',
    ].join('\n');
    const result = collectAptSources(treeFs({ [LIST]: list, [`${PARTS}/bad.sources`]: sources }));
    expect(result.sources.map((s) => `${s.source.line} ${s.uris.join(' ')}`)).toEqual([
      '1 http://ok.example/debian',
      '9 http://ok2.example/debian',
    ]);
    expect(result.problems).toEqual([
      { path: LIST, line: 2, reason: `Malformed entry (Component); ${FATAL}` },
      { path: LIST, line: 3, reason: `Type 'rpm' is not known; ${FATAL}` },
      { path: LIST, line: 4, reason: `Malformed entry ([option] not assignment); ${FATAL}` },
      { path: LIST, line: 5, reason: `Malformed entry (URI parse); ${FATAL}` },
      { path: LIST, line: 6, reason: `Malformed entry (absolute Suite Component); ${FATAL}` },
      { path: LIST, line: 7, reason: `Malformed line (type); ${FATAL}` },
      { path: LIST, line: 8, reason: `Malformed entry ([option] not assignment); ${FATAL}` },
      { path: `${PARTS}/bad.sources`, line: 1, reason: `Malformed stanza 1 (Suite); ${FATAL}` },
      { path: `${PARTS}/bad.sources`, line: 5, reason: `Malformed stanza 2 (type); ${FATAL}` },
    ]);
  });

  it('reads only .list and .sources files, sorted by path then line', () => {
    const line = (name: string): string => `deb http://${name}.example/debian bookworm main\n`;
    const result = collectAptSources(
      treeFs({
        [`${PARTS}/b.list`]: line('b') + line('b2'),
        [`${PARTS}/a.sources`]:
          'Types: deb\nURIs: http://a.example/debian\nSuites: bookworm\nComponents: main\n',
        [`${PARTS}/c.list.save`]: line('c'),
        [`${PARTS}/d.list.distUpgrade`]: line('d'),
        [`${PARTS}/noext`]: line('e'),
        [`${PARTS}/f.conf`]: line('f'),
      }),
    );
    expect(result.files).toEqual([`${PARTS}/a.sources`, `${PARTS}/b.list`]);
    expect(result.ignoredFiles).toEqual([
      `${PARTS}/c.list.save`,
      `${PARTS}/d.list.distUpgrade`,
      `${PARTS}/f.conf`,
      `${PARTS}/noext`,
    ]);
    expect(result.sources.map((s) => `${s.source.path}:${s.source.line}`)).toEqual([
      `${PARTS}/a.sources:1`,
      `${PARTS}/b.list:1`,
      `${PARTS}/b.list:2`,
    ]);
    expect(result.problems).toEqual([
      {
        path: `${PARTS}/f.conf`,
        reason:
          'ignored by APT: invalid filename extension "conf" (APT reads names with ".list" or ".sources")',
      },
      {
        path: `${PARTS}/noext`,
        reason: 'ignored by APT: it has no filename extension (APT reads names with ".list" or ".sources")',
      },
    ]);
  });
});

describe('collectApt', () => {
  it('reads configuration and sources together, honouring Dir::Etc::sourcelist', () => {
    const apt = collectApt(
      treeFs({
        '/etc/apt/apt.conf.d/20auto-upgrades': fixture('20auto-upgrades'),
        '/etc/apt/apt.conf.d/90-lists': 'Dir::Etc::SourceList "/etc/goldgate/sources.list";\n',
        '/etc/apt/sources.list': 'deb http://ignored.example/debian bookworm main\n',
        '/etc/goldgate/sources.list': 'deb http://used.example/debian bookworm main\nbroken\n',
      }),
    );
    expect(apt.config.files).toEqual(['/etc/apt/apt.conf.d/20auto-upgrades', '/etc/apt/apt.conf.d/90-lists']);
    expect(apt.sourceFiles).toEqual(['/etc/goldgate/sources.list']);
    expect(apt.sources.map((s) => s.uris[0])).toEqual(['http://used.example/debian']);
    expect(apt.problems).toEqual([
      { path: '/etc/goldgate/sources.list', line: 2, reason: `Malformed line (type); ${FATAL}` },
    ]);
    expect(JSON.parse(JSON.stringify(apt))).toEqual(apt);
  });
});
