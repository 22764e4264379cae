import type { Command } from 'commander';
import { SEVERITIES } from '../../audit/types.js';
import type { Severity } from '../../audit/types.js';
import { UsageError } from '../../core/errors.js';
import {
  channelHistory,
  checkChannelName,
  configureChannel,
  getChannel,
  listChannels,
} from '../../registry/channels.js';
import type { Channel, ChannelGate } from '../../registry/channels.js';
import type { Registry } from '../../registry/db.js';
import { rollbackChannel } from '../../registry/gate.js';
import { getImage } from '../../registry/images.js';
import type { RegisteredImage } from '../../registry/images.js';
import { VERIFY_CLASSES } from '../../registry/proofs.js';
import type { VerifyClass } from '../../registry/proofs.js';
import { revocationOf } from '../../registry/revoke.js';
import { EXIT } from '../exit-codes.js';
import { withRegistry } from '../with-registry.js';
import { channelJson, historyEntryJson, imageRefJson } from '../render/gate-json.js';
import { gateLine, renderChannels, renderHistory, renderRollback } from '../render/gate.js';
import type { Terminal } from '../terminal.js';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

const imageLookup =
  (registry: Registry) =>
  (id: string): RegisteredImage =>
    getImage(registry, id) as RegisteredImage;

/** The channel, or a usage error naming it. */
function requireChannel(registry: Registry, name: string): Channel {
  checkChannelName(name);
  const channel = getChannel(registry, name);
  if (channel === undefined)
    throw new UsageError('CHANNEL_UNKNOWN', `no channel ${name}`, {
      hint: 'goldgate channels lists the channels; a promotion or goldgate channel create makes one',
    });
  return channel;
}

/** `--block changes-itself,broken` or `--block none`. */
function parseBlocks(value: string): VerifyClass[] {
  if (value.trim() === 'none') return [];
  const classes = value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const c of classes)
    if (!(VERIFY_CLASSES as readonly string[]).includes(c))
      throw new UsageError('BAD_VERIFY_CLASS', `--block: "${c}" is not a class of failure`, {
        hint: `give a comma-separated list of ${VERIFY_CLASSES.join(', ')}, or none`,
      });
  if (classes.length === 0)
    throw new UsageError('BAD_VERIFY_CLASS', '--block is empty', {
      hint: `give a comma-separated list of ${VERIFY_CLASSES.join(', ')}, or none`,
    });
  return [...new Set(classes)] as VerifyClass[];
}

function parseThreshold(value: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(value))
    throw new UsageError('BAD_SEVERITY', `--audit-threshold: "${value}" is not a severity`, {
      hint: `use one of ${SEVERITIES.join(', ')}`,
    });
  return value as Severity;
}

const sameGate = (a: ChannelGate, b: ChannelGate): boolean =>
  a.auditThreshold === b.auditThreshold && [...a.blocks].sort().join() === [...b.blocks].sort().join();

