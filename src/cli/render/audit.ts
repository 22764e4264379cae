import type { AuditReport } from '../../audit/report.js';
import { SEVERITIES } from '../../audit/types.js';
import type { RemediationStep, Severity } from '../../audit/types.js';
import { style } from '../terminal.js';
import { printableDeep } from '../../core/printable.js';

const SEVERITY_COLOR: Record<Severity, (text: string, on: boolean) => string> = {
  critical: style.red,
  high: style.red,
  medium: style.yellow,
  low: style.cyan,
  info: style.dim,
};

/** One remediation step as a person would do it. */
export function describeStep(step: RemediationStep): string {
  switch (step.action) {
    case 'write-file':
      return `write ${step.path}:\n${step.content.replace(/\n$/, '').replace(/^/gm, '          ')}`;
    case 'set-line':
      return `in ${step.path}, set: ${step.line}`;
    case 'remove-line':
      return `in ${step.path}, remove line ${step.line}: ${step.text}`;
    case 'mask-units':
      return `systemctl mask ${step.units.join(' ')}`;
    case 'command':
      return step.argv.join(' ');
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The human report: findings grouped by severity, each with its evidence and fix. */
export function renderAudit(
  unsafe: AuditReport,
  options: { color: boolean; failOn: Severity | 'none' },
): string {
  const { color } = options;
  const report = printableDeep(unsafe);
  const lines: string[] = [];
  const os = report.image.os ?? 'unknown OS';
  lines.push(style.bold(`goldgate audit: ${report.image.source}`, color));
  lines.push(
    style.dim(
      `${os} · ${report.image.packages} packages · ${report.image.units} units · ${report.image.digest.slice(0, 19)}`,
      color,
    ),
  );
  lines.push('');
  if (report.findings.length === 0) {
    lines.push(style.green(`No source of change at boot found (${report.summary.rulesRun} rules).`, color));
    return `${lines.join('\n')}\n`;
  }
  for (const severity of SEVERITIES) {
    const group = report.findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    lines.push(
      SEVERITY_COLOR[severity](style.bold(`${severity.toUpperCase()} (${group.length})`, color), color),
    );
    for (const finding of group) {
      lines.push(`  ${style.bold(finding.rule, color)}  ${finding.title}`);
      lines.push(`    ${finding.message}`);
      for (const evidence of finding.evidence) {
        const where = `${evidence.path}${evidence.line !== undefined ? `:${evidence.line}` : ''}`;
        lines.push(
          `    ${style.dim('at', color)} ${where}${evidence.text !== undefined ? `  ${style.dim(evidence.text, color)}` : ''}`,
        );
      }
      lines.push(`    ${style.green('fix', color)} ${finding.remediation.summary}`);
      for (const step of finding.remediation.steps) lines.push(`        ${describeStep(step)}`);
      lines.push('');
    }
  }
  const counts = SEVERITIES.filter((s) => report.summary.bySeverity[s] > 0).map(
    (s) => `${report.summary.bySeverity[s]} ${s}`,
  );
  lines.push(
    `${plural(report.summary.total, 'finding')} (${counts.join(', ')}) from ${plural(report.summary.rulesRun, 'rule')}; failing at ${options.failOn}.`,
  );
  return `${lines.join('\n')}\n`;
}
