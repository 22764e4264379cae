import { Command, CommanderError } from 'commander';
import { isGoldgateError } from '../core/errors.js';
import { registerAudit } from './commands/audit.js';
import { registerBake } from './commands/bake.js';
import { registerImage } from './commands/image.js';
import { registerImages } from './commands/images.js';
import { registerDiagnose } from './commands/diagnose.js';
import { registerFix } from './commands/fix.js';
import { registerGroup } from './commands/group.js';
import { registerLab } from './commands/lab.js';
import { registerManifest } from './commands/manifest.js';
import { registerSpec } from './commands/spec.js';
import { registerRepo } from './commands/repo.js';
import { registerVerify } from './commands/verify.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { createTerminal } from './terminal.js';
import { toolVersion } from './version.js';
import type { Terminal } from './terminal.js';

/** Builds the command tree. Each command sets `process.exitCode`-style results through `result`. */
export function buildProgram(terminal: Terminal, result: { code: number }): Command {
  const program = new Command('goldgate')
    .description(
      'Keep golden server images immutable: find every way an image changes itself at boot, and let OS patches reach production only through a validated pipeline.',
    )
    .version(toolVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text) => terminal.out(text),
      writeErr: (text) => terminal.err(text),
    })
    .addHelpText(
      'after',
      `
Exit status:
  0  success
  1  the check failed (findings at or above --fail-on)
  2  usage error (bad arguments or input)
  3  environment or prerequisite error (the message says what to install or change)
  4  internal error (a bug in goldgate)

Documentation: docs/cli.md, docs/rules.md, docs/audit-json.md, docs/diagnose.md, docs/spec.md, docs/repo.md, docs/lab.md, docs/verify.md, docs/byo-image.md`,
    );
  program.exitOverride();
  registerAudit(program, terminal, result);
  registerDiagnose(program, terminal, result);
  registerFix(program, terminal, result);
  registerLab(program, terminal, result);
  registerManifest(program, terminal, result);
  registerSpec(program, terminal, result);
  registerRepo(program, terminal, result);
  registerBake(program, terminal, result);
  registerImages(program, terminal, result);
  registerImage(program, terminal, result);
  registerVerify(program, terminal, result);
  registerGroup(program, terminal, result);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the exit status (never calls process.exit, so output is flushed). */
export async function main(argv: string[], terminal: Terminal = createTerminal()): Promise<number> {
  const result = { code: EXIT.ok as number };
  const program = buildProgram(terminal, result);
  try {
    await program.parseAsync(argv);
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return EXIT.ok;
      }
      return EXIT.usage;
    }
    if (isGoldgateError(error)) {
      terminal.err(`goldgate: ${error.message}\n`);
      if (error.hint !== undefined) terminal.err(`  hint: ${error.hint}\n`);
      return exitCodeFor(error.fault);
    }
    terminal.err(`goldgate: internal error: ${(error as Error).stack ?? String(error)}\n`);
    terminal.err('  hint: this is a bug in goldgate; please report it with the command you ran\n');
    return EXIT.internal;
  }
}
