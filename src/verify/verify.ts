import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { instanceDnsLog } from '../lab/dns-log.js';
import { runHealthChecks } from '../lab/health.js';
import { execInInstance, launchInstance, terminateInstance } from '../lab/instance.js';
import type { InstanceInfo } from '../lab/instance.js';
import type { ResolverLogRecord } from '../lab/net/dns.js';
import type { HealthCheck } from '../spec/schema.js';
import { openDirRootFs } from '../rootfs/dir.js';
import { ageInDays, ageStamps } from './age.js';
import { normalName, summarizeDns } from './dns.js';
import { collectDrift } from './drift.js';
import { diagnoseBundle, gatherEvidence, linkCauses, logTimeline } from './evidence.js';
import { storeReport } from './store.js';
import { advanceTime } from './fast-forward.js';
import { failedUnits, scheduledTimers, serviceRuns, settle } from './systemd.js';
import type { ScheduledTimer } from './systemd.js';
import type {
  HealthPhase,
  HealthRecord,
  InstanceResult,
  PhaseTiming,
  TimelineEvent,
  TimerRun,
  VerifyImage,
  VerifyReport,
} from './types.js';
import { classesOf, mergeDrift, reasonsFor, verdictFor } from './verdict.js';

export interface VerifyOptions {
  /** The image's root filesystem (never written: each instance's changes go to its upper layer). */
  rootfs: string;
  image: VerifyImage;
  /** `$GOLDGATE_HOME`: the lab lives in `lab/`, its repositories in `repos/`, stored images in `images/`. */
  home: string;
  /** How many instances to boot at once; default 1. */
  instances?: number;
  /** cloud-init user-data for every instance (a NoCloud seed), with the file it came from. */
  userData?: { path: string; data: Buffer };
  checks: HealthCheck[];
  /** Names instances may look up (`dnsAllow` patterns); every other lookup fails the proof. */
  dnsAllow: string[];
  /** Boot as an image baked this long ago would, and soak instead of fast-forwarding. */
  imageAgeMs?: number;
  /** Watch for this long without fast-forwarding (default 30 s with an image age). */
  soakSeconds?: number;
  /** How long the fast-forwarded services may run; default 10 minutes. */
  fastForwardTimeoutMs?: number;
  /** Leave the instances running afterwards (to look inside); default they are terminated. */
  keep?: boolean;
  /** Write the report and its evidence beside the image when it is a stored one (`image.id`); default true. */
  store?: boolean;
  signal?: AbortSignal;
  events?: EventSink;
}

const MAX_INSTANCES = 20;

/** Waits `ms`, or less when the signal aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      done();
    });
  });
}
const DEFAULT_SOAK_S = 30;

/** `cloud-init status --long`: the status line, and the detail (or errors) below it. */
export function parseCloudInitStatus(text: string): { status: string; detail: string } {
  const lines = text.split('\n');
  const status = /^status:\s*(\S+)/m.exec(text)?.[1] ?? 'unknown';
  const at = lines.findIndex((l) => /^(detail|errors):/.test(l));
  const detail =
    at < 0
      ? ''
      : lines
          .slice(at + 1)
          .map((l) => l.trim())
          .filter((l) => l !== '' && !/^[a-z_]+:\s*$/.test(l))
          .join(' ')
          .slice(0, 400);
  return { status, detail };
}

interface Running {
  info: InstanceInfo;
  cloudInit: InstanceResult['cloudInit'];
  timers: ScheduledTimer[];
  runs: TimerRun[];
  soak: { from: string; to: string } | null;
}

/**
 * The immutability proof: boots `instances` lab instances of the image, runs its health
 * checks, fast-forwards time (starts the service of every scheduled timer once, or soaks an
 * aged image), runs the checks again, and reads what each instance changed: its upper
 * layer, its DNS lookups, its failed units, and its own logs for the cause of a failed
 * check. `immutable` only when nothing but runtime noise changed, every check passed and no
 * name outside the allowlist was looked up; otherwise the verdict says whether it changes
 * itself (`mutable`), is broken, or only reaches outside (`verdictFor`).
 * The instances are terminated afterwards (also when it fails), unless `keep`.
 */
