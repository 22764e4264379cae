import type { Command } from 'commander';
import { printableDeep } from '../../core/printable.js';
import { UsageError } from '../../core/errors.js';
import { listChannels } from '../../registry/channels.js';
import { getImage } from '../../registry/images.js';
import type { RegisteredImage } from '../../registry/images.js';
import { resolveRegisteredImage } from '../../registry/resolve.js';
import { descendantsOf, revocationOf, revokeImage } from '../../registry/revoke.js';
import type { Revocation } from '../../registry/revoke.js';
import { EXIT } from '../exit-codes.js';
import { withRegistry } from '../with-registry.js';
import { imageRefJson, revocationJson } from '../render/gate-json.js';
import { revokedLine } from '../render/gate.js';
import { style } from '../terminal.js';
import type { Terminal } from '../terminal.js';
import { namedLine } from './promote.js';

interface RevokeFlags {
  reason: string;
  descendants?: boolean;
  json?: boolean;
}

export function registerRevoke(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('revoke')
    .summary('revoke an image: never promoted again, and channels on it say so')
    .description(
      'Revoke an image: it can no longer be promoted (not even with --force) nor launched by a group, `goldgate channels` flags every channel that points to it, and `channel rollback` will not go back to it. With --descendants, every image derived from it (at any depth) is revoked too, each naming the ancestor it inherits the revocation from. An image already revoked keeps its first revocation. Recorded in the event log with who and why. Reference: docs/gate.md.',
    )
    .argument('<image>', 'a stored image id, a unique prefix of one, or the name of a single image')
    .requiredOption('--reason <text>', 'why (required; recorded and shown wherever the image appears)')
    .option('--descendants', 'also revoke every image derived from it')
    .option('--json', 'print {revoked, alreadyRevoked, channelsOnRevoked} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  goldgate revoke img-3f2a9c01b4d5 --reason "CVE-2026-1234 in acme-runtime"
  goldgate revoke img-3f2a --reason "bad base: broken libc" --descendants --json

Exit status: 0 revoked (or already), 2 usage error (no such image, a name of several images, no reason).`,
    )
    .action((ref: string, flags: RevokeFlags) => {
      if (flags.reason.trim() === '')
        throw new UsageError('EMPTY_REASON', '--reason is empty: a revocation is recorded with why', {
          hint: 'say why, e.g. --reason "CVE-2026-1234 in acme-runtime"',
        });
      withRegistry(
        (registry) => {
          const named = resolveRegisteredImage(registry, ref, 'unique');
          const id = named.image.id;
          const targets = [id, ...(flags.descendants === true ? descendantsOf(registry, id) : [])];
          const before = targets
            .map((target) => revocationOf(registry, target))
            .filter((r): r is Revocation => r !== undefined);
          const made = revokeImage(registry, id, flags.reason, { descendants: flags.descendants === true });
          const imageOf = (imageId: string) => getImage(registry, imageId) as RegisteredImage;
          const onRevoked = listChannels(registry).filter((c) => c.revoked !== null && c.current !== null);
          if (flags.json === true) {
            const entry = (r: Revocation) => ({
              image: imageRefJson(imageOf(r.imageId)),
              ...revocationJson(r),
            });
            terminal.out(
              `${JSON.stringify(
                {
                  revoked: made.map(entry),
                  alreadyRevoked: before.map(entry),
                  channelsOnRevoked: onRevoked.map((c) => ({
                    channel: c.name,
                    image: imageRefJson(imageOf(c.current?.imageId ?? '')),
                    revoked: revocationJson(c.revoked),
                  })),
                },
                null,
                2,
              )}\n`,
            );
          } else {
            const c = terminal.color;
            const lines: string[] = [];
            const intro = namedLine(named, ref);
            if (intro !== null) lines.push(intro);
            for (const r of printableDeep(made))
              lines.push(
                `${style.red('revoked', c)} ${r.imageId} (${imageOf(r.imageId).name})${r.inheritedFrom === null ? '' : `, inherited from ${r.inheritedFrom}`}: ${r.reason}`,
              );
            for (const r of printableDeep(before)) lines.push(`already ${r.imageId}: ${revokedLine(r)}`);
            if (onRevoked.length === 0) lines.push('no channel points to a revoked image');
            else {
              lines.push(style.bold('channels now pointing to a revoked image:', c));
              for (const channel of printableDeep(onRevoked))
                lines.push(
                  `  ${channel.name} → ${channel.current?.imageId ?? ''}: roll it back (goldgate channel rollback ${channel.name}) or promote another image`,
                );
            }
            terminal.out(`${lines.join('\n')}\n`);
          }
          result.code = EXIT.ok;
        },
        { index: true },
      );
    });
}
