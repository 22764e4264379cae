import { posix } from 'node:path';
import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { LOG_PARSERS } from '../logs/api.js';
import { aggregateQueries } from '../logs/dns/index.js';
import { forEachLine, openLogStream, streamFile } from '../logs/read.js';
import type { LogParser, LogProblem, LogRecordBase } from '../logs/types.js';
import { adapt } from './adapters.js';
import type { AdapterContext } from './adapters.js';
import { instanceIn, openBundle } from './bundle.js';
import type { BundleFile } from './bundle.js';
import { checkTimeZone } from './clock.js';
import { correlate, DnsTally } from './correlate.js';
import type { Cause, ExternalDomain, InstanceSummary } from './correlate.js';
import type { DiagEvent } from './events.js';

export interface DiagnoseOptions {
  /** The zone of logs that write local time without one; default: each instance's etc/timezone, else UTC. */
  tz?: string;
  /** Expected domain names (`*.internal.example.com`); the rest count as external. */
  allowDomains?: string[];
  sink?: EventSink;
  /** Route 53 query logs at least this big are counted on the fast path (default FAST_DNS_BYTES). */
  fastDnsBytes?: number;
}

export interface TimelineEntry {
  at: string;
  instance: string | null;
  kind: DiagEvent['kind'];
  summary: string;
  file: string;
  line: number;
}

export interface FileSummary {
  name: string;
  instance: string | null;
  /** The parser that read it; null when no parser knows the format. */
  format: string | null;
  records: number;
  problems: number;
}

/** The document `goldgate diagnose --format json` prints (schema: docs/diagnose-json.md). */
export interface DiagnoseReport {
  bundle: string;
  causes: Cause[];
  externalDomains: ExternalDomain[];
  instances: InstanceSummary[];
  timeline: TimelineEntry[];
  files: FileSummary[];
  /** Lines that could not be read, with file and line (at most MAX_PROBLEMS; `problemsTotal` counts all). */
  problems: LogProblem[];
  problemsTotal: number;
}

export const MAX_PROBLEMS = 1000;
/** Formats whose records name their own instance (or none): never attributed by the bundle's layout. */
const SHARED_FORMATS = new Set(['route53-resolver', 'dnsmasq', 'asg-activities', 'goldgate-health']);
/** Route 53 query logs at least this big are counted on the fast path. */
export const FAST_DNS_BYTES = 32 * 1024 * 1024;
const MAX_TIMELINE = 5000;
const HEAD_LINES = 5;

/** The first non-empty lines of a file (decompressed), for format detection. */
async function headOf(path: string): Promise<string[]> {
  const head: string[] = [];
  const stream = await openLogStream(path);
  const done = new Error('enough');
  try {
    await forEachLine(stream, (text) => {
      if (text.trim() !== '') head.push(text.slice(0, 4096));
      if (head.length >= HEAD_LINES) throw done;
    });
  } catch (error) {
    if (error !== done) throw error;
  } finally {
    stream.destroy();
  }
  return head;
}

/** The parser for a file, by its name and first lines; registry order decides between look-alikes. */
export async function detectFormat(file: Pick<BundleFile, 'path' | 'name'>): Promise<LogParser | undefined> {
  if (posix.basename(file.name) === 'timezone') return undefined;
  let head: string[];
  try {
    head = await headOf(file.path);
  } catch {
    head = [];
  }
  return LOG_PARSERS.find((parser) => parser.detect(posix.basename(file.name), head));
}

function describe(event: DiagEvent): string {
  switch (event.kind) {
    case 'package': {
      const c = event.change;
      const versions = c.from !== null && c.to !== null ? `${c.from} → ${c.to}` : (c.to ?? c.from ?? '');
      return `${c.action} ${c.package} ${versions} (${event.by})`;
    }
    case 'health':
      return `health ${event.check}: ${event.ok ? 'ok' : 'FAILED'}${event.detail !== '' ? ` (${event.detail})` : ''}`;
    case 'unit-failed':
      return `${event.unit} failed${event.detail !== '' ? `: ${event.detail}` : ''}`;
    case 'service-restart':
      return `${event.unit}: ${event.detail}`;
    default:
      return event.detail;
  }
}

