import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser } from '../../../test-support/log-fuzz.js';
import type { LogTime } from '../../types.js';
import cloudInitOutput, { MAX_REASON_LINES } from './index.js';
import type { CloudInitOutputRecord } from './index.js';

const fixture = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const SAMPLE = readFileSync(fixture('cloud-init-output.log'), 'utf8');
const HAND = readFileSync(fixture('hand-made.cloud-init-output.log'), 'utf8');

const tmp = mkdtempSync(join(tmpdir(), 'goldgate-cloud-init-output-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const utc = (text: string, iso: string): LogTime => ({ text, epochMs: Date.parse(iso) });

/** A record with every kind-specific field null; tests name what differs. */
function record(
  file: string,
  line: number,
  time: LogTime | null,
  fields: Partial<CloudInitOutputRecord>,
): CloudInitOutputRecord {
  return {
    source: 'cloud-init-output',
    file,
    line,
    time,
    timeFrom: 'stage',
    kind: 'stage',
    text: '',
    stage: null,
    cloudInitVersion: null,
    upSeconds: null,
    datasource: null,
    package: null,
    arch: null,
    version: null,
    fromVersion: null,
    seq: null,
    url: null,
    host: null,
    item: null,
    size: null,
    message: null,
    lockHolder: null,
    otherLines: null,
    lines: null,
    ...fields,
  };
}

describe('cloud-init-output: the real lab boot (no network)', () => {
  const { records, problems } = parseText(SAMPLE, cloudInitOutput, 'cloud-init-output.log');
  const at = (line: number) => records.find((r) => r.line === line);
  const FINAL = utc('Fri, 27 Nov 2026 07:57:55 +0000', '2026-11-27T07:57:55Z');

  it('keeps 12 records of 53 lines and counts the rest', () => {
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.line, r.kind])).toEqual([
      [1, 'stage'],
      [2, 'stage'],
      [19, 'stage'],
      [25, 'stage'],
      [35, 'fetch-error'],
      [37, 'fetch-error'],
      [39, 'fetch-error'],
      [42, 'apt-warning'],
      [43, 'apt-warning'],
      [44, 'apt-warning'],
      [45, 'apt-warning'],
      [51, 'finished'],
      [53, 'summary'],
    ]);
    expect(at(53)).toEqual(
      record('cloud-init-output.log', 53, utc('Fri, 27 Nov 2026 07:58:02 +0000', '2026-11-27T07:58:02Z'), {
        kind: 'summary',
        otherLines: 38,
        lines: 53,
      }),
    );
  });

  it('reads the banners, whose times carry a zone', () => {
    expect(at(25)).toEqual(
      record('cloud-init-output.log', 25, FINAL, {
        timeFrom: 'line',
        kind: 'stage',
        text: "Cloud-init v. 22.4.2 running 'modules:final' at Fri, 27 Nov 2026 07:57:55 +0000. Up 1565.39 seconds.",
        stage: 'modules:final',
        cloudInitVersion: '22.4.2',
        upSeconds: 1565.39,
      }),
    );
    expect(at(51)).toEqual(
      record('cloud-init-output.log', 51, utc('Fri, 27 Nov 2026 07:58:02 +0000', '2026-11-27T07:58:02Z'), {
        timeFrom: 'line',
        kind: 'finished',
        text: 'Cloud-init v. 22.4.2 finished at Fri, 27 Nov 2026 07:58:02 +0000. Datasource DataSourceNoCloud [seed=/var/lib/cloud/seed/nocloud][dsmode=net].  Up 1572.47 seconds',
        cloudInitVersion: '22.4.2',
        upSeconds: 1572.47,
        datasource: 'DataSourceNoCloud [seed=/var/lib/cloud/seed/nocloud][dsmode=net]',
      }),
    );
  });

  it('shows apt failing to resolve the mirrors, with the host and the reason, timed by the last banner', () => {
    expect(at(35)).toEqual(
      record('cloud-init-output.log', 35, FINAL, {
        kind: 'fetch-error',
        text: 'Err:1 http://archive.distro-mirror.example/debian bookworm InRelease',
        seq: 1,
        url: 'http://archive.distro-mirror.example/debian',
        host: 'archive.distro-mirror.example',
        item: 'bookworm InRelease',
        message: "Temporary failure resolving 'archive.distro-mirror.example'",
      }),
    );
    expect(records.filter((r) => r.kind === 'fetch-error').map((r) => r.host)).toEqual([
      'archive.distro-mirror.example',
      'security.distro-mirror.example',
      'archive.distro-mirror.example',
    ]);
    expect(at(44)).toEqual(
      record('cloud-init-output.log', 44, FINAL, {
        kind: 'apt-warning',
        text: "W: Failed to fetch http://security.distro-mirror.example/debian-security/dists/bookworm-security/InRelease  Temporary failure resolving 'security.distro-mirror.example'",
        url: 'http://security.distro-mirror.example/debian-security/dists/bookworm-security/InRelease',
        host: 'security.distro-mirror.example',
        message:
          "Failed to fetch http://security.distro-mirror.example/debian-security/dists/bookworm-security/InRelease  Temporary failure resolving 'security.distro-mirror.example'",
      }),
    );
    expect(at(45)).toMatchObject({ kind: 'apt-warning', url: null, host: null });
  });
});

