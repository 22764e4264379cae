import type { PackageChange } from '../logs/packages.js';
import type { AptHistoryRecord } from '../logs/parsers/apt-history/index.js';
import type { AsgActivityRecord } from '../logs/parsers/asg-activities/index.js';
import type { DnsmasqQueryRecord } from '../logs/parsers/dnsmasq/index.js';
import type { GoldgateHealthRecord } from '../logs/parsers/goldgate-health/index.js';
import type { AptTermRecord } from '../logs/parsers/apt-term/index.js';
import type { CloudInitOutputRecord } from '../logs/parsers/cloud-init-output/index.js';
import type { CloudInitRecord } from '../logs/parsers/cloud-init/index.js';
import type { DpkgRecord } from '../logs/parsers/dpkg/index.js';
import type { JournalRecord } from '../logs/parsers/journal/index.js';
import type { Route53QueryRecord } from '../logs/parsers/route53-resolver/index.js';
import type { SyslogRecord } from '../logs/parsers/syslog/index.js';
import type { UnattendedUpgradesDpkgRecord } from '../logs/parsers/unattended-upgrades-dpkg/index.js';
import type { UnattendedUpgradesRecord } from '../logs/parsers/unattended-upgrades/index.js';
import type { LogRecordBase, LogTime } from '../logs/types.js';
import { epochOf } from './clock.js';
import type { DnsTally } from './correlate.js';
import type { DiagEvent, EventRef } from './events.js';

/** What an adapter knows about the file being read, and where its events go. */
export interface AdapterContext {
  file: string;
  /** The instance the file belongs to (from the bundle's layout), if any. */
  instance: string | null;
  /** The zone local times of this file are read in. */
  zone: string;
  events: DiagEvent[];
  dns: DnsTally;
  /** Per-file state an adapter keeps (the journal's boots seen so far). */
  state?: Set<string>;
  finish?: () => void;
}

/** The fields of each parser's records that diagnose uses; the parsers' own types have more. */
type Known =
  | AptHistoryRecord
  | DpkgRecord
  | UnattendedUpgradesRecord
  | AptTermRecord
  | UnattendedUpgradesDpkgRecord
  | CloudInitRecord
  | CloudInitOutputRecord
  | JournalRecord
  | SyslogRecord
  | Route53QueryRecord
  | DnsmasqQueryRecord
  | AsgActivityRecord
  | GoldgateHealthRecord;

const MAX_TEXT = 200;
const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

type EventInput = DiagEvent extends infer E
  ? E extends DiagEvent
    ? Omit<E, 'at' | 'instance' | 'ref'> & { instance?: string | null }
    : never
  : never;

function push(context: AdapterContext, at: number | null, event: EventInput, ref: EventRef): void {
  if (at === null) return;
  context.events.push({
    ...event,
    at,
    instance: event.instance === undefined ? context.instance : event.instance,
    ref,
  } as DiagEvent);
}

function change(
  action: PackageChange['action'],
  pkg: string,
  from: string | null,
  to: string | null,
): PackageChange {
  return { action, package: pkg, arch: null, from, to, automatic: false };
}

