import { Command, CommanderError } from 'commander';
import { isGoldgateError } from '../core/errors.js';
import { registerAudit } from './commands/audit.js';
import { registerBake } from './commands/bake.js';
import { registerImage } from './commands/image.js';
import { registerImages } from './commands/images.js';
import { registerChannels } from './commands/channels.js';
import { registerPromote } from './commands/promote.js';
import { registerRegistry } from './commands/registry.js';
import { registerRevoke } from './commands/revoke.js';
import { registerDiagnose } from './commands/diagnose.js';
import { registerFix } from './commands/fix.js';
import { registerGroup } from './commands/group.js';
import { registerLab } from './commands/lab.js';
import { registerManifest } from './commands/manifest.js';
import { registerPipeline } from './commands/pipeline.js';
import { registerPatch } from './commands/patch.js';
import { registerSpec } from './commands/spec.js';
import { registerRepo } from './commands/repo.js';
import { registerVerify } from './commands/verify.js';
import { environmentError, pathError } from './errno.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { printable } from '../core/printable.js';
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
      // main() prints commander's errors itself, with goldgate's prefix and a hint.
      outputError: () => undefined,
    })
    .addHelpText(
      'after',
      `
Exit status:
  0  success
  1  the check failed (findings at or above --fail-on), or a gate refused (promote, channel rollback)
  2  usage error (bad arguments or input)
  3  environment or prerequisite error (the message says what to install or change)
  4  internal error (a bug in goldgate)

Documentation: docs/cli.md, docs/rules.md, docs/audit-json.md, docs/diagnose.md, docs/spec.md, docs/repo.md, docs/lab.md, docs/verify.md, docs/byo-image.md, docs/gate.md`,
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
  registerPromote(program, terminal, result);
  registerChannels(program, terminal, result);
  registerRevoke(program, terminal, result);
  registerRegistry(program, terminal, result);
  registerPipeline(program, terminal, result);
  registerPatch(program, terminal, result);
  // Every command, at any depth, ends through main() (exit statuses, messages), never process.exit.
  const override = (command: Command): void => {
    command.exitOverride();
    command.configureOutput(program.configureOutput());
    command.commands.forEach(override);
  };
  program.commands.forEach(override);
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
    if (error instanceof CommanderError) return commanderExit(error, program, argv.slice(2), terminal);
    const known = isGoldgateError(error) ? error : (environmentError(error) ?? pathError(error));
    if (known !== undefined) {
      // A mistake without a hint of its own is pointed at the command's help.
      const hint =
        known.hint ??
        (known.fault === 'user'
          ? `${['goldgate', ...commandPath(program, argv.slice(2))].join(' ')} --help describes the arguments and options`
          : undefined);
      terminal.err(`goldgate: ${printable(known.message)}\n`);
      if (hint !== undefined) terminal.err(`  hint: ${printable(hint)}\n`);
      return exitCodeFor(known.fault);
    }
    terminal.err(`goldgate: internal error: ${printable((error as Error).stack ?? String(error))}\n`);
    terminal.err('  hint: this is a bug in goldgate; please report it with the command you ran\n');
    return EXIT.internal;
  }
}

/**
 * commander's own endings: help and version asked for are exit 0; help shown because a
 * command group was given no subcommand (on standard error) and every parse error are exit 2,
 * the error with goldgate's prefix and a hint like every other error.
 */
function commanderExit(error: CommanderError, program: Command, args: string[], terminal: Terminal): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
  if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const path = commandPath(program, args);
  const name = ['goldgate', ...path].join(' ');
  const message = printable(error.message.replace(/^error: /, ''));
  terminal.err(`goldgate: ${path.length > 0 ? `${path.join(' ')}: ` : ''}${message}\n`);
  terminal.err(`  hint: ${commanderHint(error, name, path, args)}\n`);
  return EXIT.usage;
}

function commanderHint(error: CommanderError, name: string, path: string[], args: string[]): string {
  if (error.code === 'commander.unknownOption' && path.join(' ') === 'lab exec') {
    // `lab exec ID ls -la`: the command's own options must follow --.
    const operands = args.slice(args.indexOf('exec') + 1);
    return `put the command after --: goldgate lab exec ${operands[0] ?? 'ID'} -- ${operands.slice(1).join(' ') || 'COMMAND'}`;
  }
  if (error.code === 'commander.unknownCommand') return `${name} --help lists the commands`;
  if (error.code === 'commander.unknownOption' || error.code === 'commander.invalidArgument')
    return `${name} --help lists the options`;
  return `${name} --help shows the usage`;
}

/** The subcommands named at the start of `args` (options skipped): `['lab', 'exec']`. */
function commandPath(program: Command, args: string[]): string[] {
  const path: string[] = [];
  let command = program;
  for (const arg of args) {
    if (arg === '--') break;
    if (arg.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (sub === undefined) break;
    path.push(sub.name());
    command = sub;
  }
  return path;
}
