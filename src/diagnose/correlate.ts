import type { PackageChange } from '../logs/packages.js';
import { samePackage } from '../logs/packages.js';
import type { DiagEvent, DnsQuery, EventRef } from './events.js';

export type CauseKind =
  'package-change' | 'service-restart' | 'reboot' | 'dpkg-lock' | 'external-dns' | 'instances-drifted';

/** A probable cause, with the evidence behind it. */
export interface Cause {
  kind: CauseKind;
  summary: string;
  /** 0 to 1: how well the evidence supports it. */
  confidence: number;
  instances: string[];
  /** When it first happened (ISO 8601). */
  at: string | null;
  evidence: EventRef[];
  /** What to do now. */
  actions: string[];
  package?: string;
  from?: string | null;
  to?: string | null;
  by?: string;
  unit?: string;
}

export interface ExternalDomain {
  name: string;
  instances: string[];
  queries: number;
  /** Queries for the name from each instance (or source address, when the log names no instance). */
  queriesByInstance: Record<string, number>;
  rcodes: Record<string, number>;
}

export interface InstanceSummary {
  id: string;
  bootAt: string | null;
  bootFrom: string | null;
  firstFailureAt: string | null;
  failure: string | null;
  packageChangesAfterBoot: number;
  timezone: string;
  timezoneFrom: string;
}

export interface Correlation {
  causes: Cause[];
  externalDomains: ExternalDomain[];
  instances: InstanceSummary[];
  timeline: DiagEvent[];
}

export interface CorrelateOptions {
  /** Domain patterns that are expected (`*.amazonaws.com`, `mirror.internal`); others are external. */
  allowDomains: readonly string[];
  timezones: ReadonlyMap<string, { zone: string; from: string }>;
}

/** Aggregated DNS queries: per instance, per name. Kept flat however many queries were read. */
export class DnsTally {
  readonly byName = new Map<
    string,
    { instances: Map<string, number>; rcodes: Record<string, number>; first: DnsQuery }
  >();
  add(query: DnsQuery): void {
    let entry = this.byName.get(query.name);
    if (entry === undefined) {
      entry = { instances: new Map(), rcodes: {}, first: query };
      this.byName.set(query.name, entry);
    }
    const who = query.instance ?? 'unknown';
    entry.instances.set(who, (entry.instances.get(who) ?? 0) + 1);
    const rcode = query.rcode ?? 'UNANSWERED';
    entry.rcodes[rcode] = (entry.rcodes[rcode] ?? 0) + 1;
    if (query.at !== null && (entry.first.at === null || query.at < entry.first.at)) entry.first = query;
  }

  /** Adds counts read without records (the fast path for large query logs): no times, the file as evidence. */
  addCounts(
    instance: string,
    name: string,
    queries: number,
    rcodes: Record<string, number>,
    ref: EventRef,
  ): void {
    let entry = this.byName.get(name);
    if (entry === undefined) {
      entry = { instances: new Map(), rcodes: {}, first: { at: null, instance, name, rcode: null, ref } };
      this.byName.set(name, entry);
    }
    entry.instances.set(instance, (entry.instances.get(instance) ?? 0) + queries);
    for (const [rcode, n] of Object.entries(rcodes)) entry.rcodes[rcode] = (entry.rcodes[rcode] ?? 0) + n;
  }
}

/** Boots further apart than this belong to different lives of a disk (the bake, then the instance). */
const BOOT_SESSION_GAP_MS = 6 * 3_600_000;
/** With no record of an instance's boot, how far back before its failure a change can be from its own life. */
const UNKNOWN_BOOT_WINDOW_MS = 6 * 3_600_000;

/**
 * The boot that started the instance's own life: boots are grouped into sessions (an image
 * baked by booting carries the bake's boot records, days before), and the first boot of the
 * last session before the failure is the instance's; reboots minutes later stay in its session.
 */