describe('cloud-init-output: hand-made apt output', () => {
  const { records, problems } = parseText(HAND, cloudInitOutput, 'out.log');
  const at = (line: number) => records.find((r) => r.line === line);
  const STAGE = utc('Fri, 27 Nov 2026 07:46:58 +0000', '2026-11-27T07:46:58Z');
  const SECURITY = 'http://security.distro-mirror.example/debian-security';

  it('reports a banner with an impossible date and an Err: cut before its reason', () => {
    expect(problems).toEqual([
      { file: 'out.log', line: 28, reason: "banner date 'Fri, 31 Nov 2026 07:47:58 +0000' is not a date" },
      { file: 'out.log', line: 31, reason: "the log ends after 'Err:9' and before its reason" },
    ]);
    expect(records.map((r) => [r.line, r.kind, r.timeFrom])).toEqual([
      [2, 'stage', 'line'],
      [4, 'get', 'stage'],
      [5, 'get', 'stage'],
      [6, 'fetch-error', 'stage'],
      [10, 'apt-warning', 'stage'],
      [13, 'get', 'stage'],
      [14, 'get', 'stage'],
      [15, 'fetch-error', 'stage'],
      [17, 'apt-error', 'stage'],
      [19, 'unpacking', 'stage'],
      [20, 'unpacking', 'stage'],
      [21, 'setting-up', 'stage'],
      [22, 'setting-up', 'stage'],
      [23, 'removing', 'stage'],
      [24, 'dpkg-lock', 'stage'],
      [25, 'dpkg-lock', 'stage'],
      [26, 'dpkg-lock', 'stage'],
      [27, 'apt-error', 'stage'],
      [28, 'stage', 'line'],
      [29, 'setting-up', 'stage'],
      [30, 'finished', 'line'],
      [31, 'fetch-error', 'stage'],
      [31, 'summary', 'stage'],
    ]);
    // After a banner whose date is unreadable, lines have no time until the next banner.
    expect(at(28)?.time).toBeNull();
    expect(at(29)?.time).toBeNull();
    expect(records.at(-1)).toMatchObject({ kind: 'summary', otherLines: 7, lines: 31 });
  });

  it('reads package downloads and index fetches apart', () => {
    expect(at(5)).toEqual(
      record('out.log', 5, STAGE, {
        kind: 'get',
        text: `Get:3 ${SECURITY} bookworm-security/main amd64 Packages [132 kB]`,
        seq: 3,
        url: SECURITY,
        host: 'security.distro-mirror.example',
        item: 'bookworm-security/main amd64 Packages',
        size: '132 kB',
      }),
    );
    expect(at(14)).toEqual(
      record('out.log', 14, STAGE, {
        kind: 'get',
        text: `Get:2 ${SECURITY} bookworm-security/main amd64 acme-runtime all 1:1.0+deb12u1 [4,120 B]`,
        package: 'acme-runtime',
        arch: 'all',
        version: '1:1.0+deb12u1',
        seq: 2,
        url: SECURITY,
        host: 'security.distro-mirror.example',
        item: 'bookworm-security/main amd64 acme-runtime all 1:1.0+deb12u1',
        size: '4,120 B',
      }),
    );
  });

  it('reads fetch errors with their reason, and E: lines with their URL', () => {
    expect(at(6)).toMatchObject({
      kind: 'fetch-error',
      host: 'archive.distro-mirror.example',
      message: 'Could not connect to archive.distro-mirror.example:80 (203.0.113.7), connection timed out',
    });
    expect(at(15)).toEqual(
      record('out.log', 15, STAGE, {
        kind: 'fetch-error',
        text: `Err:3 ${SECURITY} bookworm-security/main amd64 libc6 amd64 2.36-9+deb12u9`,
        package: 'libc6',
        arch: 'amd64',
        version: '2.36-9+deb12u9',
        seq: 3,
        url: SECURITY,
        host: 'security.distro-mirror.example',
        item: 'bookworm-security/main amd64 libc6 amd64 2.36-9+deb12u9',
        message: '404  Not Found [IP: 203.0.113.8 80]',
      }),
    );
    expect(at(17)).toMatchObject({
      kind: 'apt-error',
      url: `${SECURITY}/pool/updates/main/g/glibc/libc6_2.36-9+deb12u9_amd64.deb`,
      host: 'security.distro-mirror.example',
    });
    expect(at(31)).toMatchObject({ kind: 'fetch-error', package: 'jq', message: null, truncated: true });
  });

  it('reads Setting up, Unpacking (over an old version) and Removing', () => {
    expect(at(19)).toEqual(
      record('out.log', 19, STAGE, {
        kind: 'unpacking',
        text: 'Unpacking libssl3:amd64 (3.0.15-1~deb12u1) over (3.0.11-1~deb12u2) ...',
        package: 'libssl3',
        arch: 'amd64',
        version: '3.0.15-1~deb12u1',
        fromVersion: '3.0.11-1~deb12u2',
      }),
    );
    expect(at(20)).toMatchObject({
      kind: 'unpacking',
      package: 'jq',
      arch: null,
      version: '1.6-2.1',
      fromVersion: null,
    });
    expect(at(22)).toEqual(
      record('out.log', 22, STAGE, {
        kind: 'setting-up',
        text: 'Setting up acme-runtime (1:1.0+deb12u1) ...',
        package: 'acme-runtime',
        version: '1:1.0+deb12u1',
      }),
    );
    expect(at(23)).toMatchObject({ kind: 'removing', package: 'acme-legacy', version: '0.9' });
  });

  it('reads lock waits, keeping only the last state of a line apt redrew with \\r', () => {
    const waiting =
      'Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)... 5s';
    expect(at(24)).toEqual(
      record('out.log', 24, STAGE, {
        kind: 'dpkg-lock',
        text: waiting,
        message: waiting,
        lockHolder: { pid: 812, program: 'unattended-upgr' },
      }),
    );
    expect(at(25)).toMatchObject({
      kind: 'dpkg-lock',
      message: 'Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)',
      lockHolder: { pid: 812, program: 'unattended-upgr' },
    });
    expect(at(26)).toMatchObject({ kind: 'dpkg-lock', lockHolder: null });
  });

  it('gives lines before any banner no time, and caps an Err: reason', () => {
    const text = `Setting up jq (1.6-2.1) ...\nErr:1 http://x.example/debian bookworm InRelease\n${'  again\n'.repeat(30)}`;
    const result = parseText(text, cloudInitOutput, 'early.log');
    expect(result.records[0]).toMatchObject({ kind: 'setting-up', time: null, timeFrom: 'none' });
    expect(result.records[1]?.message?.split('\n')).toHaveLength(MAX_REASON_LINES);
    expect(result.records[2]).toMatchObject({ kind: 'summary', otherLines: 0, lines: 32 });
    expect(result.problems).toEqual([]);
    expect(parseText('', cloudInitOutput).records).toEqual([]);
  });
});