export function registerChannels(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('channels')
    .summary('list the channels, their gates and the image each points to')
    .description(
      'List every channel: its gate (the audit threshold and the verify failure classes it blocks) and its current image (id, name, digest, since when, by whom, whether forced). A channel whose image was revoked says so. Reference: docs/gate.md.',
    )
    .option('--json', 'print {"channels": [...]} as JSON (schema in docs/gate.md)')
    .addHelpText(
      'after',
      "\nExamples:\n  goldgate channels\n  goldgate channels --json | jq '.channels[] | {name, image: .current.image.id}'",
    )
    .action((flags: { json?: boolean }) => {
      withRegistry((registry) => {
        const channels = listChannels(registry);
        const imageOf = imageLookup(registry);
        terminal.out(
          flags.json === true
            ? json({ channels: channels.map((c) => channelJson(c, imageOf)) })
            : renderChannels(channels, imageOf, terminal.color),
        );
        result.code = EXIT.ok;
      });
    });

  const channel = program
    .command('channel')
    .summary('create a channel or change its gate, show its history, roll it back')
    .description(
      'A channel (dev, staging, prod) names the image a stage of your fleet should run; each has a gate that a promotion must pass. Reference: docs/gate.md.',
    );

  channel
    .command('create')
    .summary("create a channel, or change an existing channel's gate")
    .description(
      "Create a channel with a gate: promotions are refused when the image's newest stored audit has a finding at or above --audit-threshold, or its newest stored verify shows a class of failure the channel blocks (--block). Given for an existing channel, the options change its gate (recorded in the event log); options left out keep their value.",
    )
    .argument('<name>', 'the channel (lowercase letters, digits, ".", "_", "-")')
    .option(
      '--audit-threshold <severity>',
      `refuse an audit finding at or above this severity (${SEVERITIES.join(', ')})`,
    )
    .option(
      '--block <classes>',
      `verify failure classes that refuse a promotion, comma-separated (${VERIFY_CLASSES.join(', ')}), or none`,
    )
    .option('--reason <text>', 'why, recorded with the change')
    .option('--json', 'print {"channel": {...}, "created", "changed"} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  goldgate channel create prod
  goldgate channel create dev --audit-threshold critical --block changes-itself,broken
  goldgate channel create canary --block none --reason "smoke tests only"

Defaults for a new channel: --audit-threshold high, --block ${VERIFY_CLASSES.join(',')}.`,
    )
    .action(
      (name: string, flags: { auditThreshold?: string; block?: string; reason?: string; json?: boolean }) => {
        checkChannelName(name);
        const gate: Partial<ChannelGate> = {
          ...(flags.auditThreshold === undefined
            ? {}
            : { auditThreshold: parseThreshold(flags.auditThreshold) }),
          ...(flags.block === undefined ? {} : { blocks: parseBlocks(flags.block) }),
        };
        withRegistry((registry) => {
          const before = getChannel(registry, name);
          const after = configureChannel(registry, name, gate, flags.reason ?? null);
          const changed = before !== undefined && !sameGate(before, after);
          if (flags.json === true)
            terminal.out(
              json({
                channel: channelJson(after, imageLookup(registry)),
                created: before === undefined,
                changed,
              }),
            );
          else if (before === undefined) terminal.out(`created channel ${name}: ${gateLine(after)}\n`);
          else if (changed)
            terminal.out(`changed the gate of ${name}: ${gateLine(after)} (was: ${gateLine(before)})\n`);
          else terminal.out(`channel ${name} exists, gate unchanged: ${gateLine(after)}\n`);
          result.code = EXIT.ok;
        });
      },
    );

  channel
    .command('history')
    .summary('every assignment of a channel, oldest first')
    .description(
      'Every assignment of the channel, oldest first: when, who, how (promote or rollback), whether forced, why, and the image (id, name, digest); the last one is the current image. An image revoked since is marked.',
    )
    .argument('<name>', 'the channel')
    .option('--json', 'print {"channel", "gate", "history": [...]} as JSON (schema in docs/gate.md)')
    .addHelpText(
      'after',
      '\nExamples:\n  goldgate channel history prod\n  goldgate channel history prod --json',
    )
    .action((name: string, flags: { json?: boolean }) => {
      withRegistry((registry) => {
        const found = requireChannel(registry, name);
        const imageOf = imageLookup(registry);
        const entries = channelHistory(registry, name).map((assignment) => ({
          assignment,
          image: imageOf(assignment.imageId),
          revoked: revocationOf(registry, assignment.imageId) ?? null,
        }));
        terminal.out(
          flags.json === true
            ? json({
                channel: found.name,
                gate: { auditThreshold: found.auditThreshold, blocks: found.blocks },
                history: entries.map((e, index) =>
                  historyEntryJson(e.assignment, e.image, index === entries.length - 1, e.revoked),
                ),
              })
            : renderHistory(found, entries, terminal.color),
        );
        result.code = EXIT.ok;
      });
    });

  channel
    .command('rollback')
    .summary('move a channel back to its previous image')
    .description(
      'Move the channel back to the image it had before its current one (a promotion pushes, a rollback pops: rolling back twice goes two images back). Refused (exit 1, saying why) when there is no previous assignment or the previous image was revoked. Recorded in the channel history and the event log.',
    )
    .argument('<name>', 'the channel')
    .option('--reason <text>', 'why, recorded with the rollback')
    .option('--json', 'print {channel, rolledBack, from, to, refused} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  goldgate channel rollback prod --reason "health checks fail on the new image"

Exit status: 0 rolled back, 1 refused (no previous image, or it was revoked), 2 usage error (no such channel, or it never had an image).`,
    )
    .action((name: string, flags: { reason?: string; json?: boolean }) => {
      withRegistry((registry) => {
        requireChannel(registry, name);
        const outcome = rollbackChannel(registry, name, flags.reason ?? null);
        const imageOf = imageLookup(registry);
        if (flags.json === true)
          terminal.out(
            json({
              channel: outcome.channel,
              rolledBack: outcome.refused === null,
              from: imageRefJson(imageOf(outcome.from)),
              to: outcome.to === null ? null : imageRefJson(imageOf(outcome.to)),
              refused: outcome.refused,
            }),
          );
        else terminal.out(renderRollback(outcome, terminal.color));
        result.code = outcome.refused === null ? EXIT.ok : EXIT.checkFailed;
      });
    });
}
