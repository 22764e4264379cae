import { localTime, zonedTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';

/** The answer dnsmasq gave a query; null when its log shows none (or an rcode goldgate does not name). */
export type DnsmasqRcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';

/** One DNS query from a dnsmasq log written with `log-queries`, completed with its answer. */
export interface DnsmasqQueryRecord extends LogRecordBase {
  source: 'dnsmasq';
  /** The line of the `query[...]` message. */
  line: number;
  /**
   * Syslog timestamps (`Nov 27 07:47:12`) have no year and no zone: `time.local` when the parser
   * knows the year (`createDnsmasqParser({ year })`), else null. ISO timestamps give `epochMs`.
   */
  time: LogTime | null;
  /** The timestamp as written; null for lines without one (dnsmasq logging to stderr). */
  clock: string | null;
  /** Lowercased, without a trailing dot. */
  name: string;
  /** From `query[A]`: A, AAAA, PTR, ...; `TYPE65` for `query[type=65]`. */
  type: string;
  /** The client that asked. */
  srcaddr: string;
  rcode: DnsmasqRcode | null;
  /** Addresses and names of the answer, in order (a CNAME's target before its addresses). */
  answers: string[];
}

/** Options for `createDnsmasqParser`. */
export interface DnsmasqOptions {
  /** The year of the file's first syslog timestamp; later lines going from December to January move to the next year. */
  year?: number;
}

/** Queries waiting for their answer at once, at most; beyond, the oldest are emitted without one. */
export const MAX_PENDING = 10_000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// `Nov 27 07:47:12 [host ]dnsmasq[123]: msg` (syslog, or dnsmasq's own log-facility file without
// a host), rsyslog's ISO timestamps, or `dnsmasq[123]: msg` / `dnsmasq: msg` on stderr.
const SYSLOG =
  /^(([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})) (?:(\S+) )?(dnsmasq[\w-]*)\[(\d+)\]: ?(.*)$/;
const ISO =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})) (?:(\S+) )?(dnsmasq[\w-]*)\[(\d+)\]: ?(.*)$/;
const BARE = /^(dnsmasq[\w-]*)(?:\[(\d+)\])?: ?(.*)$/;
// Any other program's syslog line: skipped without a problem.
const OTHER_SYSLOG = /^(?:[A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\S+) \S/;
// log-queries=extra: `<serial> <client>/<port> message`, or `<serial> message`.
const EXTRA = /^(\d+) (?:(\S+)\/(\d+) )?(.*)$/;
const QUERY = /^query\[([^\]\s]+)\] (\S+) from (\S+)$/;
const FORWARDED = /^forwarded (\S+) to (\S+)$/;
const ANSWER = /^(reply|cached|cached-stale|config|DHCP|auth|\/\S+) (\S+) is (.+)$/;

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** dnsmasq writes names without the trailing dot, and `.` for the root. */
function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The 32 hex digits of an IPv6 address (`2001:db8::1`), or null when it is not one. */
function ipv6Nibbles(address: string): string | null {
  if (!/^[0-9a-f:]+$/i.test(address)) return null;
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':'));
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0) || (halves.length === 2 && missing === 0))
    return null;
  const all = [...left, ...Array.from({ length: missing }, () => '0'), ...right];
  if (!all.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return null;
  return all.map((group) => group.toLowerCase().padStart(4, '0')).join('');
}

/**
 * The name replies use for a query: dnsmasq logs the answer to a reverse lookup under the
 * address (`reply 10.0.1.20 is host`), so `20.1.0.10.in-addr.arpa` waits under `10.0.1.20`.
 */
function queryKey(name: string, type: string): string {
  if (type !== 'PTR') return name;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (v4 !== null) return `${v4[4]}.${v4[3]}.${v4[2]}.${v4[1]}`;
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(name);
  return v6 === null ? name : `ip6:${[...(v6[1] ?? '').replace(/\./g, '')].reverse().join('')}`;
}

