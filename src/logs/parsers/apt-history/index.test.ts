import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import aptHistory, {
  MAX_PARAGRAPH_CHARS,
  MAX_PARAGRAPH_LINES,
  classifyTool,
  parsePackageList,
} from './index.js';
import type { AptHistoryRecord } from './index.js';

const path = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const read = (name: string) => readFileSync(path(name), 'utf8');
const at = (text: string, local: string) => ({ text, local });
const FIXTURES = ['lab-incident.history.log', 'apt-varieties.history.log', 'hand-made.history.log'];

/** A record with the defaults of a paragraph that says nothing. */
function record(
  fields: Partial<AptHistoryRecord> & Pick<AptHistoryRecord, 'file' | 'line'>,
): AptHistoryRecord {
  return {
    source: 'apt-history',
    time: null,
    end: null,
    commandline: null,
    requestedBy: null,
    tool: 'unknown',
    changes: [],
    error: null,
    ...fields,
  };
}

describe('apt-history on the lab incident sample', () => {
  it('reads the unattended upgrade of acme-runtime', async () => {
    const file = 'lab-incident.history.log';
    const { records, problems } = await parseFile(path(file), aptHistory, file);
    expect(problems).toEqual([]);
    expect(records).toEqual([
      record({
        file,
        line: 2,
        time: at('2026-11-27  07:47:13', '2026-11-27T07:47:13'),
        end: at('2026-11-27  07:47:13', '2026-11-27T07:47:13'),
        commandline: '/usr/bin/unattended-upgrade',
        tool: 'unattended-upgrade',
        changes: [
          {
            action: 'upgrade',
            package: 'acme-runtime',
            arch: 'amd64',
            from: '1.0',
            to: '1.0+deb12u1',
            automatic: false,
          },
        ],
      }),
    ]);
  });
});

describe('apt-history on the apt-varieties sample', () => {
  const file = 'apt-varieties.history.log';
  const { records, problems } = parseText(read(file), aptHistory, file);
  const t27 = at('2026-11-27  08:04:27', '2026-11-27T08:04:27');
  const t28 = at('2026-11-27  08:04:28', '2026-11-27T08:04:28');

  it('reads five paragraphs without problems', () => {
    expect(problems).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([1, 6, 11, 17, 22]);
  });

  it('reads an install with an automatic dependency, and no Requested-By when root ran apt', () => {
    expect(records[0]).toEqual(
      record({
        file,
        line: 1,
        time: t27,
        end: t27,
        commandline: 'apt-get install -y -q acme-web',
        tool: 'apt-get',
        changes: [
          { action: 'install', package: 'acme-web', arch: 'amd64', from: null, to: '1.0', automatic: false },
          {
            action: 'install',
            package: 'acme-runtime',
            arch: 'amd64',
            from: null,
            to: '1.0+deb12u1',
            automatic: true,
          },
        ],
      }),
    );
  });

  it('reads the Downgrade section with from and to', () => {
    expect(records[1]).toEqual(
      record({
        file,
        line: 6,
        time: t27,
        end: t27,
        commandline: 'apt-get install -y -q --allow-downgrades acme-runtime=1.0',
        tool: 'apt-get',
        changes: [
          {
            action: 'downgrade',
            package: 'acme-runtime',
            arch: 'amd64',
            from: '1.0+deb12u1',
            to: '1.0',
            automatic: false,
          },
        ],
      }),
    );
  });

  it('keeps the Error line of the failed install', () => {
    expect(records[2]).toEqual(
      record({
        file,
        line: 11,
        time: t28,
        end: t28,
        commandline: 'apt-get install -y -q acme-broken',
        tool: 'apt-get',
        changes: [
          {
            action: 'install',
            package: 'acme-broken',
            arch: 'amd64',
            from: null,
            to: '0.1',
            automatic: false,
          },
        ],
        error: 'Sub-process /usr/bin/dpkg returned an error code (1)',
      }),
    );
  });

  it('reads Remove and Purge with the version removed as `from`', () => {
    expect(records.slice(3)).toEqual([
      record({
        file,
        line: 17,
        time: t28,
        end: t28,
        commandline: 'apt-get remove -y -q acme-web',
        tool: 'apt-get',
        changes: [
          { action: 'remove', package: 'acme-web', arch: 'amd64', from: '1.0', to: null, automatic: false },
        ],
      }),
      record({
        file,
        line: 22,
        time: t28,
        end: t28,
        commandline: 'apt-get purge -y -q acme-runtime',
        tool: 'apt-get',
        changes: [
          {
            action: 'purge',
            package: 'acme-runtime',
            arch: 'amd64',
            from: '1.0',
            to: null,
            automatic: false,
          },
        ],
      }),
    ]);
  });
});

