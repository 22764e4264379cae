import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import type { AsgActivityRecord } from './index.js';
import asg, { activityKind, activityReason, MAX_DOCUMENT_CHARS } from './index.js';
import { scanJson } from './json.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url)), 'utf8');
const ONE = fixture('describe-scaling-activities.json');
const PAGES = fixture('scaling-activities-pages.json');
const at = (text: string, ms: number) => ({ text, epochMs: ms });

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('asg-activities on describe-scaling-activities output', () => {
  const { records, problems } = parseText(ONE, asg, 'activities.json');

  it('gives one record per activity, at the line where its object starts', () => {
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.line, r.kind, r.reason, r.instanceId, r.statusCode])).toEqual([
      [3, 'launch', 'capacity', 'i-0a1b2c3d4e5f60006', 'InProgress'],
      [14, 'terminate', 'health-check', 'i-0a1b2c3d4e5f60004', 'WaitingForELBConnectionDraining'],
      [25, 'launch', 'capacity', null, 'Failed'],
      [38, 'launch', 'capacity', 'i-0a1b2c3d4e5f60005', 'Successful'],
      [50, 'terminate', 'health-check', 'i-0a1b2c3d4e5f60003', 'Successful'],
      [62, 'launch', 'capacity', 'i-0a1b2c3d4e5f60004', 'Successful'],
      [74, 'terminate', 'health-check', 'i-0a1b2c3d4e5f60002', 'Successful'],
      [86, 'launch', 'capacity', 'i-0a1b2c3d4e5f60003', 'Successful'],
      [98, 'terminate', 'health-check', 'i-0a1b2c3d4e5f60001', 'Successful'],
      [110, 'launch', 'user', 'i-0a1b2c3d4e5f60002', 'Successful'],
      [122, 'launch', 'user', 'i-0a1b2c3d4e5f60001', 'Successful'],
    ]);
  });

  it('gives whole records', () => {
    expect(records[6]).toEqual<AsgActivityRecord>({
      source: 'asg-activities',
      file: 'activities.json',
      line: 74,
      time: at('2026-11-27T07:49:00.617000+00:00', Date.UTC(2026, 10, 27, 7, 49, 0, 617)),
      end: at('2026-11-27T07:49:47.911000+00:00', Date.UTC(2026, 10, 27, 7, 49, 47, 911)),
      activityId: '4c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f',
      group: 'acme-web',
      description: 'Terminating EC2 instance: i-0a1b2c3d4e5f60002',
      cause:
        'At 2026-11-27T07:49:00Z an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.',
      statusCode: 'Successful',
      statusMessage: null,
      instanceId: 'i-0a1b2c3d4e5f60002',
      kind: 'terminate',
      reason: 'health-check',
    });
    expect(records[0]).toMatchObject({
      end: null,
      time: at('2026-11-27T08:06:43.118000+00:00', Date.UTC(2026, 10, 27, 8, 6, 43, 118)),
    });
    expect(records[2]).toMatchObject({
      instanceId: null,
      statusCode: 'Failed',
      statusMessage: expect.stringMatching(/^We currently do not have sufficient m5\.large capacity/),
      end: at('2026-11-27T08:01:57+00:00', Date.UTC(2026, 10, 27, 8, 1, 57)),
    });
  });
});

