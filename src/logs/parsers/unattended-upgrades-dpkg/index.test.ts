import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser, headOf } from '../../../test-support/log-fuzz.js';
import unattendedUpgradesDpkg from './index.js';
import type { UnattendedUpgradesDpkgRecord } from './index.js';

const path = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const read = (name: string) => readFileSync(path(name), 'utf8');
const at = (text: string) => ({ text, local: text.replace(/\s+/, 'T') });
const FIXTURES = ['lab-incident.unattended-upgrades-dpkg.log', 'hand-made.unattended-upgrades-dpkg.log'];

function session(
  fields: Partial<UnattendedUpgradesDpkgRecord> &
    Pick<UnattendedUpgradesDpkgRecord, 'file' | 'line' | 'time'>,
): UnattendedUpgradesDpkgRecord {
  return {
    source: 'unattended-upgrades-dpkg',
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

describe('unattended-upgrades-dpkg on the lab incident sample', () => {
  it('reads the automatic upgrade of acme-runtime', async () => {
    const file = 'lab-incident.unattended-upgrades-dpkg.log';
    const { records, problems } = await parseFile(path(file), unattendedUpgradesDpkg, file);
    expect(problems).toEqual([]);
    expect(records).toEqual([
      session({
        file,
        line: 1,
        time: at('2026-11-27  07:47:13'),
        end: at('2026-11-27  07:47:13'),
        lines: 6,
        unpacked: [{ package: 'acme-runtime', arch: null, version: '1.0+deb12u1', over: '1.0' }],
        setUp: [{ package: 'acme-runtime', arch: null, version: '1.0+deb12u1' }],
      }),
    ]);
  });
});

describe('unattended-upgrades-dpkg on hand-made sessions (CRLF line ends)', () => {
  const file = 'hand-made.unattended-upgrades-dpkg.log';
  const { records, problems } = parseText(read(file), unattendedUpgradesDpkg, file);

  it('reads a failed unpack with its reason, and a restart message', () => {
    expect(problems).toEqual([]);
    expect(records).toEqual([
      session({
        file,
        line: 1,
        time: at('2026-11-28  06:30:06'),
        end: at('2026-11-28  06:30:40'),
        lines: 7,
        unpacked: [{ package: 'openssl', arch: null, version: '3.0.17-1~deb12u2', over: '3.0.15-1~deb12u1' }],
        errors: [
          'dpkg: error processing archive /var/cache/apt/archives/openssl_3.0.17-1~deb12u2_amd64.deb (--unpack): cannot copy extracted data for ./usr/bin/openssl to /usr/bin/openssl.dpkg-new: failed to write (No space left on device)',
          'Errors were encountered while processing: /var/cache/apt/archives/openssl_3.0.17-1~deb12u2_amd64.deb',
        ],
      }),
      session({
        file,
        line: 11,
        time: at('2026-11-28  07:35:03'),
        end: at('2026-11-28  07:35:09'),
        lines: 2,
        setUp: [{ package: 'tzdata', arch: null, version: '2025b-0+deb12u1' }],
        restarts: ['[ ok ] Restarting cron (via systemctl): cron.service.'],
      }),
    ]);
  });
});

describe('unattended-upgrades-dpkg files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goldgate-uu-dpkg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a gzip-rotated unattended-upgrades-dpkg.log.1.gz, cut mid-session, with a problem', async () => {
    const rotated = join(dir, 'unattended-upgrades-dpkg.log.1.gz');
    const text = read('hand-made.unattended-upgrades-dpkg.log');
    writeFileSync(rotated, gzipSync(text.slice(0, text.indexOf('Log ended: 2026-11-28  07:35:09'))));
    const { records, problems } = await parseFile(rotated, unattendedUpgradesDpkg, 'uud.log');
    expect(records.map((r) => [r.line, r.truncated ?? false])).toEqual([
      [1, false],
      [11, true],
    ]);
    expect(problems).toEqual([
      {
        file: 'uud.log',
        line: 11,
        reason: 'session has no "Log ended:": the run was cut off, or the log was',
      },
    ]);
  });

  it('detects its own name only, and leaves term.log to apt-term', () => {
    const head = headOf(read('lab-incident.unattended-upgrades-dpkg.log'));
    for (const name of [
      'unattended-upgrades-dpkg.log',
      'unattended-upgrades-dpkg.log.1.gz',
      'i-0abc-unattended-upgrades-dpkg.log',
    ]) {
      expect(unattendedUpgradesDpkg.detect(name, head), name).toBe(true);
      expect(unattendedUpgradesDpkg.detect(name, []), `${name} (empty)`).toBe(true);
    }
    expect(unattendedUpgradesDpkg.detect('term.log', head)).toBe(false);
    expect(unattendedUpgradesDpkg.detect('unattended-upgrades.log', head)).toBe(false);
    expect(
      unattendedUpgradesDpkg.detect(
        'unattended-upgrades-dpkg.log',
        headOf(read('../../unattended-upgrades/__fixtures__/lab-incident.unattended-upgrades.log')),
      ),
    ).toBe(false);
  });
});

describe('unattended-upgrades-dpkg fuzzing', () => {
  it('never throws and keeps line numbers inside the input over 600 mutated inputs', () => {
    const result = fuzzParser(unattendedUpgradesDpkg, FIXTURES.map(read), { count: 600, seed: 5 });
    expect(result.violations).toEqual([]);
    expect(result.records).toBeGreaterThan(600);
    expect(result.problems).toBeGreaterThan(50);
  });
});
