import type { Command } from 'commander';
import { listImages } from '../../images/store.js';
import { EXIT } from '../exit-codes.js';
import { printable } from '../../core/printable.js';
import type { Terminal } from '../terminal.js';
import { imageJson } from './bake.js';

interface ImagesFlags {
  json?: boolean;
}

export function registerImages(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('images')
    .summary('list the baked images')
    .description(
      'List the images `goldgate bake` stored under $GOLDGATE_HOME/images, newest first, with their lineage: the parent a derived image was baked from, the source an imported image was read from. Only complete images are listed: one whose bake was interrupted is never registered. Reference: docs/bake.md.',
    )
    .option('--json', 'print {"images": [...]} as JSON')
    .action((flags: ImagesFlags) => {
      const images = listImages();
      if (flags.json === true) {
        terminal.out(`${JSON.stringify({ images: images.map(imageJson) }, null, 2)}\n`);
      } else if (images.length === 0) {
        terminal.out('no images (bake one with: goldgate bake <spec>)\n');
      } else {
        for (const image of images) {
          const fields = [
            image.id,
            image.name,
            image.createdAt,
            image.digest.slice(0, 19),
            `findings ${image.audit.after.total}`,
            `autoUpdates ${image.autoUpdates}`,
          ];
          if (image.parent !== undefined) fields.push(`parent ${image.parent}`);
          if (image.source !== undefined) fields.push(`source ${image.source.kind} ${image.source.path}`);
          terminal.out(`${printable(fields.join('  '), { oneLine: true })}\n`);
        }
      }
      result.code = EXIT.ok;
    });
}