describe('asg-activities pages and broken documents', () => {
  it('reads pages saved one after the other', () => {
    const { records, problems } = parseText(PAGES, asg, 'pages.json');
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.line, r.kind, r.reason])).toEqual([
      [3, 'launch', 'capacity'],
      [14, 'terminate', 'health-check'],
      [25, 'launch', 'capacity'],
      [43, 'terminate', 'instance-refresh'],
      [55, 'launch', 'instance-refresh'],
      [67, 'terminate', 'user'],
    ]);
  });

  it('reports a syntax error at its line and reads the next page', () => {
    const lines = PAGES.split('\n');
    // Drop the comma after "StatusCode" of the second activity (line 20).
    expect(lines[19]).toContain('"StatusCode": "WaitingForELBConnectionDraining",');
    lines[19] = lines[19]!.replace(/,$/, '');
    const { records, problems } = parseText(lines.join('\n'), asg, 'pages.json');
    expect(problems).toEqual([
      { file: 'pages.json', line: 21, reason: `JSON syntax error: expected ',' or '}' but found '"'` },
    ]);
    expect(records.map((r) => r.line)).toEqual([43, 55, 67]);
  });

  it('reports a document cut short, an activity without identity, and other JSON', () => {
    const cut = parseText(ONE.slice(0, 2000), asg, 'cut.json');
    expect(cut.records).toEqual([]);
    expect(cut.problems).toEqual([
      { file: 'cut.json', line: 29, reason: 'JSON syntax error: unterminated string' },
    ]);

    const odd = [
      '{"Activities": [',
      '  {"ActivityId": "a", "AutoScalingGroupName": "g", "StartTime": "yesterday"},',
      '  {"Description": "x"},',
      '  7',
      ']}',
      '{"AutoScalingGroups": []}',
    ].join('\n');
    const { records, problems } = parseText(odd, asg, 'odd.json');
    expect(records).toEqual([
      expect.objectContaining({
        line: 2,
        activityId: 'a',
        group: 'g',
        time: null,
        description: '',
        cause: '',
        statusCode: '',
        kind: 'other',
        reason: 'other',
      }),
    ]);
    expect(problems).toEqual([
      { file: 'odd.json', line: 2, reason: 'activity a without Description, Cause, StatusCode' },
      { file: 'odd.json', line: 2, reason: "activity a: StartTime is not a time: 'yesterday'" },
      { file: 'odd.json', line: 3, reason: 'activity without a string ActivityId and AutoScalingGroupName' },
      { file: 'odd.json', line: 4, reason: 'activity without a string ActivityId and AutoScalingGroupName' },
      {
        file: 'odd.json',
        line: 6,
        reason: 'not a describe-scaling-activities document: no Activities array',
      },
    ]);
  });

  it('reads the bare list of --query Activities, and stops beyond the size cap', () => {
    const list = JSON.stringify(JSON.parse(ONE).Activities, null, 2);
    expect(parseText(list, asg, 'list.json').records).toHaveLength(11);

    const parser = asg.open('huge.json', {
      record: () => undefined,
      problem: (line, reason) => problems.push({ line, reason }),
    });
    const problems: Array<{ line: number; reason: string }> = [];
    const chunk = ' '.repeat(1024 * 1024);
    for (let n = 1; n <= 70; n++) parser.line(chunk, n);
    parser.end();
    expect(problems).toEqual([
      {
        line: 64,
        reason: `larger than ${MAX_DOCUMENT_CHARS / 1024 / 1024} MiB: not read (scaling activities are kilobytes)`,
      },
    ]);
  });

  it('classifies Descriptions and Causes as AWS writes them', () => {
    expect(activityKind('Launching a new EC2 instance into warm pool: i-0abc12345678')).toBe('launch');
    expect(activityKind('Attaching an existing EC2 instance: i-0abc12345678')).toBe('other');
    expect(
      activityReason(
        'At 2026-11-27T07:50:12Z an instance was launched in response to an unhealthy instance needing to be replaced.',
      ),
    ).toBe('health-check');
    expect(
      activityReason(
        'At 2026-11-27T07:50:12Z a user request explicitly set group desired capacity changing the desired capacity from 3 to 2.',
      ),
    ).toBe('user');
    expect(
      activityReason(
        'At 2026-11-27T07:50:12Z a scheduled action update of AutoScalingGroup constraints to min: 1.',
      ),
    ).toBe('other');
  });

  it('locates errors as JSON.parse would refuse them', () => {
    expect(scanJson('{"a": [1, 2,]}', 0, 'a')).toEqual({ ok: false, at: 12, reason: "unexpected ']'" });
    expect(scanJson('{"a": "\\x"}', 0, 'a')).toEqual({ ok: false, at: 7, reason: 'bad escape in a string' });
    expect(scanJson('{"a": [{"b": -0.5e+3}, "\\u00e9"]} {', 0, 'a')).toEqual({
      ok: true,
      end: 33,
      elements: [7, 23],
    });
  });
});

describe('asg-activities files', () => {
  it('reads a gzip copy and detects the output by content and name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-asg-'));
    dirs.push(dir);
    const path = join(dir, 'scaling-activities.json.1.gz');
    writeFileSync(path, gzipSync(PAGES));
    const { records, problems } = await parseFile(path, asg, 'scaling-activities.json.1.gz');
    expect(problems).toEqual([]);
    expect(records).toHaveLength(6);
    expect(asg.detect('scaling-activities.json.1.gz', headOf(PAGES))).toBe(true);
    expect(asg.detect('activities.json', headOf(JSON.stringify(JSON.parse(ONE))))).toBe(true);
    expect(
      asg.detect('asg-activities.json', headOf(JSON.stringify(JSON.parse(ONE).Activities, null, 4))),
    ).toBe(true);
    expect(asg.detect('groups.json', ['{', '    "AutoScalingGroups": ['])).toBe(false);
  });
});

describe('asg-activities fuzzing', () => {
  it('never throws and keeps line numbers within the input on 600 mutated files', () => {
    const result = fuzzParser(asg, [ONE, PAGES], { count: 600, seed: 2026 });
    expect(result.violations).toEqual([]);
    expect(result.records).toBeGreaterThan(500);
    expect(result.problems).toBeGreaterThan(100);
  });
});
