import type { Command } from 'commander';
import { bake } from '../../bake/bake.js';
import type { StoredImage } from '../../images/store.js';
import { EXIT } from '../exit-codes.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';

interface BakeFlags {
  json?: boolean;
  refreshBase?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

/** The image as `bake --json` and `images --json` print it; `parent` and `source` only when the record has them. */
export function imageJson(image: StoredImage): Record<string, unknown> {
  return {
    id: image.id,
    name: image.name,
    digest: image.digest,
    path: image.path,
    rootfs: `${image.path}/rootfs`,
    createdAt: image.createdAt,
    spec: image.spec,
    base: image.base,
    autoUpdates: image.autoUpdates,
    audit: image.audit,
    ...(image.parent === undefined ? {} : { parent: image.parent }),
    ...(image.source === undefined ? {} : { source: image.source }),
  };
}

export function registerBake(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('bake')
    .summary('build an image from a spec with mmdebstrap, and store it')
    .description(
      "Build a golden image from an image spec: a Debian base bootstrapped by mmdebstrap (cached by suite, variant, packages, mirror and the UTC day it was built), customised in a staging copy (local debs, lab repositories and their packages, files, services, and the audit's own remediations when autoUpdates is disabled), then stored content-addressed under $GOLDGATE_HOME/images with its manifest and audit. Atomic: an interrupted bake never leaves a registered half-built image. Needs root. Reference: docs/bake.md.",
    )
    .argument('<spec>', 'the image spec (YAML; docs/spec.md)')
    .option('--json', 'print {"image": {id, name, digest, path, createdAt, audit, ...}} as JSON')
    .option('--refresh-base', 'bootstrap the base again even if one was built today')
    .option('-v, --verbose', 'show progress with timings on standard error')
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .addHelpText(
      'after',
      `
Examples:
  sudo goldgate bake examples/acme/specs/fixed.yaml
  sudo goldgate bake image.yaml --json | jq -r '.image.id'

Exit status: 0 the image is stored (or was already), 2 the spec is invalid,
3 environment error (not root, mmdebstrap missing, a step failed). Reference: docs/bake.md.`,
    )
    .action(async (specPath: string, flags: BakeFlags) => {
      const sink = progressSink(terminal, { verbose: flags.verbose, quiet: flags.quiet });
      const { image, existing } = await bake(specPath, {
        sink,
        ...(flags.refreshBase === true ? { basePolicy: 'refresh' as const } : {}),
      });
      if (flags.json === true) {
        terminal.out(`${JSON.stringify({ image: { ...imageJson(image), existing } }, null, 2)}\n`);
      } else {
        const { before, after } = image.audit;
        terminal.out(
          `${existing ? 'already present' : 'baked'}: ${image.id} ${image.name} ${image.digest}\n` +
            `  ${image.path}/rootfs\n` +
            (image.parent === undefined ? '' : `  parent ${image.parent}\n`) +
            `  audit: ${before.total} finding${before.total === 1 ? '' : 's'} before, ${after.total} after (autoUpdates ${image.autoUpdates})\n`,
        );
      }
      result.code = EXIT.ok;
    });
}
