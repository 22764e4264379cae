import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { checkChannelName, getChannel } from '../../registry/channels.js';
import type { Channel } from '../../registry/channels.js';
import { promote } from '../../registry/gate.js';
import { resolveRegisteredImage } from '../../registry/resolve.js';
import type { NamedImage } from '../../registry/resolve.js';
import { EXIT } from '../exit-codes.js';
import { withRegistry } from '../with-registry.js';
import { auditJson, gateJson, imageRefJson, revocationJson, verificationJson } from '../render/gate-json.js';
import { renderPromote, shortfalls } from '../render/gate.js';
import type { Terminal } from '../terminal.js';

interface PromoteFlags {
  channel: string;
  reason?: string;
  force?: boolean;
  json?: boolean;
}

/** Says which image a name or a prefix stood for, when it was not a whole id. */
export function namedLine(named: NamedImage, ref: string): string | null {
  if (named.by === 'prefix') return `${ref} is ${named.image.id}`;
  if (named.by === 'name' && (named.ofName ?? 1) > 1)
    return `${ref} is ${named.image.id}, the newest of ${named.ofName} images of that name`;
  if (named.by === 'name') return `${ref} is ${named.image.id}`;
  return null;
}

export function registerPromote(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('promote')
    .summary('put an image on a channel, through the channel’s gate')
    .description(
      "Promote an image to a channel (dev, prod, …): only when that exact digest has a stored audit with nothing at or above the channel's threshold and a stored verify that shows none of the failure classes the channel blocks, and the image is not revoked. Otherwise it is refused, naming each missing thing and the command that would provide it (exit 1). --force --reason promotes past the gate, recorded as forced; a revoked image is never promoted. A channel named for the first time is created with the default gate (nothing high or critical, no failure class). Every promotion and refusal is recorded in the event log (goldgate events). Reference: docs/gate.md.",
    )
    .argument('<image>', 'a stored image id, a unique prefix of one, or an image name (its newest image)')
    .requiredOption('--channel <name>', 'the channel (lowercase letters, digits, ".", "_", "-")')
    .option('--reason <text>', 'why, recorded with the promotion')
    .option('--force', 'promote past a gate that refuses (needs --reason; recorded as forced)')
    .option('--json', 'print {promoted, already, forced, channel, image, gate, evidence, missing} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  goldgate promote img-3f2a9c01b4d5 --channel prod
  goldgate promote acme-web --channel dev --reason "nightly"
  goldgate promote img-3f2a --channel prod --force --reason "INC-4711: hotfix, verify to follow"

Exit status: 0 promoted (or the channel already had it), 1 refused by the gate, 2 usage error (no such image, a bad channel name, --force without --reason).`,
    )
    .action((ref: string, flags: PromoteFlags) => {
      checkChannelName(flags.channel);
      if (flags.reason?.trim() === '')
        throw new UsageError('EMPTY_REASON', '--reason is empty', {
          hint: 'say why, e.g. --reason "CVE-2026-1234 fix"',
        });
      withRegistry(
        (registry) => {
          const named = resolveRegisteredImage(registry, ref, 'newest');
          const existed = getChannel(registry, flags.channel) !== undefined;
          const outcome = promote(registry, named.image.id, flags.channel, {
            ...(flags.reason === undefined ? {} : { reason: flags.reason }),
            ...(flags.force === true ? { force: true } : {}),
          });
          const channel = getChannel(registry, outcome.channel) as Channel;
          const promoted = outcome.assignment !== null;
          if (flags.json === true) {
            const { decision } = outcome;
            terminal.out(
              `${JSON.stringify(
                {
                  promoted,
                  already: outcome.already,
                  forced: outcome.assignment?.forced ?? false,
                  channel: outcome.channel,
                  created: !existed,
                  image: imageRefJson(outcome.image),
                  gate: gateJson(channel),
                  evidence: {
                    audit: auditJson(decision.audit),
                    verification: verificationJson(decision.verification),
                    revoked: revocationJson(decision.revoked),
                  },
                  missing: shortfalls(decision, channel, outcome.image, outcome.channel),
                  assignment:
                    outcome.assignment === null
                      ? null
                      : {
                          id: outcome.assignment.id,
                          at: outcome.assignment.at,
                          by: outcome.assignment.by,
                          reason: outcome.assignment.reason,
                        },
                },
                null,
                2,
              )}\n`,
            );
          } else
            terminal.out(
              renderPromote(outcome, channel, {
                color: terminal.color,
                created: !existed,
                named: namedLine(named, ref),
                force: flags.force === true,
              }),
            );
          result.code = promoted || outcome.already ? EXIT.ok : EXIT.checkFailed;
        },
        { index: true },
      );
    });
}
