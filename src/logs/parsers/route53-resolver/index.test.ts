import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import type { Route53QueryRecord } from './index.js';
import route53, { normalizeQueryName, readResolverLine } from './index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));
const SAMPLE = readFileSync(fixture('resolver-query-log.sample.jsonl'), 'utf8');
const EDGES = readFileSync(fixture('deliveries.log'), 'utf8');

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('route53-resolver on the documented sample', () => {
  const { records, problems } = parseText(SAMPLE, route53, 'sample.jsonl');

  it('reads every line as a query, without problems', () => {
    expect(problems).toEqual([]);
    expect(records).toHaveLength(12);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(records.filter((r) => r.instance === 'i-0a1b2c3d4e5f60002')).toHaveLength(6);
    expect(records.filter((r) => r.rcode === 'NXDOMAIN').map((r) => r.line)).toEqual([5, 11]);
  });

  it('gives whole records', () => {
    expect(records[0]).toEqual<Route53QueryRecord>({
      source: 'route53-resolver',
      file: 'sample.jsonl',
      line: 1,
      time: { text: '2026-11-27T07:47:12Z', epochMs: Date.UTC(2026, 10, 27, 7, 47, 12) },
      name: 'security.distro-mirror.example',
      type: 'A',
      rcode: 'NOERROR',
      srcaddr: '10.0.1.20',
      instance: 'i-0a1b2c3d4e5f60001',
      vpcId: 'vpc-0example',
      answers: ['151.101.2.132'],
      firewallAction: null,
    });
    expect(records[2]).toMatchObject({ line: 3, type: 'AAAA', rcode: 'NOERROR', answers: [] });
    expect(records[4]).toEqual<Route53QueryRecord>({
      source: 'route53-resolver',
      file: 'sample.jsonl',
      line: 5,
      time: { text: '2026-11-27T07:47:24Z', epochMs: Date.UTC(2026, 10, 27, 7, 47, 24) },
      name: 'metrics.example-vendor.com',
      type: 'A',
      rcode: 'NXDOMAIN',
      srcaddr: '10.0.1.20',
      instance: 'i-0a1b2c3d4e5f60001',
      vpcId: 'vpc-0example',
      answers: [],
      firewallAction: null,
    });
    expect(records[11]).toMatchObject({
      line: 12,
      name: 'ssm.us-east-1.amazonaws.com',
      instance: 'i-0a1b2c3d4e5f60002',
      srcaddr: '10.0.1.21',
    });
  });
});

