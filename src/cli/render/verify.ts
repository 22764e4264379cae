import type { ReasonClass, Verdict, VerifyReport } from '../../verify/types.js';
import { explainVerdict, passes, REASON_CLASSES } from '../../verify/verdict.js';
import { style } from '../terminal.js';
import { printableDeep } from '../../core/printable.js';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const clock = (iso: string): string => iso.slice(11, 19);
const MAX_ROWS = 15;

function more(total: number, shown: number, what: string): string[] {
  return total > shown ? [`    … ${total - shown} more ${what} (--json lists all)`] : [];
}

const WORD: Record<Verdict, string> = {
  immutable: 'IMMUTABLE',
  mutable: 'MUTABLE',
  broken: 'BROKEN',
  'reaches-outside': 'REACHES OUTSIDE',
};

const HEADING: Record<ReasonClass, string> = {
  'changes-itself': 'It changes itself',
  broken: 'It is broken',
  'reaches-outside': 'It reaches outside',
};

/**
 * The proof as a person reads it in a terminal: verdict and what it means, the reasons by
 * class, causes, then the evidence. `accepted`: the classes `--accept` let pass.
 */
export function renderVerify(
  unsafe: VerifyReport,
  options: { color: boolean; accepted?: readonly ReasonClass[] },
): string {
  const report = printableDeep(unsafe);
  const c = options.color;
  const accepted = options.accepted ?? [];
  const lines: string[] = [];
  const image = report.image.id ?? report.image.rootfs;
  const mode = report.options.fastForward
    ? 'timers fast-forwarded'
    : `image aged ${report.options.imageAgeDays ?? 0} days, soaked ${report.options.soakSeconds ?? 0} s`;
  const word = style.bold(WORD[report.verdict], c);
  const painted =
    report.verdict === 'immutable'
      ? style.green(word, c)
      : report.verdict === 'reaches-outside'
        ? style.yellow(word, c)
        : style.red(word, c);
  lines.push(
    `${painted}  ${image}${report.image.name === null ? '' : ` (${report.image.name})`}`,
    `  ${explainVerdict(report)}`,
    `  ${report.instances.length} instance${report.instances.length === 1 ? '' : 's'}, ${mode}, ${seconds(report.durationMs)}: ${report.phases.map((p) => `${p.phase} ${seconds(p.ms)}`).join(', ')}`,
  );
  if (report.verdict !== 'immutable' && passes(report.classes, accepted))
    lines.push(`  accepted with --accept ${accepted.join(',')}: exit status 0`);
  for (const cls of REASON_CLASSES) {
    const reasons = report.reasons.filter((r) => r.class === cls);
    if (reasons.length === 0) continue;
    const mark = accepted.includes(cls) ? style.yellow('~', c) : style.red('✗', c);
    lines.push(
      '',
      style.bold(`${HEADING[cls]}${accepted.includes(cls) ? ' (accepted)' : ''}`, c),
      ...reasons.map((reason) => `  ${mark} [${reason.kind}] ${reason.summary}`),
    );
  }
  if (report.causes.length > 0) {
    lines.push('', style.bold('Cause of each failed health check', c));
    for (const cause of report.causes) lines.push(`  ${cause.instance}: ${cause.text}`);
  }
  lines.push('', style.bold('Health', c));
  for (const h of report.health)
    lines.push(
      `  ${h.ok ? style.green('✓', c) : style.red('✗', c)} ${h.instance} ${h.phase.padEnd(6)} ${h.name}: ${h.detail}`,
    );
  lines.push('', style.bold('Timers', c));
  const runs = report.instances.flatMap((i) => i.timers.map((t) => ({ id: i.id, ...t })));
  if (runs.length === 0) lines.push('  no timer scheduled');
  for (const t of runs) {
    const ran =
      t.triggered === 'not-run'
        ? 'did not run'
        : `${t.triggered === 'schedule' ? 'ran on its own' : 'started'}: ${t.result}${t.startedAt === null ? '' : ` at ${clock(t.startedAt)}`}`;
    const next = t.nextAt === null ? '' : `, next ${t.nextAt.replace('T', ' ').slice(0, 16)}`;
    lines.push(`  ${t.id} ${t.service} ${ran}${next}`);
  }
  const { packages, files, noise } = report.drift;
  lines.push(
    '',
    style.bold(`Drift: ${packages.length} packages, ${files.length} files, ${noise.length} noise`, c),
  );
  for (const p of packages.slice(0, MAX_ROWS))
    lines.push(
      `  package ${p.name} ${p.action} ${p.from ?? '-'} → ${p.to ?? '-'} (${p.instances.length} instance${p.instances.length === 1 ? '' : 's'})`,
    );
  lines.push(...more(packages.length, MAX_ROWS, 'packages'));
  for (const f of files.slice(0, MAX_ROWS))
    lines.push(
      `  ${f.class.padEnd(6)} ${f.change.padEnd(8)} ${f.path}${f.package === null ? '' : `  [${f.package}]`}`,
    );
  lines.push(...more(files.length, MAX_ROWS, 'files'));
  if (noise.length > 0) {
    const rules = new Map<string, number>();
    for (const n of noise) rules.set(n.rule, (rules.get(n.rule) ?? 0) + 1);
    lines.push(
      `  noise (expected at runtime, not failing): ${[...rules].map(([rule, n]) => `${rule} ${n}`).join(', ')}`,
    );
  }
  lines.push('', style.bold(`DNS: ${report.dns.length} names looked up`, c));
  for (const d of report.dns.slice(0, MAX_ROWS))
    lines.push(
      `  ${d.allowed ? style.green('allowed ', c) : style.red('unexpected', c)} ${d.name} ${d.types.join(',')} ${Object.entries(
        d.rcodes,
      )
        .map(([code, n]) => `${code}×${n}`)
        .join(' ')}`,
    );
  lines.push(...more(report.dns.length, MAX_ROWS, 'names'));
  const failed = report.instances.flatMap((i) => i.failedUnits.map((u) => `${i.id} ${u.unit}: ${u.detail}`));
  if (failed.length > 0) {
    lines.push('', style.bold('Failed units', c));
    for (const f of failed) lines.push(`  ${f}`);
  }
  if (report.storedAt !== null) lines.push('', `stored with the image: ${report.storedAt}`);
  return `${lines.join('\n')}\n`;
}
