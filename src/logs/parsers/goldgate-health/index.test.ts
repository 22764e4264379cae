import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import type { GoldgateHealthRecord } from './index.js';
import health from './index.js';

const LOG = readFileSync(
  fileURLToPath(new URL('./__fixtures__/goldgate-health.jsonl', import.meta.url)),
  'utf8',
);
const at = (text: string) => ({ text, epochMs: Date.parse(text) });

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('goldgate-health', () => {
  const { records, problems } = parseText(LOG, health, 'goldgate-health.jsonl');

  it('reads every check of the incident run', () => {
    expect(problems).toEqual([]);
    expect(records).toHaveLength(13);
    expect(records.filter((r) => !r.ok).map((r) => r.line)).toEqual([9, 10, 11, 12, 13]);
    expect(records[0]).toEqual<GoldgateHealthRecord>({
      source: 'goldgate-health',
      file: 'goldgate-health.jsonl',
      line: 1,
      time: at('2026-11-27T07:46:40.004Z'),
      instance: 'i-0001',
      check: 'command /usr/lib/acme/health',
      ok: true,
      detail: null,
      durationMs: 9,
    });
    expect(records[8]).toEqual<GoldgateHealthRecord>({
      source: 'goldgate-health',
      file: 'goldgate-health.jsonl',
      line: 9,
      time: at('2026-11-27T07:47:14.120Z'),
      instance: 'i-0001',
      check: 'command /usr/lib/acme/health',
      ok: false,
      detail: 'missing /etc/acme/v2.conf',
      durationMs: 12,
    });
    expect(records[12]).toMatchObject({
      check: 'http http://127.0.0.1:8080/healthz',
      detail: 'connection refused',
    });
  });

  it('keeps optional fields optional and reports lines that are not checks', () => {
    const text = [
      '{"time":"2026-11-27T07:47:14+01:00","check":"unit acme-runtime.service","ok":true,"newField":[1]}',
      '{"time":"2026-11-27T07:47:14Z","check":"x","ok":"false"}',
      '{"time":"yesterday","check":"x","ok":true}',
      '{"check":"x"}',
      '{"time":"2026-11-27T07:47:14Z","check":"x","ok":true,"durationMs":-1}',
      '{"time":"2026-11-27T07:47:14Z","check":"x","ok":tru',
      '',
      '[]',
    ].join('\n');
    const { records, problems } = parseText(text, health, 'h.jsonl');
    expect(records).toEqual([
      {
        source: 'goldgate-health',
        file: 'h.jsonl',
        line: 1,
        time: { text: '2026-11-27T07:47:14+01:00', epochMs: Date.UTC(2026, 10, 27, 6, 47, 14) },
        instance: null,
        check: 'unit acme-runtime.service',
        ok: true,
        detail: null,
        durationMs: null,
      },
    ]);
    expect(problems).toEqual([
      { file: 'h.jsonl', line: 2, reason: 'not a health check: bad or missing ok' },
      {
        file: 'h.jsonl',
        line: 3,
        reason: "not a health check: time is not an ISO time with a zone: 'yesterday'",
      },
      { file: 'h.jsonl', line: 4, reason: 'not a health check: bad or missing time, ok' },
      { file: 'h.jsonl', line: 5, reason: 'not a health check: bad or missing durationMs' },
      { file: 'h.jsonl', line: 6, reason: expect.stringMatching(/^not JSON: /) },
      { file: 'h.jsonl', line: 8, reason: 'not a health check: bad or missing (line)' },
    ]);
  });

  it('reads a gzip-rotated copy and detects the format by content and name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-health-'));
    dirs.push(dir);
    const path = join(dir, 'goldgate-health.jsonl.1.gz');
    writeFileSync(path, gzipSync(LOG));
    const { records, problems } = await parseFile(path, health, 'goldgate-health.jsonl.1.gz');
    expect(problems).toEqual([]);
    expect(records).toHaveLength(13);
    expect(records[9]).toMatchObject({ file: 'goldgate-health.jsonl.1.gz', line: 10, ok: false });
    expect(health.detect('goldgate-health.jsonl.1.gz', headOf(LOG))).toBe(true);
    expect(health.detect('checks.log', headOf(LOG))).toBe(true);
    expect(health.detect('goldgate-health.jsonl', ['{"time":"2026-11-27T07:47:14Z","check":"x","o'])).toBe(
      true,
    );
    expect(
      health.detect('resolver.jsonl', ['{"query_name":"x.","rcode":"NOERROR","srcaddr":"10.0.1.20"}']),
    ).toBe(false);
  });

  it('never throws and keeps line numbers within the input on 600 mutated files', () => {
    const result = fuzzParser(health, [LOG], { count: 600, seed: 14 });
    expect(result.violations).toEqual([]);
    expect(result.records).toBeGreaterThan(3000);
    expect(result.problems).toBeGreaterThan(300);
  });
});
