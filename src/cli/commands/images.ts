import type { Command } from 'commander';
import { registeredImages } from '../../registry/images.js';
import { lineageOf } from '../../registry/lineage.js';
import { imageStatuses } from '../../registry/listing.js';
import { EXIT } from '../exit-codes.js';
import { lineageEntryJson, listedImageJson } from '../render/gate-json.js';
import { renderImages, renderLineage } from '../render/gate.js';
import type { Terminal } from '../terminal.js';
import { withRegistry } from '../with-registry.js';

interface ImagesFlags {
  json?: boolean;
  lineage?: string;
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export function registerImages(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('images')
    .summary('list the stored images, or the lineage of one name')
    .description(
      "List the images of the registry, newest first (images found in $GOLDGATE_HOME/images that the registry does not know yet are indexed first): id, name, when created, digest, the newest audit's findings, the parent a derived image was baked from or the source an imported one was read from, the channels it is on, its newest verify verdict, and whether it was revoked. With --lineage NAME: every image of that name and its ancestors as a tree from the oldest, each with what changed from its parent: packages (from the two images' manifests: from → to, added, removed) and the files its spec declares. References: docs/bake.md, docs/gate.md.",
    )
    .option('--lineage <name>', 'the lineage of the images of this name, oldest first')
    .option('--json', 'print {"images": [...]} as JSON (schemas in docs/gate.md)')
    .addHelpText(
      'after',
      `
Examples:
  goldgate images
  goldgate images --json | jq '.images[] | select(.channels | index("prod"))'
  goldgate images --lineage acme-web
  goldgate images --lineage acme-web --json`,
    )
    .action((flags: ImagesFlags) => {
      withRegistry(
        (registry) => {
          if (flags.lineage !== undefined) {
            const lineage = lineageOf(registry, flags.lineage);
            terminal.out(
              flags.json === true
                ? json({ name: lineage.name, images: lineage.images.map(lineageEntryJson) })
                : renderLineage(lineage, terminal.color),
            );
          } else {
            const statuses = imageStatuses(registry, registeredImages(registry));
            terminal.out(
              flags.json === true
                ? json({ images: statuses.map(listedImageJson) })
                : renderImages(statuses, terminal.color),
            );
          }
          result.code = EXIT.ok;
        },
        { index: true },
      );
    });
}
