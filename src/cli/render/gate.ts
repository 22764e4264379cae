import { SEVERITIES } from '../../audit/types.js';
import { printable, printableDeep } from '../../core/printable.js';
import type { Assignment, Channel, ChannelGate } from '../../registry/channels.js';
import type { GateDecision, PromoteResult, RollbackResult } from '../../registry/gate.js';
import type { RegisteredImage } from '../../registry/images.js';
import type { Lineage, LineageEntry } from '../../registry/lineage.js';
import type { ImageStatus } from '../../registry/listing.js';
import type { StoredAudit, StoredVerification } from '../../registry/proofs.js';
import type { Revocation } from '../../registry/revoke.js';
import { style } from '../terminal.js';

const short = (digest: string): string => digest.slice(0, 19);

/** `audit: nothing at or above high; verify: none of changes-itself, broken` */
export function gateLine(gate: ChannelGate): string {
  const verify =
    gate.blocks.length === 0
      ? 'a stored verify, whatever its verdict'
      : `a stored verify showing none of ${gate.blocks.join(', ')}`;
  return `no audit finding at or above ${gate.auditThreshold}; ${verify}`;
}

export function auditLine(audit: StoredAudit | null): string {
  if (audit === null) return 'none stored';
  const counts = SEVERITIES.filter((s) => (audit.bySeverity[s] ?? 0) > 0).map(
    (s) => `${audit.bySeverity[s]} ${s}`,
  );
  const what = audit.worst === null ? 'no finding' : `worst ${audit.worst} (${counts.join(', ')})`;
  return `${what}, ${audit.origin} ${audit.at}`;
}

export function verifyLine(verification: StoredVerification | null): string {
  if (verification === null) return 'none stored';
  const classes = verification.classes.length === 0 ? '' : ` (${verification.classes.join(', ')})`;
  return `${verification.verdict}${classes}, ${verification.at}${verification.proof === null ? '' : `, proof ${verification.proof}`}`;
}

export function revokedLine(revoked: Revocation): string {
  const inherited = revoked.inheritedFrom === null ? '' : ` (inherited from ${revoked.inheritedFrom})`;
  return `revoked ${revoked.at} by ${revoked.by}: ${revoked.reason}${inherited}`;
}

/** One thing the gate found missing, and the command that would provide it (null: nothing can). */
export interface Shortfall {
  reason: string;
  remedy: string | null;
}

/**
 * What the gate found missing, each with what would provide it. The reasons are the gate's
 * own words (its `missing`, in its order: revocation, audit, verify); the remedies are read
 * from the same decision.
 */
export function shortfalls(
  decision: GateDecision,
  gate: ChannelGate,
  image: RegisteredImage,
  channel: string,
): Shortfall[] {
  const id = image.id;
  const remedies: Array<string | null> = [];
  if (decision.revoked !== null) remedies.push(null);
  const { audit, verification } = decision;
  if (audit === null) remedies.push(`goldgate audit ${id}`);
  else if (
    audit.worst !== null &&
    SEVERITIES.indexOf(audit.worst) <= SEVERITIES.indexOf(gate.auditThreshold)
  ) {
    // The least strict threshold that still takes this audit: one above its worst finding.
    const looser = SEVERITIES[SEVERITIES.indexOf(audit.worst) - 1];
    remedies.push(
      `fix what goldgate audit ${id} finds and bake again${looser === undefined ? '' : `, or let the channel take it: goldgate channel create ${channel} --audit-threshold ${looser}`}`,
    );
  }
  if (verification === null) remedies.push(`goldgate verify ${id}`);
  else if (verification.classes.some((c) => gate.blocks.includes(c)))
    remedies.push(
      `fix the image and prove the new one with goldgate verify${verification.proof === null ? '' : ` (this proof: ${verification.proof})`}`,
    );
  if (remedies.length !== decision.missing.length)
    return decision.missing.map((reason) => ({ reason: reason.replaceAll('<image>', id), remedy: null }));
  // The remedy names the command with the image's id: the gate's own "(run …)" would repeat it.
  return decision.missing.map((reason, index) => ({
    reason: reason.replace(/ \(run goldgate [a-z]+ <image>\)$/, ''),
    remedy: remedies[index] ?? null,
  }));
}