function instanceBoot(own: readonly DiagEvent[], failure: number | undefined): DiagEvent | undefined {
  const boots = own
    .filter((e) => e.kind === 'boot' && (failure === undefined || e.at <= failure))
    .sort((a, b) => a.at - b.at);
  let start = boots[0];
  let machine: string | undefined;
  for (let i = 0; i < boots.length; i += 1) {
    const boot = boots[i] as DiagEvent;
    const id = boot.kind === 'boot' ? boot.machine : undefined;
    // A new machine id is a new machine (the image's instance after its bake), however soon after.
    if (i > 0 && boot.at - (boots[i - 1] as DiagEvent).at > BOOT_SESSION_GAP_MS) start = boot;
    else if (id !== undefined && machine !== undefined && id !== machine) start = boot;
    if (id !== undefined) machine = id;
  }
  return start;
}

// Not finite: the minimum of no times at all (queries from a log without dates).
const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

/** Whether a name matches a pattern: exact, or `*.suffix` for any name below suffix. */
export function domainAllowed(name: string, patterns: readonly string[]): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return patterns.some((raw) => {
    const p = raw.toLowerCase().replace(/\.$/, '');
    return p.startsWith('*.') ? n.endsWith(p.slice(1)) || n === p.slice(2) : n === p;
  });
}

interface Change {
  instance: string;
  at: number;
  /** `at` is a lower bound (no log with the change's own time merged in yet). */
  approximate: boolean;
  change: PackageChange;
  by: string;
  refs: EventRef[];
}

/** How long after a cloud-init banner the package lines under it can have been written (apt can take minutes). */
const APPROXIMATE_WINDOW_MS = 3_600_000;

const changeKey = (c: PackageChange) => `${c.package}\0${c.from ?? ''}\0${c.to ?? ''}\0${c.action}`;

/** Merges the same change told by several logs (history, dpkg, term.log) into one, keeping the most telling `by`. */
function mergeChanges(events: Array<Extract<DiagEvent, { kind: 'package' }>>): Change[] {
  const merged: Change[] = [];
  const sorted = [...events].sort((a, b) => a.at - b.at);
  for (const event of sorted) {
    const instance = event.instance ?? 'unknown';
    const twin = merged.find(
      (m) =>
        m.instance === instance &&
        (Math.abs(m.at - event.at) <= 120_000 ||
          // A change timed by a lower bound (the last cloud-init banner) is the one a log times later.
          (m.approximate && event.at >= m.at && event.at - m.at <= APPROXIMATE_WINDOW_MS)) &&
        samePackage(m.change, event.change) &&
        // A log that does not say a version (unattended-upgrades names only packages) matches any.
        (m.change.to === event.change.to || m.change.to === null || event.change.to === null) &&
        (m.change.from === event.change.from || m.change.from === null || event.change.from === null),
    );
    if (twin === undefined) {
      merged.push({
        instance,
        at: event.at,
        approximate: event.approximate === true,
        change: event.change,
        by: event.by,
        refs: [event.ref],
      });
      continue;
    }
    twin.refs.push(event.ref);
    if (twin.by === 'unknown' && event.by !== 'unknown') twin.by = event.by;
    if (twin.change.from === null && event.change.from !== null)
      twin.change = { ...twin.change, from: event.change.from, action: event.change.action };
    if (twin.change.to === null && event.change.to !== null)
      twin.change = { ...twin.change, to: event.change.to };
    if (twin.approximate && event.approximate !== true) {
      // The log with the change's own time wins over the lower bound.
      twin.at = event.at;
      twin.approximate = false;
    } else if (twin.approximate === (event.approximate === true)) twin.at = Math.min(twin.at, event.at);
  }
  return merged;
}

/** Each package action as a past participle, for sentences. */
export const ACTION_VERB: Record<PackageChange['action'], string> = {
  install: 'installed',
  upgrade: 'upgraded',
  downgrade: 'downgraded',
  reinstall: 'reinstalled',
  remove: 'removed',
  purge: 'purged',
};

