import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import type { DnsmasqQueryRecord } from './index.js';
import dnsmasq, { createDnsmasqParser, MAX_PENDING } from './index.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url)), 'utf8');
const PLAIN = fixture('dnsmasq.log');
const EXTRA = fixture('dnsmasq-extra.log');
const with2026 = createDnsmasqParser({ year: 2026 });

const local = (clock: string, iso: string) => ({ text: clock, local: iso });
const brief = (records: DnsmasqQueryRecord[]) =>
  records.map((r) => [r.line, r.type, r.name, r.srcaddr, r.rcode, r.answers.join(' ')]);

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('dnsmasq with log-queries', () => {
  const { records, problems } = parseText(PLAIN, with2026, 'dnsmasq.log');

  it('completes each query with its answer, across CNAME chains, caches, hosts and config', () => {
    expect(problems).toEqual([]);
    // Records come out when their answer is complete; unanswered ones at the end.
    expect(brief(records)).toEqual([
      [
        5,
        'A',
        'security.distro-mirror.example',
        '10.0.1.20',
        'NOERROR',
        'cdn.distro-mirror.example 151.101.2.132 151.101.66.132',
      ],
      [7, 'AAAA', 'security.distro-mirror.example', '10.0.1.20', 'NOERROR', 'cdn.distro-mirror.example'],
      [
        14,
        'A',
        'security.distro-mirror.example',
        '10.0.1.21',
        'NOERROR',
        'cdn.distro-mirror.example 151.101.2.132 151.101.66.132',
      ],
      [18, 'A', 'api.acme.internal', '10.0.1.20', 'NOERROR', '10.0.4.12'],
      [20, 'A', 'metrics.example-vendor.com', '10.0.1.20', 'NXDOMAIN', ''],
      [23, 'A', 'telemetry.example-vendor.com', '10.0.1.20', 'NXDOMAIN', ''],
      [25, 'PTR', '20.1.0.10.in-addr.arpa', '10.0.1.20', 'NOERROR', 'lab-i-0001'],
      [27, 'A', 'ssm.us-east-1.amazonaws.com', '10.0.1.21', 'SERVFAIL', ''],
      [30, 'A', 'ssm.us-east-1.amazonaws.com', '10.0.1.21', 'NOERROR', '52.46.141.166'],
      [35, 'TYPE65', 'archive.distro-mirror.example', '10.0.1.20', 'NOERROR', ''],
      [33, 'A', 'deb.distro-mirror.example', '10.0.1.20', null, ''],
    ]);
  });

  it('gives whole records, with local times when the year is known', () => {
    expect(records[0]).toEqual<DnsmasqQueryRecord>({
      source: 'dnsmasq',
      file: 'dnsmasq.log',
      line: 5,
      time: local('Nov 27 07:47:12', '2026-11-27T07:47:12'),
      clock: 'Nov 27 07:47:12',
      name: 'security.distro-mirror.example',
      type: 'A',
      srcaddr: '10.0.1.20',
      rcode: 'NOERROR',
      answers: ['cdn.distro-mirror.example', '151.101.2.132', '151.101.66.132'],
    });
    expect(records[10]).toEqual<DnsmasqQueryRecord>({
      source: 'dnsmasq',
      file: 'dnsmasq.log',
      line: 33,
      time: local('Nov 27 07:47:24', '2026-11-27T07:47:24'),
      clock: 'Nov 27 07:47:24',
      name: 'deb.distro-mirror.example',
      type: 'A',
      srcaddr: '10.0.1.20',
      rcode: null,
      answers: [],
    });
  });

  it('without a year: time null, the clock kept, and one problem for the file', () => {
    const plain = parseText(PLAIN, dnsmasq, 'dnsmasq.log');
    expect(plain.records).toHaveLength(11);
    expect(plain.records.every((r) => r.time === null)).toBe(true);
    expect(plain.records[3]).toMatchObject({ clock: 'Nov 27 07:47:15', name: 'api.acme.internal' });
    expect(plain.problems).toEqual([
      {
        file: 'dnsmasq.log',
        line: 1,
        reason:
          'syslog timestamps have no year: records have time null (createDnsmasqParser({ year }) sets it)',
      },
    ]);
  });
});

