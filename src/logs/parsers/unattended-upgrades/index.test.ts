import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import unattendedUpgrades, { MAX_MESSAGE_LINES, classifyMessage } from './index.js';
import type { UnattendedUpgradesRecord } from './index.js';

const path = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const read = (name: string) => readFileSync(path(name), 'utf8');
const FIXTURES = [
  'lab-incident.unattended-upgrades.log',
  'lab-incident.unattended-upgrades-shutdown.log',
  'hand-made.unattended-upgrades.log',
];

function rec(
  file: string,
  line: number,
  stamp: string,
  level: string,
  message: string,
  event: UnattendedUpgradesRecord['event'],
  packages: string[] | null = null,
): UnattendedUpgradesRecord {
  const local = stamp.replace(' ', 'T').replace(',', '.');
  return {
    source: 'unattended-upgrades',
    file,
    line,
    time: { text: stamp, local },
    level,
    message,
    event,
    packages,
  };
}

describe('unattended-upgrades on the lab incident sample', () => {
  const file = 'lab-incident.unattended-upgrades.log';

  it('reads the two runs: start, origins, the package list, installed', async () => {
    const { records, problems } = await parseFile(path(file), unattendedUpgrades, file);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(15);
    expect(records.map((r) => r.event)).toEqual([
      ...['other', 'other', 'start', 'allowed-origins', 'other', 'other'],
      ...['other', 'other', 'start', 'allowed-origins', 'other', 'other'],
      ...['packages', 'other', 'installed'],
    ]);
    expect(records.slice(2, 5)).toEqual([
      rec(file, 3, '2026-11-27 07:47:13,096', 'INFO', 'Starting unattended upgrades script', 'start'),
      rec(
        file,
        4,
        '2026-11-27 07:47:13,096',
        'INFO',
        'Allowed origins are: origin=Debian,codename=bookworm,label=Debian, origin=Debian,codename=bookworm,label=Debian-Security, origin=Debian,codename=bookworm-security,label=Debian-Security',
        'allowed-origins',
      ),
      // The log writes "Initial blacklist: " with a trailing blank; messages are trimmed at the end.
      rec(file, 5, '2026-11-27 07:47:13,096', 'INFO', 'Initial blacklist:', 'other'),
    ]);
    expect(records.slice(12)).toEqual([
      rec(
        file,
        13,
        '2026-11-27 07:47:13,371',
        'INFO',
        'Packages that will be upgraded: acme-runtime',
        'packages',
        ['acme-runtime'],
      ),
      rec(
        file,
        14,
        '2026-11-27 07:47:13,371',
        'INFO',
        'Writing dpkg log to /var/log/unattended-upgrades/unattended-upgrades-dpkg.log',
        'other',
      ),
      rec(file, 15, '2026-11-27 07:47:13,650', 'INFO', 'All upgrades installed', 'installed'),
    ]);
  });

  it('reads the shutdown helper’s log, whose messages follow a dash', () => {
    const shutdown = 'lab-incident.unattended-upgrades-shutdown.log';
    const { records, problems } = parseText(read(shutdown), unattendedUpgrades, shutdown);
    expect(problems).toEqual([]);
    expect(records).toEqual([
      rec(shutdown, 1, '2026-11-27 07:46:58,768', 'WARNING', 'Could not get delay inhibitor lock', 'other'),
      rec(
        shutdown,
        2,
        '2026-11-27 07:46:58,768',
        'WARNING',
        'Unable to monitor PrepareForShutdown() signal, polling instead.',
        'other',
      ),
      rec(
        shutdown,
        3,
        '2026-11-27 07:46:58,768',
        'WARNING',
        'To enable monitoring the PrepareForShutdown() signal instead of polling please install the python3-gi package',
        'other',
      ),
    ]);
  });
});