export async function verifyImage(options: VerifyOptions): Promise<VerifyReport> {
  const events = options.events ?? silent;
  const count = options.instances ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_INSTANCES)
    throw new UsageError('VERIFY_BAD_COUNT', `--instances must be between 1 and ${MAX_INSTANCES}`);
  if (options.checks.length === 0)
    throw new UsageError('VERIFY_NO_HEALTH_CHECKS', 'no health checks to run', {
      hint: 'add health checks to the spec, or give --health-http, --health-command or --health-unit',
    });
  const rootfs = resolve(options.rootfs);
  const home = resolve(options.home);
  const labHome = join(home, 'lab');
  const aged = options.imageAgeMs !== undefined;
  const soakSeconds = options.soakSeconds ?? (aged ? DEFAULT_SOAK_S : undefined);
  const fastForward = soakSeconds === undefined;
  const started = Date.now();
  const phases: PhaseTiming[] = [];
  const phase = async <T>(name: PhaseTiming['phase'], message: string, fn: () => Promise<T>): Promise<T> => {
    if (options.signal?.aborted === true)
      throw new UsageError('VERIFY_INTERRUPTED', 'verify was interrupted', { cause: options.signal.reason });
    events.emit({ type: 'progress', step: `verify.${name}`, message });
    const t0 = Date.now();
    const value = await fn();
    const ms = Date.now() - t0;
    phases.push({ phase: name, ms });
    events.emit({ type: 'progress', step: `verify.${name}`, message, done: true, elapsedMs: ms });
    return value;
  };

  let agedStamps: string[] = [];
  const launched: InstanceInfo[] = [];
  const bundle = mkdtempSync(join(tmpdir(), 'goldgate-verify-'));
  try {
    const infos = await phase('launch', `booting ${count} instance${count === 1 ? '' : 's'}`, async () => {
      const results = await Promise.allSettled(
        Array.from({ length: count }, () =>
          launchInstance({
            rootfs,
            image: options.image.id ?? rootfs,
            home: labHome,
            reposDir: join(home, 'repos'),
            ephemeral: options.keep !== true,
            events,
            ...(options.userData === undefined ? {} : { userData: options.userData.data }),
            ...(options.imageAgeMs === undefined
              ? {}
              : {
                  prepareUpper: (upper: string) => {
                    agedStamps = ageStamps(rootfs, upper, options.imageAgeMs ?? 0);
                  },
                }),
          }).then((info) => {
            launched.push(info);
            return info;
          }),
        ),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return launched.slice();
    });
    const running: Running[] = infos.map((info) => ({
      info,
      cloudInit: null,
      timers: [],
      runs: [],
      soak: null,
    }));
    const cloudInit = openDirRootFs(rootfs).exists('/usr/bin/cloud-init');
    const health: HealthRecord[] = [];
    const check = (phaseName: HealthPhase) => async (r: Running) => {
      const results = await runHealthChecks(r.info.id, options.checks, { home: labHome });
      health.push(...results.map((h) => ({ instance: r.info.id, phase: phaseName, ...h })));
    };

    await phase('health-before', 'boot settled: running the health checks', async () => {
      await Promise.all(
        running.map(async (r) => {
          if (cloudInit) {
            const status = await execInInstance(r.info.id, ['cloud-init', 'status', '--wait', '--long'], {
              home: labHome,
              timeoutMs: 15 * 60_000,
            });
            r.cloudInit = parseCloudInitStatus(status.stdout);
          }
          await settle(r.info.id, labHome, 60_000);
          r.timers = await scheduledTimers(r.info.id, labHome);
          await check('before')(r);
        }),
      );
    });

    if (fastForward) {
      await phase(
        'fast-forward',
        'starting the service of every scheduled timer, and every cron job, once',
        async () => {
          const timeoutMs = options.fastForwardTimeoutMs ?? 10 * 60_000;
          await Promise.all(
            running.map(async (r) => {
              r.runs = await advanceTime(r.info.id, labHome, r.info.pid, r.timers, timeoutMs);
            }),
          );
        },
      );
    } else {
      await phase('soak', `watching for ${soakSeconds} s: what catches up by itself`, async () => {
        const from = new Date().toISOString();
        await pause((soakSeconds ?? 0) * 1000, options.signal);
        const to = new Date().toISOString();
        await Promise.all(
          running.map(async (r) => {
            r.soak = { from, to };
            const now = await scheduledTimers(r.info.id, labHome);
            // Nothing was started by verify: a service that ran since boot, systemd started on its own.
            const boot = Date.parse(r.info.startedAt) - 1_000;
            r.runs = (await serviceRuns(r.info.id, labHome, now, 'not-run')).map((run) => ({
              ...run,
              triggered: run.startedAt !== null && Date.parse(run.startedAt) >= boot ? 'schedule' : 'not-run',
            }));
          }),
        );
      });
    }

    await phase('health-after', 'running the health checks again', async () => {
      await Promise.all(running.map(check('after')));
    });

    const results = await phase('collect', 'reading drift, DNS lookups, failed units and logs', async () => {
      const dnsByInstance = new Map<string, ResolverLogRecord[]>();
      const out = await Promise.all(
        running.map(async (r): Promise<InstanceResult> => {
          // The overlay is mounted in the instance's own mount namespace: its init's root is the merged view.
          const merged = `/proc/${r.info.pid}/root`;
          const [drift, failed, dns] = await Promise.all([
            Promise.resolve(collectDrift({ lower: rootfs, upper: r.info.upper, merged })),
            failedUnits(r.info.id, labHome),
            instanceDnsLog(labHome, r.info.id),
            gatherEvidence(labHome, r.info.id, { upper: r.info.upper, merged }, bundle),
          ]);
          dnsByInstance.set(r.info.id, dns);
          return {
            id: r.info.id,
            address: r.info.address,
            bootMs: r.info.bootMs,
            bootState: r.info.state,
            bootedAt: r.info.startedAt,
            cloudInit: r.cloudInit,
            timers: r.runs,
            failedUnits: failed,
            drift,
          };
        }),
      );
      const diagnosis = await diagnoseBundle(bundle, options.dnsAllow);
      return { instances: out, dnsByInstance, diagnosis };
    });

    const runsBy = new Map(running.map((r) => [r.info.id, r.runs]));
    const causes = linkCauses(
      health.filter((h) => !h.ok),
      results.diagnosis,
      runsBy,
    );
    const drift = mergeDrift(results.instances);
    const dns = summarizeDns(results.dnsByInstance, options.dnsAllow);
    const body = { instances: results.instances, drift, dns, health, causes };
    const reasons = reasonsFor(body);
    const timeline = buildTimeline(
      running,
      health,
      results.dnsByInstance,
      options.dnsAllow,
      logTimeline(results.diagnosis),
      dns,
    );

    if (options.keep !== true)
      await phase('terminate', 'terminating the instances', async () => {
        await terminateAll(launched, labHome);
      });

    const finished = Date.now();
    const classes = classesOf({ reasons });
    const report: VerifyReport = {
      schemaVersion: 2,
      verdict: verdictFor(classes),
      classes,
      image: options.image,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - started,
      options: {
        instances: count,
        userData: options.userData?.path ?? null,
        fastForward,
        imageAgeDays: options.imageAgeMs === undefined ? null : ageInDays(options.imageAgeMs),
        soakSeconds: soakSeconds ?? null,
        dnsAllow: options.dnsAllow,
        agedStamps,
      },
      ...body,
      reasons,
      timeline,
      phases,
      storedAt: null,
    };
    if (options.store !== false && options.image.id !== null)
      report.storedAt = storeReport(home, options.image.id, report, bundle);
    return report;
  } finally {
    rmSync(bundle, { recursive: true, force: true });
    // On failure or interruption: nothing of the proof is left running (unless asked to keep it).
    if (options.keep !== true) await terminateAll(launched, labHome).catch(() => undefined);
  }
}

