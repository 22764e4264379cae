import type { Command } from 'commander';
import { Option } from 'commander';
import { renderDiagnoseHtml } from '../../diagnose/html.js';
import { diagnose } from '../../diagnose/report.js';
import { EXIT } from '../exit-codes.js';
import { checkOutput, writeOutput } from '../output.js';
import { renderDiagnose } from '../render/diagnose.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';

interface DiagnoseFlags {
  format: 'text' | 'json';
  json?: boolean;
  tz?: string;
  allowDomain?: string[];
  html?: string;
  output?: string;
  verbose?: boolean;
  quiet?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(',').filter((v) => v !== ''),
];

export function registerDiagnose(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('diagnose')
    .summary("find why a group's instances broke, from their logs")
    .description(
      'Read an evidence bundle (a directory or .tar.gz of boot logs, apt/dpkg/unattended-upgrades logs, cloud-init logs, journal exports, Route 53 Resolver or dnsmasq query logs, Auto Scaling activities) into one timeline across instances, and rank the probable causes with the evidence behind each: packages changed after boot, services they restarted, reboots, dpkg lock contention, external DNS dependencies. Changes made when the image was baked are never blamed. Bundle layout and how to collect one: docs/diagnose.md.',
    )
    .argument('<bundle>', 'evidence bundle: a directory or a .tar.gz')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--json', 'same as --format json')
    .option(
      '--tz <zone>',
      'time zone of logs written in local time (apt, dpkg, cloud-init); default: each instance’s etc/timezone, else UTC',
    )
    .option(
      '--allow-domain <patterns>',
      'expected DNS names (exact or *.suffix; comma-separated, repeatable); others are reported as external',
      collect,
    )
    .option(
      '--html <file>',
      'also write a self-contained HTML report with an SVG timeline, one lane per instance',
    )
    .option('-o, --output <file>', 'write the report to a file instead of standard output')
    .option('-v, --verbose', 'show progress on standard error')
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .addHelpText(
      'after',
      `
Examples:
  goldgate diagnose bundle.tar.gz
  goldgate diagnose ./evidence --tz Europe/Berlin --allow-domain '*.internal.example.com'
  goldgate diagnose ./evidence --json | jq '.causes[0]'

Exit status: 0 the bundle was read (whatever it shows), 2 usage error (no such bundle, unsafe tarball, bad zone).`,
    )
    .action(async (bundle: string, flags: DiagnoseFlags) => {
      if (flags.output !== undefined) checkOutput('--output', flags.output);
      if (flags.html !== undefined) checkOutput('--html', flags.html);
      const sink = progressSink(terminal, { verbose: flags.verbose, quiet: flags.quiet });
      const report = await diagnose(bundle, { tz: flags.tz, allowDomains: flags.allowDomain, sink });
      const text =
        flags.json === true || flags.format === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : renderDiagnose(report, { color: terminal.color && flags.output === undefined });
      // Files first: a report printed and then an error would read as a success.
      if (flags.html !== undefined) writeOutput('--html', flags.html, renderDiagnoseHtml(report));
      if (flags.output !== undefined) writeOutput('--output', flags.output, text);
      else terminal.out(text);
      const guessed = report.instances.filter((i) => i.timezoneFrom.startsWith('default'));
      if (flags.quiet !== true && guessed.length > 0) {
        terminal.err(
          `warning: local times (apt, dpkg, cloud-init) of ${guessed.length} instance${guessed.length === 1 ? '' : 's'} read as UTC: no --tz and no etc/timezone in the bundle\n`,
        );
      }
      if (flags.quiet !== true && report.problemsTotal > 0) {
        terminal.err(
          `warning: ${report.problemsTotal} log line${report.problemsTotal === 1 ? '' : 's'} could not be read (see "problems" in --json)\n`,
        );
      }
      result.code = EXIT.ok;
    });
}
