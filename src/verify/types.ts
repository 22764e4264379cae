/**
 * The immutability proof's result: the document `goldgate verify --json` prints and stores
 * with the image (schema: docs/verify-json.md).
 */

/**
 * `immutable`: no reason. `mutable`: it changes itself (whatever else). `broken`: a check, a unit
 * or cloud-init failed, but nothing changed. `reaches-outside`: it only looked up names outside
 * the allowlist: nothing changed, nothing broke.
 */
export type Verdict = 'immutable' | 'mutable' | 'broken' | 'reaches-outside';

/**
 * What a reason says about the image: it `changes-itself` (package, configuration or binary
 * drift), it is `broken` (a failed health check, unit or cloud-init boot), or it
 * `reaches-outside` (a lookup outside the allowlist).
 */
export type ReasonClass = 'changes-itself' | 'broken' | 'reaches-outside';

/** Where a changed path belongs: config and binary drift fail the proof, data and noise do not. */
export type FileClass = 'config' | 'binary' | 'data';

/** How a path differs from the image: created, changed (content, link target or type), metadata only, or deleted. */
export type FileChangeKind = 'added' | 'modified' | 'metadata' | 'removed';

export type PackageAction = 'installed' | 'upgraded' | 'downgraded' | 'removed';

/** One package whose dpkg status differs between the image and an instance. */
export interface PackageDrift {
  name: string;
  /** Architecture as dpkg records it (`amd64`, `all`); null when dpkg names none. */
  arch: string | null;
  /** The version in the image; null when the image did not have it installed. */
  from: string | null;
  /** The version on the instance; null when it was removed. */
  to: string | null;
  action: PackageAction;
}

/** One path whose instance view differs from the image (read from the instance's upper layer). */
export interface FileDrift {
  /** Absolute path inside the instance. */
  path: string;
  class: FileClass;
  change: FileChangeKind;
  /** The package that owns the path, from the instance's dpkg file lists (or the image's for a removed path). */
  package: string | null;
}

/** A changed path that is expected at runtime (machine-id, journal, logs, caches, stamps, locks). */
export interface NoiseDrift {
  path: string;
  change: FileChangeKind;
  /** The id of the noise rule that matched (docs/verify.md lists them). */
  rule: string;
}

/** What one instance's upper layer holds, classified. */
export interface InstanceDrift {
  packages: PackageDrift[];
  files: FileDrift[];
  noise: NoiseDrift[];
}

/** The service of a timer, started once by the fast-forward. */
export interface TimerRun {
  /** The timer unit, or for a cron job `cron <crontab>:<line>`. */
  timer: string;
  /** The timer's service, or the cron job's command. */
  service: string;
  /**
   * `fast-forward`: verify started the service; `schedule`: systemd started it on its own during
   * the soak (an aged image's catch-up); `not-run`: it did not run during the soak.
   */
  triggered: 'fast-forward' | 'schedule' | 'not-run';
  /** ISO 8601; null when the service never started. */
  startedAt: string | null;
  finishedAt: string | null;
  /** systemd's Result= of the service (`success`, `exit-code`, `timeout`, …). */
  result: string;
  /** The main process's exit status, when it had one. */
  exitStatus: number | null;
  /** When systemd would next start it on its own (after the run), ISO 8601. */
  nextAt: string | null;
}

export interface FailedUnit {
  unit: string;
  /** systemd's Result= and, for services, the exit status (`exit-code, status 1`). */
  detail: string;
}

export interface InstanceResult {
  id: string;
  address: string | null;
  bootMs: number | null;
  /** systemd's own state after boot: `running` or `degraded`. */
  bootState: string;
  bootedAt: string;
  /** cloud-init's `status` after boot, when the image has cloud-init. */
  cloudInit: { status: string; detail: string } | null;
  timers: TimerRun[];
  failedUnits: FailedUnit[];
  drift: InstanceDrift;
}

/** An aggregated drift entry: the same change, and which instances show it. */
export type Across<T> = T & { instances: string[] };

export interface DnsName {
  name: string;
  /** Record types asked for (A, AAAA, …). */
  types: string[];
  queries: number;
  /** Response codes with their counts (NOERROR, NXDOMAIN, REFUSED, …). */
  rcodes: Record<string, number>;
  /** True when at least one query got an answer (NOERROR with records). */
  answered: boolean;
  /** True when the name matches the spec's `dnsAllow` (or `--allow-domain`). */
  allowed: boolean;
  instances: string[];
  firstAt: string;
}