function describeChange(c: PackageChange): string {
  if (c.action === 'install') return `${c.package} ${c.to ?? ''} installed`;
  if (c.action === 'remove' || c.action === 'purge')
    return `${c.package} ${c.from ?? ''} ${ACTION_VERB[c.action]}`;
  return `${c.package} ${ACTION_VERB[c.action]} ${c.from ?? '?'} → ${c.to ?? '?'}`;
}

function actionsFor(change: PackageChange, by: string): string[] {
  const actions = [
    `Stop the churn first: suspend the group's ReplaceUnhealthy and Launch processes (or set desired capacity) so it stops replacing instances that will break the same way.`,
  ];
  if (change.action === 'upgrade' && change.from !== null) {
    actions.push(
      `On running instances: apt-get install ${change.package}=${change.from} && apt-mark hold ${change.package}.`,
    );
  }
  if (by === 'unattended-upgrade')
    actions.push(
      'In the image: disable unattended-upgrades (goldgate audit: apt-unattended-upgrades, apt-timers-enabled).',
    );
  else if (by === 'cloud-init')
    actions.push(
      'In the image: turn off cloud-init package_upgrade (goldgate audit: cloud-init-package-upgrade).',
    );
  else
    actions.push(
      'Find what ran the change at boot (goldgate audit lists every source) and remove it from the image.',
    );
  actions.push(
    `Bake a new image with ${change.package} at the version you tested, validate it, and roll it out.`,
  );
  return actions;
}

/**
 * Correlates normalised events into a timeline and ranked causes. Changes made before an
 * instance booted — when the image was baked — are never blamed: an instance's boot is its
 * launch (scaling activity) or its earliest boot record; without either, a change found at the
 * very same instant on several instances was inherited from the image.
 */
