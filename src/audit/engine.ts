import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import type { Manifest } from '../manifest/manifest.js';
import type { RootFs } from '../rootfs/types.js';
import { SEVERITIES, severityRank } from './types.js';
import type { AuditContext, Finding, Rule, Severity } from './types.js';

export interface AuditOptions {
  /** The audit's clock (timer stamp ages). Default: now. */
  now?: Date;
  /** The rules to run. Default: every registered rule. */
  rules?: readonly Rule[];
  sink?: EventSink;
}

export interface AuditSummary {
  total: number;
  bySeverity: Record<Severity, number>;
  rulesRun: number;
  rulesWithFindings: string[];
}

export interface AuditResult {
  findings: Finding[];
  summary: AuditSummary;
}

/** Orders findings worst first, then by rule and evidence, so output is stable. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    a.rule.localeCompare(b.rule) ||
    (a.evidence[0]?.path ?? '').localeCompare(b.evidence[0]?.path ?? '') ||
    (a.evidence[0]?.line ?? 0) - (b.evidence[0]?.line ?? 0)
  );
}

export function summarize(findings: readonly Finding[], rulesRun: number): AuditSummary {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const finding of findings) bySeverity[finding.severity] += 1;
  return {
    total: findings.length,
    bySeverity,
    rulesRun,
    rulesWithFindings: [...new Set(findings.map((f) => f.rule))].sort(),
  };
}

/** Runs rules over an image's manifest and root filesystem. A rule that throws is a bug: it propagates. */
export function runRules(
  manifest: Manifest,
  fs: RootFs,
  rules: readonly Rule[],
  options: AuditOptions = {},
): AuditResult {
  const sink = options.sink ?? silent;
  const memo = new Map<string, unknown>();
  const context: AuditContext = {
    manifest,
    fs,
    now: options.now ?? new Date(),
    memo<T>(key: string, compute: () => T): T {
      if (!memo.has(key)) memo.set(key, compute());
      return memo.get(key) as T;
    },
  };
  const findings: Finding[] = [];
  for (const rule of rules) {
    for (const found of rule.check(context)) {
      const finding: Finding = {
        rule: rule.id,
        severity: found.severity ?? rule.severity,
        title: rule.title,
        message: found.message,
        evidence: found.evidence,
        remediation: found.remediation,
      };
      findings.push(finding);
      sink.emit({ type: 'finding', rule: rule.id, severity: finding.severity, message: finding.message });
    }
  }
  findings.sort(compareFindings);
  return { findings, summary: summarize(findings, rules.length) };
}

/** Whether any finding is at or above the threshold (`none` never fails). */
export function failsAt(findings: readonly Finding[], threshold: Severity | 'none'): boolean {
  if (threshold === 'none') return false;
  return findings.some((f) => severityRank(f.severity) >= severityRank(threshold));
}