describe('route53-resolver deliveries and odd lines', () => {
  const { records, problems } = parseText(EDGES, route53, 'deliveries.log');

  it('reads CloudWatch exports, Firehose objects back to back, subscription envelopes and DNS Firewall', () => {
    expect(records.map((r) => [r.line, r.name, r.rcode, r.instance ?? r.srcaddr])).toEqual([
      [1, 'security.distro-mirror.example', 'NOERROR', 'i-0a1b2c3d4e5f60001'],
      [2, 'metrics.example-vendor.com', 'NXDOMAIN', 'i-0a1b2c3d4e5f60001'],
      [3, 'archive.distro-mirror.example', 'NOERROR', 'i-0a1b2c3d4e5f60002'],
      [3, 'api.acme.internal', 'NOERROR', 'i-0a1b2c3d4e5f60002'],
      [4, 'ssm.us-east-1.amazonaws.com', 'NOERROR', 'i-0a1b2c3d4e5f60003'],
      [4, 'telemetry.example-vendor.com', 'SERVFAIL', 'i-0a1b2c3d4e5f60003'],
      [5, 'exfil.bad-domain.example', 'NXDOMAIN', 'i-0a1b2c3d4e5f60001'],
      [6, 'db.corp.example', 'NOERROR', '192.168.7.10'],
      [7, '.', 'NOERROR', 'i-0a1b2c3d4e5f60001'],
      [9, 'cdn.distro-mirror.example', 'NOERROR', 'i-0a1b2c3d4e5f60001'],
      [10, 'late.example', 'NOERROR', 'i-0a1b2c3d4e5f60001'],
    ]);
    expect(records[4]?.time).toEqual({
      text: '2026-11-27T07:47:14Z',
      epochMs: Date.UTC(2026, 10, 27, 7, 47, 14),
    });
    expect(records[6]).toEqual<Route53QueryRecord>({
      source: 'route53-resolver',
      file: 'deliveries.log',
      line: 5,
      time: { text: '2026-11-27T07:47:16Z', epochMs: Date.UTC(2026, 10, 27, 7, 47, 16) },
      name: 'exfil.bad-domain.example',
      type: 'TXT',
      rcode: 'NXDOMAIN',
      srcaddr: '10.0.1.20',
      instance: 'i-0a1b2c3d4e5f60001',
      vpcId: 'vpc-0example',
      answers: [],
      firewallAction: 'BLOCK',
    });
    expect(records[7]).toMatchObject({ instance: null, srcaddr: '192.168.7.10', answers: ['10.20.0.5'] });
    expect(records[8]).toMatchObject({
      name: '.',
      type: 'NS',
      answers: ['a.root-servers.net.', 'b.root-servers.net.'],
    });
    expect(records[9]).toMatchObject({ time: null, answers: ['"v=spf1 -all"'] });
  });

  it('reports what it cannot read, by line, and keeps records with a bad time', () => {
    expect(problems).toEqual([
      {
        file: 'deliveries.log',
        line: 9,
        reason: 'query of cdn.distro-mirror.example.: missing or malformed query_timestamp',
      },
      { file: 'deliveries.log', line: 11, reason: expect.stringMatching(/^not JSON: /) },
      { file: 'deliveries.log', line: 12, reason: 'not a Resolver query record: no string query_name' },
      { file: 'deliveries.log', line: 13, reason: 'not a JSON object' },
      { file: 'deliveries.log', line: 14, reason: expect.stringMatching(/^not JSON: /) },
      { file: 'deliveries.log', line: 15, reason: 'not a Resolver query record: no string rcode, srcaddr' },
    ]);
  });

  it('normalizes names as the aggregator does', () => {
    expect(normalizeQueryName('Security.Distro-Mirror.EXAMPLE.')).toBe('security.distro-mirror.example');
    expect(normalizeQueryName('.')).toBe('.');
    expect(normalizeQueryName('no-dot')).toBe('no-dot');
    expect(readResolverLine('   ')).toEqual({ queries: [], errors: [], warnings: [] });
  });
});

describe('route53-resolver files', () => {
  it('reads gzip deliveries (S3 object names and rotated files) and detects them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-r53-'));
    dirs.push(dir);
    for (const name of [
      '111122223333_vpcdnsquerylogs_vpc-0example_20261127T0745Z_3f1c2a9e.log.gz',
      'resolver.log.1.gz',
    ]) {
      const path = join(dir, name);
      writeFileSync(path, gzipSync(SAMPLE));
      expect(route53.detect(name, headOf(SAMPLE))).toBe(true);
      const { records, problems } = await parseFile(path, route53, name);
      expect(problems).toEqual([]);
      expect(records).toHaveLength(12);
      expect(records[5]).toMatchObject({
        file: name,
        line: 6,
        name: 'ssm.us-east-1.amazonaws.com',
        answers: ['52.46.141.166'],
      });
    }
    expect(route53.detect('000000.gz', headOf(EDGES))).toBe(true);
  });

  it('does not claim other JSON lines or text logs', () => {
    expect(
      route53.detect('journal.json', ['{"MESSAGE": "Started apt-daily.service", "_HOSTNAME": "lab-i-0001"}']),
    ).toBe(false);
    expect(
      route53.detect('health.jsonl', [
        '{"time":"2026-11-27T07:47:14.120Z","instance":"i-0001","check":"x","ok":true}',
      ]),
    ).toBe(false);
    expect(route53.detect('history.log', ['Start-Date: 2026-11-27  07:47:13'])).toBe(false);
    expect(route53.detect('resolver.log', [])).toBe(false);
  });
});

describe('route53-resolver fuzzing', () => {
  it('never throws and keeps line numbers within the input on 600 mutated files', () => {
    const result = fuzzParser(route53, [SAMPLE, EDGES], { count: 600, seed: 53 });
    expect(result.violations).toEqual([]);
    expect(result.inputs).toBe(600);
    expect(result.records).toBeGreaterThan(1000);
    expect(result.problems).toBeGreaterThan(100);
  });
});
