import { copyFileSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ACTION_VERB } from '../diagnose/correlate.js';
import type { Cause } from '../diagnose/correlate.js';
import { compareDebianVersions } from '../debian/version.js';
import { diagnose } from '../diagnose/report.js';
import type { DiagnoseReport } from '../diagnose/report.js';
import { HEALTH_LOG } from '../lab/health.js';
import { execInInstance } from '../lab/instance.js';
import { DNS_LOG } from '../lab/net/names.js';
import { instanceDir } from '../lab/state.js';
import { openDirRootFs } from '../rootfs/dir.js';
import type { HealthCause, HealthRecord, TimelineEvent, TimerRun } from './types.js';

// The instance's own logs, gathered into an evidence bundle in the layout `goldgate diagnose`
// reads, and diagnosed: verify explains a failed health check with the same parsers and
// correlation as diagnose does for a real group.

/** Logs the instance wrote, read from its upper layer: only what changed since the image was baked. */
const LOGS = [
  'var/log/apt/history.log',
  'var/log/apt/term.log',
  'var/log/dpkg.log',
  'var/log/unattended-upgrades',
  'var/log/cloud-init.log',
  'var/log/cloud-init-output.log',
];
const MAX_LOG_BYTES = 64 * 1024 * 1024;

/** Copies regular files only, never a link: for goldgate's own files of an instance. */
function copyTree(from: string, to: string, depth = 0): void {
  const stats = lstatSync(from, { throwIfNoEntry: false });
  if (stats === undefined || depth > 4) return;
  if (stats.isFile() && stats.size <= MAX_LOG_BYTES) {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  } else if (stats.isDirectory()) {
    for (const entry of readdirSync(from)) copyTree(join(from, entry), join(to, entry), depth + 1);
  }
}

/**
 * Copies the instance's logs (`LOGS`: regular files, or trees of them) from its upper layer
 * into `out`, read as if chrooted into the layer: the instance wrote it, and a link it left
 * there (in a middle component too) never leads the copy to a file of the host.
 */
export function copyLayerLogs(upper: string, out: string): void {
  const layer = openDirRootFs(upper);
  const copy = (path: string, to: string, depth: number): void => {
    const entry = layer.lstat(path);
    if (entry === undefined || depth > 4) return;
    if (entry.kind === 'file' && entry.size <= MAX_LOG_BYTES) {
      const bytes = layer.readFile(path, { maxBytes: MAX_LOG_BYTES });
      if (bytes === undefined) return;
      mkdirSync(dirname(to), { recursive: true });
      writeFileSync(to, bytes);
    } else if (entry.kind === 'dir') {
      for (const child of layer.readdir(path)) copy(child.path, join(to, child.name), depth + 1);
    }
  };
  for (const rel of LOGS) copy(`/${rel}`, join(out, rel), 0);
}

/**
 * Writes one instance's evidence into `<bundle>/<id>/`: its package, unattended-upgrades and
 * cloud-init logs, `etc/timezone`, the journal of this boot (`journal.json`), the health log
 * and the DNS query log.
 */
export async function gatherEvidence(
  labHome: string,
  id: string,
  paths: { upper: string; merged: string },
  bundle: string,
): Promise<void> {
  const out = join(bundle, id);
  mkdirSync(out, { recursive: true });
  copyLayerLogs(paths.upper, out);
  // The files first, the instance after: of an instance that died, its logs are still gathered.
  for (const file of [HEALTH_LOG, DNS_LOG]) copyTree(join(instanceDir(labHome, id), file), join(out, file));
  const zone = openDirRootFs(paths.merged, { keepRoot: true }).readFile('/etc/timezone', { maxBytes: 4096 });
  if (zone !== undefined) {
    mkdirSync(join(out, 'etc'), { recursive: true });
    writeFileSync(join(out, 'etc/timezone'), zone);
  }
  const journal = await execInInstance(id, ['journalctl', '-b', '-o', 'json', '--no-pager'], {
    home: labHome,
    timeoutMs: 60_000,
  });
  if (journal.code === 0) writeFileSync(join(out, 'journal.json'), journal.stdout);
}

/**
 * Diagnoses the bundle with the allowlist's names expected. Logs in local time (apt, dpkg)
 * are placed with each instance's own `etc/timezone`, gathered into the bundle.
 */
export function diagnoseBundle(bundle: string, allow: readonly string[]): Promise<DiagnoseReport> {
  return diagnose(bundle, { allowDomains: [...allow] });
}

