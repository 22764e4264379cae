import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser } from '../../../test-support/log-fuzz.js';
import { parseBanner, parsePythonList, rfc2822Time } from './banner.js';
import cloudInit, { MAX_DETAIL_LINES } from './index.js';
import type { CloudInitRecord } from './index.js';

const fixture = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const SAMPLE = readFileSync(fixture('cloud-init.log'), 'utf8');
const SAMPLE_LINES = SAMPLE.split('\n');
const HAND = readFileSync(fixture('hand-made.cloud-init.log'), 'utf8');
const HAND_LINES = HAND.split('\n');

const tmp = mkdtempSync(join(tmpdir(), 'goldgate-cloud-init-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A record with every event field null; tests name what differs. */
function record(
  file: string,
  line: number,
  stamp: string,
  fields: Partial<CloudInitRecord>,
): CloudInitRecord {
  return {
    source: 'cloud-init',
    file,
    line,
    time: { text: stamp, local: `${stamp.slice(0, 10)}T${stamp.slice(11).replace(',', '.')}` },
    level: 'DEBUG',
    module: 'util.py',
    message: '',
    detail: [],
    event: 'other',
    stage: null,
    cloudInitVersion: null,
    at: null,
    upSeconds: null,
    datasource: null,
    cloudModule: null,
    frequency: null,
    result: null,
    durationSeconds: null,
    argv: null,
    commandText: null,
    exitCode: null,
    lock: null,
    lockHolder: null,
    lockWaitSeconds: null,
    ...fields,
  };
}

const APT_UPGRADE = [
  'apt-get',
  '--option=Dpkg::Options::=--force-confold',
  '--option=Dpkg::options::=--force-unsafe-io',
  '--assume-yes',
  '--quiet',
  'dist-upgrade',
];

describe('cloud-init: the real lab boot', () => {
  const { records, problems } = parseText(SAMPLE, cloudInit, 'cloud-init.log');
  const at = (line: number) => records.find((r) => r.line === line);

  it('reads every line into 902 records, no problems', () => {
    expect(problems).toEqual([]);
    expect(records).toHaveLength(902);
    const counts: Record<string, number> = {};
    for (const r of records) counts[r.event] = (counts[r.event] ?? 0) + 1;
    expect(counts).toEqual({
      'stage-start': 4,
      'module-start': 29,
      'module-done': 28,
      'module-failed': 3,
      command: 34,
      'command-failed': 4,
      finished: 9,
      other: 791,
    });
    // Continuation lines (4 ssh-keygen tracebacks, the locale traceback, two multi-line dicts) are not records.
    expect(records.reduce((n, r) => n + 1 + r.detail.length, 0)).toBe(SAMPLE_LINES.length - 1);
  });

  it('reads the stage banners, with the zoned time they state', () => {
    expect(records.filter((r) => r.event === 'stage-start').map((r) => [r.line, r.stage])).toEqual([
      [1, 'init-local'],
      [300, 'init'],
      [762, 'modules:config'],
      [886, 'modules:final'],
    ]);
    expect(at(1)).toEqual(
      record('cloud-init.log', 1, '2026-11-27 07:57:54,502', {
        message:
          "Cloud-init v. 22.4.2 running 'init-local' at Fri, 27 Nov 2026 07:57:54 +0000. Up 1564.53 seconds.",
        event: 'stage-start',
        stage: 'init-local',
        cloudInitVersion: '22.4.2',
        at: { text: 'Fri, 27 Nov 2026 07:57:54 +0000', epochMs: Date.parse('2026-11-27T07:57:54Z') },
        upSeconds: 1564.53,
      }),
    );
    expect(at(1014)).toEqual(
      record('cloud-init.log', 1014, '2026-11-27 07:58:02,439', {
        message:
          'Cloud-init v. 22.4.2 finished at Fri, 27 Nov 2026 07:58:02 +0000. Datasource DataSourceNoCloud [seed=/var/lib/cloud/seed/nocloud][dsmode=net].  Up 1572.47 seconds',
        event: 'finished',
        cloudInitVersion: '22.4.2',
        at: { text: 'Fri, 27 Nov 2026 07:58:02 +0000', epochMs: Date.parse('2026-11-27T07:58:02Z') },
        upSeconds: 1572.47,
        datasource: 'DataSourceNoCloud [seed=/var/lib/cloud/seed/nocloud][dsmode=net]',
      }),
    );
  });

  it('shows the locale module failing, with the command and exit code from its traceback', () => {
    expect(at(797)).toEqual(
      record('cloud-init.log', 797, '2026-11-27 07:57:55,079', {
        module: 'modules.py',
        message:
          "Running module locale (<module 'cloudinit.config.cc_locale' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_locale.py'>) with frequency once-per-instance",
        event: 'module-start',
        cloudModule: 'locale',
        frequency: 'once-per-instance',
      }),
    );
    expect(at(809)).toEqual(
      record('cloud-init.log', 809, '2026-11-27 07:57:55,086', {
        module: 'subp.py',
        message:
          "Running command ['update-locale', '--locale-file=/etc/default/locale', 'LANG=en_US.UTF-8'] with allowed return codes [0] (shell=False, capture=False)",
        event: 'command',
        argv: ['update-locale', '--locale-file=/etc/default/locale', 'LANG=en_US.UTF-8'],
      }),
    );
    expect(at(810)).toEqual(
      record('cloud-init.log', 810, '2026-11-27 07:57:55,097', {
        module: 'handlers.py',
        message:
          'finish: modules-config/config-locale: FAIL: running config-locale with frequency once-per-instance',
        event: 'module-failed',
        stage: 'modules-config',
        cloudModule: 'locale',
        result: 'FAIL',
      }),
    );
    const message =
      "Running module locale (<module 'cloudinit.config.cc_locale' from '/usr/lib/python3/dist-packages/cloudinit/config/cc_locale.py'>) failed";
    expect(at(811)).toEqual(
      record('cloud-init.log', 811, '2026-11-27 07:57:55,097', {
        level: 'WARNING',
        message,
        event: 'module-failed',
        cloudModule: 'locale',
      }),
    );
    expect(at(812)).toEqual(
      record('cloud-init.log', 812, '2026-11-27 07:57:55,097', {
        message,
        detail: SAMPLE_LINES.slice(812, 836),
        event: 'module-failed',
        cloudModule: 'locale',
        argv: ['update-locale', '--locale-file=/etc/default/locale', 'LANG=en_US.UTF-8'],
        exitCode: 255,
      }),
    );
    expect(at(812)?.detail.at(-1)).toBe('Stderr: -');
    expect(records.filter((r) => r.event === 'module-failed').map((r) => r.cloudModule)).toEqual([
      'locale',
      'locale',
      'locale',
    ]);
  });

  it('shows ssh-keygen failing to start: a command-failed with no exit code', () => {
    const failures = records.filter((r) => r.event === 'command-failed');
    expect(failures.map((r) => [r.line, r.argv?.[2], r.exitCode, r.detail.length])).toEqual([
      [638, 'rsa', null, 24],
      [665, 'dsa', null, 24],
      [692, 'ecdsa', null, 24],
      [719, 'ed25519', null, 24],
    ]);
    expect(failures[0]?.argv).toEqual([
      'ssh-keygen',
      '-t',
      'rsa',
      '-N',
      '',
      '-f',
      '/etc/ssh/ssh_host_rsa_key',
    ]);
    expect(failures[0]?.detail.at(-1)).toBe('Stderr: -');
  });

  it('shows package_update_upgrade_install running apt, taking its lock without a wait', () => {
    expect(at(931)?.event).toBe('module-start');
    expect(at(931)?.cloudModule).toBe('package_update_upgrade_install');
    expect(at(939)?.argv).toEqual([...APT_UPGRADE.slice(0, -1), 'update']);
    expect(
      records.filter((r) => r.lock !== null).map((r) => [r.line, r.event, r.lock, r.lockWaitSeconds]),
    ).toEqual([
      [937, 'other', 'waiting', null],
      [938, 'other', 'acquired', 0],
      [941, 'other', 'waiting', null],
      [942, 'other', 'acquired', 0.001],
    ]);
    // apt-get update "succeeded" without a network (apt only warns): the module reports success.
    expect(at(945)).toMatchObject({
      event: 'module-done',
      cloudModule: 'package_update_upgrade_install',
      result: 'SUCCESS',
    });
  });

  it('reads both ways cloud-init closes a stage', () => {
    expect(
      records
        .filter((r) => r.event === 'finished')
        .map((r) => [r.line, r.stage, r.result, r.durationSeconds]),
    ).toEqual([
      [298, 'init', null, 0.059],
      [299, 'init-local', 'SUCCESS', null],
      [760, 'init', null, 0.115],
      [761, 'init-network', 'SUCCESS', null],
      [884, 'modules', null, 0.107],
      [885, 'modules-config', 'FAIL', null],
      [1014, null, null, null],
      [1023, 'modules', null, 7.099],
      [1024, 'modules-final', 'SUCCESS', null],
    ]);
  });
});

describe('cloud-init: hand-made cases', () => {
  const { records, problems } = parseText(HAND, cloudInit, 'hand.log');
  const at = (line: number) => records.find((r) => r.line === line);

  it('reports text before the first record once, and a date that does not exist', () => {
    expect(problems).toEqual([
      { file: 'hand.log', line: 1, reason: 'text before the first record, skipped' },
      { file: 'hand.log', line: 30, reason: "'2026-13-45 07:47:41,013' is not a date and time" },
    ]);
    expect(at(30)).toMatchObject({ time: null, message: 'a line whose date cannot be', event: 'other' });
    expect(records.map((r) => r.event)).toEqual([
      'stage-start',
      'module-start',
      'other',
      'dpkg-lock',
      'command',
      'dpkg-lock',
      'other',
      'dpkg-lock',
      'module-failed',
      'module-failed',
      'reboot',
      'command',
      'other',
      'command-failed',
      'other',
      'finished',
    ]);
  });

  it('turns a 12 s wait for the apt lock into a dpkg-lock event', () => {
    expect(at(5)).toEqual(
      record('hand.log', 5, '2026-11-27 07:46:58,131', {
        module: 'debian.py',
        message: 'Waiting for apt lock',
        lock: 'waiting',
      }),
    );
    expect(at(6)).toEqual(
      record('hand.log', 6, '2026-11-27 07:47:10,402', {
        module: 'debian.py',
        message: 'apt lock available',
        event: 'dpkg-lock',
        lock: 'acquired',
        lockWaitSeconds: 12.271,
      }),
    );
    expect(at(8)).toMatchObject({ event: 'dpkg-lock', lock: 'held', lockHolder: null });
  });

  it('reads a failure whose traceback shows the lock holder: dpkg-lock with argv and exit code', () => {
    expect(at(10)).toEqual(
      record('hand.log', 10, '2026-11-27 07:47:41,003', {
        message: 'Package upgrade failed',
        detail: HAND_LINES.slice(10, 24),
        event: 'dpkg-lock',
        argv: APT_UPGRADE,
        exitCode: 100,
        lock: 'held',
        lockHolder: { pid: 812, program: 'unattended-upgr' },
      }),
    );
    // The blank line after the traceback belongs to nothing.
    expect(HAND_LINES[24]).toBe('');
    expect(at(9)).toMatchObject({ level: 'WARNING', event: 'other', detail: [] });
  });

  it('reads module failures, reboots, shell-string commands and bare command failures', () => {
    expect(at(26)).toMatchObject({
      event: 'module-failed',
      cloudModule: 'package_update_upgrade_install',
      result: 'FAIL',
    });
    expect(at(27)).toMatchObject({
      event: 'module-failed',
      cloudModule: 'package_update_upgrade_install',
      argv: null,
    });
    expect(at(28)).toEqual(
      record('hand.log', 28, '2026-11-27 07:47:41,011', {
        level: 'WARNING',
        module: 'cc_package_update_upgrade_install.py',
        message: 'Rebooting after upgrade or install per /var/run/reboot-required',
        event: 'reboot',
      }),
    );
    expect(at(29)).toMatchObject({
      event: 'command',
      argv: null,
      commandText: `/bin/sh -c 'echo "it'\\''s done" > /run/done'`,
    });
    expect(at(31)).toEqual(
      record('hand.log', 31, '2026-11-27 07:47:41,014', {
        level: 'WARNING',
        message: 'Unexpected error while running command.',
        detail: ["Command: ['/var/lib/cloud/instance/scripts/runcmd']", 'Exit code: 1', 'Reason: -'],
        event: 'command-failed',
        argv: ['/var/lib/cloud/instance/scripts/runcmd'],
        exitCode: 1,
      }),
    );
  });

  it('emits a record cut inside its traceback at the end of the log, truncated', () => {
    const cut = HAND_LINES.slice(0, 16).join('\n');
    const result = parseText(cut, cloudInit, 'cut.log');
    const last = result.records.at(-1);
    expect(last).toMatchObject({ line: 10, event: 'other', truncated: true });
    expect(last?.detail).toEqual(HAND_LINES.slice(10, 16));
    expect(result.problems.at(-1)).toEqual({
      file: 'cut.log',
      line: 10,
      reason: 'the log ends inside this record: its traceback is cut',
    });
    // A traceback that ends on its exception line is whole.
    const whole = parseText(SAMPLE_LINES.slice(0, 836).join('\n'), cloudInit, 'whole.log');
    expect(whole.records.at(-1)?.truncated).toBeUndefined();
    expect(whole.problems).toEqual([]);
  });

  it('caps a record with too many continuation lines', () => {
    const text = `${HAND_LINES[2]}\n${'  x\n'.repeat(MAX_DETAIL_LINES + 5)}${HAND_LINES[3]}\n`;
    const result = parseText(text, cloudInit, 'long.log');
    expect(result.records).toHaveLength(2);
    expect(result.records[0]?.detail).toHaveLength(MAX_DETAIL_LINES);
    expect(result.problems).toEqual([
      {
        file: 'long.log',
        line: MAX_DETAIL_LINES + 2,
        reason: expect.stringContaining('rest ignored') as string,
      },
    ]);
  });
});

describe('cloud-init: banner and argv helpers', () => {
  it('reads Python list reprs as cloud-init logs argv', () => {
    expect(parsePythonList(`['a', "it's", b'raw', '\\x41\\n', 'tab\\there', 0, PosixPath('/x')]`)).toEqual([
      'a',
      "it's",
      'raw',
      'A\n',
      'tab\there',
      '0',
      "PosixPath('/x')",
    ]);
    expect(parsePythonList('[]')).toEqual([]);
    expect(parsePythonList("['unterminated]")).toBeUndefined();
    expect(parsePythonList("['a' 'b']")).toBeUndefined();
    expect(parsePythonList('apt-get update')).toBeUndefined();
  });

  it('reads RFC 2822 dates with their offset, and rejects impossible ones', () => {
    expect(rfc2822Time('Fri, 27 Nov 2026 07:57:54 +0100')?.epochMs).toBe(Date.parse('2026-11-27T06:57:54Z'));
    expect(rfc2822Time('27 Nov 2026 07:57:54 GMT')?.epochMs).toBe(Date.parse('2026-11-27T07:57:54Z'));
    expect(rfc2822Time('Fri, 31 Nov 2026 07:57:54 +0000')).toBeUndefined();
    expect(rfc2822Time('Fri, 27 Foo 2026 07:57:54 +0000')).toBeUndefined();
    expect(parseBanner("Cloud-init v. 24.1 running 'init' at nonsense. Up 3.5 seconds.")).toEqual({
      kind: 'start',
      cloudInitVersion: '24.1',
      stage: 'init',
      at: null,
      upSeconds: 3.5,
    });
  });
});

describe('cloud-init: detection and compressed, rotated files', () => {
  it('detects its log by name (rotations included) and by first line', () => {
    const head = SAMPLE_LINES.slice(0, 5);
    for (const name of [
      'cloud-init.log',
      'cloud-init.log.1',
      'cloud-init.log.2.gz',
      'i-0abc-cloud-init.log',
    ]) {
      expect(cloudInit.detect(name, head)).toBe(true);
      expect(cloudInit.detect(name, [])).toBe(true);
    }
    expect(cloudInit.detect('boot.txt', head)).toBe(true);
    expect(cloudInit.detect('cloud-init-output.log', head)).toBe(false);
    expect(cloudInit.detect('cloud-init.log', ['Start-Date: 2026-11-27  07:47:13'])).toBe(false);
    expect(cloudInit.detect('dpkg.log', ['2026-11-27 07:47:13 startup archives unpack'])).toBe(false);
  });

  it('parses a gzip-rotated copy the same as the plain file', async () => {
    const path = join(tmp, 'cloud-init.log.1.gz');
    writeFileSync(path, gzipSync(HAND));
    const gz = await parseFile(path, cloudInit, 'cloud-init.log.1.gz');
    const plain = parseText(HAND, cloudInit, 'cloud-init.log.1.gz');
    expect(gz).toEqual(plain);
    expect(gz.records).toHaveLength(16);
  });
});

describe('cloud-init: fuzz', () => {
  it('never throws on 600 mutated logs, and every line number is in the input', () => {
    // The sample's modules:config stage and the hand-made log: small, and every kind of record.
    const sources = [SAMPLE_LINES.slice(760, 890).join('\n'), HAND];
    const result = fuzzParser(cloudInit, sources, { count: 600, seed: 0xc10d });
    expect(result.violations).toEqual([]);
    expect(result.inputs).toBe(600);
    expect(result.records).toBeGreaterThan(25000);
    expect(result.problems).toBeGreaterThan(300);
  });
});
