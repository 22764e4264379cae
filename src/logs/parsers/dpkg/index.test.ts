import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import dpkg, { changeOf } from './index.js';
import type { DpkgRecord } from './index.js';

const path = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const read = (name: string) => readFileSync(path(name), 'utf8');
const FIXTURES = ['lab-incident.dpkg.log', 'apt-varieties.dpkg.log', 'hand-made.dpkg.log'];

const EMPTY = {
  source: 'dpkg',
  action: null,
  scope: null,
  package: null,
  arch: null,
  from: null,
  to: null,
  state: null,
  version: null,
  path: null,
  decision: null,
  change: null,
} as const;

/** A record with every field null but those given. */
function rec(
  file: string,
  line: number,
  stamp: string,
  fields: Partial<DpkgRecord> & Pick<DpkgRecord, 'kind'>,
): DpkgRecord {
  return { ...EMPTY, file, line, time: { text: stamp, local: stamp.replace(' ', 'T') }, ...fields };
}

describe('dpkg on the lab incident sample', () => {
  const file = 'lab-incident.dpkg.log';

  it('reads every line, the upgrade of acme-runtime included', async () => {
    const { records, problems } = await parseFile(path(file), dpkg, file);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(18);
    expect(records.map((r) => r.kind)).toEqual([
      'startup',
      ...['action', 'status', 'status', 'action', 'status', 'status'],
      'startup',
      ...['action', 'status', 'status', 'status', 'status'],
      'startup',
      ...['action', 'status', 'status', 'status'],
    ]);
    const t1 = '2026-11-27 07:46:58';
    const t2 = '2026-11-27 07:47:13';
    expect(records.slice(0, 2)).toEqual([
      rec(file, 1, t1, { kind: 'startup', scope: 'archives', action: 'install' }),
      rec(file, 2, t1, {
        kind: 'action',
        action: 'install',
        package: 'acme-runtime',
        arch: 'all',
        to: '1.0',
        change: 'install',
      }),
    ]);
    // `dpkg -i` logs configure with the installed and the available version.
    expect(records[4]).toEqual(
      rec(file, 5, t1, {
        kind: 'action',
        action: 'configure',
        package: 'acme-runtime',
        arch: 'all',
        from: '1.0',
        to: '1.0',
      }),
    );
    expect(records.slice(7, 9)).toEqual([
      rec(file, 8, t2, { kind: 'startup', scope: 'archives', action: 'unpack' }),
      rec(file, 9, t2, {
        kind: 'action',
        action: 'upgrade',
        package: 'acme-runtime',
        arch: 'all',
        from: '1.0',
        to: '1.0+deb12u1',
        change: 'upgrade',
      }),
    ]);
    expect(records[17]).toEqual(
      rec(file, 18, t2, {
        kind: 'status',
        state: 'installed',
        package: 'acme-runtime',
        arch: 'all',
        version: '1.0+deb12u1',
      }),
    );
  });
});

describe('dpkg on the apt-varieties sample', () => {
  const file = 'apt-varieties.dpkg.log';
  const { records, problems } = parseText(read(file), dpkg, file);
  const actions = records.filter((r) => r.kind === 'action');

  it('reads all 59 lines without problems', () => {
    expect(problems).toEqual([]);
    expect(records).toHaveLength(59);
    expect(records.filter((r) => r.kind === 'startup')).toHaveLength(13);
    expect(records.filter((r) => r.kind === 'status')).toHaveLength(35);
    expect(actions).toHaveLength(11);
  });

  it('calls the downgrade a downgrade although dpkg wrote `upgrade`', () => {
    expect(records[18]).toEqual(
      rec(file, 19, '2026-11-27 08:04:27', {
        kind: 'action',
        action: 'upgrade',
        package: 'acme-runtime',
        arch: 'all',
        from: '1.0+deb12u1',
        to: '1.0',
        change: 'downgrade',
      }),
    );
  });

  it('tells what each action did', () => {
    expect(
      actions.map((r) => `${r.line} ${r.action} ${r.package}:${r.arch} ${r.from} ${r.to} → ${r.change}`),
    ).toEqual([
      '3 install acme-runtime:all null 1.0+deb12u1 → install',
      '6 install acme-web:all null 1.0 → install',
      '10 configure acme-runtime:all 1.0+deb12u1 null → null',
      '14 configure acme-web:all 1.0 null → null',
      '19 upgrade acme-runtime:all 1.0+deb12u1 1.0 → downgrade',
      '25 configure acme-runtime:all 1.0 null → null',
      '30 install acme-broken:all null 0.1 → install',
      '34 configure acme-broken:all 0.1 null → null',
      '39 remove acme-broken:all 0.1 null → remove',
      '45 remove acme-web:all 1.0 null → remove',
      '53 remove acme-runtime:all 1.0 null → remove',
    ]);
  });

  it('reads `<none>` as a null version in status lines', () => {
    expect(records[41]).toEqual(
      rec(file, 42, '2026-11-27 08:04:28', {
        kind: 'status',
        state: 'not-installed',
        package: 'acme-broken',
        arch: 'all',
      }),
    );
  });
});

