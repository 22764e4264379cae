import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser } from '../../../test-support/log-fuzz.js';
import journal from '../journal/index.js';
import syslog, { createSyslogParser } from './index.js';
import type { SyslogRecord } from './index.js';

const fixture = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const read = (name: string) => readFileSync(fixture(name), 'utf8');
// The lab incident's real journal as rsyslog writes it (traditional and high-precision formats).
const LAB = read('lab-incident.syslog');
const LAB_ISO = read('lab-incident.iso.syslog');
const JOURNAL = readFileSync(new URL('../journal/__fixtures__/lab-incident.json', import.meta.url), 'utf8');
const HAND = read('hand-made.syslog');
const HAND_ISO = read('hand-made.iso.syslog');

const tmp = mkdtempSync(join(tmpdir(), 'goldgate-syslog-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A systemd[1] line on the lab instance; tests name what differs. */
function record(file: string, line: number, fields: Partial<SyslogRecord>): SyslogRecord {
  return {
    source: 'syslog',
    file,
    line,
    time: null,
    format: 'rfc3164',
    host: 'lab-i-0001',
    program: 'systemd',
    pid: 1,
    message: '',
    event: 'other',
    unit: null,
    facility: null,
    severity: null,
    month: null,
    day: null,
    clock: null,
    ...fields,
  };
}

describe('syslog: the lab incident as rsyslog writes it', () => {
  const journalEvents = parseText(JOURNAL, journal).records.map((r) => r.event);

  it('reads the high-precision format: zoned times, and the journal’s events for every line', () => {
    const { records, problems } = parseText(LAB_ISO, syslog, 'syslog');
    expect(problems).toEqual([]);
    expect(records).toHaveLength(86);
    expect(records.map((r) => r.event)).toEqual(journalEvents);
    expect(records[80]).toEqual(
      record('syslog', 81, {
        time: { text: '2026-11-27T07:47:12.778364+00:00', epochMs: Date.parse('2026-11-27T07:47:12.778Z') },
        format: 'iso',
        message: 'Starting apt-daily.service - Daily apt download activities...',
        event: 'unit-starting',
        unit: 'apt-daily.service',
      }),
    );
    expect(records[2]).toEqual(
      record('syslog', 3, {
        time: { text: '2026-11-27T07:46:58.595114+00:00', epochMs: Date.parse('2026-11-27T07:46:58.595Z') },
        format: 'iso',
        program: '(modprobe)',
        pid: 28,
        message:
          'modprobe@configfs.service: Executable /sbin/modprobe missing, skipping: No such file or directory',
      }),
    );
  });

  it('reads the traditional format: no year known, one problem, the date parts kept', () => {
    const { records, problems } = parseText(LAB, syslog, 'syslog');
    expect(problems).toEqual([
      {
        file: 'syslog',
        line: 1,
        reason: 'RFC 3164 timestamps have no year and this file shows none: times are left without a date',
      },
    ]);
    expect(records.map((r) => r.event)).toEqual(journalEvents);
    expect(records[79]).toEqual(
      record('syslog', 80, {
        time: { text: 'Nov 27 07:46:58' },
        message: 'Startup finished in 327ms.',
        event: 'startup-finished',
        month: 11,
        day: 27,
        clock: '07:46:58',
      }),
    );
    const counts: Record<string, number> = {};
    for (const r of records) counts[r.event] = (counts[r.event] ?? 0) + 1;
    expect(counts).toEqual({
      'unit-starting': 15,
      'unit-started': 41,
      'unit-skipped': 11,
      'unit-stopped': 7,
      'startup-finished': 1,
      other: 11,
    });
  });

  it('places traditional times when given the year', () => {
    const { records, problems } = parseText(LAB, createSyslogParser({ year: 2026 }), 'syslog');
    expect(problems).toEqual([]);
    expect(records[85]?.time).toEqual({ text: 'Nov 27 07:47:13', local: '2026-11-27T07:47:13' });
    expect(() => createSyslogParser({ year: 26.5 })).toThrow(RangeError);
  });
});

describe('syslog: hand-made lines', () => {
  it('reads a unit failure, a PRI prefix, a bad date, a non-syslog line and the reboot', () => {
    const { records, problems } = parseText(HAND, createSyslogParser({ year: 2026 }), 'syslog');
    expect(problems).toEqual([
      { file: 'syslog', line: 15, reason: "'Feb 30 07:47:21' is not a valid date and time" },
      { file: 'syslog', line: 18, reason: "not a syslog line: 'this is not a syslog line'" },
    ]);
    expect(records.map((r) => [r.line, r.program, r.event, r.unit])).toEqual([
      [1, 'systemd', 'unit-started', 'apt-daily.timer'],
      [2, 'systemd', 'unit-started', 'timers.target'],
      [3, 'systemd', 'startup-finished', null],
      [4, 'systemd', 'unit-starting', 'apt-daily.service'],
      [5, 'systemd', 'unit-stopped', 'apt-daily.service'],
      [6, 'systemd', 'unit-started', 'apt-daily.service'],
      [7, 'acme', 'other', null],
      [8, 'systemd', 'other', 'acme.service'],
      [9, 'systemd', 'unit-failed', 'acme.service'],
      [10, 'systemd', 'unit-failed', 'acme.service'],
      [11, 'systemd', 'unit-restart', 'acme.service'],
      [12, 'systemd', 'unit-stopped', 'acme.service'],
      [13, 'systemd', 'daemon-reexec', null],
      [14, 'ops', 'other', null],
      [15, 'CRON', 'other', null],
      [16, 'kernel', 'other', null],
      [17, null, 'other', null],
      [19, 'systemd-logind', 'reboot', null],
      [20, 'systemd', 'unit-started', null],
      [21, 'systemd', 'reboot', 'reboot.target'],
    ]);
    const at = (line: number) => records.find((r) => r.line === line);
    expect(at(9)).toEqual(
      record('syslog', 9, {
        time: { text: 'Nov 27 07:47:14', local: '2026-11-27T07:47:14' },
        message: "acme.service: Failed with result 'exit-code'.",
        event: 'unit-failed',
        unit: 'acme.service',
        month: 11,
        day: 27,
        clock: '07:47:14',
      }),
    );
    expect(at(14)).toEqual(
      record('syslog', 14, {
        time: { text: 'Nov 27 07:47:20', local: '2026-11-27T07:47:20' },
        program: 'ops',
        pid: null,
        message: 'rolling back acme',
        facility: 1,
        severity: 5,
        month: 11,
        day: 27,
        clock: '07:47:20',
      }),
    );
    expect(at(15)).toEqual(
      record('syslog', 15, { program: 'CRON', pid: 512, message: '(root) CMD (test -x /usr/sbin/anacron)' }),
    );
    expect(at(17)).toMatchObject({
      program: null,
      message: '-- MARK --',
      time: { local: '2026-11-07T07:47:23' },
    });
  });

  it('reads ISO and RFC 5424 lines, takes the year from them, and rolls over at New Year', () => {
    const { records, problems } = parseText(HAND_ISO, syslog, 'messages');
    expect(problems).toEqual([
      { file: 'messages', line: 7, reason: "'2026-13-01T00:00:05+00:00' is not a valid date and time" },
      {
        file: 'messages',
        line: 8,
        reason: 'RFC 5424 STRUCTURED-DATA is not closed: the message is kept with it',
      },
    ]);
    expect(records.map((r) => [r.format, r.time?.epochMs ?? r.time?.local ?? null])).toEqual([
      ['iso', Date.parse('2026-12-31T23:59:58.123Z')],
      ['iso', Date.parse('2026-12-31T22:59:59.654Z')],
      ['rfc3164', '2027-01-01T00:00:01'],
      ['rfc5424', Date.parse('2027-01-01T00:00:02.003Z')],
      ['rfc5424', Date.parse('2027-01-01T00:00:03Z')],
      ['rfc5424', Date.parse('2027-01-01T00:00:04Z')],
      ['iso', null],
      ['rfc5424', Date.parse('2027-01-01T00:00:06Z')],
    ]);
    expect(records[3]).toEqual(
      record('messages', 4, {
        time: { text: '2027-01-01T00:00:02.003Z', epochMs: Date.parse('2027-01-01T00:00:02.003Z') },
        format: 'rfc5424',
        message: 'Finished apt-daily-upgrade.service - Daily apt upgrade and clean activities.',
        event: 'unit-started',
        unit: 'apt-daily-upgrade.service',
        facility: 3,
        severity: 6,
      }),
    );
    expect(records[4]).toMatchObject({
      program: 'acme',
      pid: 412,
      message: 'health check failed',
      facility: 20,
      severity: 5,
    });
    expect(records[5]).toMatchObject({ host: null, program: null, pid: null, message: '' });
    expect(records[7]).toMatchObject({ program: 'acme', pid: 412, message: '[unclosed' });
  });
});

describe('syslog: detection and compressed, rotated files', () => {
  it('detects syslog files by name (rotations included) and by their first line', () => {
    const head = LAB.split('\n').slice(0, 5);
    for (const name of [
      'syslog',
      'syslog.1',
      'syslog.2.gz',
      'messages',
      'messages-20261127',
      'messages-20261127.gz',
      'i-0abc.syslog',
    ]) {
      expect(syslog.detect(name, head)).toBe(true);
      expect(syslog.detect(name, [])).toBe(true);
    }
    expect(syslog.detect('daemon.log', head)).toBe(true);
    expect(syslog.detect('boot.txt', LAB_ISO.split('\n').slice(0, 5))).toBe(true);
    expect(syslog.detect('boot.txt', ['<13>1 2027-01-01T00:00:04Z - - - - -'])).toBe(true);
    expect(
      syslog.detect('dnsmasq.log', ['Nov 27 07:47:13 dnsmasq[412]: query[A] example.com from 10.0.0.5']),
    ).toBe(false);
    expect(syslog.detect('dpkg.log', ['2026-11-27 07:47:13 startup archives unpack'])).toBe(false);
    expect(
      syslog.detect('cloud-init.log', ['2026-11-27 07:57:54,502 - util.py[DEBUG]: Cloud-init v. 22.4.2']),
    ).toBe(false);
    expect(syslog.detect('journal.json', [JOURNAL.split('\n')[0] ?? ''])).toBe(false);
  });

  it('parses a gzip-rotated copy the same as the plain file', async () => {
    const path = join(tmp, 'syslog.2.gz');
    writeFileSync(path, gzipSync(HAND_ISO));
    const gz = await parseFile(path, syslog, 'syslog.2.gz');
    expect(gz).toEqual(parseText(HAND_ISO, syslog, 'syslog.2.gz'));
    expect(gz.records).toHaveLength(8);
  });
});

describe('syslog: fuzz', () => {
  it('never throws on 600 mutated files, and every line number is in the input', () => {
    const sources = [HAND, HAND_ISO, LAB.split('\n').slice(75, 86).join('\n')];
    // Both ways the parser runs: the year unknown, and given.
    for (const [parser, seed] of [
      [syslog, 0x5150],
      [createSyslogParser({ year: 2026 }), 0x5151],
    ] as const) {
      const result = fuzzParser(parser, sources, { count: 600, seed });
      expect(result.violations).toEqual([]);
      expect(result.inputs).toBe(600);
      expect(result.records).toBeGreaterThan(5000);
      expect(result.problems).toBeGreaterThan(500);
    }
  });
});