async function terminateAll(instances: readonly InstanceInfo[], labHome: string): Promise<void> {
  await Promise.all(instances.map((i) => terminateInstance(i.id, { home: labHome, graceMs: 5_000 })));
}

function buildTimeline(
  running: readonly Running[],
  health: readonly HealthRecord[],
  dnsByInstance: ReadonlyMap<string, readonly ResolverLogRecord[]>,
  allow: readonly string[],
  fromLogs: readonly TimelineEvent[],
  dns: ReturnType<typeof summarizeDns>,
): TimelineEvent[] {
  const allowed = new Map(dns.map((d) => [d.name, d.allowed]));
  const events: TimelineEvent[] = [];
  for (const r of running) {
    const id = r.info.id;
    const bootAt = Date.parse(r.info.startedAt);
    events.push({
      at: r.info.startedAt,
      end: new Date(bootAt + (r.info.bootMs ?? 0)).toISOString(),
      instance: id,
      kind: 'boot',
      summary: `booted (${r.info.state}) in ${r.info.bootMs ?? '?'} ms`,
      ok: r.info.state === 'running',
    });
    if (r.cloudInit !== null)
      events.push({
        at: new Date(bootAt + (r.info.bootMs ?? 0)).toISOString(),
        instance: id,
        kind: 'cloud-init',
        summary: `cloud-init ${r.cloudInit.status}${r.cloudInit.detail === '' ? '' : `: ${r.cloudInit.detail}`}`,
        ok: r.cloudInit.status === 'done',
      });
    for (const run of r.runs) {
      if (run.startedAt === null) continue;
      events.push({
        at: run.startedAt,
        ...(run.finishedAt === null ? {} : { end: run.finishedAt }),
        instance: id,
        kind: 'timer',
        summary: `${run.service} (${run.timer}, ${run.triggered}): ${run.result}`,
        ok: run.result === 'success',
      });
    }
    if (r.soak !== null)
      events.push({
        at: r.soak.from,
        end: r.soak.to,
        instance: id,
        kind: 'soak',
        summary: 'soak: no fast-forward',
      });
    for (const q of dnsByInstance.get(id) ?? []) {
      const name = normalName(q.query_name);
      events.push({
        at: q.query_timestamp,
        instance: id,
        kind: 'dns',
        summary: `${name} ${q.query_type}: ${q.rcode}`,
        ok: allowed.get(name) ?? allow.length === 0,
      });
    }
    // The upper layer's logs hold the image's own history too (a log is copied up whole): only this boot's.
    for (const e of fromLogs) if (e.instance === id && Date.parse(e.at) >= bootAt - 1_000) events.push(e);
  }
  for (const h of health)
    events.push({
      at: h.at,
      instance: h.instance,
      kind: 'health',
      summary: `health ${h.phase} "${h.name}": ${h.ok ? 'ok' : 'FAILED'} (${h.detail})`,
      ok: h.ok,
    });
  return events.sort((a, b) => a.at.localeCompare(b.at) || a.instance.localeCompare(b.instance));
}