describe('dpkg on hand-made lines', () => {
  const file = 'hand-made.dpkg.log';
  const { records, problems } = parseText(read(file), dpkg, file);
  const byLine = (n: number) => records.find((r) => r.line === n);

  it('reads all 33 lines without problems', () => {
    expect(problems).toEqual([]);
    expect(records).toHaveLength(33);
  });

  it('reads conffile decisions', () => {
    expect([byLine(20), byLine(21)]).toEqual([
      rec(file, 20, '2026-11-28 06:40:04', {
        kind: 'conffile',
        path: '/etc/ssh/sshd_config',
        decision: 'keep',
      }),
      rec(file, 21, '2026-11-28 06:40:05', {
        kind: 'conffile',
        path: '/etc/default/ssh',
        decision: 'install',
      }),
    ]);
  });

  it('reads trigproc and triggers-pending', () => {
    expect(byLine(12)).toEqual(
      rec(file, 12, '2026-11-28 06:25:16', {
        kind: 'action',
        action: 'trigproc',
        package: 'libc-bin',
        arch: 'amd64',
        from: '2.36-9+deb12u4',
      }),
    );
    expect(byLine(17)).toEqual(
      rec(file, 17, '2026-11-28 06:40:04', {
        kind: 'status',
        state: 'triggers-pending',
        package: 'man-db',
        arch: 'amd64',
        version: '2.11.2-2',
      }),
    );
  });

  it('keeps the two architectures of libc6 apart', () => {
    expect(
      records
        .filter((r) => r.kind === 'action' && r.package === 'libc6' && r.change === 'upgrade')
        .map((r) => r.arch),
    ).toEqual(['amd64', 'i386']);
  });

  it('compares versions with epochs: reinstall, downgrade across an epoch, purge', () => {
    expect(
      [16, 25, 29, 32, 33].map((n) => [
        n,
        byLine(n)?.action,
        byLine(n)?.from,
        byLine(n)?.to,
        byLine(n)?.change,
      ]),
    ).toEqual([
      [16, 'upgrade', '1:9.2p1-2+deb12u3', '1:9.2p1-2+deb12u3', 'reinstall'],
      [25, 'upgrade', '3.11.2-1+b1', '3.11.2-1', 'downgrade'],
      [29, 'purge', '2:2.4-2+deb12u1', null, 'purge'],
      [32, 'upgrade', '1:1.0-1', '2.0-1', 'downgrade'],
      [33, 'install', '0.17+2.4-2+deb12u1', '0.17+2.4-2+deb12u1', 'reinstall'],
    ]);
  });
});

describe('changeOf', () => {
  it.each([
    ['install', null, '1.0', 'install'],
    ['upgrade', '1.0', '1.0+deb12u1', 'upgrade'],
    ['upgrade', '1.0+deb12u1', '1.0', 'downgrade'],
    ['upgrade', '1.0~rc1', '1.0', 'upgrade'],
    ['upgrade', '1:1.0', '2.0', 'downgrade'],
    ['upgrade', '1.0', '1.0', 'reinstall'],
    ['install', '1.0', '2.0', 'upgrade'],
    ['remove', '1.0', null, 'remove'],
    ['purge', '1.0', null, 'purge'],
    ['configure', '1.0', null, null],
    ['trigproc', '1.0', null, null],
    ['upgrade', 'not a version', '1.0', undefined],
    ['upgrade', '1.0', null, undefined],
  ] as const)('%s %s %s → %s', (action, from, to, change) => {
    expect(changeOf(action, from, to)).toBe(change);
  });
});

