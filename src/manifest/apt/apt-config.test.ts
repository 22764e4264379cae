// Differential tests: the same configuration trees read by goldgate and by the real
// `apt-config dump` (apt 2.6 on Debian 12), which must agree on every option they hold.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDirRootFs } from '../../rootfs/dir.js';
import { makeTree } from '../../test-support/tree.js';
import type { TreeEntry } from '../../test-support/tree.js';
import { collectAptConfig } from './config.js';
import type { AptConfig } from './config.js';
import { collectAptSources } from './sources.js';

const hasAptConfig = spawnSync('apt-config', ['--version'], { stdio: 'ignore' }).error === undefined;
const skipNote = hasAptConfig ? '' : ' (skipped: no apt-config on PATH)';
const fixture = (name: string): string =>
  readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

interface Option {
  key: string;
  value: string;
  list: string[];
}

interface AptRun {
  status: number;
  options: Map<string, Option>;
  errors: { path: string; line: number; message: string }[];
}

const decode = (text: string): string =>
  text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/**
 * Runs `apt-config dump` on a tree: APT_CONFIG points `Dir` at the tree, and the working
 * directory is the tree's root, so relative `#include`s land where goldgate reads them (/).
 */
function runAptConfig(root: string): AptRun {
  const envFile = join(root, 'goldgate-apt-config.conf');
  writeFileSync(envFile, `Dir "${root}/";\n`);
  const run = spawnSync('apt-config', ['dump'], {
    cwd: root,
    env: { ...process.env, APT_CONFIG: envFile, LC_ALL: 'C' },
    encoding: 'utf8',
  });
  const options = new Map<string, Option>();
  for (const line of run.stdout.split('\n')) {
    const m = /^(\S*) "(.*)";$/.exec(line);
    if (m === null) continue;
    const [, rawKey, value] = m as unknown as [string, string, string];
    const key = decode(rawKey);
    // A list item prints as `Parent:: "value"`; items of the root print with an empty name.
    const isItem = key === '' || key.endsWith('::');
    const owner = isItem ? key.slice(0, -2) : key;
    const lkey = owner.toLowerCase();
    const option = options.get(lkey) ?? { key: owner, value: '', list: [] };
    if (isItem) option.list.push(value);
    else option.value = value;
    options.set(lkey, option);
  }
  const errors = [...run.stderr.matchAll(/^E: Syntax error (.*):(\d+): (.*)$/gm)].map((m) => ({
    path: (m[1] as string).slice(root.length),
    line: Number(m[2]),
    message: m[3] as string,
  }));
  return { status: run.status ?? -1, options, errors };
}

const under = (lkey: string, prefixes: string[]): boolean =>
  prefixes.some((p) => lkey === p || lkey.startsWith(`${p}::`));

/** Goldgate's options under `prefixes`, shaped like the dump. */
function ours(config: AptConfig, prefixes: string[]): Map<string, Option> {
  const options = new Map<string, Option>();
  for (const v of config.values) {
    if (v.value === null || !under(v.lkey, prefixes)) continue;
    options.set(v.lkey, { key: v.key, value: v.value, list: v.list ?? [] });
  }
  return options;
}

/** APT's options under `prefixes`, without the empty inner nodes that only name a block. */
function theirs(run: AptRun, prefixes: string[], mine: Map<string, Option>): Map<string, Option> {
  const options = new Map<string, Option>();
  for (const [lkey, option] of run.options) {
    if (!under(lkey, prefixes)) continue;
    if (option.value === '' && option.list.length === 0 && !mine.has(lkey)) continue;
    options.set(lkey, option);
  }
  return options;
}