export type HealthPhase = 'before' | 'after';

export interface HealthRecord {
  instance: string;
  phase: HealthPhase;
  name: string;
  kind: 'http' | 'command' | 'unit';
  ok: boolean;
  detail: string;
  at: string;
  durationMs: number;
}

export type TimelineKind =
  'boot' | 'cloud-init' | 'timer' | 'package' | 'health' | 'dns' | 'unit-failed' | 'soak';

export interface TimelineEvent {
  at: string;
  /** When the event lasted (a timer's service run), its end. */
  end?: string;
  instance: string;
  kind: TimelineKind;
  summary: string;
  /** For health and timer runs: whether it went well. */
  ok?: boolean;
}

/** What preceded a failed health check, read from the instance's own logs. */
export interface HealthCause {
  instance: string;
  check: string;
  failedAt: string;
  detail: string;
  /** The change most likely behind it; null when nothing in the logs preceded it. */
  cause: {
    summary: string;
    /** The timer's service (or cloud-init) during whose run it happened. */
    service: string | null;
    /** The tool that made the change (unattended-upgrade, apt-get, cloud-init, dpkg). */
    by: string | null;
    package: string | null;
    from: string | null;
    to: string | null;
    at: string;
  } | null;
  /** One sentence: "apt-daily-upgrade.service ran unattended-upgrade at …, which upgraded …; health … failed at …: …". */
  text: string;
}

export type ReasonKind = 'package' | 'config' | 'binary' | 'dns' | 'failed-unit' | 'health' | 'boot';

export interface Reason {
  kind: ReasonKind;
  /** What the reason says about the image; follows from `kind`. */
  class: ReasonClass;
  /** One line a person reads. */
  summary: string;
  instances: string[];
  /** package: the change. */
  package?: string;
  from?: string | null;
  to?: string | null;
  action?: PackageAction;
  /** config / binary: the first path and how it changed, and every path of the group. */
  path?: string;
  change?: FileChangeKind;
  paths?: string[];
  /** dns: the name looked up and its response codes. */
  name?: string;
  rcodes?: Record<string, number>;
  /** failed-unit: the unit. */
  unit?: string;
  /** health: the check, the phase it failed in, and what it saw. */
  check?: string;
  phase?: HealthPhase;
  detail?: string;
  /** health: the cause linked from the logs (the same text as in `causes`). */
  cause?: string;
}

export interface PhaseTiming {
  phase: 'launch' | 'health-before' | 'fast-forward' | 'soak' | 'health-after' | 'collect' | 'terminate';
  ms: number;
}

export interface VerifyImage {
  /** The stored image's id, or null for a root filesystem given by path. */
  id: string | null;
  name: string | null;
  digest: string | null;
  rootfs: string;
  /** The spec it was baked from, when known. */
  spec: string | null;
}

export interface VerifyOptionsUsed {
  instances: number;
  /** The user-data file given with --user-data. */
  userData: string | null;
  fastForward: boolean;
  /** --image-age, in days. */
  imageAgeDays: number | null;
  soakSeconds: number | null;
  dnsAllow: string[];
  /** The stamps --image-age wrote, aged, into each instance before it booted. */
  agedStamps: string[];
}

export interface VerifyReport {
  schemaVersion: 2;
  verdict: Verdict;
  /** The distinct classes of the reasons, in the order changes-itself, broken, reaches-outside; empty when immutable. */
  classes: ReasonClass[];
  image: VerifyImage;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  options: VerifyOptionsUsed;
  instances: InstanceResult[];
  reasons: Reason[];
  drift: {
    packages: Array<Across<PackageDrift>>;
    files: Array<Across<FileDrift>>;
    noise: Array<Across<NoiseDrift>>;
  };
  dns: DnsName[];
  health: HealthRecord[];
  causes: HealthCause[];
  timeline: TimelineEvent[];
  phases: PhaseTiming[];
  /** Where the report was stored with the image; null when the image is not a stored one. */
  storedAt: string | null;
}

/**
 * A report as schemaVersion 1 stored it (before the classes): `mutable` for any reason, and
 * reasons without `class`. Stored proofs of either version are read as `StoredVerifyReport`.
 */
export interface VerifyReportV1 extends Omit<
  VerifyReport,
  'schemaVersion' | 'verdict' | 'classes' | 'reasons'
> {
  schemaVersion: 1;
  verdict: 'immutable' | 'mutable';
  reasons: Array<Omit<Reason, 'class'>>;
}

export type StoredVerifyReport = VerifyReport | VerifyReportV1;