describe('dpkg problems', () => {
  it('reports lines it cannot read and reads the rest', () => {
    const text = [
      '2026-11-27 07:00:00 startup archives unpack',
      'garbage',
      '2026-11-27 07:00:00 startup everything unpack',
      '2026-11-27 07:00:00 status installed',
      '2026-11-27 07:00:00 upgrade acme:all 1.0',
      '2026-11-27 07:00:00 upgrade Acme:all 1.0 1.1',
      '2026-11-27 07:00:00 upgrade acme:all 1.0 1..1:',
      '2026-11-27 07:00:00 conffile /etc/x maybe',
      '2026-11-27 07:00:00 frobnicate acme:all',
      '2026-13-45 07:00:00 status installed acme:all 1.0',
      '',
      '2026-11-27 07:00:01 conffile /etc/with space.conf keep',
    ].join('\n');
    const { records, problems } = parseText(text, dpkg, 'd.log');
    expect(problems.map((p) => [p.line, p.reason])).toEqual([
      [2, "not a dpkg.log line: 'garbage'"],
      [
        3,
        "expected 'startup archives|packages <action>', found '2026-11-27 07:00:00 startup everything unpack'",
      ],
      [4, "expected 'status <state> <package> <version>', found '2026-11-27 07:00:00 status installed'"],
      [5, "expected 'upgrade <package> <from> <to>', found '2026-11-27 07:00:00 upgrade acme:all 1.0'"],
      [6, "invalid package name 'Acme:all'"],
      [7, "cannot tell what 'upgrade' did: versions '1.0' → '1..1:'"],
      [8, "expected 'conffile <path> install|keep', found '2026-11-27 07:00:00 conffile /etc/x maybe'"],
      [9, "unknown dpkg.log entry 'frobnicate'"],
      [10, "'2026-13-45 07:00:00' is not a valid date and time"],
    ]);
    expect(records.map((r) => [r.line, r.kind, r.change, r.time?.local ?? null, r.path])).toEqual([
      [1, 'startup', null, '2026-11-27T07:00:00', null],
      [7, 'action', null, '2026-11-27T07:00:00', null],
      [10, 'status', null, null, null],
      [12, 'conffile', null, '2026-11-27T07:00:01', '/etc/with space.conf'],
    ]);
  });
});

describe('dpkg files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goldgate-dpkg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a gzip-rotated dpkg.log.2.gz like the plain file', async () => {
    const rotated = join(dir, 'dpkg.log.2.gz');
    writeFileSync(rotated, gzipSync(readFileSync(path('apt-varieties.dpkg.log'))));
    const plain = await parseFile(path('apt-varieties.dpkg.log'), dpkg, 'dpkg.log');
    expect(await parseFile(rotated, dpkg, 'dpkg.log')).toEqual(plain);
  });

  it('detects dpkg.log and its rotations, and no other format', () => {
    const head = headOf(read('lab-incident.dpkg.log'));
    for (const name of ['dpkg.log', 'dpkg.log.1', 'dpkg.log.3.gz', 'i-0abc.dpkg.log']) {
      expect(dpkg.detect(name, head), name).toBe(true);
      expect(dpkg.detect(name, []), `${name} (empty)`).toBe(true);
    }
    expect(dpkg.detect('evidence.txt', head)).toBe(true);
    expect(dpkg.detect('notdpkg.log', [])).toBe(false);
    for (const other of [
      '../../apt-history/__fixtures__/apt-varieties.history.log',
      '../../apt-term/__fixtures__/lab-incident.term.log',
      '../../unattended-upgrades/__fixtures__/lab-incident.unattended-upgrades.log',
      '../../unattended-upgrades-dpkg/__fixtures__/lab-incident.unattended-upgrades-dpkg.log',
    ]) {
      expect(dpkg.detect('dpkg.log', headOf(read(other))), other).toBe(false);
    }
  });
});

describe('dpkg fuzzing', () => {
  it('never throws and keeps line numbers inside the input over 600 mutated inputs', () => {
    const result = fuzzParser(dpkg, FIXTURES.map(read), { count: 600, seed: 2 });
    expect(result.violations).toEqual([]);
    expect(result.records).toBeGreaterThan(6000);
    expect(result.problems).toBeGreaterThan(100);
  });
});