describe('unattended-upgrades on hand-made runs', () => {
  const file = 'hand-made.unattended-upgrades.log';
  const { records, problems } = parseText(read(file), unattendedUpgrades, file);

  it('reads 15 messages without problems', () => {
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.line, r.level, r.event])).toEqual([
      [1, 'INFO', 'start'],
      [2, 'INFO', 'allowed-origins'],
      [3, 'ERROR', 'dpkg-lock'],
      [4, 'INFO', 'start'],
      [5, 'INFO', 'packages'],
      [6, 'INFO', 'other'],
      [7, 'ERROR', 'error'],
      [8, 'ERROR', 'error'],
      [9, 'ERROR', 'error'],
      [10, 'ERROR', 'error'],
      [17, 'WARNING', 'other'],
      [20, 'WARNING', 'reboot'],
      [21, 'INFO', 'no-packages'],
      [22, 'INFO', 'packages'],
      [23, 'INFO', 'installed'],
    ]);
  });

  it('classifies the lock error as dpkg-lock', () => {
    expect(records[2]).toEqual(
      rec(
        file,
        3,
        '2026-11-28 06:25:02,380',
        'ERROR',
        'Lock could not be acquired (another package manager running?)',
        'dpkg-lock',
      ),
    );
  });

  it('splits the package list', () => {
    expect(records[4]?.packages).toEqual(['libc-bin', 'libc6', 'openssl']);
  });

  it('attaches the traceback to the message before it', () => {
    expect(records[9]).toEqual(
      rec(
        file,
        10,
        '2026-11-28 06:30:40,020',
        'ERROR',
        [
          "An error occurred: 'NoneType' object has no attribute 'version'",
          'Traceback (most recent call last):',
          '  File "/usr/bin/unattended-upgrade", line 2478, in main',
          '    res = run(options, rootdir, logfile_dpkg)',
          '  File "/usr/bin/unattended-upgrade", line 2382, in run',
          '    pkg_install_success = do_install(cache, pkgs_to_upgrade, options, logfile_dpkg)',
          "AttributeError: 'NoneType' object has no attribute 'version'",
        ].join('\n'),
        'error',
      ),
    );
  });

  it('keeps multi-line output, and drops the blank line that ends it', () => {
    expect(records[10]?.message).toBe(
      'dpkg --configure -a output:\nSetting up libc6:amd64 (2.36-9+deb12u4) ...',
    );
    expect(records[11]).toEqual(
      rec(
        file,
        20,
        '2026-11-28 06:35:00,000',
        'WARNING',
        'Found /var/run/reboot-required, rebooting',
        'reboot',
      ),
    );
  });
});

describe('classifyMessage', () => {
  it.each([
    ['INFO', 'Starting unattended upgrades script', 'start'],
    ['INFO', 'Allowed origins are: o=Debian', 'allowed-origins'],
    ['INFO', 'Packages that will be upgraded: a b', 'packages'],
    ['INFO', 'No packages found that can be upgraded unattended and no pending auto-removals', 'no-packages'],
    ['INFO', 'All upgrades installed', 'installed'],
    ['ERROR', 'Lock could not be acquired (another package manager running?)', 'dpkg-lock'],
    [
      'WARNING',
      'Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (apt-get)',
      'dpkg-lock',
    ],
    ['INFO', 'Installing the upgrades failed!', 'error'],
    ['CRITICAL', 'Cache has broken packages, exiting', 'error'],
    ['WARNING', 'Found /var/run/reboot-required, rebooting', 'reboot'],
    ['WARNING', 'Skipping automatic reboot: a user is logged in', 'reboot'],
    ['INFO', 'Initial blacklist:', 'other'],
    ['WARNING', 'Could not get delay inhibitor lock', 'other'],
  ] as const)('%s %s → %s', (level, message, event) => {
    expect(classifyMessage(level, message)).toBe(event);
  });
});