describe('dnsmasq with log-queries=extra', () => {
  it('matches answers to queries by serial number', () => {
    const { records, problems } = parseText(EXTRA, with2026, 'extra.log');
    expect(problems).toEqual([]);
    expect(brief(records)).toEqual([
      [5, 'AAAA', 'security.distro-mirror.example', '10.0.1.20', 'NOERROR', ''],
      [3, 'A', 'security.distro-mirror.example', '10.0.1.20', 'NOERROR', '151.101.2.132'],
      [9, 'A', 'metrics.example-vendor.com', '10.0.1.20', 'SERVFAIL', ''],
      [12, 'A', 'api.acme.internal', '10.0.1.21', 'NOERROR', '10.0.4.12'],
      [14, 'A', 'forbidden.example', '10.0.1.21', 'NXDOMAIN', ''],
      [18, 'A', 'www.acme.example', '10.0.1.22', 'NOERROR', 'edge.cdn.example 198.51.100.7'],
      [16, 'A', 'gone.example', '10.0.1.22', null, ''],
    ]);
  });
});

describe('dnsmasq lines the fixtures do not show', () => {
  it('reads syslog files with a host, ISO timestamps and other programs, and stderr lines', () => {
    const text = [
      'Nov 27 07:47:12 lab-resolver systemd[1]: Started dnsmasq.service - dnsmasq - A lightweight DHCP and caching DNS server.',
      'Nov 27 07:47:12 lab-resolver dnsmasq[412]: query[AAAA] Mirror.Example from fd00::20',
      'Nov 27 07:47:12 lab-resolver dnsmasq-dhcp[412]: DHCPACK(br0) 10.0.1.20 52:54:00:12:34:56 lab-i-0001',
      'Nov 27 07:47:12 lab-resolver dnsmasq[412]: reply mirror.example is 2001:db8::84',
      '2026-11-27T07:47:13.250000+00:00 lab-resolver dnsmasq[412]: query[PTR] 4.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa from fd00::20',
      '2026-11-27T07:47:13.251000+00:00 lab-resolver dnsmasq[412]: reply 2001:db8::84 is mirror.example',
      'dnsmasq: query[A] stderr.example from 127.0.0.1',
      'dnsmasq: reply stderr.example is 127.0.0.1',
      'dnsmasq[412]: query[A] refused.example from 10.0.1.20',
      'dnsmasq[412]: forwarded refused.example to 10.0.0.2',
      'dnsmasq[412]: reply error is REFUSED (EDE: prohibited)',
    ].join('\n');
    const { records, problems } = parseText(text, dnsmasq, 'syslog');
    expect(problems).toEqual([
      {
        file: 'syslog',
        line: 2,
        reason:
          'syslog timestamps have no year: records have time null (createDnsmasqParser({ year }) sets it)',
      },
    ]);
    expect(brief(records)).toEqual([
      [2, 'AAAA', 'mirror.example', 'fd00::20', 'NOERROR', '2001:db8::84'],
      [
        5,
        'PTR',
        '4.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
        'fd00::20',
        'NOERROR',
        'mirror.example',
      ],
      [7, 'A', 'stderr.example', '127.0.0.1', 'NOERROR', '127.0.0.1'],
      [9, 'A', 'refused.example', '10.0.1.20', 'REFUSED', ''],
    ]);
    expect(records[1]?.time).toEqual({
      text: '2026-11-27T07:47:13.250000+00:00',
      epochMs: Date.UTC(2026, 10, 27, 7, 47, 13, 250),
    });
    expect(records[2]).toMatchObject({ time: null, clock: null });
  });

  it('answers every retry of a question, and NXDOMAIN every type of the name', () => {
    const text = [
      'Nov 27 07:47:12 dnsmasq[1]: query[A] a.example from 10.0.1.20',
      'Nov 27 07:47:12 dnsmasq[1]: query[A] a.example from 10.0.1.20',
      'Nov 27 07:47:12 dnsmasq[1]: query[AAAA] a.example from 10.0.1.20',
      'Nov 27 07:47:12 dnsmasq[1]: reply a.example is 192.0.2.1',
      'Nov 27 07:47:12 dnsmasq[1]: query[A] b.example from 10.0.1.20',
      'Nov 27 07:47:12 dnsmasq[1]: query[AAAA] b.example from 10.0.1.20',
      'Nov 27 07:47:12 dnsmasq[1]: reply b.example is NXDOMAIN',
      'Nov 27 07:47:12 dnsmasq[1]: reply b.example is NXDOMAIN',
      'Nov 27 07:47:12 dnsmasq[1]: reply nobody.example is 192.0.2.9',
    ].join('\n');
    const { records } = parseText(text, with2026, 'x.log');
    expect(brief(records)).toEqual([
      [1, 'A', 'a.example', '10.0.1.20', 'NOERROR', '192.0.2.1'],
      [2, 'A', 'a.example', '10.0.1.20', 'NOERROR', '192.0.2.1'],
      [5, 'A', 'b.example', '10.0.1.20', 'NXDOMAIN', ''],
      [6, 'AAAA', 'b.example', '10.0.1.20', 'NXDOMAIN', ''],
      [3, 'AAAA', 'a.example', '10.0.1.20', null, ''],
    ]);
  });

  it('moves to the next year from December to January, and rejects dates that do not exist', () => {
    const text = [
      'Dec 31 23:59:59 dnsmasq[1]: query[A] old.example from 10.0.1.20',
      'Jan  1 00:00:01 dnsmasq[1]: query[A] new.example from 10.0.1.20',
      'Feb 30 00:00:01 dnsmasq[1]: query[A] never.example from 10.0.1.20',
    ].join('\n');
    const { records, problems } = parseText(text, createDnsmasqParser({ year: 2026 }), 'x.log');
    expect(records.map((r) => r.time)).toEqual([
      local('Dec 31 23:59:59', '2026-12-31T23:59:59'),
      local('Jan  1 00:00:01', '2027-01-01T00:00:01'),
      null,
    ]);
    expect(problems).toEqual([{ file: 'x.log', line: 3, reason: "not a valid date: 'Feb 30 00:00:01'" }]);
    expect(() => createDnsmasqParser({ year: 26.5 })).toThrow(RangeError);
  });

  it('reports lines it cannot read, and keeps the number of waiting queries bounded', () => {
    const broken = [
      'not a log line at all',
      'Nov 27 07:47:12 dnsmasq[1]: query[A] missing-from',
      'Nov 27 07:47:12 dnsmasq[1]: reply x',
    ].join('\n');
    expect(parseText(broken, with2026, 'b.log').problems).toEqual([
      { file: 'b.log', line: 1, reason: "not a dnsmasq or syslog line: 'not a log line at all'" },
      { file: 'b.log', line: 2, reason: "unreadable dnsmasq query log line: 'query[A] missing-from'" },
      { file: 'b.log', line: 3, reason: "unreadable dnsmasq query log line: 'reply x'" },
    ]);
    const flood = Array.from(
      { length: MAX_PENDING + 5 },
      (_, k) => `Nov 27 07:47:12 dnsmasq[1]: query[A] n${k}.example from 10.0.1.20`,
    );
    flood.push('Nov 27 07:47:13 dnsmasq[1]: reply n9000.example is 192.0.2.1');
    const { records, problems } = parseText(flood.join('\n'), with2026, 'flood.log');
    expect(records).toHaveLength(MAX_PENDING + 5);
    expect(records.slice(0, 5).map((r) => [r.name, r.rcode])).toEqual(
      [0, 1, 2, 3, 4].map((k) => [`n${k}.example`, null]),
    );
    expect(records[5]).toMatchObject({ name: 'n9000.example', rcode: 'NOERROR', answers: ['192.0.2.1'] });
    expect(problems).toEqual([
      {
        file: 'flood.log',
        line: MAX_PENDING + 1,
        reason: `more than ${MAX_PENDING} queries wait for a reply: the oldest are emitted without one`,
      },
    ]);
  });
});

