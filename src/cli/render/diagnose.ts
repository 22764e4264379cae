import type { DiagnoseReport } from '../../diagnose/report.js';
import { style } from '../terminal.js';
import { printableDeep } from '../../core/printable.js';

const pct = (n: number) => `${Math.round(n * 100)}%`;

/** The diagnosis for people: probable causes first, then what changed where, then what to do. */
export function renderDiagnose(unsafe: DiagnoseReport, options: { color: boolean }): string {
  const report = printableDeep(unsafe);
  const { color } = options;
  const lines: string[] = [];
  const read = report.files.filter((f) => f.format !== null);
  lines.push(style.bold(`goldgate diagnose: ${report.bundle}`, color));
  lines.push(
    style.dim(
      `${report.instances.length} instance${report.instances.length === 1 ? '' : 's'} · ${read.length} of ${report.files.length} files read · ${report.timeline.length} events${
        report.problemsTotal > 0 ? ` · ${report.problemsTotal} unreadable lines` : ''
      }`,
      color,
    ),
  );
  lines.push('');
  if (report.causes.length === 0) {
    lines.push('No probable cause found: no package change after boot, no failure, no external DNS name.');
  } else {
    lines.push(style.bold('Probable causes', color));
    report.causes.forEach((cause, i) => {
      lines.push(`${i + 1}. [${pct(cause.confidence)}] ${style.bold(cause.kind, color)}  ${cause.summary}`);
      if (cause.at !== null)
        lines.push(`   first at ${cause.at} on ${cause.instances.join(', ') || 'no instance'}`);
      for (const ref of cause.evidence.slice(0, 4))
        lines.push(
          `   ${style.dim('evidence', color)} ${ref.file}:${ref.line}${ref.text !== undefined ? `  ${style.dim(ref.text, color)}` : ''}`,
        );
      if (cause.evidence.length > 4)
        lines.push(`   ${style.dim(`… ${cause.evidence.length - 4} more`, color)}`);
    });
    const top = report.causes[0];
    if (top !== undefined && top.actions.length > 0) {
      lines.push('');
      lines.push(style.bold('What to do now', color));
      for (const action of top.actions) lines.push(`- ${action}`);
    }
  }
  lines.push('');
  lines.push(style.bold('Instances', color));
  for (const instance of report.instances) {
    lines.push(
      `  ${instance.id}  boot ${instance.bootAt ?? '?'}  ${instance.firstFailureAt !== null ? style.red(`failed ${instance.firstFailureAt}: ${instance.failure ?? ''}`, color) : style.green('no failure seen', color)}  ${instance.packageChangesAfterBoot} package change${instance.packageChangesAfterBoot === 1 ? '' : 's'} after boot  ${style.dim(`(clock: ${instance.timezone}, ${instance.timezoneFrom})`, color)}`,
    );
  }
  if (report.externalDomains.length > 0) {
    lines.push('');
    lines.push(style.bold('External DNS names', color));
    for (const domain of report.externalDomains.slice(0, 20)) {
      const rcodes = Object.entries(domain.rcodes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      lines.push(
        `  ${domain.name}  ${domain.queries} quer${domain.queries === 1 ? 'y' : 'ies'} from ${domain.instances.length} instance${domain.instances.length === 1 ? '' : 's'} (${rcodes})`,
      );
    }
    if (report.externalDomains.length > 20)
      lines.push(`  … ${report.externalDomains.length - 20} more (see --json)`);
  }
  const unread = report.files.filter((f) => f.format === null);
  if (unread.length > 0) {
    lines.push('');
    lines.push(
      style.dim(
        `Not read (no known format): ${unread
          .slice(0, 8)
          .map((f) => f.name)
          .join(', ')}${unread.length > 8 ? ', …' : ''}`,
        color,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
