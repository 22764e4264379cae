import { localTime, zonedTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';
import { classifySystemdMessage, unitFromMessage } from '../journal/events.js';
import type { SystemdEvent } from '../journal/events.js';

/** One line of a classic syslog file (`/var/log/syslog`, `/var/log/messages`). */
export interface SyslogRecord extends LogRecordBase {
  source: 'syslog';
  /**
   * `rfc3164` lines (`Nov 27 07:47:13`) have no year and no zone: `time.local` when the year is
   * known (see `createSyslogParser`), else `time` has the text only. `iso` and `rfc5424` lines
   * carry a zone: `time.epochMs`.
   */
  time: LogTime | null;
  /** `rfc3164`: `Nov 27 07:47:13 host prog[pid]: msg`; `iso`: rsyslog's high-precision format; `rfc5424`: `<PRI>1 ...`. */
  format: 'rfc3164' | 'iso' | 'rfc5424';
  host: string | null;
  /** The tag before `[pid]:` (`systemd`, `CRON`, `unattended-upgrade`); RFC 5424's APP-NAME. */
  program: string | null;
  pid: number | null;
  message: string;
  /** As the journal parser classifies systemd's messages (`systemd[1]: Started x.service - ...`). */
  event: SystemdEvent;
  /** The unit a systemd message names (`Started apt-daily.service - ...`); null when it names only a description. */
  unit: string | null;
  /** From a `<PRI>` prefix: facility (1 = user, 3 = daemon, ...) and severity (0 emerg to 7 debug). */
  facility: number | null;
  severity: number | null;
  /** `rfc3164` lines: the timestamp's parts, for a correlator that knows the year (month 1-12, clock `HH:MM:SS`). */
  month: number | null;
  day: number | null;
  clock: string | null;
}

/** Options for `createSyslogParser`. */
export interface SyslogOptions {
  /**
   * The year of the file's first RFC 3164 line (its timestamps have none): later lines that go
   * from December to January move to the next year. ISO and RFC 5424 lines in the file, which
   * carry their year, take over from where they appear. Without either, RFC 3164 times have no
   * `local`.
   */
  year?: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const PRI = /^<(\d{1,3})>/;
const RFC3164 = /^(([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})) (\S+)(?: (.*))?$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})? (\S+)(?: (.*))?$/;
const TAG = /^([^\s:[\]]{1,128})(?:\[([^\]\s]*)\])?:(?: (.*)|$)/;

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Whether a wall-clock date exists (no 31 Nov, no 24:00); `year` null allows 29 Feb. */
function validDate(
  year: number | null,
  month: number,
  day: number,
  h: number,
  mi: number,
  s: number,
): boolean {
  if (month < 1 || month > 12 || day < 1 || h > 23 || mi > 59 || s > 59) return false;
  const days = new Date(Date.UTC(year ?? 2000, month, 0)).getUTCDate();
  return day <= days;
}

/** RFC 5424's STRUCTURED-DATA (`-` or `[id k="v"]...`) and what follows it; null when malformed. */
function skipStructuredData(text: string): string | null {
  if (text === '-' || text.startsWith('- ')) return text.slice(2);
  let i = 0;
  while (text[i] === '[') {
    let quoted = false;
    for (i++; i < text.length; i++) {
      const c = text[i];
      if (c === '\\') i++;
      else if (c === '"') quoted = !quoted;
      else if (c === ']' && !quoted) break;
    }
    if (i >= text.length) return null;
    i++;
  }
  if (i === 0) return null;
  return text[i] === ' ' ? text.slice(i + 1) : i === text.length ? '' : null;
}

const nil = (value: string | undefined): string | null =>
  value === undefined || value === '-' ? null : value;

/**
 * A syslog parser. RFC 3164 timestamps have neither year nor zone: pass `year` when the caller
 * knows it (from the instance's launch time, say); the default parser takes it from ISO lines in
 * the same file, else leaves `time.local` out and reports that once.
 */