/** The key a reply's name is looked up under (see `queryKey`). */
function replyKey(name: string): string {
  const nibbles = name.includes(':') ? ipv6Nibbles(name) : null;
  return nibbles === null ? name : `ip6:${nibbles}`;
}

/** What the `is ...` part of an answer line says. */
interface Answer {
  rcode: DnsmasqRcode | null;
  /** The address or name answered; null for NODATA, NXDOMAIN, `<CNAME>` and the like. */
  data: string | null;
  /** 4 or 6 when the answer is for A or AAAA only (an address, NODATA-IPv4, ...). */
  family: 4 | 6 | null;
  cname: boolean;
}

function readAnswer(text: string): Answer {
  const dest = text.replace(/ \(EDE: [^)]*\)$/, '');
  const family = (suffix: string): 4 | 6 | null => (suffix === '-IPv4' ? 4 : suffix === '-IPv6' ? 6 : null);
  const negative = /^(NXDOMAIN|NODATA)(-IPv4|-IPv6)?$/.exec(dest);
  if (negative !== null) {
    return {
      rcode: negative[1] === 'NXDOMAIN' ? 'NXDOMAIN' : 'NOERROR',
      data: null,
      family: family(negative[2] ?? ''),
      cname: false,
    };
  }
  if (dest === 'SERVFAIL' || dest === 'REFUSED')
    return { rcode: dest, data: null, family: null, cname: false };
  if (dest === 'not implemented' || /^\d+$/.test(dest))
    return { rcode: null, data: null, family: null, cname: false };
  if (dest === '<CNAME>') return { rcode: 'NOERROR', data: null, family: null, cname: true };
  if (/^<[A-Z0-9]+>$/.test(dest)) return { rcode: 'NOERROR', data: null, family: null, cname: false };
  if (IPV4.test(dest)) return { rcode: 'NOERROR', data: dest, family: 4, cname: false };
  if (dest.includes(':') && /^[0-9a-fA-F:.]+$/.test(dest))
    return { rcode: 'NOERROR', data: dest, family: 6, cname: false };
  return { rcode: 'NOERROR', data: dest, family: null, cname: false };
}

const compatible = (type: string, family: 4 | 6 | null) =>
  family === null || (family === 4 ? type === 'A' : type === 'AAAA');

interface Pending {
  record: DnsmasqQueryRecord;
  /** The name replies use: the query's name, or the address of a reverse lookup. */
  key: string;
  serial: string | null;
}

/** Answered queries still taking answer lines (several addresses, a CNAME chain). */
interface Open {
  entries: Pending[];
  serial: string | null;
  /** The name the last answer line was about. */
  name: string;
  /** The last answer was `<CNAME>`: the next line names its target. */
  chain: boolean;
}

/**
 * A dnsmasq parser. Syslog timestamps have no year: pass `year` when the caller knows it (from
 * the instance's launch time, say); without it, times are null and the file gets one problem.
 */