const clock = (iso: string): string => iso.slice(11, 19);
const SLACK_MS = 1_000;

/** The timer service (or cloud-init) that was running when a change was made, if one was. */
function runningAt(at: string, runs: readonly TimerRun[], by: string | undefined): string | null {
  const time = Date.parse(at);
  const run = runs.find((r) => {
    if (r.startedAt === null) return false;
    const end = r.finishedAt === null ? Number.POSITIVE_INFINITY : Date.parse(r.finishedAt);
    return Date.parse(r.startedAt) - SLACK_MS <= time && time <= end + SLACK_MS;
  });
  if (run !== undefined) return run.service;
  return by === 'cloud-init' ? 'cloud-init' : null;
}

function changeText(cause: Cause, action: string | undefined): string {
  if (cause.kind !== 'package-change' || cause.package === undefined)
    return `caused this: ${cause.summary.replace(/\.$/, '')}`;
  const from = cause.from ?? null;
  const to = cause.to ?? null;
  const verb =
    (ACTION_VERB as Record<string, string | undefined>)[action ?? ''] ??
    (from !== null && to !== null
      ? compareDebianVersions(from, to) > 0
        ? 'downgraded'
        : 'upgraded'
      : to !== null
        ? 'installed'
        : 'removed');
  const versions = from !== null && to !== null ? `${from} → ${to}` : (to ?? from ?? '');
  return `${verb} ${cause.package} ${versions}`.trimEnd();
}

/** This instance's own record of a package change (the cause's time is the first across instances). */
function ownChange(
  report: DiagnoseReport,
  instance: string,
  pkg: string,
  since: string,
): { at: string; action: string } | undefined {
  // A log copied up into the upper layer holds the image's own history too: only from the cause on.
  const from = Date.parse(since) - SLACK_MS;
  for (const entry of report.timeline) {
    if (entry.kind !== 'package' || entry.instance !== instance || Date.parse(entry.at) < from) continue;
    const match = /^(\w+) (\S+) /.exec(entry.summary);
    if (match?.[2] === pkg) return { at: entry.at, action: match[1] ?? '' };
  }
  return undefined;
}

/**
 * Links each failed health check to what preceded it on its instance: the highest-ranked
 * cause diagnose found for that instance at or before the failure, and the timer service
 * during whose run it happened.
 */
export function linkCauses(
  failures: readonly HealthRecord[],
  report: DiagnoseReport,
  runsByInstance: ReadonlyMap<string, readonly TimerRun[]>,
): HealthCause[] {
  return failures.map((failure) => {
    const failedAt = Date.parse(failure.at);
    const found = report.causes.find(
      (c) =>
        c.instances.includes(failure.instance) &&
        c.kind !== 'external-dns' &&
        (c.at === null || Date.parse(c.at) <= failedAt + SLACK_MS),
    );
    const health = `health \`${failure.name}\` failed at ${clock(failure.at)}: ${failure.detail}`;
    if (found === undefined || found.at === null)
      return {
        instance: failure.instance,
        check: failure.name,
        failedAt: failure.at,
        detail: failure.detail,
        cause: null,
        text: `${health}; nothing in the instance's logs changed before it`,
      };
    const own =
      found.package === undefined ? undefined : ownChange(report, failure.instance, found.package, found.at);
    const at = own?.at ?? found.at;
    const service = runningAt(at, runsByInstance.get(failure.instance) ?? [], found.by);
    const by = found.by ?? null;
    const what = changeText(found, own?.action);
    const lead =
      service !== null && by !== null
        ? `${service} ran ${by} at ${clock(at)}, which ${what}`
        : `${by ?? 'something'} ${what} at ${clock(at)}`;
    return {
      instance: failure.instance,
      check: failure.name,
      failedAt: failure.at,
      detail: failure.detail,
      cause: {
        summary: found.summary,
        service,
        by,
        package: found.package ?? null,
        from: found.from ?? null,
        to: found.to ?? null,
        at,
      },
      text: `${lead}; ${health}`,
    };
  });
}

/** Package changes and failed units from the diagnosed logs, for the timeline. */
export function logTimeline(report: DiagnoseReport): TimelineEvent[] {
  return report.timeline
    .filter((e) => e.instance !== null && (e.kind === 'package' || e.kind === 'unit-failed'))
    .map((e) => ({
      at: e.at,
      instance: e.instance ?? '',
      kind: e.kind === 'package' ? ('package' as const) : ('unit-failed' as const),
      summary: e.summary,
    }));
}
