import { describe, expect, it } from 'vitest';
import { AUTO_UPGRADES } from '../../test-support/debian-files.js';
import { treeFs } from '../../test-support/tree.js';
import { parseAptConf, readAptConfFile } from './conf-parser.js';
import type { AptConfAssignment } from './conf-parser.js';

const P = '/etc/apt/apt.conf.d/10test';

/** `key=value@line` (`+=` for an append, `#clear key@line`), to compare many statements at a glance. */
function brief(assignments: AptConfAssignment[]): string[] {
  return assignments.map((a) => {
    const at = `@${a.source.line}`;
    if (a.op === 'clear') return `#clear ${a.key}${at}`;
    return `${a.key}${a.op === 'append' ? '+=' : '='}${a.value}${at}`;
  });
}

describe('parseAptConf', () => {
  it("reads Debian's 20auto-upgrades into exact assignments", () => {
    const parsed = parseAptConf(AUTO_UPGRADES, P);
    expect(parsed).toEqual({
      assignments: [
        {
          key: 'APT::Periodic::Update-Package-Lists',
          lkey: 'apt::periodic::update-package-lists',
          value: '1',
          list: false,
          op: 'set',
          source: { path: P, line: 1 },
        },
        {
          key: 'APT::Periodic::Unattended-Upgrade',
          lkey: 'apt::periodic::unattended-upgrade',
          value: '1',
          list: false,
          op: 'set',
          source: { path: P, line: 2 },
        },
      ],
      problems: [],
      files: [P],
      ignoredFiles: [],
      fatal: false,
    });
  });

  it('reads unquoted values, nested and mixed blocks, and lists', () => {
    const text = [
      'APT::Periodic::Enable 1;',
      'APT { Periodic { Update-Package-Lists "1"; Unattended-Upgrade "1"; }; };',
      'APT::Periodic { Unattended-Upgrade "0"; };',
      'Unattended-Upgrade::Origins-Pattern {',
      '  "origin=Debian,codename=${distro_codename}";',
      '  "o=Debian,a=stable";',
      '};',
      'A { B { C { D "deep"; }; }; };',
      'List:: "direct";',
    ].join('\n');
    const parsed = parseAptConf(text, P);
    expect(brief(parsed.assignments)).toEqual([
      'APT::Periodic::Enable=1@1',
      'APT::Periodic::Update-Package-Lists=1@2',
      'APT::Periodic::Unattended-Upgrade=1@2',
      'APT::Periodic::Unattended-Upgrade=0@3',
      'Unattended-Upgrade::Origins-Pattern+=origin=Debian,codename=${distro_codename}@5',
      'Unattended-Upgrade::Origins-Pattern+=o=Debian,a=stable@6',
      'A::B::C::D=deep@8',
      'List+=direct@9',
    ]);
    expect(parsed.assignments[4]).toMatchObject({
      list: true,
      op: 'append',
      lkey: 'unattended-upgrade::origins-pattern',
    });
    expect(parsed.problems).toEqual([]);
  });

  it('skips // # and /* */ comments, but not inside quotes', () => {
    const text = [
      '/* A::hidden "1"; */ A::shown "1";',
      'A::url "http://x//y"; // A::no "1";',
      'A::hash "#1"; # A::no "2";',
      '/* spanning',
      'A::no "3";',
      '*/ A::after "1";',
      'A::inquote "/* not a comment */";',
      '//A::Automatic-Reboot "true";',
    ].join('\n');
    expect(brief(parseAptConf(text, P).assignments)).toEqual([
      'A::shown=1@1',
      'A::url=http://x//y@2',
      'A::hash=#1@3',
      'A::after=1@6',
      'A::inquote=/* not a comment */@7',
    ]);
  });

  it('reads several statements per line and one statement over several lines', () => {
    const text =
      'A::a 1; A::b "2"; A { c 3; d "4" }\nA::e\n"5"\n;\nA::f "x"\n  "y"   "z";\nA::g %41%42c; A::h "%41";\n';
    expect(brief(parseAptConf(text, P).assignments)).toEqual([
      'A::a=1@1',
      'A::b=2@1',
      'A::c=3@1',
      'A::d=4@1',
      'A::e=5@4',
      'A::f=x y z@6',
      'A::g=ABc@7',
      'A::h=%41@7',
    ]);
  });

  it('keeps quotes holding ; { } and //, and expands tabs like APT', () => {
    const text = 'A::a "x;y{z}"; A::b "//"; A::c\t"1\t2";';
    expect(brief(parseAptConf(text, P).assignments)).toEqual([
      'A::a=x;y{z}@1',
      'A::b=//@1',
      'A::c=1        2@1',
    ]);
  });

  it('reads #clear as an assignment, and keeps the spelling of names', () => {
    const parsed = parseAptConf('apt::periodic::UNATTENDED-upgrade "1";\n#clear APT::Periodic;\n', P);
    expect(parsed.assignments[0]).toMatchObject({
      key: 'apt::periodic::UNATTENDED-upgrade',
      lkey: 'apt::periodic::unattended-upgrade',
    });
    expect(parsed.assignments[1]).toEqual({
      key: 'APT::Periodic',
      lkey: 'apt::periodic',
      value: '',
      list: false,
      op: 'clear',
      source: { path: P, line: 2 },
    });
  });

  it('keeps non-ASCII values as UTF-8', () => {
    expect(brief(parseAptConf('A::name "café ☕";', P).assignments)).toEqual(['A::name=café ☕@1']);
    expect(brief(parseAptConf(Buffer.from('A::b %c3%a9;'), P).assignments)).toEqual(['A::b=é@1']);
  });

  it('stops at the first syntax error, keeps what came before, and marks it fatal', () => {
    const parsed = parseAptConf('A::a "1";\nA::b x y;\nA::c "3";\n', P);
    expect(brief(parsed.assignments)).toEqual(['A::a=1@1']);
    expect(parsed.fatal).toBe(true);
    expect(parsed.problems).toEqual([
      {
        path: P,
        line: 2,
        reason: 'syntax error: Extra junk after value (APT stops reading here and refuses to run)',
      },
    ]);
  });

  it('reports an unterminated quote where APT does', () => {
    // The quote swallows the `;` of line 2; line 3's statement then holds two values.
    const parsed = parseAptConf('A::a "1";\nA::b "open;\nA::c "3";\n', P);
    expect(brief(parsed.assignments)).toEqual(['A::a=1@1']);
    expect(parsed.problems).toEqual([
      {
        path: P,
        line: 3,
        reason: 'syntax error: Extra junk after value (APT stops reading here and refuses to run)',
      },
    ]);
    const atEnd = parseAptConf('A::a "1";\nA::b "open;\n', P);
    expect(atEnd.problems).toEqual([
      {
        path: P,
        line: 3,
        reason: 'syntax error: Extra junk at end of file (APT stops reading here and refuses to run)',
      },
    ]);
  });

  it('reports, without failing, what APT accepts silently', () => {
    const parsed = parseAptConf('A::open {\n b 1;\n', P);
    expect(brief(parsed.assignments)).toEqual(['A::open::b=1@2']);
    expect(parsed.fatal).toBe(false);
    expect(parsed.problems).toEqual([
      { path: P, line: 1, reason: 'block "A::open" is never closed (APT accepts this)' },
    ]);
  });
});