/** Reads a bundle and correlates it. Never throws on log content; a bundle that cannot be opened throws. */
export async function diagnose(source: string, options: DiagnoseOptions = {}): Promise<DiagnoseReport> {
  const sink = options.sink ?? silent;
  if (options.tz !== undefined) checkTimeZone(options.tz);
  const bundle = await openBundle(source);
  try {
    const events: DiagEvent[] = [];
    const dns = new DnsTally();
    const problems: LogProblem[] = [];
    let problemsTotal = 0;
    const files: FileSummary[] = [];
    const timezones = new Map<string, { zone: string; from: string }>();
    const zoneOf = (instance: string | null) => {
      if (options.tz !== undefined) return { zone: options.tz, from: '--tz' };
      const own = instance === null ? undefined : bundle.timezones.get(instance);
      if (own !== undefined && checkZoneQuietly(own)) return { zone: own, from: `${instance}/etc/timezone` };
      return { zone: 'UTC', from: 'default (no --tz, no etc/timezone)' };
    };
    const flatInstance = bundle.files.some((f) => f.instance !== null)
      ? null
      : posix.basename(source).replace(/\.(tar\.gz|tgz|tar)$/, '');
    let done = 0;
    for (const file of bundle.files) {
      done += 1;
      const parser = await detectFormat(file);
      if (parser === undefined) {
        files.push({ name: file.name, instance: file.instance, format: null, records: 0, problems: 0 });
        continue;
      }
      sink.emit({
        type: 'progress',
        step: 'read',
        message: `${file.name} (${parser.id}) ${done}/${bundle.files.length}`,
      });
      if (parser.id === 'route53-resolver' && file.size >= (options.fastDnsBytes ?? FAST_DNS_BYTES)) {
        // Millions of queries: count them on the fast path (exact, several times faster); they carry no timeline.
        const aggregate = await aggregateQueries([file.path]);
        for (const [key, names] of aggregate.byInstance) {
          // As on the record path: a query with no instance id belongs to the folder's instance, else to its address.
          const instance = instanceIn(key) ?? file.instance ?? key;
          for (const [name, count] of names)
            dns.addCounts(instance, name, count.queries, count.rcodes, {
              file: file.name,
              line: 0,
              text: 'counted over the whole file',
            });
        }
        for (const problem of aggregate.problems) {
          problemsTotal += 1;
          if (problems.length < MAX_PROBLEMS) problems.push({ ...problem, file: file.name });
        }
        files.push({
          name: file.name,
          instance: file.instance,
          format: parser.id,
          records: aggregate.records,
          problems: aggregate.problems.length,
        });
        continue;
      }
      // A flat bundle of one machine's logs names no instance: its logs are that one machine's.
      const instance =
        file.instance ?? (flatInstance !== null && !SHARED_FORMATS.has(parser.id) ? flatInstance : null);
      const zone = zoneOf(instance);
      if (instance !== null) timezones.set(instance, zone);
      const context: AdapterContext = {
        file: file.name,
        instance,
        zone: zone.zone,
        events,
        dns,
      };
      let records = 0;
      let fileProblems = 0;
      await streamFile(
        file.path,
        parser,
        (record: LogRecordBase) => {
          records += 1;
          adapt(record, context);
        },
        (problem) => {
          fileProblems += 1;
          problemsTotal += 1;
          if (problems.length < MAX_PROBLEMS) problems.push(problem);
        },
        file.name,
      );
      context.finish?.();
      files.push({
        name: file.name,
        instance: file.instance,
        format: parser.id,
        records,
        problems: fileProblems,
      });
    }
    for (const event of events) {
      if (event.instance !== null && !timezones.has(event.instance))
        timezones.set(event.instance, zoneOf(event.instance));
    }
    const correlation = correlate(events, dns, { allowDomains: options.allowDomains ?? [], timezones });
    sink.emit({
      type: 'progress',
      step: 'correlate',
      message: `${events.length} events, ${correlation.causes.length} causes`,
      done: true,
    });
    return {
      bundle: source,
      causes: correlation.causes,
      externalDomains: correlation.externalDomains,
      instances: correlation.instances,
      timeline: correlation.timeline.slice(0, MAX_TIMELINE).map((e) => ({
        at: new Date(e.at).toISOString(),
        instance: e.instance,
        kind: e.kind,
        summary: describe(e),
        file: e.ref.file,
        line: e.ref.line,
      })),
      files,
      problems,
      problemsTotal,
    };
  } finally {
    await bundle.close();
  }
}

function checkZoneQuietly(zone: string): boolean {
  try {
    checkTimeZone(zone);
    return true;
  } catch {
    return false;
  }
}