describe('apt-history on hand-made paragraphs', () => {
  const file = 'hand-made.history.log';
  const { records, problems } = parseText(read(file), aptHistory, file);

  it('reads seven paragraphs; the last has no End-Date and is reported', () => {
    expect(records.map((r) => [r.line, r.tool, r.changes.length])).toEqual([
      [2, 'unattended-upgrade', 3],
      [7, 'apt', 1],
      [13, 'cloud-init', 3],
      [18, 'aptitude', 3],
      [25, 'apt-get', 1],
      [30, 'cloud-init', 2],
      [35, 'apt-get', 1],
    ]);
    expect(problems).toEqual([
      { file, line: 35, reason: 'paragraph has no End-Date: apt did not finish, or the log was cut' },
    ]);
  });

  it('keeps multi-arch packages apart', () => {
    expect(records[0]?.changes).toEqual([
      {
        action: 'upgrade',
        package: 'libc6',
        arch: 'amd64',
        from: '2.36-9+deb12u3',
        to: '2.36-9+deb12u4',
        automatic: false,
      },
      {
        action: 'upgrade',
        package: 'libc6',
        arch: 'i386',
        from: '2.36-9+deb12u3',
        to: '2.36-9+deb12u4',
        automatic: false,
      },
      {
        action: 'upgrade',
        package: 'libc-bin',
        arch: 'amd64',
        from: '2.36-9+deb12u3',
        to: '2.36-9+deb12u4',
        automatic: false,
      },
    ]);
  });

  it('reads Reinstall with an epoch and Requested-By with a uid', () => {
    expect(records[1]).toEqual(
      record({
        file,
        line: 7,
        time: at('2026-11-28  06:40:02', '2026-11-28T06:40:02'),
        end: at('2026-11-28  06:40:05', '2026-11-28T06:40:05'),
        commandline: 'apt install --reinstall openssh-server',
        requestedBy: { user: 'admin', uid: 1000 },
        tool: 'apt',
        changes: [
          {
            action: 'reinstall',
            package: 'openssh-server',
            arch: 'amd64',
            from: '1:9.2p1-2+deb12u3',
            to: '1:9.2p1-2+deb12u3',
            automatic: false,
          },
        ],
      }),
    );
  });

  it("tells cloud-init's apt-get from a person's", () => {
    expect(records[2]).toEqual(
      record({
        file,
        line: 13,
        time: at('2026-11-28  06:41:10', '2026-11-28T06:41:10'),
        end: at('2026-11-28  06:41:14', '2026-11-28T06:41:14'),
        commandline:
          'apt-get --option=Dpkg::Options::=--force-confold --option=Dpkg::options::=--force-unsafe-io --assume-yes --quiet install nginx',
        tool: 'cloud-init',
        changes: [
          {
            action: 'install',
            package: 'nginx',
            arch: 'amd64',
            from: null,
            to: '1.22.1-9',
            automatic: false,
          },
          {
            action: 'install',
            package: 'nginx-common',
            arch: 'all',
            from: null,
            to: '1.22.1-9',
            automatic: true,
          },
          {
            action: 'install',
            package: 'libnginx-mod-stream',
            arch: 'amd64',
            from: null,
            to: '1.22.1-9',
            automatic: true,
          },
        ],
      }),
    );
  });

  it('keeps the order of sections in one paragraph (Downgrade, then Remove)', () => {
    expect(records[3]?.requestedBy).toEqual({ user: 'ops', uid: 1001 });
    expect(records[3]?.changes.map((c) => `${c.action} ${c.package} ${c.from} ${c.to}`)).toEqual([
      'downgrade python3 3.11.2-1+b1 3.11.2-1',
      'downgrade python3-minimal 3.11.2-1+b1 3.11.2-1',
      'remove telnet 0.17+2.4-2+deb12u1 null',
    ]);
    expect(records[4]?.changes).toEqual([
      {
        action: 'purge',
        package: 'inetutils-telnet',
        arch: 'amd64',
        from: '2:2.4-2+deb12u1',
        to: null,
        automatic: false,
      },
    ]);
  });

  it('emits the truncated last paragraph with what it has', () => {
    expect(records[6]).toEqual(
      record({
        file,
        line: 35,
        time: at('2026-11-28  07:10:00', '2026-11-28T07:10:00'),
        commandline: 'apt-get dist-upgrade -y',
        tool: 'apt-get',
        changes: [
          {
            action: 'upgrade',
            package: 'acme-runtime',
            arch: 'amd64',
            from: '1.0',
            to: '1.0+deb12u1',
            automatic: false,
          },
        ],
        truncated: true,
      }),
    );
  });
});