export function createSyslogParser(options: SyslogOptions = {}): LogParser<SyslogRecord> {
  if (
    options.year !== undefined &&
    (!Number.isInteger(options.year) || options.year < 1970 || options.year > 9999)
  ) {
    throw new RangeError(`syslog year must be an integer from 1970 to 9999, not ${options.year}`);
  }

  const open = (file: string, sink: ParserSink<SyslogRecord>): LineParser => {
    let year: number | null = options.year ?? null;
    let lastMonth: number | null = null;
    let toldNoYear = false;

    const base = (n: number, format: SyslogRecord['format'], pri: number | null): SyslogRecord => ({
      source: 'syslog',
      file,
      line: n,
      time: null,
      format,
      host: null,
      program: null,
      pid: null,
      message: '',
      event: 'other',
      unit: null,
      facility: pri === null ? null : pri >> 3,
      severity: pri === null ? null : pri & 7,
      month: null,
      day: null,
      clock: null,
    });

    const finish = (record: SyslogRecord, rest: string) => {
      const tag = TAG.exec(rest);
      if (tag !== null) {
        record.program = tag[1] ?? null;
        const pid = tag[2] ?? '';
        record.pid = /^\d{1,10}$/.test(pid) ? Number(pid) : null;
        record.message = tag[3] ?? '';
      } else {
        record.message = rest;
      }
      setEvent(record);
    };

    const setEvent = (record: SyslogRecord) => {
      record.unit = record.program === 'systemd' ? unitFromMessage(record.message) : null;
      record.event = classifySystemdMessage({
        message: record.message,
        identifier: record.program,
        unit: record.unit,
      });
    };

    /** An ISO timestamp, zoned when it says its zone; undefined when the date does not exist. */
    const isoTime = (match: RegExpExecArray): LogTime | undefined => {
      const [, y, mo, d, h, mi, s, frac = '', zone] = match;
      if (!validDate(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s))) return undefined;
      const text = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${zone ?? ''}`;
      return zone === undefined ? localTime(text) : zonedTime(text);
    };

    const iso = (
      n: number,
      body: string,
      pri: number | null,
      format: 'iso' | 'rfc5424',
    ): SyslogRecord | null => {
      const match = ISO.exec(body);
      if (match === null) return null;
      const record = base(n, format, pri);
      const time = isoTime(match);
      if (time === undefined)
        sink.problem(n, `'${clip(body.split(' ')[0] ?? '')}' is not a valid date and time`);
      record.time = time ?? null;
      if (time !== undefined) {
        year = Number(match[1]);
        lastMonth = Number(match[2]);
      }
      record.host = nil(match[9]);
      const rest = match[10] ?? '';
      if (format === 'iso') {
        finish(record, rest);
        return record;
      }
      // RFC 5424: APP-NAME PROCID MSGID STRUCTURED-DATA [MSG], each `-` when absent.
      const fields = /^(\S+) (\S+) (\S+) (.*)$/.exec(rest);
      if (fields === null) {
        sink.problem(n, 'RFC 5424 line without APP-NAME, PROCID, MSGID and STRUCTURED-DATA');
        record.message = rest;
        return record;
      }
      record.program = nil(fields[1]);
      const procid = nil(fields[2]);
      record.pid = procid !== null && /^\d{1,10}$/.test(procid) ? Number(procid) : null;
      const message = skipStructuredData(fields[4] ?? '');
      if (message === null)
        sink.problem(n, 'RFC 5424 STRUCTURED-DATA is not closed: the message is kept with it');
      record.message = (message ?? fields[4] ?? '').replace(/^\uFEFF/, '');
      setEvent(record);
      return record;
    };

    const rfc3164 = (n: number, body: string, pri: number | null): SyslogRecord | null => {
      const match = RFC3164.exec(body);
      if (match === null) return null;
      const [, stamp = '', mon = '', d, h, mi, s, host, rest = ''] = match;
      const record = base(n, 'rfc3164', pri);
      const month = MONTHS.indexOf(mon) + 1;
      const day = Number(d);
      record.host = host ?? null;
      finish(record, rest);
      if (month === 0 || !validDate(null, month, day, Number(h), Number(mi), Number(s))) {
        sink.problem(n, `'${stamp}' is not a valid date and time`);
        return record;
      }
      record.month = month;
      record.day = day;
      record.clock = `${h}:${mi}:${s}`;
      if (year !== null && lastMonth !== null && lastMonth - month >= 6) year++;
      if (year === null) {
        record.time = { text: stamp };
        if (!toldNoYear) {
          sink.problem(
            n,
            'RFC 3164 timestamps have no year and this file shows none: times are left without a date',
          );
          toldNoYear = true;
        }
        return record;
      }
      if (!validDate(year, month, day, 0, 0, 0)) {
        sink.problem(n, `'${stamp}' does not exist in ${year}`);
        record.time = { text: stamp };
      } else {
        lastMonth = month;
        const mm = String(month).padStart(2, '0');
        const dd = String(day).padStart(2, '0');
        record.time = { text: stamp, local: `${String(year).padStart(4, '0')}-${mm}-${dd}T${record.clock}` };
      }
      return record;
    };

    return {
      line(text, n) {
        if (text.trim() === '') return;
        let body = text;
        let pri: number | null = null;
        const priMatch = PRI.exec(text);
        if (priMatch !== null && Number(priMatch[1]) <= 191) {
          pri = Number(priMatch[1]);
          body = text.slice(priMatch[0].length);
        }
        const record = body.startsWith('1 ')
          ? iso(n, body.slice(2), pri, 'rfc5424')
          : (iso(n, body, pri, 'iso') ?? rfc3164(n, body, pri));
        if (record === null) {
          sink.problem(n, `not a syslog line: '${clip(text)}'`);
          return;
        }
        sink.record(record);
      },
      end() {},
    };
  };

  return {
    id: 'syslog',
    title: 'syslog (/var/log/syslog, /var/log/messages): RFC 3164, rsyslog high-precision and RFC 5424 lines',
    detect(name, head) {
      const named = /(?:^|[._-])(?:syslog|messages)(?:[.-]\d+)?(?:\.gz)?$/.test(name);
      if (head.length === 0) return named;
      const isSyslog = (line: string) => SYSLOG_HEAD.some((pattern) => pattern.test(line));
      return named ? head.some(isSyslog) : isSyslog(head[0] ?? '');
    },
    open,
  };
}

// A first line that is syslog beyond doubt: timestamp, host, then `tag[pid]: ` or `tag: `.
const SYSLOG_HEAD: readonly RegExp[] = [
  /^(?:<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ [^\s:[\]]+(?:\[\d+\])?: /,
  /^(?:<\d{1,3}>)?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}) \S+ [^\s:[\]]+(?:\[\d+\])?: /,
  /^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ /,
];

/** Syslog with no year given: RFC 3164 lines take it from ISO lines in the same file, if any. */
const syslog: LogParser<SyslogRecord> = createSyslogParser();

export default syslog;
