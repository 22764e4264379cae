import { zonedTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';

/** One DNS query from a Route 53 Resolver query log (one JSON object a line). */
export interface Route53QueryRecord extends LogRecordBase {
  source: 'route53-resolver';
  /** `query_timestamp` (UTC); null, with a problem, when missing or malformed. */
  time: LogTime | null;
  /** `query_name` lowercased, without the trailing dot (the root stays `.`). */
  name: string;
  /** `query_type` (A, AAAA, PTR, ...); empty, with a problem, when missing. */
  type: string;
  /** `rcode` as written: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ... */
  rcode: string;
  srcaddr: string;
  /** `srcids.instance`; null for queries that did not come from an EC2 instance (a Resolver endpoint). */
  instance: string | null;
  /** `vpc_id`; empty, with a problem, when missing. */
  vpcId: string;
  /** The `Rdata` of each answer, in order. */
  answers: string[];
  /** `firewall_rule_action` (ALERT, BLOCK, ...) when DNS Firewall matched the query. */
  firewallAction: string | null;
}

/** A query read from one line, before the file and line are known. */
export type ResolverQuery = Omit<Route53QueryRecord, 'source' | 'file' | 'line'>;

/** What one line of a query log holds. */
export interface ResolverLine {
  queries: ResolverQuery[];
  /** Why the line (or an object in it) gave no query. */
  errors: string[];
  /** Queries kept with a field missing or malformed (their `time`, `type` or `vpcId` is empty). */
  warnings: string[];
}

// CloudWatch Logs exports write each event as `<ISO timestamp> <message>`.
const CLOUDWATCH_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))\s+/;
/** The timestamp token of a CloudWatch Logs export line, alone (shared with the fast aggregator). */
export const CLOUDWATCH_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;
const MAX_REASON_TEXT = 80;

/** `query_name` as goldgate compares names: lowercased, trailing dot removed (but `.` stays `.`). */
export function normalizeQueryName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clip(text: string): string {
  return text.length > MAX_REASON_TEXT ? `${text.slice(0, MAX_REASON_TEXT)}…` : text;
}

/**
 * Splits `{...}{...}` (Firehose writes records back to back when no delimiter is
 * configured) at the top-level object boundaries, honouring strings and escapes.
 */
function splitConcatenated(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) {
        parts.push(text.slice(start, i + 1));
        start = i + 1;
      }
    }
  }
  if (text.slice(start).trim() !== '') parts.push(text.slice(start));
  return parts;
}

function toQuery(value: unknown, out: ResolverLine): void {
  if (!isObject(value)) {
    out.errors.push('not a JSON object');
    return;
  }
  const { query_name: name, rcode, srcaddr } = value;
  if (typeof name !== 'string' || typeof rcode !== 'string' || typeof srcaddr !== 'string') {
    const missing = [
      typeof name === 'string' ? '' : 'query_name',
      typeof rcode === 'string' ? '' : 'rcode',
      typeof srcaddr === 'string' ? '' : 'srcaddr',
    ].filter((field) => field !== '');
    out.errors.push(`not a Resolver query record: no string ${missing.join(', ')}`);
    return;
  }
  const stamp = value.query_timestamp;
  const time = typeof stamp === 'string' ? (zonedTime(stamp) ?? null) : null;
  const type = typeof value.query_type === 'string' ? value.query_type : '';
  const vpcId = typeof value.vpc_id === 'string' ? value.vpc_id : '';
  const bad = [
    time === null ? 'query_timestamp' : '',
    type === '' ? 'query_type' : '',
    vpcId === '' ? 'vpc_id' : '',
  ].filter((field) => field !== '');
  if (bad.length > 0) out.warnings.push(`query of ${clip(name)}: missing or malformed ${bad.join(', ')}`);
  const srcids = value.srcids;
  const instance = isObject(srcids) && typeof srcids.instance === 'string' ? srcids.instance : null;
  const answers: string[] = [];
  if (Array.isArray(value.answers)) {
    for (const answer of value.answers)
      if (isObject(answer) && typeof answer.Rdata === 'string') answers.push(answer.Rdata);
  }
  const action = value.firewall_rule_action;
  out.queries.push({
    time,
    name: normalizeQueryName(name),
    type,
    rcode,
    srcaddr,
    instance,
    vpcId,
    answers,
    firewallAction: typeof action === 'string' ? action : null,
  });
}

function readValue(value: unknown, out: ResolverLine, nested: boolean): void {
  // A CloudWatch Logs subscription (delivered by Firehose) wraps events in an envelope.
  if (!nested && isObject(value) && Array.isArray(value.logEvents)) {
    for (const event of value.logEvents) {
      if (isObject(event) && typeof event.message === 'string') readText(event.message, out, true);
      else out.errors.push('logEvents entry without a message');
    }
    return;
  }
  toQuery(value, out);
}

function readText(text: string, out: ResolverLine, nested: boolean): void {
  let body = text.trim();
  if (body === '') return;
  const prefix = CLOUDWATCH_PREFIX.exec(body);
  if (prefix !== null) body = body.slice(prefix[0].length);
  try {
    readValue(JSON.parse(body), out, nested);
    return;
  } catch (error) {
    if (!body.includes('}{')) {
      out.errors.push(`not JSON: ${(error as Error).message}`);
      return;
    }
  }
  for (const part of splitConcatenated(body)) {
    try {
      readValue(JSON.parse(part), out, nested);
    } catch (error) {
      out.errors.push(`not JSON: ${(error as Error).message}`);
    }
  }
}

/**
 * Reads one line of a Resolver query log in any of its deliveries: S3 or Firehose JSON lines,
 * a CloudWatch Logs export (`<timestamp> <json>`), objects written back to back, or a
 * CloudWatch subscription envelope (`logEvents`). Never throws.
 */
export function readResolverLine(text: string): ResolverLine {
  const out: ResolverLine = { queries: [], errors: [], warnings: [] };
  readText(text, out, false);
  return out;
}

const NAME_HINT = /vpcdnsquerylogs|resolver|query-?log|dns/i;
const CONTENT = /\\?"query_name\\?"\s*:/;
const CONTENT_MORE = /\\?"(?:query_timestamp|srcaddr|rcode)\\?"\s*:/;

const parser: LogParser<Route53QueryRecord> = {
  id: 'route53-resolver',
  title: 'Route 53 Resolver query logs (JSON lines from S3, Firehose or a CloudWatch Logs export)',
  detect(name, head) {
    if (head.some((line) => CONTENT.test(line) && CONTENT_MORE.test(line))) return true;
    // A first line cut short still shows its keys; a file name alone is not enough.
    return NAME_HINT.test(name) && head.some((line) => CONTENT.test(line));
  },
  open(file: string, sink: ParserSink<Route53QueryRecord>): LineParser {
    return {
      line(text, lineNumber) {
        const read = readResolverLine(text);
        for (const reason of read.errors) sink.problem(lineNumber, reason);
        for (const reason of read.warnings) sink.problem(lineNumber, reason);
        for (const query of read.queries)
          sink.record({ source: 'route53-resolver', file, line: lineNumber, ...query });
      },
      end() {},
    };
  },
};

export default parser;