describe('classifyTool', () => {
  it.each([
    ['/usr/bin/unattended-upgrade', 'unattended-upgrade'],
    ['/usr/bin/python3 /usr/bin/unattended-upgrade --dry-run', 'unattended-upgrade'],
    ['apt-get install -y nginx', 'apt-get'],
    ['/usr/bin/apt-get -y upgrade', 'apt-get'],
    ['apt full-upgrade', 'apt'],
    ['aptitude safe-upgrade', 'aptitude'],
    ['dpkg --configure -a', 'dpkg'],
    [
      'apt-get --option=Dpkg::Options::=--force-confold --option=Dpkg::options::=--force-unsafe-io --assume-yes --quiet dist-upgrade',
      'cloud-init',
    ],
    [
      'eatmydata apt-get --option=Dpkg::Options::=--force-confold --option=Dpkg::options::=--force-unsafe-io --assume-yes --quiet install curl',
      'cloud-init',
    ],
    ['apt-get --option=Dpkg::Options::=--force-confold install foo', 'apt-get'],
    ["packagekit role='update-packages'", 'unknown'],
    ['', 'unknown'],
    [null, 'unknown'],
  ] as const)('%s → %s', (commandline, tool) => {
    expect(classifyTool(commandline)).toBe(tool);
  });
});

describe('parsePackageList', () => {
  it('splits at commas outside parentheses only', () => {
    expect(parsePackageList('install', 'a:amd64 (1.0, automatic), b:all (2:3.4-5), c (0.1~rc1)')).toEqual({
      changes: [
        { action: 'install', package: 'a', arch: 'amd64', from: null, to: '1.0', automatic: true },
        { action: 'install', package: 'b', arch: 'all', from: null, to: '2:3.4-5', automatic: false },
        { action: 'install', package: 'c', arch: null, from: null, to: '0.1~rc1', automatic: false },
      ],
      problems: [],
    });
  });

  it('reads epochs on both sides of an upgrade', () => {
    expect(
      parsePackageList('upgrade', 'openssh-server:amd64 (1:9.2p1-2+deb12u2, 1:9.2p1-2+deb12u3)').changes,
    ).toEqual([
      {
        action: 'upgrade',
        package: 'openssh-server',
        arch: 'amd64',
        from: '1:9.2p1-2+deb12u2',
        to: '1:9.2p1-2+deb12u3',
        automatic: false,
      },
    ]);
  });

  it('reports items it cannot read and keeps the rest', () => {
    expect(
      parsePackageList('upgrade', 'good:amd64 (1, 2), broken:amd64 1.0, Bad:amd64 (1, 2), x:amd64 (1 0, 2)'),
    ).toEqual({
      changes: [{ action: 'upgrade', package: 'good', arch: 'amd64', from: '1', to: '2', automatic: false }],
      problems: [
        "cannot read package 'broken:amd64 1.0' (expected 'name:arch (version)')",
        "invalid package name 'Bad:amd64'",
        "invalid version '1 0' for x:amd64",
      ],
    });
  });

  it('keeps an item with the wrong number of versions, and says so', () => {
    expect(parsePackageList('upgrade', 'a:amd64 (2.0)')).toEqual({
      changes: [{ action: 'upgrade', package: 'a', arch: 'amd64', from: null, to: '2.0', automatic: false }],
      problems: ['a:amd64: expected (from, to), found (2.0)'],
    });
    expect(parsePackageList('install', '')).toEqual({ changes: [], problems: ['empty install list'] });
  });
});

