import type { Command } from 'commander';
import { printable, printableDeep } from '../../core/printable.js';
import { checkRegistry } from '../../registry/check.js';
import { listEvents } from '../../registry/events.js';
import { EXIT } from '../exit-codes.js';
import { wholeNumber } from '../flags.js';
import { style } from '../terminal.js';
import type { Terminal } from '../terminal.js';
import { withRegistry } from '../with-registry.js';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export function registerRegistry(program: Command, terminal: Terminal, result: { code: number }): void {
  const registry = program
    .command('registry')
    .summary("check the registry's consistency")
    .description(
      'The registry ($GOLDGATE_HOME/registry.db) indexes the stored images and records their audits, proofs, channels, revocations and every action. Reference: docs/gate.md.',
    );

  registry
    .command('check')
    .summary('check the registry: SQLite integrity and its consistency with the image store')
    .description(
      "Run SQLite's PRAGMA integrity_check and foreign-key check, then goldgate's own consistency check: every recorded image present in the store with the same digest, every audit and proof of its image's digest, every channel's history replaying to its current image, every finished pipeline run naming a recorded image. Lists each problem found. Changes nothing.",
    )
    .option('--json', 'print {path, integrity, consistent, problems: [{kind, subject, message}]} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  goldgate registry check
  goldgate registry check --json

Exit status: 0 consistent, 1 problems found (listed), 3 the registry cannot be opened.`,
    )
    .action((flags: { json?: boolean }) => {
      withRegistry((reg) => {
        const problems = checkRegistry(reg);
        const integrity = problems.some((p) => p.kind === 'sqlite') ? 'failed' : 'ok';
        if (flags.json === true)
          terminal.out(json({ path: reg.path, integrity, consistent: problems.length === 0, problems }));
        else if (problems.length === 0)
          terminal.out(
            `${printable(reg.path)}: consistent (integrity_check ok, every image, proof and channel in order)\n`,
          );
        else {
          const c = terminal.color;
          const lines = [
            `${printable(reg.path)}: ${style.red(`${problems.length} problem${problems.length === 1 ? '' : 's'}`, c)} (integrity_check ${integrity})`,
            ...printableDeep(problems).map((p) => `  ✗ [${p.kind}] ${p.subject}: ${p.message}`),
          ];
          terminal.out(`${lines.join('\n')}\n`);
        }
        result.code = problems.length === 0 ? EXIT.ok : EXIT.checkFailed;
      });
    });

  program
    .command('events')
    .summary("the registry's event log: every action, when, who and why")
    .description(
      'Print the append-only event log of the registry, oldest first: each image recorded, audit and proof stored, channel created or changed, promotion (refused, forced or not), rollback, revocation and pipeline step, with when, the OS user who acted, what it was done to and why.',
    )
    .option('--subject <subject>', 'only the events about this image id, channel or spec')
    .option('--limit <n>', 'only the last n events (1-1000000)')
    .option('--json', 'print {"events": [{id, at, user, action, subject, reason, details}]} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  goldgate events --limit 20
  goldgate events --subject prod
  goldgate events --subject img-3f2a9c01b4d5 --json`,
    )
    .action((flags: { subject?: string; limit?: string; json?: boolean }) => {
      const limit = flags.limit === undefined ? undefined : wholeNumber('--limit', flags.limit, 1, 1_000_000);
      withRegistry((reg) => {
        const events = listEvents(reg, {
          ...(flags.subject === undefined ? {} : { subject: flags.subject }),
          ...(limit === undefined ? {} : { limit }),
        });
        if (flags.json === true) terminal.out(json({ events }));
        else if (events.length === 0) terminal.out('no events\n');
        else
          terminal.out(
            `${events
              .map((e) => {
                const details = Object.keys(e.details).length === 0 ? '' : `  ${JSON.stringify(e.details)}`;
                const reason = e.reason === null ? '' : `  "${e.reason}"`;
                return printable(`${e.at}  ${e.user}  ${e.action}  ${e.subject}${reason}${details}`, {
                  oneLine: true,
                });
              })
              .join('\n')}\n`,
          );
        result.code = EXIT.ok;
      });
    });
}
