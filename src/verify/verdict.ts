import type {
  Across,
  DnsName,
  FailedUnit,
  FileDrift,
  HealthCause,
  HealthRecord,
  InstanceResult,
  NoiseDrift,
  PackageDrift,
  Reason,
  ReasonClass,
  ReasonKind,
  StoredVerifyReport,
  Verdict,
  VerifyReport,
} from './types.js';

/** The classes in the order a report lists them: the worst first. */
export const REASON_CLASSES: readonly ReasonClass[] = ['changes-itself', 'broken', 'reaches-outside'];

/** The class of each kind of reason. */
export const CLASS_OF_KIND: Readonly<Record<ReasonKind, ReasonClass>> = {
  package: 'changes-itself',
  config: 'changes-itself',
  binary: 'changes-itself',
  health: 'broken',
  'failed-unit': 'broken',
  boot: 'broken',
  dns: 'reaches-outside',
};

/** Merges equal entries from several instances into one, listing the instances that show it. */
export function across<T extends object>(
  perInstance: ReadonlyArray<{ id: string; items: readonly T[] }>,
  key: (item: T) => string,
): Array<Across<T>> {
  const merged = new Map<string, Across<T>>();
  for (const { id, items } of perInstance) {
    for (const item of items) {
      const k = key(item);
      const entry = merged.get(k);
      if (entry === undefined) merged.set(k, { ...item, instances: [id] });
      else if (!entry.instances.includes(id)) entry.instances.push(id);
    }
  }
  for (const entry of merged.values()) entry.instances.sort();
  return [...merged.values()];
}

export function mergeDrift(instances: readonly InstanceResult[]): VerifyReport['drift'] {
  const of = <T>(pick: (i: InstanceResult) => readonly T[]) =>
    instances.map((i) => ({ id: i.id, items: pick(i) }));
  return {
    packages: across<PackageDrift>(
      of((i) => i.drift.packages),
      (p) => `${p.name}:${p.arch ?? ''}\0${p.from ?? ''}\0${p.to ?? ''}\0${p.action}`,
    ).sort((a, b) => a.name.localeCompare(b.name)),
    files: across<FileDrift>(
      of((i) => i.drift.files),
      (f) => `${f.path}\0${f.class}\0${f.change}`,
    ).sort((a, b) => a.path.localeCompare(b.path)),
    noise: across<NoiseDrift>(
      of((i) => i.drift.noise),
      (n) => `${n.path}\0${n.change}\0${n.rule}`,
    ).sort((a, b) => a.path.localeCompare(b.path)),
  };
}

type Unclassified = Omit<Reason, 'class'>;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const on = (instances: readonly string[]): string =>
  instances.length === 1 ? `on ${instances[0]}` : `on ${instances.length} instances`;

function packageReason(p: Across<PackageDrift>): Unclassified {
  const what =
    p.action === 'installed'
      ? `${p.name} ${p.to ?? ''} installed`
      : p.action === 'removed'
        ? `${p.name} ${p.from ?? ''} removed`
        : `${p.name} ${p.action} ${p.from ?? '?'} → ${p.to ?? '?'}`;
  return {
    kind: 'package',
    summary: `${what} ${on(p.instances)}`,
    instances: p.instances,
    package: p.name,
    from: p.from,
    to: p.to,
    action: p.action,
  };
}

