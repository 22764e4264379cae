import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import aptTerm from './index.js';
import type { AptTermRecord } from './index.js';
import { MAX_SESSION_CHARS, MAX_SESSION_ITEMS } from './session.js';

const path = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const read = (name: string) => readFileSync(path(name), 'utf8');
const at = (text: string) => ({ text, local: text.replace(/\s+/, 'T') });
const FIXTURES = ['lab-incident.term.log', 'apt-varieties.term.log', 'hand-made.term.log'];

function session(
  fields: Partial<AptTermRecord> & Pick<AptTermRecord, 'file' | 'line' | 'time'>,
): AptTermRecord {
  return {
    source: 'apt-term',
    end: null,
    lines: 0,
    unpacked: [],
    setUp: [],
    removed: [],
    purged: [],
    errors: [],
    restarts: [],
    ...fields,
  };
}

describe('apt-term on the lab incident sample', () => {
  it('reads the upgrade of acme-runtime through the progress carriage returns', async () => {
    const file = 'lab-incident.term.log';
    const { records, problems } = await parseFile(path(file), aptTerm, file);
    expect(problems).toEqual([]);
    expect(records).toEqual([
      session({
        file,
        line: 2,
        time: at('2026-11-27  07:47:13'),
        end: at('2026-11-27  07:47:13'),
        lines: 4,
        unpacked: [{ package: 'acme-runtime', arch: null, version: '1.0+deb12u1', over: '1.0' }],
        setUp: [{ package: 'acme-runtime', arch: null, version: '1.0+deb12u1' }],
      }),
    ]);
  });
});

describe('apt-term on the apt-varieties sample', () => {
  it('reads five empty sessions (apt ran without a terminal, so dpkg wrote nothing here)', () => {
    const file = 'apt-varieties.term.log';
    const { records, problems } = parseText(read(file), aptTerm, file);
    expect(problems).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([2, 5, 8, 11, 14]);
    expect(records[0]).toEqual(
      session({ file, line: 2, time: at('2026-11-27  08:04:27'), end: at('2026-11-27  08:04:27') }),
    );
    expect(records.every((r) => r.lines === 0 && r.unpacked.length === 0 && r.truncated === undefined)).toBe(
      true,
    );
  });
});

describe('apt-term on hand-made sessions', () => {
  const file = 'hand-made.term.log';
  const { records, problems } = parseText(read(file), aptTerm, file);

  it('reads five sessions; the last is cut off and reported', () => {
    expect(records.map((r) => [r.line, r.lines, r.truncated ?? false])).toEqual([
      [2, 11, false],
      [16, 21, false],
      [40, 10, false],
      [53, 4, false],
      [60, 3, true],
    ]);
    expect(problems).toEqual([
      { file, line: 60, reason: 'session has no "Log ended:": the run was cut off, or the log was' },
    ]);
  });

  it('reads a fresh install', () => {
    expect(records[0]).toEqual(
      session({
        file,
        line: 2,
        time: at('2026-11-28  06:41:10'),
        end: at('2026-11-28  06:41:14'),
        lines: 11,
        unpacked: [
          { package: 'nginx-common', arch: null, version: '1.22.1-9' },
          { package: 'nginx', arch: null, version: '1.22.1-9' },
        ],
        setUp: [
          { package: 'nginx-common', arch: null, version: '1.22.1-9' },
          { package: 'nginx', arch: null, version: '1.22.1-9' },
        ],
      }),
    );
  });

  it('reads multi-arch names and needrestart restarts, leaving out the deferred ones', () => {
    expect(records[1]).toEqual(
      session({
        file,
        line: 16,
        time: at('2026-11-28  06:25:11'),
        end: at('2026-11-28  06:25:19'),
        lines: 21,
        unpacked: [
          { package: 'libc6', arch: 'i386', version: '2.36-9+deb12u4', over: '2.36-9+deb12u3' },
          { package: 'libc6', arch: 'amd64', version: '2.36-9+deb12u4', over: '2.36-9+deb12u3' },
        ],
        setUp: [
          { package: 'libc6', arch: 'amd64', version: '2.36-9+deb12u4' },
          { package: 'libc6', arch: 'i386', version: '2.36-9+deb12u4' },
        ],
        restarts: ['Restarting services...', 'systemctl restart cron.service nginx.service'],
      }),
    );
  });

  it('joins an error to the lines that explain it', () => {
    expect(records[2]?.errors).toEqual([
      'dpkg: error processing package acme-broken (--configure): installed acme-broken package post-installation script subprocess returned error exit status 1',
      'Errors were encountered while processing: acme-broken',
    ]);
  });

  it('reads removes and purges with epochs', () => {
    expect(records[3]).toEqual(
      session({
        file,
        line: 53,
        time: at('2026-11-28  07:00:01'),
        end: at('2026-11-28  07:00:02'),
        lines: 4,
        removed: [{ package: 'telnet', arch: null, version: '0.17+2.4-2+deb12u1' }],
        purged: [{ package: 'inetutils-telnet', arch: null, version: '2:2.4-2+deb12u1' }],
      }),
    );
  });

  it('emits the cut-off session with what it holds', () => {
    expect(records[4]).toEqual(
      session({
        file,
        line: 60,
        time: at('2026-11-28  07:10:00'),
        lines: 3,
        unpacked: [{ package: 'acme-runtime', arch: null, version: '1.0+deb12u1', over: '1.0' }],
        truncated: true,
      }),
    );
  });
});

