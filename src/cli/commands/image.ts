import type { Command } from 'commander';
import { importImage } from '../../images/import.js';
import { EXIT } from '../exit-codes.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';
import { imageJson } from './bake.js';

interface ImportFlags {
  name: string;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

export function registerImage(program: Command, terminal: Terminal, result: { code: number }): void {
  const image = program
    .command('image')
    .summary('bring your own image: import one built elsewhere')
    .description(
      'Images built elsewhere (Packer, mkosi, EC2 Image Builder, debootstrap, docker export) brought into the store beside baked ones, so that audit, the lab and verify work on them. Reference: docs/byo-image.md.',
    );
  image
    .command('import')
    .summary('import a root filesystem, tarball, raw or qcow2 disk image into the store')
    .description(
      'Import an image built elsewhere: a root filesystem directory, a tar / tar.gz / tar.zst (docker export), a raw disk image (an AMI exported to raw, a Packer QEMU build: the partition table is read and the root partition found by its content, /etc/os-release and /usr), or a qcow2 disk (converted with qemu-img first). Read-only towards the source. The image is stored content-addressed under $GOLDGATE_HOME/images with its manifest and audit, like a baked one. Needs root. Reference: docs/byo-image.md.',
    )
    .argument('<source>', 'a directory, tarball, raw disk image or qcow2 disk')
    .requiredOption('--name <name>', 'the image name (lower-case letters, digits, ".", "_", "-")')
    .option('--json', 'print {"image": {id, name, digest, source, ...}} as JSON')
    .option('-v, --verbose', 'show progress on standard error')
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .addHelpText(
      'after',
      `
Examples:
  goldgate image import ./rootfs --name web
  goldgate image import web-rootfs.tar.gz --name web --json
  goldgate image import export-ami-0abc.raw --name web-prod
  goldgate image import output-qemu/packer-web.qcow2 --name web

Then: goldgate audit <id>'s rootfs, goldgate verify <id> --health-unit nginx.service

Exit status: 0 imported (or already there), 2 usage error (no root partition found, unsafe tarball, unsupported file system), 3 environment error (not root, not enough space, a tool missing).`,
    )
    .action(async (source: string, flags: ImportFlags) => {
      const { image: stored, existing } = await importImage(source, {
        name: flags.name,
        events: progressSink(terminal, { verbose: flags.verbose, quiet: flags.quiet }),
      });
      if (flags.json === true)
        terminal.out(
          `${JSON.stringify({ image: { ...imageJson(stored), source: stored.source }, existing }, null, 2)}\n`,
        );
      else
        terminal.out(
          `${stored.id}  ${stored.name}  ${stored.digest.slice(0, 19)}  from ${stored.source?.kind ?? 'source'}${
            stored.source?.partition != null ? ` partition ${stored.source.partition}` : ''
          }${stored.source?.filesystem === undefined ? '' : ` (${stored.source.filesystem})`}  findings ${stored.audit.after.total}${existing ? '  (already imported)' : ''}\n`,
        );
      result.code = EXIT.ok;
    });
}