export function createDnsmasqParser(options: DnsmasqOptions = {}): LogParser<DnsmasqQueryRecord> {
  if (
    options.year !== undefined &&
    (!Number.isInteger(options.year) || options.year < 1970 || options.year > 9999)
  ) {
    throw new RangeError(`dnsmasq year must be an integer from 1970 to 9999, not ${options.year}`);
  }

  const open = (file: string, sink: ParserSink<DnsmasqQueryRecord>): LineParser => {
    let year = options.year ?? null;
    let lastMonth: number | null = null;
    let toldNoYear = false;
    let toldFull = false;
    const byName = new Map<string, Pending[]>();
    const bySerial = new Map<string, Pending>();
    const pending = new Set<Pending>();
    let lastForwarded: Pending | null = null;
    let current: Open | null = null;

    const emit = (entry: Pending) => sink.record(entry.record);

    const forget = (entry: Pending) => {
      pending.delete(entry);
      if (entry.serial !== null) bySerial.delete(entry.serial);
      else {
        const list = byName.get(entry.key);
        const at = list?.indexOf(entry) ?? -1;
        if (list !== undefined && at >= 0) {
          list.splice(at, 1);
          if (list.length === 0) byName.delete(entry.key);
        }
      }
      if (lastForwarded === entry) lastForwarded = null;
    };

    const close = () => {
      if (current !== null) for (const entry of current.entries) emit(entry);
      current = null;
    };

    const timeOf = (match: RegExpExecArray, n: number): { time: LogTime | null; clock: string } => {
      const clock = match[1] ?? '';
      const month = MONTHS.indexOf(match[2] ?? '') + 1;
      if (year !== null && lastMonth !== null && month < lastMonth && lastMonth - month > 6) year++;
      lastMonth = month;
      if (year === null) {
        if (!toldNoYear) {
          toldNoYear = true;
          sink.problem(
            n,
            'syslog timestamps have no year: records have time null (createDnsmasqParser({ year }) sets it)',
          );
        }
        return { time: null, clock };
      }
      const pad = (text: string | undefined) => (text ?? '').padStart(2, '0');
      const local = localTime(
        `${year}-${pad(String(month))}-${pad(match[3])} ${match[4]}:${match[5]}:${match[6]}`,
      );
      if (local === undefined) sink.problem(n, `not a valid date: '${clock}'`);
      return { time: local === undefined ? null : { ...local, text: clock }, clock };
    };

    const query = (
      n: number,
      when: { time: LogTime | null; clock: string | null },
      serial: string | null,
      m: RegExpExecArray,
    ) => {
      close();
      const [, rawType = '', rawName = '', srcaddr = ''] = m;
      const typeNumber = /^type=(\d+)$/.exec(rawType);
      const name = normalizeName(rawName);
      const type = typeNumber === null ? rawType.toUpperCase() : `TYPE${typeNumber[1]}`;
      // A reverse lookup's replies name the address, not the in-addr.arpa name.
      const key = queryKey(name, type);
      const entry: Pending = {
        record: {
          source: 'dnsmasq',
          file,
          line: n,
          time: when.time,
          clock: when.clock,
          name,
          type,
          srcaddr,
          rcode: null,
          answers: [],
        },
        key,
        serial,
      };
      if (serial !== null) {
        const before = bySerial.get(serial);
        if (before !== undefined) {
          forget(before);
          emit(before);
        }
        bySerial.set(serial, entry);
      } else {
        const list = byName.get(key);
        if (list === undefined) byName.set(key, [entry]);
        else list.push(entry);
      }
      pending.add(entry);
      if (pending.size > MAX_PENDING) {
        const oldest = pending.values().next().value as Pending;
        forget(oldest);
        emit(oldest);
        if (!toldFull) {
          toldFull = true;
          sink.problem(
            n,
            `more than ${MAX_PENDING} queries wait for a reply: the oldest are emitted without one`,
          );
        }
      }
    };

    const apply = (entries: Pending[], answer: Answer) => {
      for (const entry of entries) {
        const record = entry.record;
        if (answer.rcode !== null && (record.rcode === null || record.rcode === 'NOERROR'))
          record.rcode = answer.rcode;
        if (answer.data !== null) record.answers.push(answer.data);
      }
    };

    const answer = (serial: string | null, rawName: string, dest: string) => {
      const name = normalizeName(rawName);
      const said = readAnswer(dest);
      const open = current;
      const continues =
        open !== null &&
        (serial !== null
          ? open.serial === serial
          : open.serial === null && (name === open.name || open.chain));
      if (open !== null && continues) {
        // The next line of the same answer: another address, or the target of a CNAME.
        if (name !== open.name) {
          for (const entry of open.entries) entry.record.answers.push(name);
          open.name = name;
        }
        apply(open.entries, said);
        open.chain = said.cname;
        return;
      }
      close();
      let entries: Pending[] = [];
      if (serial !== null) {
        const entry = bySerial.get(serial);
        if (entry !== undefined) entries = [entry];
      } else if (
        name === 'error' &&
        (said.rcode === 'SERVFAIL' || said.rcode === 'REFUSED' || said.rcode === null)
      ) {
        // `reply error is SERVFAIL` names no query: without log-queries=extra, the latest forwarded one.
        if (lastForwarded !== null) entries = [lastForwarded];
      } else {
        const list = byName.get(replyKey(name)) ?? [];
        const chosen = list.find((entry) => compatible(entry.record.type, said.family)) ?? list[0];
        if (chosen !== undefined) {
          // Retries of the same question get the same answer; NXDOMAIN answers every type.
          entries = list.filter(
            (entry) => said.rcode === 'NXDOMAIN' || entry.record.type === chosen.record.type,
          );
        }
      }
      if (entries.length === 0) return;
      for (const entry of entries) forget(entry);
      apply(entries, said);
      current = { entries, serial, name, chain: said.cname };
    };

    return {
      line(text, n) {
        if (text.trim() === '') return;
        let message: string;
        let when: { time: LogTime | null; clock: string | null };
        let pid: string;
        let program: string;
        const syslog = SYSLOG.exec(text);
        if (syslog !== null) {
          program = syslog[8] ?? '';
          if (program !== 'dnsmasq') return;
          pid = syslog[9] ?? '';
          message = syslog[10] ?? '';
          when = timeOf(syslog, n);
        } else {
          const iso = ISO.exec(text);
          const bare = iso === null ? BARE.exec(text) : null;
          if (iso !== null) {
            program = iso[3] ?? '';
            if (program !== 'dnsmasq') return;
            pid = iso[4] ?? '';
            message = iso[5] ?? '';
            const time = zonedTime(iso[1] ?? '') ?? null;
            if (time === null) sink.problem(n, `not a valid time: '${clip(iso[1] ?? '')}'`);
            when = { time, clock: iso[1] ?? null };
          } else if (bare !== null) {
            program = bare[1] ?? '';
            if (program !== 'dnsmasq') return;
            pid = bare[2] ?? '';
            message = bare[3] ?? '';
            when = { time: null, clock: null };
          } else {
            if (!OTHER_SYSLOG.test(text)) sink.problem(n, `not a dnsmasq or syslog line: '${clip(text)}'`);
            return;
          }
        }

        let serial: string | null = null;
        let body = message;
        const extra = EXTRA.exec(message);
        if (extra !== null) {
          serial = `${pid}:${extra[1]}`;
          body = extra[4] ?? '';
        }
        const q = QUERY.exec(body);
        if (q !== null) {
          query(n, when, serial, q);
          return;
        }
        const f = FORWARDED.exec(body);
        if (f !== null) {
          const entry =
            serial !== null
              ? bySerial.get(serial)
              : byName.get(queryKey(normalizeName(f[1] ?? ''), 'PTR'))?.at(-1);
          if (entry !== undefined) lastForwarded = entry;
          close();
          return;
        }
        const a = ANSWER.exec(body);
        if (a !== null) {
          answer(serial, a[2] ?? '', a[3] ?? '');
          return;
        }
        if (/^(?:query\[|forwarded |reply |cached )/.test(body))
          sink.problem(n, `unreadable dnsmasq query log line: '${clip(body)}'`);
      },
      end() {
        close();
        for (const entry of pending) emit(entry);
        pending.clear();
      },
    };
  };

  return {
    id: 'dnsmasq',
    title: 'dnsmasq query logs (log-queries, log-queries=extra), in syslog or its own log file',
    detect(name, head) {
      const lines = head.filter((line) => SYSLOG.test(line) || ISO.test(line));
      if (
        lines.some((line) =>
          /dnsmasq\[\d+\]: (?:\d+ (?:\S+\/\d+ )?)?(?:query\[|forwarded |reply |cached |config )/.test(line),
        )
      )
        return true;
      return /dnsmasq/i.test(name) && lines.some((line) => / dnsmasq\[\d+\]: /.test(line));
    },
    open,
  };
}

const dnsmasq: LogParser<DnsmasqQueryRecord> = createDnsmasqParser();

export default dnsmasq;