describe('apt-term problems', () => {
  it('reports lines outside sessions, unmatched ends, bad dates and names, and sessions cut by the next one', () => {
    const text = [
      'stray output',
      'Log ended: 2026-11-27  07:00:00',
      'Log started: yesterday',
      'Setting up Bad_Name (1.0) ...',
      'Setting up good (1.0) ...',
      'Log started: 2026-11-27  07:00:05',
      'E: Sub-process /usr/bin/dpkg returned an error code (1)',
      'Log ended: 2026-11-27  99:00:06',
    ].join('\n');
    const { records, problems } = parseText(text, aptTerm, 't.log');
    expect(problems.map((p) => [p.line, p.reason])).toEqual([
      [1, 'line outside a "Log started:" session: \'stray output\''],
      [2, '"Log ended:" without "Log started:"'],
      [3, '"Log started:" \'yesterday\' is not a date and time'],
      [4, "invalid package name 'Bad_Name'"],
      [3, 'session has no "Log ended:": the run was cut off, or the log was'],
      [8, '"Log ended:" \'2026-11-27  99:00:06\' is not a date and time'],
    ]);
    expect(records).toEqual([
      session({
        file: 't.log',
        line: 3,
        time: null,
        lines: 2,
        setUp: [{ package: 'good', arch: null, version: '1.0' }],
        truncated: true,
      }),
      session({
        file: 't.log',
        line: 6,
        time: at('2026-11-27  07:00:05'),
        lines: 1,
        errors: ['E: Sub-process /usr/bin/dpkg returned an error code (1)'],
      }),
    ]);
  });

  it(`keeps at most ${MAX_SESSION_ITEMS} items of one session and reports it once`, () => {
    const lines = ['Log started: 2026-11-27  07:00:00'];
    for (let i = 0; i < MAX_SESSION_ITEMS + 5; i++) lines.push(`Setting up p${i} (1.0) ...`);
    lines.push('Log ended: 2026-11-27  07:00:01');
    const { records, problems } = parseText(lines.join('\n'), aptTerm, 't.log');
    expect(problems).toEqual([
      {
        file: 't.log',
        line: MAX_SESSION_ITEMS + 2,
        reason: `session holds more than ${MAX_SESSION_ITEMS} packages, errors and restarts or ${MAX_SESSION_CHARS} characters; rest ignored`,
      },
    ]);
    expect(records[0]?.setUp).toHaveLength(MAX_SESSION_ITEMS);
    expect(records[0]?.lines).toBe(MAX_SESSION_ITEMS + 5);
  });
});

describe('apt-term files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goldgate-apt-term-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a gzip-rotated term.log.1.gz like the plain file', async () => {
    const rotated = join(dir, 'term.log.1.gz');
    writeFileSync(rotated, gzipSync(readFileSync(path('hand-made.term.log'))));
    const plain = await parseFile(path('hand-made.term.log'), aptTerm, 'term.log');
    const gz = await parseFile(rotated, aptTerm, 'term.log');
    expect(gz).toEqual(plain);
    expect(gz.records).toHaveLength(5);
  });

  it('detects term.log and its rotations, and leaves unattended-upgrades-dpkg.log to its parser', () => {
    const head = headOf(read('lab-incident.term.log'));
    for (const name of ['term.log', 'term.log.1', 'term.log.4.gz', 'i-0abc.term.log']) {
      expect(aptTerm.detect(name, head), name).toBe(true);
      expect(aptTerm.detect(name, []), `${name} (empty)`).toBe(true);
    }
    expect(aptTerm.detect('xterm.log', [])).toBe(false);
    expect(aptTerm.detect('unattended-upgrades-dpkg.log', head)).toBe(false);
    for (const other of [
      '../../apt-history/__fixtures__/apt-varieties.history.log',
      '../../dpkg/__fixtures__/lab-incident.dpkg.log',
      '../../unattended-upgrades/__fixtures__/lab-incident.unattended-upgrades.log',
    ]) {
      expect(aptTerm.detect('term.log', headOf(read(other))), other).toBe(false);
    }
  });
});

describe('apt-term fuzzing', () => {
  it('never throws and keeps line numbers inside the input over 600 mutated inputs', () => {
    const result = fuzzParser(aptTerm, FIXTURES.map(read), { count: 600, seed: 4 });
    expect(result.violations).toEqual([]);
    expect(result.records).toBeGreaterThan(1000);
    expect(result.problems).toBeGreaterThan(100);
  });
});