/** One reason per class and owning package: an upgrade changes many files at once. */
function fileReasons(files: ReadonlyArray<Across<FileDrift>>): Unclassified[] {
  const groups = new Map<string, Array<Across<FileDrift>>>();
  for (const file of files) {
    if (file.class === 'data') continue;
    const key = `${file.class}\0${file.package ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), file]);
  }
  const order = (g: Array<Across<FileDrift>>) => (g[0]?.class === 'config' ? 0 : 1);
  return [...groups.values()]
    .sort((a, b) => order(a) - order(b))
    .map((group) => {
      const first = group[0] as Across<FileDrift>;
      const instances = [...new Set(group.flatMap((f) => f.instances))].sort();
      const where = first.class === 'config' ? 'configuration' : 'binaries and libraries';
      const owner = first.package === null ? 'owned by no package' : `of ${first.package}`;
      const shown = group
        .slice(0, 3)
        .map((f) => `${f.path} (${f.change})`)
        .join(', ');
      return {
        kind: first.class === 'config' ? 'config' : 'binary',
        summary: `${plural(group.length, 'file')} ${owner} changed in ${where} ${on(instances)}: ${shown}${group.length > 3 ? ', …' : ''}`,
        instances,
        path: first.path,
        change: first.change,
        paths: group.map((f) => f.path),
        ...(first.package === null ? {} : { package: first.package }),
      };
    });
}

function dnsReason(name: DnsName): Unclassified {
  const codes = Object.entries(name.rcodes)
    .map(([code, n]) => `${code} ×${n}`)
    .join(', ');
  return {
    kind: 'dns',
    summary: `looked up ${name.name}, which the allowlist does not expect (${codes}) ${on(name.instances)}`,
    instances: name.instances,
    name: name.name,
    rcodes: name.rcodes,
  };
}

function unitReasons(instances: readonly InstanceResult[]): Unclassified[] {
  const units = across<FailedUnit>(
    instances.map((i) => ({ id: i.id, items: i.failedUnits })),
    (u) => u.unit,
  );
  return units.map((u) => ({
    kind: 'failed-unit',
    summary: `${u.unit} failed (${u.detail}) ${on(u.instances)}`,
    instances: u.instances,
    unit: u.unit,
    detail: u.detail,
  }));
}

function healthReasons(health: readonly HealthRecord[], causes: readonly HealthCause[]): Unclassified[] {
  const groups = new Map<string, HealthRecord[]>();
  for (const record of health) {
    if (record.ok) continue;
    const key = `${record.phase}\0${record.name}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as HealthRecord;
    const instances = [...new Set(group.map((r) => r.instance))].sort();
    const cause = causes.find((c) => c.instance === first.instance && c.failedAt === first.at);
    const phase = first.phase === 'before' ? 'after boot' : 'after the fast-forward';
    return {
      kind: 'health',
      summary: `health check "${first.name}" failed ${phase} ${on(instances)}: ${first.detail}`,
      instances,
      check: first.name,
      phase: first.phase,
      detail: first.detail,
      ...(cause === undefined ? {} : { cause: cause.text }),
    };
  });
}

function bootReasons(instances: readonly InstanceResult[]): Unclassified[] {
  return instances
    .filter((i) => i.cloudInit !== null && !['done', 'disabled'].includes(i.cloudInit.status))
    .map((i) => ({
      kind: 'boot',
      summary: `cloud-init ended "${i.cloudInit?.status ?? ''}" on ${i.id}${i.cloudInit?.detail ? `: ${i.cloudInit.detail}` : ''}`,
      instances: [i.id],
      detail: i.cloudInit?.detail ?? '',
    }));
}

/** A reason with its class, which follows from its kind (placed after `kind` in the JSON). */
function classify({ kind, ...rest }: Unclassified): Reason {
  return { kind, class: CLASS_OF_KIND[kind], ...rest };
}

/**
 * Why an image is not immutable: package, configuration or binary drift (it changes itself),
 * a failed health check (before or after), a failed unit or a boot that did not finish
 * cleanly (it is broken), a lookup outside the allowlist (it reaches outside). No reason
 * means `immutable`.
 */
export function reasonsFor(
  report: Pick<VerifyReport, 'instances' | 'drift' | 'dns' | 'health' | 'causes'>,
): Reason[] {
  return [
    ...healthReasons(report.health, report.causes),
    ...report.drift.packages.map(packageReason),
    ...fileReasons(report.drift.files),
    ...report.dns.filter((n) => !n.allowed).map(dnsReason),
    ...unitReasons(report.instances),
    ...bootReasons(report.instances),
  ].map(classify);
}

/** The distinct classes of some reasons, in the order of `REASON_CLASSES`. */
function distinctClasses(classes: Iterable<ReasonClass>): ReasonClass[] {
  const seen = new Set(classes);
  return REASON_CLASSES.filter((c) => seen.has(c));
}

/**
 * The classes of a stored report of any schema version, from its reasons: a reason's own
 * `class`, or for a schemaVersion 1 report (whose reasons have none) the class of its `kind`.
 * A kind this version does not know, without a class, counts as `changes-itself`: a gate
 * reading it fails closed.
 */