describe('readAptConfFile with includes', () => {
  it('follows absolute and relative includes and included directories, in order', () => {
    const fs = treeFs({
      '/etc/apt/apt.conf.d/10inc':
        'A::a 1;\n#include "/etc/apt/one.conf";\n#include "etc/apt/two.conf";\n#include "/etc/apt/more.d/";\nA::z 1;\n',
      '/etc/apt/one.conf': 'A::one 1;\n',
      '/etc/apt/two.conf': 'A::two 1;\n',
      '/etc/apt/more.d/b.conf': 'A::b 1;\n',
      '/etc/apt/more.d/a': 'A::noext 1;\n',
      '/etc/apt/more.d/c.old': 'A::old 1;\n',
    });
    const parsed = readAptConfFile(fs, '/etc/apt/apt.conf.d/10inc');
    expect(brief(parsed.assignments)).toEqual([
      'A::a=1@1',
      'A::one=1@1',
      'A::two=1@1',
      'A::noext=1@1',
      'A::b=1@1',
      'A::z=1@5',
    ]);
    expect(parsed.assignments[1]?.source.path).toBe('/etc/apt/one.conf');
    expect(parsed.files).toEqual([
      '/etc/apt/apt.conf.d/10inc',
      '/etc/apt/one.conf',
      '/etc/apt/two.conf',
      '/etc/apt/more.d/a',
      '/etc/apt/more.d/b.conf',
    ]);
    expect(parsed.ignoredFiles).toEqual(['/etc/apt/more.d/c.old']);
    expect(parsed.fatal).toBe(false);
    expect(parsed.problems).toEqual([
      {
        path: '/etc/apt/apt.conf.d/10inc',
        line: 3,
        reason:
          'relative #include "etc/apt/two.conf" is resolved against the working directory of the apt process, not this file\'s directory (read here as /etc/apt/two.conf)',
      },
      {
        path: '/etc/apt/more.d/c.old',
        reason:
          'ignored by APT: invalid filename extension "old" (APT reads names with no extension or ".conf")',
      },
    ]);
  });

  it('fails on a missing include like APT, keeping what came before', () => {
    const fs = treeFs({ '/etc/apt/x.conf': 'A::a 1;\n#include "/etc/apt/missing.conf";\nA::b 1;\n' });
    const parsed = readAptConfFile(fs, '/etc/apt/x.conf');
    expect(brief(parsed.assignments)).toEqual(['A::a=1@1']);
    expect(parsed.fatal).toBe(true);
    expect(parsed.problems).toEqual([
      { path: '/etc/apt/missing.conf', reason: 'cannot read this file (APT: "Unable to read")' },
      {
        path: '/etc/apt/x.conf',
        line: 2,
        reason: 'syntax error: Included from here (APT stops reading here and refuses to run)',
      },
    ]);
  });

  it('stops an include loop', () => {
    const fs = treeFs({
      '/etc/apt/a.conf': 'A::a 1;\n#include "/etc/apt/b.conf";\n',
      '/etc/apt/b.conf': 'A::b 1;\n#include "/etc/apt/a.conf";\n',
    });
    const parsed = readAptConfFile(fs, '/etc/apt/a.conf');
    expect(brief(parsed.assignments)).toEqual(['A::a=1@1', 'A::b=1@1']);
    expect(parsed.fatal).toBe(true);
    expect(parsed.problems.map((p) => `${p.path}:${p.line ?? ''} ${p.reason}`)).toEqual([
      '/etc/apt/a.conf: include loop: this file includes itself (APT fails with "Too many nested includes")',
      '/etc/apt/b.conf:2 syntax error: Included from here (APT stops reading here and refuses to run)',
      '/etc/apt/a.conf:2 syntax error: Included from here (APT stops reading here and refuses to run)',
    ]);
  });

  it("stops past APT's include depth", () => {
    const entries: Record<string, string> = {};
    for (let i = 0; i <= 12; i++)
      entries[`/etc/apt/d${i}.conf`] = `A::d${i} 1;\n#include "/etc/apt/d${i + 1}.conf";\n`;
    const parsed = readAptConfFile(treeFs(entries), '/etc/apt/d0.conf');
    // d0 is at depth 0; d11 may not include any more.
    expect(parsed.assignments).toHaveLength(12);
    expect(parsed.problems[0]).toEqual({
      path: '/etc/apt/d11.conf',
      line: 2,
      reason: 'syntax error: Too many nested includes (APT stops reading here and refuses to run)',
    });
  });
});