describe('unattended-upgrades problems', () => {
  it('reports lines before the first message and bad timestamps, and still reads the rest', () => {
    const text = [
      'leftover continuation',
      '',
      '2026-02-31 07:00:00,000 INFO Starting unattended upgrades script',
      '2026-11-27 07:00:01,000 INFO',
      '2026-11-27 07:00:02,000 INFO Packages that will be upgraded: ',
    ].join('\n');
    const { records, problems } = parseText(text, unattendedUpgrades, 'u.log');
    expect(problems.map((p) => [p.line, p.reason])).toEqual([
      [1, "line before any timestamped message: 'leftover continuation'"],
      [3, "'2026-02-31 07:00:00,000' is not a valid date and time"],
    ]);
    expect(records.map((r) => [r.line, r.time, r.message, r.event, r.packages])).toEqual([
      [3, null, 'Starting unattended upgrades script', 'start', null],
      [4, { text: '2026-11-27 07:00:01,000', local: '2026-11-27T07:00:01.000' }, '', 'other', null],
      [
        5,
        { text: '2026-11-27 07:00:02,000', local: '2026-11-27T07:00:02.000' },
        'Packages that will be upgraded:',
        'packages',
        [],
      ],
    ]);
  });

  it(`keeps at most ${MAX_MESSAGE_LINES} lines of one message and reports the cut once`, () => {
    const lines = ['2026-11-27 07:00:00,000 ERROR An error occurred'];
    for (let i = 0; i < MAX_MESSAGE_LINES + 10; i++) lines.push(`  frame ${i}`);
    lines.push('2026-11-27 07:00:01,000 INFO All upgrades installed');
    const { records, problems } = parseText(lines.join('\n'), unattendedUpgrades, 'u.log');
    expect(problems).toEqual([
      {
        file: 'u.log',
        line: MAX_MESSAGE_LINES + 1,
        reason: `message longer than ${MAX_MESSAGE_LINES} lines or 1000000 characters, rest dropped`,
      },
    ]);
    expect(records).toHaveLength(2);
    expect(records[0]?.truncated).toBe(true);
    expect(records[0]?.message.split('\n')).toHaveLength(MAX_MESSAGE_LINES);
    expect(records[1]?.event).toBe('installed');
  });
});

describe('unattended-upgrades files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goldgate-uu-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a gzip-rotated unattended-upgrades.log.1.gz like the plain file', async () => {
    const rotated = join(dir, 'unattended-upgrades.log.1.gz');
    writeFileSync(rotated, gzipSync(readFileSync(path('hand-made.unattended-upgrades.log'))));
    const plain = await parseFile(path('hand-made.unattended-upgrades.log'), unattendedUpgrades, 'u.log');
    const gz = await parseFile(rotated, unattendedUpgrades, 'u.log');
    expect(gz).toEqual(plain);
    expect(gz.records).toHaveLength(15);
  });

  it('detects the main and shutdown logs and their rotations, and nothing else', () => {
    const head = headOf(read('lab-incident.unattended-upgrades.log'));
    for (const name of [
      'unattended-upgrades.log',
      'unattended-upgrades.log.1.gz',
      'unattended-upgrades-shutdown.log',
      'unattended-upgrades-shutdown.log.2.gz',
      'i-0abc-unattended-upgrades.log',
    ]) {
      expect(unattendedUpgrades.detect(name, head), name).toBe(true);
    }
    expect(unattendedUpgrades.detect('unattended-upgrades.log', [])).toBe(true);
    expect(unattendedUpgrades.detect('unattended-upgrades-dpkg.log', [])).toBe(false);
    expect(unattendedUpgrades.detect('app.log', head)).toBe(false);
    expect(
      unattendedUpgrades.detect(
        'unattended-upgrades.log',
        headOf(read('../../unattended-upgrades-dpkg/__fixtures__/lab-incident.unattended-upgrades-dpkg.log')),
      ),
    ).toBe(false);
    expect(
      unattendedUpgrades.detect(
        'unattended-upgrades.log',
        headOf(read('../../dpkg/__fixtures__/lab-incident.dpkg.log')),
      ),
    ).toBe(false);
  });
});

describe('unattended-upgrades fuzzing', () => {
  it('never throws and keeps line numbers inside the input over 600 mutated inputs', () => {
    const result = fuzzParser(unattendedUpgrades, FIXTURES.map(read), { count: 600, seed: 3 });
    expect(result.violations).toEqual([]);
    expect(result.records).toBeGreaterThan(3000);
    expect(result.problems).toBeGreaterThan(50);
  });
});