export function classesOf(report: Pick<StoredVerifyReport, 'reasons'>): ReasonClass[] {
  const reasons = report.reasons as ReadonlyArray<{ kind: string; class?: string }>;
  return distinctClasses(
    reasons.map((r) => {
      if (r.class !== undefined && (REASON_CLASSES as readonly string[]).includes(r.class))
        return r.class as ReasonClass;
      return (CLASS_OF_KIND as Partial<Record<string, ReasonClass>>)[r.kind] ?? 'changes-itself';
    }),
  );
}

/**
 * The verdict of a set of classes: `mutable` when it changes itself (whatever else),
 * `broken` when it is broken but changes nothing, `reaches-outside` when it only looked up
 * names outside the allowlist, `immutable` with no class at all.
 */
export function verdictFor(classes: readonly ReasonClass[]): Verdict {
  if (classes.includes('changes-itself')) return 'mutable';
  if (classes.includes('broken')) return 'broken';
  if (classes.includes('reaches-outside')) return 'reaches-outside';
  return 'immutable';
}

/** Whether a report with these classes passes when the `accepted` classes do not count. */
export function passes(classes: readonly ReasonClass[], accepted: readonly ReasonClass[] = []): boolean {
  return classes.every((c) => accepted.includes(c));
}

const listed = (items: readonly string[], max = 3): string => {
  const shown = items.slice(0, max);
  const rest = items.length - shown.length;
  const all = rest > 0 ? [...shown, `${rest} more`] : shown;
  return all.length <= 1 ? (all[0] ?? '') : `${all.slice(0, -1).join(', ')} and ${all[all.length - 1] ?? ''}`;
};

/**
 * The verdict in one sentence a person reads, starting with the verdict's word: what
 * failed, and what that says about the image ("broken: the app's health fails at boot and
 * the image did not change: what is inside the image breaks the app").
 */
export function explainVerdict(report: Pick<VerifyReport, 'verdict' | 'reasons' | 'options'>): string {
  const { reasons } = report;
  const of = (kind: ReasonKind) => reasons.filter((r) => r.kind === kind);
  const classes = distinctClasses(reasons.map((r) => r.class));
  const names = of('dns').map((r) => r.name ?? '');
  const outside = `looked up ${names.length === 1 ? 'a name' : 'names'} outside the allowlist (${listed(names)})`;
  switch (report.verdict) {
    case 'immutable':
      return 'immutable: nothing but runtime noise changed, every check passed and every name looked up was allowed';
    case 'mutable': {
      const what = [
        of('package').length > 0 ? 'packages' : '',
        of('config').length > 0 ? 'configuration' : '',
        of('binary').length > 0 ? 'binaries' : '',
      ].filter((w) => w !== '');
      const also = [
        classes.includes('broken') ? 'broken' : '',
        classes.includes('reaches-outside') ? 'reaches outside' : '',
      ].filter((w) => w !== '');
      return `mutable: it changes itself after boot${what.length > 0 ? ` (${listed(what)})` : ''}${also.length > 0 ? `; also ${also.join(' and ')}` : ''}`;
    }
    case 'broken': {
      const health = of('health');
      const atBoot = health.some((r) => r.phase === 'before');
      const later = report.options.fastForward ? 'after the fast-forward' : 'after the soak';
      const units = of('failed-unit').map((r) => r.unit ?? '');
      const what = [
        atBoot ? "the app's health fails at boot" : '',
        !atBoot && health.length > 0 ? `the app's health fails ${later}` : '',
        units.length > 0 ? `${listed(units)} ${units.length === 1 ? 'fails' : 'fail'}` : '',
        of('boot').length > 0 ? 'cloud-init does not finish cleanly' : '',
      ].filter((w) => w !== '');
      const why = atBoot
        ? 'what is inside the image breaks the app'
        : health.length > 0
          ? 'what runs on its own breaks the app without changing packages, configuration or binaries'
          : 'what is inside the image is broken';
      const also = classes.includes('reaches-outside') ? `; it also ${outside}` : '';
      const failed = what.length === 1 ? `${what[0] ?? ''} and` : `${listed(what, 4)};`;
      return `broken: ${failed} the image did not change: ${why}${also}`;
    }
    case 'reaches-outside':
      return `reaches outside: it ${outside} but changed nothing and broke nothing (allow ${names.length === 1 ? 'it' : 'them'} with dnsAllow or --allow-domain)`;
  }
}