describe('apt-history problems', () => {
  const parse = (...lines: string[]) => parseText(`${lines.join('\n')}\n`, aptHistory, 'h.log');

  it('reports lines it cannot read and reads the rest of the paragraph', () => {
    const { records, problems } = parse(
      'Start-Date: 2026-11-27  25:61:00',
      'Commandline: apt-get install a',
      'Commandline: apt-get install b',
      'Requested-By: someone',
      'no colon here',
      'Frobnicate: yes',
      'Install: a:amd64 (1.0), ???',
      'End-Date: 2026-11-27  07:00:01',
    );
    expect(problems.map((p) => [p.line, p.reason])).toEqual([
      [1, "Start-Date '2026-11-27  25:61:00' is not a date and time"],
      [3, 'Commandline repeated in one paragraph, the first is kept'],
      [4, "Requested-By 'someone' has no valid '(uid)'"],
      [5, "not a 'Field: value' line"],
      [6, "unknown field 'Frobnicate'"],
      [7, "Install: cannot read package '???' (expected 'name:arch (version)')"],
    ]);
    expect(records).toEqual([
      record({
        file: 'h.log',
        line: 1,
        end: at('2026-11-27  07:00:01', '2026-11-27T07:00:01'),
        commandline: 'apt-get install a',
        requestedBy: { user: 'someone', uid: null },
        tool: 'apt-get',
        changes: [
          { action: 'install', package: 'a', arch: 'amd64', from: null, to: '1.0', automatic: false },
        ],
      }),
    ]);
  });

  it('starts a paragraph at a field with no Start-Date before it, and closes one cut by the next Start-Date', () => {
    const { records, problems } = parse(
      'garbage before anything',
      'Commandline: apt-get upgrade',
      'Upgrade: a:amd64 (1, 2)',
      'Start-Date: 2026-11-27  07:00:00',
      'Commandline: apt-get install b',
      'Start-Date: 2026-11-27  07:00:05',
      'End-Date: 2026-11-27  07:00:06',
    );
    expect(problems.map((p) => [p.line, p.reason])).toEqual([
      [1, 'line outside a history paragraph'],
      [2, 'paragraph has no Start-Date (it begins with Commandline:)'],
      [2, 'paragraph has no End-Date: apt did not finish, or the log was cut'],
      [4, 'paragraph has no End-Date: apt did not finish, or the log was cut'],
    ]);
    expect(
      records.map((r) => [r.line, r.time?.local ?? null, r.truncated ?? false, r.changes.length]),
    ).toEqual([
      [2, null, true, 1],
      [4, '2026-11-27T07:00:00', true, 0],
      [6, '2026-11-27T07:00:05', false, 0],
    ]);
  });

  it('reads a paragraph that ends at the end of the file without a newline', () => {
    const { records, problems } = parseText(
      'Start-Date: 2026-11-27  07:00:00\nEnd-Date: 2026-11-27  07:00:01',
      aptHistory,
    );
    expect(problems).toEqual([]);
    expect(records).toHaveLength(1);
  });

  it(`cuts a paragraph at ${MAX_PARAGRAPH_LINES} lines and reports it once`, () => {
    const lines = ['Start-Date: 2026-11-27  07:00:00'];
    for (let i = 0; i < MAX_PARAGRAPH_LINES + 50; i++) lines.push(`Error: e${i}`);
    lines.push('End-Date: 2026-11-27  07:00:01');
    const { records, problems } = parse(...lines);
    expect(problems).toEqual([
      {
        file: 'h.log',
        line: MAX_PARAGRAPH_LINES + 2,
        reason: `paragraph longer than ${MAX_PARAGRAPH_LINES} lines or ${MAX_PARAGRAPH_CHARS} characters, rest ignored`,
      },
      { file: 'h.log', line: 1, reason: 'paragraph has no End-Date: apt did not finish, or the log was cut' },
    ]);
    expect(records[0]?.error?.split('\n')).toHaveLength(MAX_PARAGRAPH_LINES);
  });
});

describe('apt-history files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goldgate-apt-history-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a gzip-rotated history.log.1.gz like the plain file', async () => {
    const rotated = join(dir, 'history.log.1.gz');
    writeFileSync(rotated, gzipSync(readFileSync(path('hand-made.history.log'))));
    const plain = await parseFile(path('hand-made.history.log'), aptHistory, 'history.log');
    const gz = await parseFile(rotated, aptHistory, 'history.log');
    expect(gz).toEqual(plain);
    expect(gz.records).toHaveLength(7);
  });

  it('detects history.log, its rotations and instance-prefixed names, and nothing else', () => {
    const head = headOf(read('apt-varieties.history.log'));
    for (const name of [
      'history.log',
      'history.log.1',
      'history.log.2.gz',
      'i-0abc.history.log',
      'i-0abc-history.log.1.gz',
    ]) {
      expect(aptHistory.detect(name, head), name).toBe(true);
      expect(aptHistory.detect(name, []), `${name} (empty)`).toBe(true);
    }
    expect(aptHistory.detect('whatever.txt', head)).toBe(true);
    expect(aptHistory.detect('myhistory.log', [])).toBe(false);
    expect(
      aptHistory.detect('history.log', headOf(read('../../dpkg/__fixtures__/apt-varieties.dpkg.log'))),
    ).toBe(false);
    for (const other of [
      '../../dpkg/__fixtures__/lab-incident.dpkg.log',
      '../../apt-term/__fixtures__/lab-incident.term.log',
      '../../unattended-upgrades/__fixtures__/lab-incident.unattended-upgrades.log',
      '../../unattended-upgrades-dpkg/__fixtures__/lab-incident.unattended-upgrades-dpkg.log',
    ]) {
      expect(aptHistory.detect(other.split('/').pop() ?? '', headOf(read(other))), other).toBe(false);
    }
  });
});

describe('apt-history fuzzing', () => {
  it('never throws and keeps line numbers inside the input over 600 mutated inputs', () => {
    const result = fuzzParser(aptHistory, FIXTURES.map(read), { count: 600, seed: 1 });
    expect(result.violations).toEqual([]);
    expect(result.inputs).toBe(600);
    expect(result.records).toBeGreaterThan(600);
    expect(result.problems).toBeGreaterThan(100);
  });
});
