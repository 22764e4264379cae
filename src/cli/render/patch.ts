import { humanDuration } from '../../core/duration.js';
import { printable } from '../../core/printable.js';
import type { UpdateOrigin } from '../../patch/offers.js';
import type { PatchPlan } from '../../patch/patch.js';
import type { PendingUpdate } from '../../patch/pending.js';
import type { Decided } from '../../patch/policy.js';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** `lab:acme bookworm-security (Debian, Debian-Security)` */
export function originText(origin: UpdateOrigin): string {
  const release = [origin.origin, origin.label].filter((x): x is string => x !== null);
  return `${origin.repository} ${origin.suite}${release.length > 0 ? ` (${release.join(', ')})` : ''}`;
}

/** `2026-12-06 12:00 UTC, 3 hours ago` */
function seenText(firstSeen: string, at: string): string {
  const when = `${firstSeen.slice(0, 10)} ${firstSeen.slice(11, 16)} UTC`;
  const ago = Math.max(0, Date.parse(at) - Date.parse(firstSeen)) / 1000;
  return `${when}, ${humanDuration(ago)} ago`;
}

function table(rows: string[][]): string[] {
  const widths = rows.reduce<number[]>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)),
    [],
  );
  return rows.map((row) =>
    `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd(),
  );
}

const change = (u: PendingUpdate): string => `${u.from} → ${u.to}`;

function decidedLines(title: string, list: readonly Decided[]): string[] {
  if (list.length === 0) return [];
  return [
    `${title} (${list.length}):`,
    ...list.map(
      (d) =>
        `  ${d.update.name} ${change(d.update)} from ${d.update.origin.repository} ${d.update.origin.suite}: ${d.reason}`,
    ),
  ];
}

/** The plan as people read it: the image, the suites read, the pending updates, what the policy takes and leaves out. */
export function renderPlan(plan: PatchPlan): string {
  const { image, policy } = plan;
  const how =
    image.chosenBy === 'channel'
      ? `on channel ${image.channel ?? ''}`
      : `the newest ${image.name} image not revoked${image.note === null ? '' : `; ${image.note}`}`;
  const lines = [`patch ${plan.spec.name}: ${image.id} (${how})`, 'sources:'];
  if (plan.sources.length === 0)
    lines.push('  none: the spec lists no lab repository and its image no Debian suite');
  for (const source of plan.sources) {
    lines.push(`  ${originText(source.from)}: ${plural(source.offered, 'version')} of installed packages`);
    for (const problem of source.problems)
      lines.push(`    note: ${problem.reason}${problem.file.startsWith('/') ? ` (${problem.file})` : ''}`);
  }
  if (plan.pending.length === 0) lines.push('pending updates: none');
  else {
    lines.push(`pending updates (${plan.pending.length}):`);
    lines.push(
      ...table(
        plan.pending.map((u) => [
          u.name,
          change(u),
          originText(u.origin),
          u.security ? 'security' : 'not security',
          `first seen ${seenText(u.firstSeen, plan.at)}`,
        ]),
      ),
    );
  }
  const list = (names: string[]) => (names.length === 0 ? 'none' : names.join(' '));
  lines.push(
    `policy: include ${policy.include}, minAge ${policy.minAge}, hold ${list(policy.hold)}, allow ${list(policy.allow)}`,
  );
  lines.push(...decidedLines('approved', plan.approved));
  lines.push(...decidedLines('left out', plan.leftOut));
  lines.push(...decidedLines('approved, plan only', plan.planOnly));
  return `${printable(lines.join('\n'))}\n`;
}