function sorted(map: Map<string, Option>): [string, Option][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

interface Case {
  name: string;
  tree: Record<string, TreeEntry>;
  prefixes: string[];
  /** Expected effective values, to make sure the comparison compares something. */
  expect?: Record<string, string>;
}

const PARTS = '/etc/apt/apt.conf.d';

const agreeing: Case[] = [
  {
    name: "Debian's 20auto-upgrades and 50unattended-upgrades",
    tree: {
      [`${PARTS}/20auto-upgrades`]: fixture('20auto-upgrades'),
      [`${PARTS}/50unattended-upgrades`]: fixture('50unattended-upgrades'),
    },
    prefixes: ['apt::periodic', 'unattended-upgrade'],
    expect: { 'APT::Periodic::Unattended-Upgrade': '1', 'Unattended-Upgrade::DevRelease': 'auto' },
  },
  {
    name: 'a later part overriding, in another case and another form',
    tree: {
      [`${PARTS}/20auto-upgrades`]: fixture('20auto-upgrades'),
      [`${PARTS}/50unattended-upgrades`]: fixture('50unattended-upgrades'),
      [`${PARTS}/99-disable`]:
        'apt::periodic { unattended-upgrade "0"; };\nAPT::PERIODIC::Update-Package-Lists 0;\n',
    },
    prefixes: ['apt::periodic', 'unattended-upgrade'],
    expect: { 'APT::Periodic::Unattended-Upgrade': '0', 'APT::Periodic::Update-Package-Lists': '0' },
  },
  {
    name: 'nested and mixed blocks',
    tree: {
      [`${PARTS}/10nested`]:
        'APT {\n  Periodic {\n    Update-Package-Lists "1";\n    Unattended-Upgrade "1";\n  };\n};\n' +
        'APT::Periodic { Unattended-Upgrade "2"; Enable 1; };\nT { a { b { c { d "deep"; }; }; }; };\n' +
        'T::v "own" { child "x"; };\n',
    },
    prefixes: ['apt::periodic', 't'],
    expect: { 'T::a::b::c::d': 'deep', 'APT::Periodic::Unattended-Upgrade': '2' },
  },
  {
    name: 'comments of every kind',
    tree: {
      [`${PARTS}/10comments`]: [
        '/* APT::Periodic::Unattended-Upgrade "1"; */',
        'T::url "http://example.com/x"; // T::b "no";',
        'T::hash "x # y"; # T::d "no";',
        '/* multi',
        'T::e "no";',
        '*/ T::f "yes"; /* again */ T::g "1";',
        'T::h "a/*b"; T::i "c*/d";',
        '# a comment line',
        '   // an indented comment',
        'T::j "1"; /* "quoted */ T::k "2";',
        'T::l "//"; T::m "#";',
      ].join('\n'),
    },
    prefixes: ['apt::periodic', 't'],
    expect: { 'T::url': 'http://example.com/x', 'T::hash': 'x # y', 'T::f': 'yes', 'T::h': 'a/*b' },
  },
  {
    name: 'a // inside /* */ hides the end of the comment',
    tree: { [`${PARTS}/10weird`]: 'T::before 1;\n/* x // y */ T::a "1";\nT::b 2;\n' },
    prefixes: ['t'],
    expect: { 'T::before': '1' },
  },
  {
    name: '#clear across files, of scalars, lists and subtrees',
    tree: {
      [`${PARTS}/10set`]: 'T::a "1";\nT::L { "x"; "y"; };\nT::keep 1;\nT::sub::x 1;\nT::sub::y 2;\n',
      [`${PARTS}/20clear`]: '#clear T::L;\n#clear T::sub;\nT::L:: "z";\n#clear T::nothing;\n#clear "T::a";\n',
      [`${PARTS}/30again`]: 'T::sub::y 3;\n',
    },
    prefixes: ['t'],
    expect: { 'T::keep': '1', 'T::sub::y': '3' },
  },
  {
    name: 'several statements per line, statements over several lines, concatenation, %xx, tabs',
    tree: {
      [`${PARTS}/10forms`]:
        'T::a 1; T::b "2"; T { c 3; d "4" }\nT::e\n"5"\n;\nT::f "x"\n  "y"   "z";\nT::g %41%42c;\n' +
        'T::h\t"tab\there";\n"T::q" "1"; "T::r"   x; T::s "a"b; T::t "%41";\n',
    },
    prefixes: ['t'],
    expect: { 'T::f': 'x y z', 'T::g': 'ABc', 'T::s': 'ab', 'T::t': '%41' },
  },
  {
    name: 'case-insensitive names keep the first spelling',
    tree: {
      [`${PARTS}/10a`]: 'T::MixedCase "1";\nt::mixedcase::Child 2;\n',
      [`${PARTS}/20b`]: 'T::MIXEDCASE "3";\n',
    },
    prefixes: ['t'],
    expect: { 'T::MixedCase': '3' },
  },
  {
    name: 'includes of a file and a directory, relative to the working directory',
    tree: {
      [`${PARTS}/10inc`]:
        'T::a "before";\n#include "etc/apt/extra/one.conf";\n#include "etc/apt/extra.d/";\nT::after 1;\n',
      '/etc/apt/extra/one.conf': 'T::one 1; T::a "from-one";\n',
      '/etc/apt/extra.d/a.conf': 'T::dir 1;\n',
      '/etc/apt/extra.d/b.bak': 'T::bak 1;\n',
    },
    prefixes: ['t'],
    expect: { 'T::a': 'from-one', 'T::dir': '1' },
  },
  {
    name: 'the main file is read after the parts',
    tree: {
      [`${PARTS}/10x`]: 'T::a "part"; T::b "part";\n',
      '/etc/apt/apt.conf': 'T::a "main";\n',
    },
    prefixes: ['t'],
    expect: { 'T::a': 'main', 'T::b': 'part' },
  },
  {
    name: 'Dir::Etc::main set in a part moves the main file',
    tree: {
      [`${PARTS}/10x`]: 'T::a "part";\nDir::Etc::Main "other.conf";\n',
      '/etc/apt/apt.conf': 'T::a "main";\n',
      '/etc/apt/other.conf': 'T::a "other";\n',
    },
    prefixes: ['t'],
    expect: { 'T::a': 'other' },
  },
  {
    name: 'file names APT accepts and skips',
    tree: Object.fromEntries(
      [
        '50plain',
        'a.conf',
        'b.conf.bak',
        'c.bak',
        'd.dpkg-old',
        'e~',
        'f.disabled',
        'g:colon.conf',
        'h+plus',
        'i.j.conf',
        'k.',
        '.hidden',
        'l.CONF',
        'm.conf.',
        'n@x',
        'o p',
        'q.ucf-dist',
        'under_score',
        'x.list',
        'Y',
      ].map((name, i) => [`${PARTS}/${name}`, `T::f${i} "${name}";\n`]),
    ),
    prefixes: ['t'],
    expect: { 'T::f0': '50plain', 'T::f7': 'g:colon.conf', 'T::f19': 'Y' },
  },
  {
    name: 'values without a name, odd colons, unclosed blocks, stray braces',
    tree: {
      [`${PARTS}/10odd`]: '"lonely";\nT::a;\nT:::b 1;\nT::c "1";\n}\nT::d 2;\n',
      [`${PARTS}/20open`]: 'T::open {\n inner "2";\n',
    },
    prefixes: ['t', ''],
    expect: { 'T::c': '1', 'T::d': '2', 'T::open::inner': '2' },
  },
  {
    name: 'a configure index that cannot be loaded stops the file, without failing',
    tree: {
      [`${PARTS}/10idx`]: 'T::a 1;\n#x-apt-configure-index "/goldgate-none";\nT::b 2;\n',
      [`${PARTS}/20`]: 'T::c 3;\n',
    },
    prefixes: ['t'],
    expect: { 'T::a': '1', 'T::c': '3' },
  },
];

const failing: { name: string; text: string; compareErrors?: boolean }[] = [
  { name: 'a backslash does not escape a quote', text: 'T::a "1";\nT::b "x\\"y";\nT::c 3;\n' },
  { name: 'two words after a name', text: 'T::a 1;\nT::b x y;\n' },
  { name: 'a block without a name', text: 'T::a 1;\n{ T::b 2; };\n' },
  { name: 'a directive inside a block', text: 'T { #clear T::a; };\n' },
  { name: '#clear without an argument', text: 'T::a 1; #clear;\n' },
  { name: 'an unknown directive that starts like #clear', text: 'T::a 1;\n#clear-ish T::j;\n' },
  { name: 'an unterminated statement', text: 'T::a "1";\nT::b "2"\n' },
  { name: 'an unterminated quote', text: 'T::a "1\n2";\n' },
  { name: 'an unterminated quote swallowing a semicolon', text: 'T::a "1";\nT::b "open;\nT::c "3";\n' },
  { name: 'an unterminated quote at the end', text: 'T::a "1";\nT::b "open;\n' },
  { name: 'a missing included directory', text: 'T::a 1;\n#include "etc/apt/nodir/";\n' },
  { name: 'a missing include', text: 'T::a 1;\n#include "etc/apt/missing.conf";\nT::b 2;\n' },
  // APT recurses until its depth limit; goldgate stops at the loop: only the failure is compared.
  { name: 'an include loop', text: '#include "etc/apt/apt.conf.d/10t";\n', compareErrors: false },
];

describe.skipIf(!hasAptConfig)(`goldgate and apt-config agree${skipNote}`, () => {
  for (const c of agreeing) {
    it(c.name, () => {
      const root = makeTree(c.tree);
      const config = collectAptConfig(openDirRootFs(root));
      const run = runAptConfig(root);
      expect(run.errors).toEqual([]);
      expect(run.status).toBe(0);
      expect(config.fatal).toBe(false);
      const mine = ours(config, c.prefixes);
      expect(sorted(mine)).toEqual(sorted(theirs(run, c.prefixes, mine)));
      for (const [key, value] of Object.entries(c.expect ?? {})) {
        expect(mine.get(key.toLowerCase())?.value, key).toBe(value);
      }
    });
  }

  for (const c of failing) {
    it(`fails like APT on ${c.name}`, () => {
      const root = makeTree({ [`${PARTS}/10t`]: c.text });
      const config = collectAptConfig(openDirRootFs(root));
      const run = runAptConfig(root);
      expect(run.status).toBe(100);
      expect(config.fatal).toBe(true);
      if (c.compareErrors === false) return;
      const errors = config.problems
        .filter((p) => p.reason.startsWith('syntax error: '))
        .map((p) => ({
          path: p.path,
          line: p.line,
          message: p.reason.replace(/^syntax error: (.*) \(APT stops.*$/, '$1'),
        }));
      expect(errors).toEqual(run.errors);
    });
  }
});

// The same for package sources, read by `apt-get indextargets`, which lists every index APT
// would fetch with the entry it comes from (`file:line`, or `file:stanza` for deb822).
const SRC = '/etc/apt/sources.list.d';

function runIndexTargets(root: string): { status: number; targets: string[]; errors: string[] } {
  const envFile = join(root, 'goldgate-apt-config.conf');
  writeFileSync(envFile, `Dir "${root}/";\n`);
  const run = spawnSync(
    'apt-get',
    [
      'indextargets',
      '--no-release-info',
      '--format',
      '$(SOURCESENTRY)\t$(TARGET_OF)\t$(REPO_URI)\t$(RELEASE)\t$(COMPONENT)',
    ],
    { cwd: root, env: { ...process.env, APT_CONFIG: envFile, LC_ALL: 'C' }, encoding: 'utf8' },
  );
  const targets = run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.slice(root.length).replace('$(COMPONENT)', ''));
  const errors = [...run.stderr.matchAll(/^E: (.*)$/gm)].map((m) => (m[1] as string).replaceAll(root, ''));
  return { status: run.status ?? -1, targets: [...new Set(targets)].sort(), errors };
}

/** A URI as APT prints it: with a trailing slash, and `scheme:/path` for an empty host. */
const aptUri = (uri: string): string =>
  (uri.endsWith('/') ? uri : `${uri}/`).replace(/^([^:]+):\/\/\//, '$1:/');

/** Goldgate's sources as the same `entry type uri/ suite component` rows. */
function ourTargets(sources: ReturnType<typeof collectAptSources>['sources']): string[] {
  const rows = new Set<string>();
  const stanzas = new Map<string, number>();
  for (const s of sources) {
    const entry = s.format === 'deb822' ? (stanzas.get(s.source.path) ?? 0) + 1 : (s.source.line ?? 0);
    if (s.format === 'deb822') stanzas.set(s.source.path, entry);
    if (!s.enabled) continue;
    for (const type of s.types)
      for (const uri of s.uris)
        for (const suite of s.suites)
          for (const component of s.components.length > 0 ? s.components : [''])
            rows.add([`${s.source.path}:${entry}`, type, aptUri(uri), suite, component].join('\t'));
  }
  return [...rows].sort();
}

describe.skipIf(!hasAptConfig)(`goldgate and apt-get indextargets agree on sources${skipNote}`, () => {
  it('on one-line and deb822 files, options, disabled entries and file names', () => {
    const root = makeTree({
      '/etc/apt/sources.list': fixture('sources.list'),
      [`${SRC}/debian.sources`]: fixture('debian.sources'),
      [`${SRC}/more.sources`]:
        'Types: deb\nURIs: http://a.example/debian\nSuites: s1 s2\nComponents: main\nEnabled: no\n\n' +
        'Types: deb-src deb\nURIs: http://b.example/debian http://c.example/debian\nSuites: s3\nComponents: c1 c2\nTrusted: yes\n',
      [`${SRC}/z.list`]: 'deb [arch=amd64,i386 signed-by=/x.gpg] "http://q.example/a b" s c\n',
      [`${SRC}/z.list.save`]: 'deb http://saved.example/debian s c\n',
      [`${SRC}/noext`]: 'deb http://noext.example/debian s c\n',
    });
    const mine = collectAptSources(openDirRootFs(root));
    const apt = runIndexTargets(root);
    expect(apt.errors).toEqual([]);
    expect(mine.problems.map((p) => p.path)).toEqual([`${SRC}/noext`]);
    expect(ourTargets(mine.sources)).toEqual(apt.targets);
    expect(apt.targets.length).toBeGreaterThan(10);
  });

  const rejected: [string, string][] = [
    [
      'deb http://x.example/debian bookworm',
      'Malformed entry 1 in list file /etc/apt/sources.list (Component)',
    ],
    [
      'rpm http://x.example/ fedora main',
      "Type 'rpm' is not known on line 1 in source list /etc/apt/sources.list",
    ],
    [
      'deb [arch] http://x.example/debian bookworm main',
      'Malformed entry 1 in list file /etc/apt/sources.list ([option] not assignment)',
    ],
    [
      'deb [a=] http://x.example/debian bookworm main',
      'Malformed entry 1 in list file /etc/apt/sources.list ([option] no value)',
    ],
    [
      'deb [=b] http://x.example/debian bookworm main',
      'Malformed entry 1 in list file /etc/apt/sources.list ([option] no key)',
    ],
    [
      'deb [a] http://x.example/debian bookworm main',
      'Malformed entry 1 in list file /etc/apt/sources.list ([option] too short)',
    ],
    ['deb no-colon bookworm main', 'Malformed entry 1 in list file /etc/apt/sources.list (URI parse)'],
    [
      'deb http://x.example/debian ./ main',
      'Malformed entry 1 in list file /etc/apt/sources.list (absolute Suite Component)',
    ],
    ['debhttp://x', 'Malformed line 1 in source list /etc/apt/sources.list (type)'],
  ];
  for (const [line, aptError] of rejected) {
    it(`rejects ${JSON.stringify(line)} as APT does`, () => {
      const root = makeTree({ '/etc/apt/sources.list': `${line}\n` });
      const mine = collectAptSources(openDirRootFs(root));
      const apt = runIndexTargets(root);
      expect(apt.errors[0]).toBe(aptError);
      expect(mine.sources).toEqual([]);
      // Goldgate's reason carries APT's explanation in parentheses, or its "Type ... is not known".
      const what = /\(([^)]*)\)$/.exec(aptError)?.[1] ?? /^(Type '.*' is not known)/.exec(aptError)?.[1];
      expect(mine.problems).toHaveLength(1);
      expect(mine.problems[0]?.reason).toContain(what);
      expect(mine.problems[0]?.line).toBe(1);
    });
  }
});
