import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';
import { classifySystemdMessage } from './events.js';
import type { SystemdEvent } from './events.js';

export { classifySystemdMessage, unitFromMessage } from './events.js';
export type { SystemdEvent, SystemdMessage } from './events.js';

/** One journal entry, from `journalctl -o json` (one JSON object a line). Missing fields are null. */
export interface JournalRecord extends LogRecordBase {
  source: 'journal';
  /** From `__REALTIME_TIMESTAMP` (UTC by definition), to the millisecond; `text` is the microseconds. */
  time: LogTime | null;
  /** `__REALTIME_TIMESTAMP` as written: microseconds since the epoch, exact. */
  realtimeUs: string | null;
  /**
   * The unit the message is about: `UNIT` (or `USER_UNIT`) on systemd's own messages
   * ("Started x.service"), else the unit that wrote it (`_SYSTEMD_UNIT`).
   */
  unit: string | null;
  /** `_SYSTEMD_UNIT`: the unit whose process wrote the entry (`init.scope` for PID 1). */
  emitter: string | null;
  /** `SYSLOG_IDENTIFIER` (else `_COMM`): `systemd`, `apt.systemd.daily`, `unattended-upgrade`, ... */
  identifier: string | null;
  /** `_PID`. */
  pid: number | null;
  /** `PRIORITY`, 0 (emerg) to 7 (debug). */
  priority: number | null;
  hostname: string | null;
  bootId: string | null;
  /** `_MACHINE_ID`: a new one marks a new machine (an image's instance after its bake), not a reboot. */
  machineId: string | null;
  /** `MESSAGE_ID`: systemd's catalog id, when the writer gave one. */
  messageId: string | null;
  /** `MESSAGE`, decoded from bytes when journalctl wrote it as an array (not valid UTF-8 or binary). */
  message: string | null;
  event: SystemdEvent;
  /** `JOB_TYPE` (`start`, `stop`, `restart`, ...) and `JOB_RESULT` (`done`, `failed`, `dependency`, ...). */
  jobType: string | null;
  jobResult: string | null;
  /** The invocation of `unit`: `INVOCATION_ID`/`USER_INVOCATION_ID` on systemd's messages, else `_SYSTEMD_INVOCATION_ID`. */
  invocationId: string | null;
  /** `EXIT_CODE` (`exited`, `killed`, `dumped`) and `EXIT_STATUS` (`1`, `SEGV`) on "Main process exited". */
  exitCode: string | null;
  exitStatus: string | null;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isByteArray(value: unknown[]): value is number[] {
  return value.every(
    (item) => typeof item === 'number' && Number.isInteger(item) && item >= 0 && item <= 255,
  );
}

/**
 * A field's value as text. journalctl writes a string; an array of numbers for a value that is
 * not valid UTF-8 (decoded here, bad bytes become U+FFFD); an array of such values when the
 * field repeats (the last is taken); null for a value too large to print. `bad` is set for
 * anything else.
 */
function fieldText(value: unknown): { text: string | null; bad?: true } {
  if (value === undefined || value === null) return { text: null };
  if (typeof value === 'string') return { text: value };
  if (typeof value === 'number' || typeof value === 'boolean') return { text: String(value) };
  if (Array.isArray(value)) {
    if (isByteArray(value)) return { text: decoder.decode(Uint8Array.from(value)) };
    for (let i = value.length - 1; i >= 0; i--) {
      const item: unknown = value[i];
      if (typeof item === 'string') return { text: item };
      if (Array.isArray(item) && isByteArray(item)) return { text: decoder.decode(Uint8Array.from(item)) };
    }
  }
  return { text: null, bad: true };
}

const FIELDS = [
  '__REALTIME_TIMESTAMP',
  'UNIT',
  'USER_UNIT',
  '_SYSTEMD_UNIT',
  'SYSLOG_IDENTIFIER',
  '_COMM',
  '_PID',
  'PRIORITY',
  '_HOSTNAME',
  '_BOOT_ID',
  '_MACHINE_ID',
  'MESSAGE_ID',
  'MESSAGE',
  'JOB_TYPE',
  'JOB_RESULT',
  'INVOCATION_ID',
  'USER_INVOCATION_ID',
  '_SYSTEMD_INVOCATION_ID',
  'EXIT_CODE',
  'EXIT_STATUS',
] as const;
type Field = (typeof FIELDS)[number];

// Past this, a microsecond count is no longer a date JavaScript can hold (year 275760).
const MAX_EPOCH_MS = 8.64e15;

function openJournal(file: string, sink: ParserSink<JournalRecord>): LineParser {
  return {
    line(text, n) {
      if (text.trim() === '') return;
      let entry: unknown;
      try {
        entry = JSON.parse(text);
      } catch (error) {
        sink.problem(n, `not JSON: ${clip((error as Error).message)}`);
        return;
      }
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        sink.problem(n, 'not a JSON object');
        return;
      }
      const object = entry as Record<string, unknown>;
      const values = {} as Record<Field, string | null>;
      const bad: string[] = [];
      for (const name of FIELDS) {
        const { text: value, bad: isBad } = fieldText(object[name]);
        // systemd writes `INVOCATION_ID=` (empty) for a unit that never ran: no value.
        values[name] = value === '' && name !== 'MESSAGE' ? null : value;
        if (isBad) bad.push(name);
      }
      if (bad.length > 0) sink.problem(n, `unreadable value for ${bad.join(', ')}`);

      const realtimeUs = values.__REALTIME_TIMESTAMP;
      let time: LogTime | null = null;
      if (realtimeUs === null) {
        sink.problem(n, 'entry has no __REALTIME_TIMESTAMP');
      } else {
        const epochMs = /^\d{1,19}$/.test(realtimeUs) ? Number(realtimeUs.slice(0, -3) || '0') : NaN;
        if (Number.isNaN(epochMs) || epochMs > MAX_EPOCH_MS) {
          sink.problem(n, `__REALTIME_TIMESTAMP '${clip(realtimeUs)}' is not microseconds since the epoch`);
        } else {
          time = { text: realtimeUs, epochMs };
        }
      }
      const pid = values._PID !== null && /^\d{1,10}$/.test(values._PID) ? Number(values._PID) : null;
      const priority =
        values.PRIORITY !== null && /^[0-7]$/.test(values.PRIORITY) ? Number(values.PRIORITY) : null;
      const aboutUnit = values.UNIT ?? values.USER_UNIT;
      const unit = aboutUnit ?? values._SYSTEMD_UNIT;
      const identifier = values.SYSLOG_IDENTIFIER ?? values._COMM;
      const record: JournalRecord = {
        source: 'journal',
        file,
        line: n,
        time,
        realtimeUs,
        unit,
        emitter: values._SYSTEMD_UNIT,
        identifier,
        pid,
        priority,
        hostname: values._HOSTNAME,
        bootId: values._BOOT_ID,
        machineId: values._MACHINE_ID,
        messageId: values.MESSAGE_ID,
        message: values.MESSAGE,
        event: classifySystemdMessage({
          message: values.MESSAGE,
          identifier,
          unit,
          messageId: values.MESSAGE_ID,
          jobType: values.JOB_TYPE,
          jobResult: values.JOB_RESULT,
        }),
        jobType: values.JOB_TYPE,
        jobResult: values.JOB_RESULT,
        invocationId:
          aboutUnit !== null
            ? (values.INVOCATION_ID ?? values.USER_INVOCATION_ID ?? values._SYSTEMD_INVOCATION_ID)
            : values._SYSTEMD_INVOCATION_ID,
        exitCode: values.EXIT_CODE,
        exitStatus: values.EXIT_STATUS,
      };
      sink.record(record);
    },
    end() {},
  };
}

const JOURNAL_LINE = /^\s*\{.*"(?:__REALTIME_TIMESTAMP|__CURSOR)"\s*:/;

/** The systemd journal as `journalctl -o json` writes it (`journal.json`). */
const journal: LogParser<JournalRecord> = {
  id: 'journal',
  title:
    'systemd journal (journalctl -o json): units started, stopped, failed and restarted, boots and reboots',
  detect(name, head) {
    if (head.length === 0) return /(?:^|[._-])journal\.jsonl?(?:\.\d+)?(?:\.gz)?$/.test(name);
    return JOURNAL_LINE.test(head[0] ?? '');
  },
  open: openJournal,
};

export default journal;
