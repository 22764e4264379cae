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
  VerifyReport,
} from './types.js';

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

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const on = (instances: readonly string[]): string =>
  instances.length === 1 ? `on ${instances[0]}` : `on ${instances.length} instances`;

function packageReason(p: Across<PackageDrift>): Reason {
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
function fileReasons(files: ReadonlyArray<Across<FileDrift>>): Reason[] {
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

function dnsReason(name: DnsName): Reason {
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

function unitReasons(instances: readonly InstanceResult[]): Reason[] {
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

function healthReasons(health: readonly HealthRecord[], causes: readonly HealthCause[]): Reason[] {
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

function bootReasons(instances: readonly InstanceResult[]): Reason[] {
  return instances
    .filter((i) => i.cloudInit !== null && !['done', 'disabled'].includes(i.cloudInit.status))
    .map((i) => ({
      kind: 'boot',
      summary: `cloud-init ended "${i.cloudInit?.status ?? ''}" on ${i.id}${i.cloudInit?.detail ? `: ${i.cloudInit.detail}` : ''}`,
      instances: [i.id],
      detail: i.cloudInit?.detail ?? '',
    }));
}

/**
 * Why an image is not immutable: package, configuration or binary drift, a lookup outside
 * the allowlist, a failed unit, a failed health check (before or after), or a boot that did
 * not finish cleanly. No reason means `immutable`.
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
  ];
}