/** What `promote` did, with the gate's evidence or what it missed. */
export function renderPromote(
  unsafe: PromoteResult,
  gate: ChannelGate,
  options: { color: boolean; created: boolean; named: string | null; force: boolean },
): string {
  const result = printableDeep(unsafe);
  const c = options.color;
  const { image, decision } = result;
  const who = `${image.id} (${image.name}, ${short(image.digest)})`;
  const lines: string[] = [];
  if (options.named !== null) lines.push(options.named);
  if (options.created) lines.push(`created channel ${result.channel}: ${gateLine(gate)}`);
  const evidence = [
    `  audit   ${auditLine(decision.audit)}`,
    `  verify  ${verifyLine(decision.verification)}`,
  ];
  if (result.already) {
    lines.push(`${result.channel} already points to ${who}: nothing changed`);
    if (decision.revoked !== null)
      lines.push(style.red(`  ✗ but the image was ${revokedLine(decision.revoked)}`, c));
    return `${lines.join('\n')}\n`;
  }
  const missing = shortfalls(unsafe.decision, gate, unsafe.image, unsafe.channel).map((s) =>
    printableDeep(s),
  );
  const reasons = missing.flatMap((s) => [
    `  ${style.red('✗', c)} ${s.reason}`,
    ...(s.remedy === null ? [] : [`      → ${s.remedy}`]),
  ]);
  if (result.assignment === null) {
    lines.push(
      `${style.red(style.bold('refused', c), c)}: ${who} was not promoted to ${result.channel} (its gate: ${gateLine(gate)})`,
      ...reasons,
    );
    if (decision.revoked === null && !options.force)
      lines.push(
        `  to promote it anyway, recorded as forced: goldgate promote ${image.id} --channel ${result.channel} --force --reason "…"`,
      );
    return `${lines.join('\n')}\n`;
  }
  if (result.assignment.forced) {
    lines.push(
      `${style.yellow(style.bold('promoted (forced)', c), c)} ${who} to ${result.channel} past its gate: ${result.assignment.reason ?? ''}`,
      '  the gate had refused it:',
      ...reasons.map((line) => `  ${line}`),
    );
  } else lines.push(`${style.green(style.bold('promoted', c), c)} ${who} to ${result.channel}`);
  lines.push(...evidence);
  return `${lines.join('\n')}\n`;
}

function currentLines(
  current: Assignment,
  image: RegisteredImage,
  revoked: Revocation | null,
  color: boolean,
): string[] {
  const forced = current.forced ? style.yellow(`  FORCED: ${current.reason ?? ''}`, color) : '';
  const lines = [
    `  ${image.id}  ${image.name}  ${short(image.digest)}  since ${current.at} by ${current.by} (${current.kind})${forced}`,
  ];
  if (revoked !== null)
    lines.push(
      style.red(
        style.bold(
          `  ✗ REVOKED: the channel points to an image ${revokedLine(revoked)}; roll it back (goldgate channel rollback ${current.channel}) or promote another image`,
          color,
        ),
        color,
      ),
    );
  return lines;
}

/** `goldgate channels`: each channel, its gate and where it stands. */
export function renderChannels(
  unsafe: readonly Channel[],
  imageOf: (id: string) => RegisteredImage,
  color: boolean,
): string {
  if (unsafe.length === 0)
    return 'no channels (a promotion creates one: goldgate promote <image> --channel <name>)\n';
  const lines: string[] = [];
  for (const channel of printableDeep(unsafe)) {
    lines.push(`${style.bold(channel.name, color)}  gate: ${gateLine(channel)}`);
    if (channel.current === null)
      lines.push(`  no image yet (goldgate promote <image> --channel ${channel.name})`);
    else
      lines.push(
        ...currentLines(
          channel.current,
          printableDeep(imageOf(channel.current.imageId)),
          channel.revoked,
          color,
        ),
      );
  }
  return `${lines.join('\n')}\n`;
}

/** `goldgate channel history`: every assignment, oldest first. */
export function renderHistory(
  channel: Channel,
  unsafe: ReadonlyArray<{ assignment: Assignment; image: RegisteredImage; revoked: Revocation | null }>,
  color: boolean,
): string {
  if (unsafe.length === 0)
    return `${printable(channel.name)} has no assignment yet (goldgate promote <image> --channel ${printable(channel.name)})\n`;
  const lines = [`${style.bold(printable(channel.name), color)}  gate: ${gateLine(channel)}`];
  const entries = printableDeep(unsafe);
  entries.forEach(({ assignment, image, revoked }, index) => {
    const kind = assignment.forced ? `${assignment.kind} (forced)` : assignment.kind;
    const reason = assignment.reason === null ? '' : `  "${assignment.reason}"`;
    const current = index === entries.length - 1 ? '  ← current' : '';
    lines.push(
      `  ${assignment.at}  ${assignment.by}  ${kind.padEnd(16)}  ${image.id}  ${image.name}  ${short(image.digest)}${reason}${current}`,
    );
    if (revoked !== null) lines.push(style.red(`      image ${revokedLine(revoked)}`, color));
  });
  return `${lines.join('\n')}\n`;
}