describe('cloud-init-output: detection and compressed, rotated files', () => {
  it('detects the output log by name (rotations included) and by its first banner', () => {
    const head = SAMPLE.split('\n').slice(0, 5);
    for (const name of ['cloud-init-output.log', 'cloud-init-output.log.1', 'cloud-init-output.log.1.gz']) {
      expect(cloudInitOutput.detect(name, head)).toBe(true);
      expect(cloudInitOutput.detect(name, [])).toBe(true);
    }
    expect(cloudInitOutput.detect('console.txt', head)).toBe(true);
    expect(
      cloudInitOutput.detect('cloud-init.log', [
        '2026-11-27 07:57:54,502 - util.py[DEBUG]: Cloud-init v. 22.4.2',
      ]),
    ).toBe(false);
    expect(cloudInitOutput.detect('syslog', ['Nov 27 07:47:13 host systemd[1]: Started x.'])).toBe(false);
  });

  it('parses a gzip-rotated copy the same as the plain file', async () => {
    const path = join(tmp, 'cloud-init-output.log.1.gz');
    writeFileSync(path, gzipSync(HAND));
    const gz = await parseFile(path, cloudInitOutput, 'cloud-init-output.log.1.gz');
    expect(gz).toEqual(parseText(HAND, cloudInitOutput, 'cloud-init-output.log.1.gz'));
    expect(gz.records).toHaveLength(23);
  });
});

describe('cloud-init-output: fuzz', () => {
  it('never throws on 600 mutated logs, and every line number is in the input', () => {
    const result = fuzzParser(cloudInitOutput, [SAMPLE, HAND], { count: 600, seed: 0x0c10 });
    expect(result.violations).toEqual([]);
    expect(result.inputs).toBe(600);
    expect(result.records).toBeGreaterThan(7000);
    expect(result.problems).toBeGreaterThan(300);
  });
});