export function correlate(
  events: readonly DiagEvent[],
  dns: DnsTally,
  options: CorrelateOptions,
): Correlation {
  const instances = [...new Set(events.map((e) => e.instance).filter((i): i is string => i !== null))].sort();
  const byInstance = (id: string) => events.filter((e) => e.instance === id);

  const summaries = new Map<string, InstanceSummary>();
  const bootAt = new Map<string, number>();
  const failAt = new Map<string, { at: number; detail: string; ref: EventRef }>();
  for (const id of instances) {
    const own = byInstance(id);
    const failures = own
      .filter(
        (e): e is Extract<DiagEvent, { kind: 'health' | 'unit-failed' | 'out-of-service' }> =>
          (e.kind === 'health' && !e.ok) || e.kind === 'unit-failed' || e.kind === 'out-of-service',
      )
      .sort((a, b) => a.at - b.at);
    const healthFailure = failures.find((e) => e.kind === 'health') ?? failures[0];
    if (healthFailure !== undefined) {
      const detail =
        healthFailure.kind === 'health'
          ? `health ${healthFailure.check} failed${healthFailure.detail !== '' ? `: ${healthFailure.detail}` : ''}`
          : healthFailure.kind === 'unit-failed'
            ? `${healthFailure.unit} failed`
            : healthFailure.detail;
      failAt.set(id, { at: healthFailure.at, detail, ref: healthFailure.ref });
    }
    const launch = own.filter((e) => e.kind === 'launch').sort((a, b) => a.at - b.at)[0];
    const start = launch ?? instanceBoot(own, failAt.get(id)?.at);
    if (start !== undefined) bootAt.set(id, start.at);
    const zone = options.timezones.get(id) ?? { zone: 'UTC', from: 'default' };
    summaries.set(id, {
      id,
      bootAt: iso(start?.at),
      bootFrom: start === undefined ? null : start.kind === 'launch' ? 'scaling activity' : start.ref.file,
      firstFailureAt: iso(failAt.get(id)?.at),
      failure: failAt.get(id)?.detail ?? null,
      packageChangesAfterBoot: 0,
      timezone: zone.zone,
      timezoneFrom: zone.from,
    });
  }

  const changes = mergeChanges(
    events.filter((e): e is Extract<DiagEvent, { kind: 'package' }> => e.kind === 'package'),
  );
  // Without a boot record, the same change at the same instant on several instances came with the image.
  const instantCount = new Map<string, Set<string>>();
  for (const c of changes) {
    const key = `${changeKey(c.change)}\0${c.at}`;
    instantCount.set(key, (instantCount.get(key) ?? new Set()).add(c.instance));
  }
  const lastSeen = new Map<string, number>();
  for (const e of events)
    if (e.instance !== null) lastSeen.set(e.instance, Math.max(lastSeen.get(e.instance) ?? -Infinity, e.at));
  const afterBoot = changes.filter((c) => {
    // A known boot decides: instances started together by one fleet can upgrade in the same second.
    const boot = bootAt.get(c.instance);
    if (boot !== undefined) return c.at >= boot;
    if ((instantCount.get(`${changeKey(c.change)}\0${c.at}`)?.size ?? 0) > 1) return false;
    // No record of the boot: only changes close before the failure (or the instance's last record) can be from its life.
    const end = failAt.get(c.instance)?.at ?? lastSeen.get(c.instance) ?? c.at;
    return c.at >= end - UNKNOWN_BOOT_WINDOW_MS;
  });
  for (const c of afterBoot) {
    const summary = summaries.get(c.instance);
    if (summary !== undefined) summary.packageChangesAfterBoot += 1;
  }

  const failing = instances.filter((id) => failAt.has(id));
  const healthy = instances.filter((id) => !failAt.has(id));
  const causes: Cause[] = [];

  // A unit named after the package (`systemd` re-executed, `systemd-networkd.service`, `nginx.service`).
  const unitOf = (unit: string) =>
    unit.replace(/ \(daemon re-exec\)$/, '').replace(/\.(service|socket)$/, '');
  const restartedOwn = (c: Change) =>
    events.some(
      (e) =>
        e.kind === 'service-restart' &&
        e.instance === c.instance &&
        e.at >= c.at - 5_000 &&
        e.at <= c.at + 300_000 &&
        (unitOf(e.unit) === c.change.package || unitOf(e.unit).startsWith(`${c.change.package}-`)),
    );

  // package-change: one cause per distinct change, scored by how many failing instances it preceded.
  const groups = new Map<string, Change[]>();
  for (const c of afterBoot) groups.set(changeKey(c.change), [...(groups.get(changeKey(c.change)) ?? []), c]);
  for (const group of groups.values()) {
    const first = group[0] as Change;
    const preceded = group.filter((c) => {
      const failure = failAt.get(c.instance);
      return failure !== undefined && c.at <= failure.at;
    });
    const onHealthy = group.filter((c) => !failAt.has(c.instance)).length;
    const share = failing.length === 0 ? 0 : new Set(preceded.map((c) => c.instance)).size / failing.length;
    const gaps = preceded.map((c) => (failAt.get(c.instance)?.at ?? c.at) - c.at);
    const closeness = gaps.length === 0 ? 0 : Math.max(0, 1 - Math.min(...gaps) / 3_600_000);
    let confidence =
      0.15 +
      0.6 * share +
      0.15 * closeness +
      (first.by === 'unattended-upgrade' || first.by === 'cloud-init' ? 0.05 : 0) +
      // Of the packages one transaction changed, the one that restarted its own services comes first.
      (preceded.some(restartedOwn) ? 0.03 : 0);
    if (onHealthy > 0) confidence *= 0.5;
    if (failing.length === 0) confidence = 0.1;
    const by = group.find((c) => c.by !== 'unknown')?.by ?? 'unknown';
    const where = [...new Set(group.map((c) => c.instance))].sort();
    const failedAfter = preceded
      .map((c) => failAt.get(c.instance)?.detail)
      .filter((d): d is string => d !== undefined);
    causes.push({
      kind: 'package-change',
      summary: `${describeChange(first.change)} by ${by} after boot on ${where.length} instance${where.length === 1 ? '' : 's'}${
        preceded.length > 0
          ? `; then ${failedAfter[0] ?? 'a failure'}${preceded.length > 1 ? ` (${new Set(preceded.map((c) => c.instance)).size} instances)` : ''}`
          : ''
      }.`,
      confidence: round(confidence),
      instances: where,
      at: iso(Math.min(...group.map((c) => c.at))),
      evidence: [
        ...group.flatMap((c) => c.refs),
        ...preceded.map((c) => failAt.get(c.instance)?.ref).filter((r): r is EventRef => r !== undefined),
      ].slice(0, 20),
      actions: actionsFor(first.change, by),
      package: first.change.package,
      from: first.change.from,
      to: first.change.to,
      by,
    });
  }

  // service-restart: units stopped or restarted while packages changed.
  const restarts = events.filter(
    (e): e is Extract<DiagEvent, { kind: 'service-restart' }> => e.kind === 'service-restart',
  );
  const restartGroups = new Map<string, typeof restarts>();
  for (const r of restarts) {
    if (PACKAGE_MACHINERY.test(r.unit)) continue;
    const near = afterBoot.some(
      (c) => c.instance === r.instance && r.at >= c.at - 5_000 && r.at <= c.at + 300_000,
    );
    if (near) restartGroups.set(r.unit, [...(restartGroups.get(r.unit) ?? []), r]);
  }
  for (const [unit, group] of restartGroups) {
    const where = [...new Set(group.map((r) => r.instance ?? 'unknown'))].sort();
    const share = failing.length === 0 ? 0 : where.filter((i) => failAt.has(i)).length / failing.length;
    causes.push({
      kind: 'service-restart',
      summary: `${unit} was stopped or restarted while packages changed on ${where.length} instance${where.length === 1 ? '' : 's'}.`,
      confidence: round(0.1 + 0.4 * share),
      instances: where,
      at: iso(Math.min(...group.map((r) => r.at))),
      evidence: group.map((r) => r.ref).slice(0, 20),
      actions: [
        'Check whether the restart dropped state the application needs (routes, mounts, sockets); keep package changes out of running instances.',
      ],
      unit,
    });
  }

  const simple = (
    kind: 'reboot' | 'dpkg-lock',
    base: number,
    text: (n: number) => string,
    actions: string[],
  ) => {
    const found = events.filter(
      (e) => e.kind === kind && e.instance !== null && (bootAt.get(e.instance) ?? -Infinity) <= e.at,
    );
    if (found.length === 0) return;
    const where = [...new Set(found.map((e) => e.instance as string))].sort();
    const share = failing.length === 0 ? 0 : where.filter((i) => failAt.has(i)).length / failing.length;
    causes.push({
      kind,
      summary: text(where.length),
      confidence: round(base + 0.2 * share),
      instances: where,
      at: iso(Math.min(...found.map((e) => e.at))),
      evidence: found.map((e) => e.ref).slice(0, 20),
      actions,
    });
  };
  simple(
    'reboot',
    0.15,
    (n) => `Instances rebooted after boot-time updates (${n} instance${n === 1 ? '' : 's'}).`,
    ['Turn off automatic reboots (goldgate audit: auto-reboot) and roll out kernel updates as new images.'],
  );
  simple(
    'dpkg-lock',
    0.15,
    (n) =>
      `The dpkg lock was contended at boot (${n} instance${n === 1 ? '' : 's'}): apt-daily against cloud-init or a boot script.`,
    ['Mask apt-daily timers in the image and install packages at bake time, not at boot.'],
  );

  // external-dns: names outside the allowlist, with failed answers.
  const externalDomains: ExternalDomain[] = [];
  for (const [name, entry] of dns.byName) {
    if (domainAllowed(name, options.allowDomains)) continue;
    externalDomains.push({
      name,
      instances: [...entry.instances.keys()].sort(),
      queries: [...entry.instances.values()].reduce((a, b) => a + b, 0),
      queriesByInstance: Object.fromEntries(
        [...entry.instances.entries()].sort(([a], [b]) => a.localeCompare(b)),
      ),
      rcodes: Object.fromEntries(Object.entries(entry.rcodes).sort()),
    });
  }
  externalDomains.sort((a, b) => b.queries - a.queries || a.name.localeCompare(b.name));
  const failedLookups = externalDomains.filter(
    (d) => (d.rcodes.NXDOMAIN ?? 0) + (d.rcodes.SERVFAIL ?? 0) > 0,
  );
  if (externalDomains.length > 0) {
    const onFailing = externalDomains.filter((d) => d.instances.some((i) => failAt.has(i)));
    causes.push({
      kind: 'external-dns',
      summary: `${externalDomains.length} name${externalDomains.length === 1 ? '' : 's'} outside the allowlist looked up (${externalDomains
        .slice(0, 3)
        .map((d) => d.name)
        .join(
          ', ',
        )}${externalDomains.length > 3 ? ', …' : ''})${failedLookups.length > 0 ? `; ${failedLookups.length} with NXDOMAIN or SERVFAIL answers` : ''}.`,
      confidence: round(
        0.1 + (failedLookups.length > 0 ? 0.2 : 0) + (onFailing.length > 0 && failing.length > 0 ? 0.1 : 0),
      ),
      instances: [...new Set(externalDomains.flatMap((d) => d.instances))].sort(),
      at: iso(
        Math.min(
          ...externalDomains.map((d) => dns.byName.get(d.name)?.first.at ?? Infinity).filter(Number.isFinite),
        ),
      ),
      evidence: externalDomains
        .slice(0, 10)
        .map((d) => (dns.byName.get(d.name) as { first: DnsQuery }).first.ref),
      actions: [
        'Serve what instances need at boot from inside the VPC (mirrors, VPC endpoints), or allow the names with --allow-domain if they are expected.',
      ],
    });
  }

  // instances-drifted: the image did not change, the instances did.
  const topPackage = causes
    .filter((c) => c.kind === 'package-change')
    .sort((a, b) => b.confidence - a.confidence)[0];
  const wasHealthy = failing.filter((id) =>
    byInstance(id).some((e) => e.kind === 'health' && e.ok && e.at < (failAt.get(id)?.at ?? Infinity)),
  );
  if (topPackage !== undefined && failing.length > 0) {
    causes.push({
      kind: 'instances-drifted',
      summary: `The image did not change; the instances did: ${failing.length} failing instance${failing.length === 1 ? '' : 's'} changed packages after boot${
        wasHealthy.length > 0 ? `, ${wasHealthy.length} of them after passing health checks` : ''
      }${healthy.length > 0 ? `; ${healthy.length} instance${healthy.length === 1 ? '' : 's'} without the change stayed healthy` : ''}.`,
      confidence: round(Math.max(0.1, topPackage.confidence - 0.05)),
      instances: failing,
      at: topPackage.at,
      evidence: wasHealthy
        .map((id) => byInstance(id).find((e) => e.kind === 'health' && e.ok)?.ref)
        .filter((r): r is EventRef => r !== undefined)
        .slice(0, 10),
      actions: [
        'Make the image immutable: goldgate audit finds every source of change at boot; bake with updates applied and automatic updates disabled.',
      ],
    });
  }

  causes.sort(
    (a, b) => b.confidence - a.confidence || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind),
  );
  const timeline = [...events].sort(
    (a, b) => a.at - b.at || (a.instance ?? '').localeCompare(b.instance ?? ''),
  );
  return { causes, externalDomains, instances: [...summaries.values()], timeline };
}

/** Units that run the package changes themselves: their stops are the change, not its effect. */
const PACKAGE_MACHINERY =
  /^(apt-daily(-upgrade)?|unattended-upgrades|dpkg-db-backup|man-db|cloud-(init|config|final)(-local)?|packagekit|dnf-automatic.*)\.(service|timer)$/;

const KIND_ORDER: CauseKind[] = [
  'package-change',
  'instances-drifted',
  'service-restart',
  'reboot',
  'dpkg-lock',
  'external-dns',
];

function round(n: number): number {
  return Math.round(Math.min(0.99, Math.max(0, n)) * 100) / 100;
}
