import type { Command } from 'commander';
import { buildManifest } from '../../manifest/manifest.js';
import { resolveImageRef } from '../../images/ref.js';
import { openRootFs } from '../../rootfs/index.js';
import { checkOutput, writeOutput } from '../output.js';
import { renderManifest } from '../render/manifest.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';
import { printProblems } from '../warnings.js';

interface ManifestFlags {
  json?: boolean;
  output?: string;
  verbose?: boolean;
  quiet?: boolean;
}

export function registerManifest(program: Command, terminal: Terminal, _result: { code: number }): void {
  program
    .command('manifest')
    .summary("print an image's manifest: packages, units and timers, apt, cloud-init, update agents")
    .description(
      "Read a root filesystem (a directory, or a .tar / .tar.gz of one) and print its manifest: installed packages (dpkg), systemd units with their enablement and timers, apt configuration and sources, cloud-init configuration and baked user-data, and the settings of snapd, dnf/yum, needrestart and Flatcar's updater. Every fact cites the file (and line) it comes from. The manifest carries a content digest: the same image gives the same digest whether read from a directory or a tarball.",
    )
    .argument(
      '<image>',
      'root filesystem directory, a .tar / .tar.gz of one, or a stored image id (goldgate images)',
    )
    .option('--json', 'print the whole manifest as one JSON document (schema: docs/manifest.md)')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .option('-v, --verbose', 'show progress with timings on standard error')
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .addHelpText(
      'after',
      `
Examples:
  goldgate manifest /srv/images/web-rootfs
  goldgate manifest image.tar.gz --json | jq '.systemd.units[] | select(.type == "timer" and .activeAtBoot) | .name'`,
    )
    .action(async (image: string, flags: ManifestFlags) => {
      const sink = progressSink(terminal, { verbose: flags.verbose, quiet: flags.quiet });
      const started = Date.now();
      if (flags.output !== undefined) checkOutput('--output', flags.output);
      const fs = await openRootFs(resolveImageRef(image, { tarball: true }).source);
      let manifest;
      try {
        manifest = buildManifest(fs);
      } finally {
        await fs.close();
      }
      sink.emit({
        type: 'progress',
        step: 'manifest',
        message: image,
        done: true,
        elapsedMs: Date.now() - started,
      });
      const text =
        flags.json === true ? `${JSON.stringify(manifest, null, 2)}\n` : renderManifest(manifest, image);
      if (flags.output !== undefined) writeOutput('--output', flags.output, text);
      else terminal.out(text);
      if (flags.quiet !== true) printProblems(terminal, manifest.problems);
    });
}