describe('dnsmasq files', () => {
  it('reads a gzip-rotated log and detects dnsmasq logs by content and name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-dnsmasq-'));
    dirs.push(dir);
    const path = join(dir, 'dnsmasq.log.1.gz');
    writeFileSync(path, gzipSync(PLAIN));
    const { records, problems } = await parseFile(path, with2026, 'dnsmasq.log.1.gz');
    expect(problems).toEqual([]);
    expect(records).toHaveLength(11);
    expect(records[4]).toMatchObject({ file: 'dnsmasq.log.1.gz', line: 20, rcode: 'NXDOMAIN' });
    expect(dnsmasq.detect('dnsmasq.log.1.gz', headOf(PLAIN))).toBe(true);
    expect(dnsmasq.detect('syslog.2.gz', headOf(EXTRA.split('\n').slice(2).join('\n')))).toBe(true);
    expect(dnsmasq.detect('syslog', ['Nov 27 07:47:12 lab systemd[1]: Started x.service.'])).toBe(false);
    expect(dnsmasq.detect('history.log', ['Start-Date: 2026-11-27  07:47:13'])).toBe(false);
  });
});

describe('dnsmasq fuzzing', () => {
  it('never throws and keeps line numbers within the input on 600 mutated files', () => {
    const result = fuzzParser(with2026, [PLAIN, EXTRA], { count: 600, seed: 412 });
    expect(result.violations).toEqual([]);
    expect(result.records).toBeGreaterThan(2000);
    const bare = fuzzParser(dnsmasq, [PLAIN, EXTRA], { count: 100, seed: 413 });
    expect(bare.violations).toEqual([]);
  });
});