export function renderRollback(unsafe: RollbackResult, color: boolean): string {
  const result = printableDeep(unsafe);
  if (result.refused !== null)
    return `${style.red(style.bold('refused', color), color)}: ${result.channel} stays on ${result.from}: ${result.refused}\n`;
  return `rolled ${result.channel} back from ${result.from} to ${result.to ?? ''}\n`;
}

/** `goldgate images`: one line per image. */
export function renderImages(unsafe: readonly ImageStatus[], color: boolean): string {
  if (unsafe.length === 0) return 'no images (bake one with: goldgate bake <spec>)\n';
  const lines: string[] = [];
  for (const status of printableDeep(unsafe)) {
    const { image } = status;
    // Where it stands first; its lineage (parent or source) last, as before the registry.
    const head = [image.id, image.name, image.createdAt, short(image.digest)];
    const tail = [
      status.verification === null ? 'not verified' : `verify ${status.verification.verdict}`,
      ...(status.channels.length > 0 ? [`on ${status.channels.join(',')}`] : []),
      `findings ${status.audit?.total ?? '?'}`,
      `autoUpdates ${image.autoUpdates}`,
      ...(image.parent !== null ? [`parent ${image.parent}`] : []),
      ...(image.source !== null ? [`source ${image.source.kind} ${image.source.path}`] : []),
    ];
    const revoked = status.revoked === null ? [] : [style.red(style.bold('REVOKED', color), color)];
    lines.push(
      [
        printable(head.join('  '), { oneLine: true }),
        ...revoked,
        printable(tail.join('  '), { oneLine: true }),
      ].join('  '),
    );
  }
  return `${lines.join('\n')}\n`;
}

function changeLines(entry: LineageEntry, indent: string): string[] {
  const lines: string[] = [];
  const { changes, image } = entry;
  if (entry.parentKind === 'path')
    lines.push(`${indent}derived from the root filesystem ${image.parent ?? ''}`);
  if (entry.parentKind === 'missing')
    lines.push(`${indent}parent ${image.parent ?? ''} is no longer in the registry: nothing to compare`);
  if (changes === null) return lines;
  if (changes.packages === null) lines.push(`${indent}packages: cannot be compared`);
  else if (changes.packages.length === 0) lines.push(`${indent}packages: unchanged`);
  else
    for (const p of changes.packages)
      lines.push(
        `${indent}package ${p.name}${p.architecture === '' || p.architecture === 'all' ? '' : `:${p.architecture}`}  ${p.from ?? '-'} → ${p.to ?? '-'}  (${p.change})`,
      );
  if (changes.files !== null)
    lines.push(
      changes.files.length === 0
        ? `${indent}files: none declared by its spec`
        : `${indent}files declared by its spec: ${changes.files.join(', ')}`,
    );
  for (const problem of changes.problems) lines.push(`${indent}(${problem})`);
  return lines;
}

/** `goldgate images --lineage NAME`: a tree from the oldest image, with what changed at each step. */
export function renderLineage(unsafe: Lineage, color: boolean): string {
  const lineage = printableDeep(unsafe);
  const lines = [
    `lineage of ${lineage.name}: ${lineage.images.length} image${lineage.images.length === 1 ? '' : 's'}, each after its parent`,
  ];
  for (const entry of lineage.images) {
    const pad = '  '.repeat(entry.depth);
    const { image } = entry;
    const marks = [
      entry.channels.length > 0 ? `on ${entry.channels.join(',')}` : '',
      entry.verification === null ? 'not verified' : `verify ${entry.verification.verdict}`,
    ].filter((m) => m !== '');
    lines.push(
      `${pad}${entry.depth === 0 ? '' : '└─ '}${style.bold(image.id, color)}  ${image.name}  ${image.createdAt}  ${short(image.digest)}  ${marks.join('  ')}`,
    );
    const indent = `${pad}${entry.depth === 0 ? '  ' : '     '}`;
    if (entry.revoked !== null) lines.push(style.red(`${indent}✗ ${revokedLine(entry.revoked)}`, color));
    lines.push(...changeLines(entry, indent));
  }
  return `${lines.join('\n')}\n`;
}
