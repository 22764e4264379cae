import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { buildManifest } from '../manifest/manifest.js';
import type { Manifest, ManifestProblem } from '../manifest/manifest.js';
import { openRootFs } from '../rootfs/index.js';
import type { RootFs } from '../rootfs/types.js';
import { runRules } from './engine.js';
import type { AuditSummary } from './engine.js';
import { RULES } from './rules/api.js';
import type { Finding, Rule } from './types.js';

/** What was audited, as it appears in every report. */
export interface ImageRef {
  source: string;
  os: string | null;
  /** The manifest's content digest: the same image gives the same digest however it was read. */
  digest: string;
  packages: number;
  units: number;
}

/** The document `goldgate audit --format json` prints (schema: docs/audit-json.md). */
export interface AuditReport {
  image: ImageRef;
  findings: Finding[];
  summary: AuditSummary;
  /** Files the audit could not read or understand; the rest was still audited. */
  problems: ManifestProblem[];
}

export interface AuditRunOptions {
  now?: Date;
  rules?: readonly Rule[];
  sink?: EventSink;
}

/** Audits an opened root filesystem. */
export function auditRootFs(
  fs: RootFs,
  source: string,
  options: AuditRunOptions = {},
): { report: AuditReport; manifest: Manifest } {
  const sink = options.sink ?? silent;
  let started = Date.now();
  const manifest = buildManifest(fs);
  sink.emit({
    type: 'progress',
    step: 'manifest',
    message: `${manifest.packages.length} packages, ${manifest.systemd.units.length} units`,
    done: true,
    elapsedMs: Date.now() - started,
  });
  started = Date.now();
  const rules = options.rules ?? [...RULES.values()];
  const { findings, summary } = runRules(manifest, fs, rules, { now: options.now, sink });
  sink.emit({
    type: 'progress',
    step: 'rules',
    message: `${rules.length} rules, ${findings.length} findings`,
    done: true,
    elapsedMs: Date.now() - started,
  });
  const report: AuditReport = {
    image: {
      source,
      os: manifest.os?.prettyName ?? null,
      digest: manifest.digest,
      packages: manifest.packages.length,
      units: manifest.systemd.units.length,
    },
    findings,
    summary,
    problems: manifest.problems,
  };
  return { report, manifest };
}

/** Opens a directory or tarball, audits it and closes it. */
export async function auditSource(source: string, options: AuditRunOptions = {}): Promise<AuditReport> {
  const sink = options.sink ?? silent;
  const started = Date.now();
  sink.emit({ type: 'progress', step: 'open', message: source });
  const fs = await openRootFs(source);
  sink.emit({
    type: 'progress',
    step: 'open',
    message: fs.label,
    done: true,
    elapsedMs: Date.now() - started,
  });
  try {
    return auditRootFs(fs, source, options).report;
  } finally {
    await fs.close();
  }
}
