import type { Command } from 'commander';
import { SPEC_DOCS_HINT, SpecError, formatProblem, loadSpec } from '../../spec/load.js';
import { isDerived, parentIdentity } from '../../spec/schema.js';
import { EXIT } from '../exit-codes.js';
import { printable } from '../../core/printable.js';
import type { Terminal } from '../terminal.js';

interface ValidateFlags {
  json?: boolean;
}

export function registerSpec(program: Command, terminal: Terminal, result: { code: number }): void {
  const spec = program
    .command('spec')
    .summary('work with image specs (the YAML that describes a golden image)')
    .description(
      'Image specs describe a golden image for `goldgate bake`: the Debian base (or the image it derives from), packages, local .deb files, files, repositories, services, whether automatic updates stay on, health checks, user-data and the DNS names an instance may look up. Reference: docs/spec.md.',
    );
  spec
    .command('validate')
    .summary('check an image spec and print it with every default applied')
    .description(
      'Read an image spec and check every field: types, ranges, names, absolute image paths, exactly one of content or source, known keys (a typo gets a suggestion), that the local files it names (debs, files[].source, userData.file) exist relative to the spec, and that base.from names a stored image or a root filesystem directory. Every problem is reported at once, with its file, line and column. Nothing is built or fetched.',
    )
    .argument('<file>', 'the image spec (YAML)')
    .option(
      '--json',
      'print the normalised spec (defaults applied, local paths resolved) as JSON; problems as JSON too',
    )
    .addHelpText(
      'after',
      `
Examples:
  goldgate spec validate examples/acme/specs/fixed.yaml
  goldgate spec validate image.yaml --json | jq '.health'

Problems are printed one a line as <file>:<line>:<col> <field>: <message>, e.g.
  acme.yaml:12:7 health[1].http.port: must be between 1 and 65535

Exit status: 0 the spec is valid, 2 it is not (or cannot be read). Reference: docs/spec.md.`,
    )
    .action(async (file: string, flags: ValidateFlags) => {
      try {
        const { spec: loaded } = await loadSpec(file);
        const from = isDerived(loaded.base) ? ` (from ${parentIdentity(loaded.base.from)})` : '';
        terminal.out(
          flags.json === true ? `${JSON.stringify(loaded, null, 2)}\n` : `ok: ${loaded.name}${from}\n`,
        );
        result.code = EXIT.ok;
      } catch (error) {
        if (!(error instanceof SpecError)) throw error;
        if (flags.json === true) {
          terminal.out(`${JSON.stringify({ file, problems: error.problems }, null, 2)}\n`);
        } else {
          const count = error.problems.length === 1 ? '1 problem' : `${error.problems.length} problems`;
          terminal.err(
            `goldgate: ${printable(file, { oneLine: true })} is not a valid image spec (${count})\n`,
          );
          for (const problem of error.problems)
            terminal.err(`${printable(formatProblem(problem), { oneLine: true })}\n`);
          terminal.err(`  hint: ${SPEC_DOCS_HINT}\n`);
        }
        result.code = EXIT.usage;
      }
    });
}
