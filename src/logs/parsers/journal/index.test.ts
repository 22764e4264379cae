import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFile, parseText } from '../../read.js';
import { fuzzParser } from '../../../test-support/log-fuzz.js';
import { classifySystemdMessage, unitFromMessage } from './events.js';
import journal from './index.js';
import type { JournalRecord } from './index.js';

const fixture = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;
const SAMPLE = readFileSync(fixture('lab-incident.json'), 'utf8');
const HAND = readFileSync(fixture('hand-made.journal.json'), 'utf8');
const BOOT = '04f9ec37e2354ef2b83f06b10b955a9c';

const tmp = mkdtempSync(join(tmpdir(), 'goldgate-journal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A record of PID 1 on the lab instance; tests name what differs. */
function record(file: string, line: number, us: string, fields: Partial<JournalRecord>): JournalRecord {
  return {
    source: 'journal',
    file,
    line,
    time: { text: us, epochMs: Number(us.slice(0, -3)) },
    realtimeUs: us,
    unit: null,
    emitter: 'init.scope',
    identifier: 'systemd',
    pid: 1,
    priority: 6,
    hostname: 'lab-i-0001',
    bootId: BOOT,
    // The hand-made entries carry no _MACHINE_ID.
    machineId: file === 'hand.json' ? null : '553e74bebb8b46d196681b85872fecda',
    messageId: null,
    message: null,
    event: 'other',
    jobType: null,
    jobResult: null,
    invocationId: null,
    exitCode: null,
    exitStatus: null,
    ...fields,
  };
}

describe('journal: the lab incident', () => {
  const { records, problems } = parseText(SAMPLE, journal, 'journal.json');
  const at = (line: number) => records.find((r) => r.line === line);

  it('reads all 86 entries, no problems', () => {
    expect(problems).toEqual([]);
    expect(records).toHaveLength(86);
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

  it('reads journald’s own first entry', () => {
    expect(at(1)).toEqual(
      record('journal.json', 1, '1795765618594957', {
        unit: 'systemd-journald.service',
        emitter: 'systemd-journald.service',
        identifier: 'systemd-journald',
        pid: 33,
        messageId: 'f77379a8490b408bbe5f6940505a777b',
        message: 'Journal started',
        invocationId: 'd5bc7e50322e4d64915e7746520deb10',
      }),
    );
    // 2026-11-27T07:46:58.594Z, to the millisecond.
    expect(new Date(at(1)?.time?.epochMs ?? 0).toISOString()).toBe('2026-11-27T07:46:58.594Z');
  });

  it('takes the unit a message is about from UNIT, even when no unit wrote it', () => {
    expect(at(3)).toEqual(
      record('journal.json', 3, '1795765618595114', {
        unit: 'modprobe@configfs.service',
        emitter: null,
        identifier: '(modprobe)',
        pid: 28,
        messageId: '641257651c1b4ec9a8624d7a40a9e1e7',
        message:
          'modprobe@configfs.service: Executable /sbin/modprobe missing, skipping: No such file or directory',
        invocationId: 'c47cc514ad6c452eb98f455de6c7ff91',
      }),
    );
  });

  it('tells a unit skipped on a condition from one started', () => {
    expect(at(17)).toEqual(
      record('journal.json', 17, '1795765618616309', {
        unit: 'sys-kernel-config.mount',
        messageId: '39f53479d3a045ac8e11786248231fbf',
        message:
          'sys-kernel-config.mount - Kernel Configuration File System was skipped because of an unmet condition check (ConditionPathExists=/sys/kernel/config).',
        event: 'unit-skipped',
        jobType: 'start',
        jobResult: 'done',
      }),
    );
    expect(at(47)).toEqual(
      record('journal.json', 47, '1795765618694416', {
        unit: 'apt-daily.timer',
        messageId: '39f53479d3a045ac8e11786248231fbf',
        message: 'Started apt-daily.timer - Daily apt download activities.',
        event: 'unit-started',
        jobType: 'start',
        jobResult: 'done',
        invocationId: 'e8704b408bba42c0b1ad42c6f8e74af8',
      }),
    );
  });

  it('shows the boot finishing, then apt-daily and apt-daily-upgrade running', () => {
    expect(at(80)).toEqual(
      record('journal.json', 80, '1795765618786762', {
        unit: 'init.scope',
        messageId: 'eed00a68ffd84e31882105fd973abdd1',
        message: 'Startup finished in 327ms.',
        event: 'startup-finished',
      }),
    );
    const invocation = 'a62fa491fa0f4db4b0f2928cd3f5d3b8';
    expect(at(81)).toEqual(
      record('journal.json', 81, '1795765632778364', {
        unit: 'apt-daily.service',
        messageId: '7d4958e842da4a758f6c1cdc7b36dcc5',
        message: 'Starting apt-daily.service - Daily apt download activities...',
        event: 'unit-starting',
        jobType: 'start',
        invocationId: invocation,
      }),
    );
    expect(at(82)).toEqual(
      record('journal.json', 82, '1795765633140978', {
        unit: 'apt-daily.service',
        messageId: '7ad2d189f7e94e70a38c781354912448',
        message: 'apt-daily.service: Deactivated successfully.',
        event: 'unit-stopped',
        invocationId: invocation,
      }),
    );
    expect(records.slice(80).map((r) => [r.unit, r.event])).toEqual([
      ['apt-daily.service', 'unit-starting'],
      ['apt-daily.service', 'unit-stopped'],
      ['apt-daily.service', 'unit-started'],
      ['apt-daily-upgrade.service', 'unit-starting'],
      ['apt-daily-upgrade.service', 'unit-stopped'],
      ['apt-daily-upgrade.service', 'unit-started'],
    ]);
  });
});

describe('journal: hand-made entries', () => {
  const { records, problems } = parseText(HAND, journal, 'hand.json');
  const at = (line: number) => records.find((r) => r.line === line);
  const ACME = '5f0e1c2d3b4a49588796a5b4c3d2e1f0';

  it('keeps _MACHINE_ID when there is one', () => {
    const [entry] = parseText(
      JSON.stringify({
        __REALTIME_TIMESTAMP: '1795765634250123',
        _MACHINE_ID: 'ec2a0000000000000000000000000001',
        MESSAGE: 'x',
      }),
      journal,
      'm.json',
    ).records;
    expect(entry?.machineId).toBe('ec2a0000000000000000000000000001');
  });

  it('reports bad lines and goes on', () => {
    expect(problems).toEqual([
      { file: 'hand.json', line: 10, reason: expect.stringMatching(/^not JSON: /) as string },
      { file: 'hand.json', line: 11, reason: 'not a JSON object' },
      {
        file: 'hand.json',
        line: 13,
        reason: "__REALTIME_TIMESTAMP 'yesterday' is not microseconds since the epoch",
      },
      { file: 'hand.json', line: 14, reason: 'unreadable value for MESSAGE' },
      { file: 'hand.json', line: 14, reason: 'entry has no __REALTIME_TIMESTAMP' },
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(at(13)).toMatchObject({ time: null, realtimeUs: 'yesterday', message: 'bad time' });
    expect(at(14)).toMatchObject({
      time: null,
      realtimeUs: null,
      message: null,
      pid: 431,
      identifier: 'acme',
    });
  });

  it('follows a unit failure: exit, failed result, failed start, restart, stop', () => {
    expect(records.slice(0, 7).map((r) => [r.line, r.unit, r.event, r.priority])).toEqual([
      [1, 'acme.service', 'unit-starting', 6],
      [2, 'acme.service', 'other', 3],
      [3, 'acme.service', 'other', 5],
      [4, 'acme.service', 'unit-failed', 4],
      [5, 'acme.service', 'unit-failed', 3],
      [6, 'acme.service', 'unit-restart', 6],
      [7, 'acme.service', 'unit-stopped', 6],
    ]);
    expect(at(3)).toEqual(
      record('hand.json', 3, '1795765634260456', {
        unit: 'acme.service',
        priority: 5,
        messageId: '98e322203f7a4ed290d09fe03c09fe15',
        message: 'acme.service: Main process exited, code=exited, status=1/FAILURE',
        invocationId: ACME,
        exitCode: 'exited',
        exitStatus: '1',
      }),
    );
    expect(at(4)).toEqual(
      record('hand.json', 4, '1795765634260789', {
        unit: 'acme.service',
        priority: 4,
        messageId: 'd9b373ed55a64feb8242e02dbe79a49c',
        message: "acme.service: Failed with result 'exit-code'.",
        event: 'unit-failed',
        invocationId: ACME,
      }),
    );
    expect(at(5)).toEqual(
      record('hand.json', 5, '1795765634261002', {
        unit: 'acme.service',
        priority: 3,
        messageId: 'be02cf6855d2428ba40df7e9d022f03d',
        message: 'Failed to start acme.service - Acme runtime.',
        event: 'unit-failed',
        jobType: 'start',
        jobResult: 'failed',
        invocationId: ACME,
      }),
    );
  });

  it('decodes MESSAGE given as bytes, keeps a null MESSAGE, takes the last of repeated fields', () => {
    expect(at(2)).toEqual(
      record('hand.json', 2, '1795765634250123', {
        unit: 'acme.service',
        emitter: 'acme.service',
        identifier: 'acme',
        pid: 412,
        priority: 3,
        message: 'health check failed: missing /etc/acme/v2.conf \uFFFD',
        invocationId: ACME,
      }),
    );
    expect(at(8)).toEqual(
      record('hand.json', 8, '1795765635300000', {
        unit: 'acme.service',
        emitter: 'acme.service',
        identifier: 'acme',
        pid: 431,
      }),
    );
    expect(at(9)).toMatchObject({ identifier: 'acme', message: 'config loaded' });
  });

  it('reads a user manager’s message about a user unit, and daemon reloads without MESSAGE_ID', () => {
    expect(at(15)).toMatchObject({ event: 'daemon-reexec', message: 'Reloading.', unit: 'init.scope' });
    expect(at(16)).toMatchObject({ event: 'daemon-reexec', message: 'Reexecuting.' });
    expect(at(17)).toEqual(
      record('hand.json', 17, '1795765636200000', {
        unit: 'acme-agent.service',
        emitter: 'user@1000.service',
        pid: 901,
        messageId: '39f53479d3a045ac8e11786248231fbf',
        message: 'Started acme-agent.service - Acme agent.',
        event: 'unit-started',
        jobType: 'start',
        jobResult: 'done',
        invocationId: '0a1b2c3d4e5f40718293a4b5c6d7e8f9',
      }),
    );
  });

  it('reads the reboot: logind, the units stopping, reboot.target', () => {
    expect(records.slice(-3).map((r) => [r.identifier, r.unit, r.event])).toEqual([
      ['systemd-logind', 'systemd-logind.service', 'reboot'],
      ['systemd', 'acme.service', 'unit-stopping'],
      ['systemd', 'reboot.target', 'reboot'],
    ]);
  });
});

describe('journal: classifying systemd messages without journal fields', () => {
  const systemd = (message: string) => classifySystemdMessage({ message, identifier: 'systemd' });

  it('reads the words systemd writes', () => {
    expect(systemd('Started Daily apt download activities.')).toBe('unit-started');
    expect(systemd('Finished apt-daily.service - Daily apt download activities.')).toBe('unit-started');
    expect(systemd('Starting apt-daily.service - Daily apt download activities...')).toBe('unit-starting');
    expect(systemd('Stopping acme.service - Acme runtime...')).toBe('unit-stopping');
    expect(systemd('Stopped acme.service - Acme runtime.')).toBe('unit-stopped');
    expect(systemd('acme.service: Deactivated successfully.')).toBe('unit-stopped');
    expect(systemd("acme.service: Failed with result 'exit-code'.")).toBe('unit-failed');
    expect(systemd('Failed to start Acme runtime.')).toBe('unit-failed');
    expect(systemd('Dependency failed for Acme agent.')).toBe('unit-failed');
    expect(systemd('acme.service: Scheduled restart job, restart counter is at 5.')).toBe('unit-restart');
    expect(systemd('Startup finished in 2.345s (kernel) + 5.678s (userspace) = 8.023s.')).toBe(
      'startup-finished',
    );
    expect(systemd('Reached target Reboot.')).toBe('reboot');
    expect(systemd('Reached target System Reboot.')).toBe('reboot');
    expect(systemd('Reached target shutdown.target - System Shutdown.')).toBe('reboot');
    expect(systemd('Reloading requested from client PID 1234 (unit session-1.scope)...')).toBe(
      'daemon-reexec',
    );
    expect(systemd('Reloading acme.service - Acme runtime...')).toBe('other');
    expect(
      systemd('x.mount - X was skipped because of an unmet condition check (ConditionPathExists=/x).'),
    ).toBe('unit-skipped');
    expect(
      classifySystemdMessage({ message: 'The system will reboot now!', identifier: 'systemd-logind' }),
    ).toBe('reboot');
    expect(classifySystemdMessage({ message: 'Started my work.', identifier: 'acme' })).toBe('other');
    expect(
      classifySystemdMessage({ message: null, identifier: 'systemd', jobType: 'stop', jobResult: 'done' }),
    ).toBe('unit-stopped');
    expect(
      classifySystemdMessage({
        message: null,
        identifier: 'systemd',
        jobType: 'start',
        jobResult: 'timeout',
      }),
    ).toBe('unit-failed');
  });

  it('finds the unit a message names, when it names one', () => {
    expect(unitFromMessage('Started apt-daily.service - Daily apt download activities.')).toBe(
      'apt-daily.service',
    );
    expect(unitFromMessage('apt-daily.service: Deactivated successfully.')).toBe('apt-daily.service');
    expect(unitFromMessage('Reached target reboot.target - System Reboot.')).toBe('reboot.target');
    expect(unitFromMessage('Started Daily apt download activities.')).toBeNull();
    expect(unitFromMessage('Startup finished in 327ms.')).toBeNull();
  });
});

describe('journal: detection and compressed, rotated files', () => {
  it('detects journalctl JSON by its first line, and by name without one', () => {
    const head = SAMPLE.split('\n').slice(0, 5);
    for (const name of ['journal.json', 'journal.json.1.gz', 'i-0abc-journal.json', 'boot.jsonl']) {
      expect(journal.detect(name, head)).toBe(true);
    }
    expect(journal.detect('journal.json.1.gz', [])).toBe(true);
    expect(journal.detect('queries.log', ['{"version":"1.100000","query_name":"example.com."}'])).toBe(false);
    expect(journal.detect('syslog', ['Nov 27 07:47:13 host systemd[1]: Started x.'])).toBe(false);
  });

  it('parses a gzip-rotated copy the same as the plain file', async () => {
    const path = join(tmp, 'journal.json.1.gz');
    writeFileSync(path, gzipSync(HAND));
    const gz = await parseFile(path, journal, 'journal.json.1.gz');
    expect(gz).toEqual(parseText(HAND, journal, 'journal.json.1.gz'));
    expect(gz.records).toHaveLength(17);
  });
});

describe('journal: fuzz', () => {
  it('never throws on 600 mutated journals, and every line number is in the input', () => {
    const sources = [SAMPLE.split('\n').slice(76, 86).join('\n'), HAND];
    const result = fuzzParser(journal, sources, { count: 600, seed: 0x10c4 });
    expect(result.violations).toEqual([]);
    expect(result.inputs).toBe(600);
    expect(result.records).toBeGreaterThan(5000);
    expect(result.problems).toBeGreaterThan(1000);
  });

  it('reads values JSON mutations can produce: numbers, nested arrays, huge timestamps', () => {
    const lines = [
      '{"__REALTIME_TIMESTAMP": 1795765634000000, "MESSAGE": 42, "_PID": "x"}',
      '{"__REALTIME_TIMESTAMP": "99999999999999999999", "MESSAGE": [[1, 2], 300]}',
      '{"__REALTIME_TIMESTAMP": "1795765634000000", "MESSAGE": [], "PRIORITY": "9"}',
    ].join('\n');
    const result = parseText(lines, journal, 'odd.json');
    expect(result.records.map((r) => [r.time?.epochMs ?? null, r.message, r.pid, r.priority])).toEqual([
      [1795765634000, '42', null, null],
      // A repeated field keeps its last readable value (here the bytes 1, 2).
      [null, '\u0001\u0002', null, null],
      [1795765634000, '', null, null],
    ]);
    expect(result.problems.map((p) => [p.line, p.reason])).toEqual([
      [2, "__REALTIME_TIMESTAMP '99999999999999999999' is not microseconds since the epoch"],
    ]);
  });
});