/** Turns one parser record into diagnose's events; records of no interest add nothing. */
export function adapt(record: LogRecordBase, context: AdapterContext): void {
  const r = record as LogRecordBase & Known;
  const at = epochOf(record.time as LogTime | null, context.zone);
  const ref = (text?: string | null): EventRef => ({
    file: record.file,
    line: record.line,
    ...(text !== undefined && text !== null ? { text: clip(text) } : {}),
  });
  switch (r.source) {
    case 'apt-history': {
      const by =
        r.tool === 'apt-get' || r.tool === 'apt' || r.tool === 'aptitude'
          ? `${r.tool} (${r.commandline ?? 'by hand'})`
          : r.tool;
      for (const c of r.changes)
        push(
          context,
          at,
          { kind: 'package', change: c, by: r.tool === 'unknown' ? 'unknown' : by },
          ref(r.commandline ?? undefined),
        );
      if (r.error !== null) push(context, at, { kind: 'package-error', detail: r.error }, ref(r.error));
      return;
    }
    case 'dpkg':
      if (r.kind === 'action' && r.change !== null && r.package !== null) {
        push(
          context,
          at,
          {
            kind: 'package',
            change: { ...change(r.change, r.package, r.from, r.to), arch: r.arch },
            by: 'unknown',
          },
          ref(),
        );
      }
      return;
    case 'unattended-upgrades':
      if (r.event === 'packages') {
        for (const name of r.packages ?? [])
          push(
            context,
            at,
            { kind: 'package', change: change('upgrade', name, null, null), by: 'unattended-upgrade' },
            ref(r.message),
          );
      } else if (r.event === 'dpkg-lock')
        push(context, at, { kind: 'dpkg-lock', detail: clip(r.message) }, ref(r.message));
      else if (r.event === 'reboot')
        push(context, at, { kind: 'reboot', detail: clip(r.message) }, ref(r.message));
      else if (r.event === 'error')
        push(context, at, { kind: 'package-error', detail: clip(r.message) }, ref(r.message));
      return;
    case 'unattended-upgrades-dpkg':
    case 'apt-term': {
      const by = r.source === 'unattended-upgrades-dpkg' ? 'unattended-upgrade' : 'unknown';
      for (const u of r.unpacked) {
        push(
          context,
          at,
          {
            kind: 'package',
            change: change(u.over ? 'upgrade' : 'install', u.package, u.over ?? null, u.version),
            by,
          },
          ref(`Unpacking ${u.package} (${u.version})`),
        );
      }
      for (const unit of r.restarts)
        push(
          context,
          at,
          { kind: 'service-restart', unit, detail: 'restarted by a package change' },
          ref(unit),
        );
      for (const error of r.errors)
        push(context, at, { kind: 'package-error', detail: clip(error) }, ref(error));
      return;
    }
    case 'cloud-init':
      if (r.event === 'stage-start' && (r.stage === 'init-local' || r.stage === 'init'))
        push(context, at, { kind: 'boot', detail: `cloud-init ${r.stage} stage` }, ref(r.message));
      else if (r.event === 'dpkg-lock')
        push(context, at, { kind: 'dpkg-lock', detail: clip(r.message) }, ref(r.message));
      else if (r.event === 'reboot')
        push(context, at, { kind: 'reboot', detail: clip(r.message) }, ref(r.message));
      else if (r.event === 'module-failed' || r.event === 'command-failed')
        push(context, at, { kind: 'package-error', detail: clip(r.message) }, ref(r.message));
      return;
    case 'cloud-init-output': {
      // Package lines have no time of their own: the last banner's is a lower bound.
      const approximate = r.timeFrom === 'stage' ? { approximate: true as const } : {};
      if (r.kind === 'unpacking' && r.package !== null && r.version !== null) {
        const action = r.fromVersion !== null ? 'upgrade' : 'install';
        push(
          context,
          at,
          {
            kind: 'package',
            change: { ...change(action, r.package, r.fromVersion, r.version), arch: r.arch },
            by: 'cloud-init',
            ...approximate,
          },
          ref(r.text),
        );
      } else if (r.kind === 'setting-up' && r.package !== null && r.version !== null) {
        push(
          context,
          at,
          {
            kind: 'package',
            change: { ...change('install', r.package, null, r.version), arch: r.arch },
            by: 'cloud-init',
            ...approximate,
          },
          ref(r.text),
        );
      } else if (r.kind === 'dpkg-lock')
        push(context, at, { kind: 'dpkg-lock', detail: clip(r.text) }, ref(r.text));
      return;
    }
    case 'journal':
    case 'syslog': {
      const message = r.message ?? '';
      if (r.source === 'journal' && r.bootId !== null) {
        context.state ??= new Set();
        if (!context.state.has(r.bootId)) {
          context.state.add(r.bootId);
          push(
            context,
            at,
            {
              kind: 'boot',
              detail: `boot ${r.bootId.slice(0, 8)}`,
              ...(r.source === 'journal' && r.machineId !== null ? { machine: r.machineId } : {}),
            },
            ref(message),
          );
        }
      }
      const unit = r.unit ?? (r.source === 'journal' ? r.identifier : r.program) ?? 'unknown';
      if (r.event === 'unit-failed')
        push(context, at, { kind: 'unit-failed', unit, detail: clip(message) }, ref(message));
      // A service whose process ended by itself ("Deactivated successfully") was not restarted; one stopped by a job was.
      else if (r.event === 'unit-restart' || (r.event === 'unit-stopped' && /^Stopped\b/.test(message))) {
        push(context, at, { kind: 'service-restart', unit, detail: clip(message) }, ref(message));
      } else if (r.event === 'reboot')
        push(context, at, { kind: 'reboot', detail: clip(message) }, ref(message));
      // A package change that re-executes systemd (a systemd upgrade) restarts the manager under every service.
      else if (r.event === 'daemon-reexec' && /reexecut/i.test(message)) {
        // Only a re-execution: a daemon-reload ("Reloading.") follows nearly every install and restarts nothing.
        push(
          context,
          at,
          { kind: 'service-restart', unit: 'systemd (daemon re-exec)', detail: clip(message) },
          ref(message),
        );
      }
      return;
    }
    case 'route53-resolver':
    case 'dnsmasq': {
      const instance = (r.source === 'route53-resolver' ? r.instance : null) ?? context.instance ?? r.srcaddr;
      context.dns.add({
        at,
        instance,
        name: r.name,
        rcode: r.rcode,
        ref: ref(`${r.name} ${r.rcode ?? ''}`.trim()),
      });
      return;
    }
    case 'asg-activities':
      if (r.instanceId === null) return;
      if (r.kind === 'launch')
        push(
          context,
          at,
          { kind: 'launch', detail: r.description, instance: r.instanceId },
          ref(r.description),
        );
      else if (r.kind === 'terminate' && r.reason === 'health-check')
        push(
          context,
          at,
          { kind: 'out-of-service', detail: clip(r.cause), reason: r.reason, instance: r.instanceId },
          ref(r.cause),
        );
      return;
    case 'goldgate-health':
      push(
        context,
        at,
        {
          kind: 'health',
          ok: r.ok,
          check: r.check,
          detail: r.detail ?? '',
          instance: r.instance ?? context.instance,
        },
        ref(`${r.check}: ${r.ok ? 'ok' : (r.detail ?? 'failed')}`),
      );
      return;
    default:
      return;
  }
}
