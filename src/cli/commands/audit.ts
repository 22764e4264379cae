import type { Command } from 'commander';
import { Option } from 'commander';
import { failsAt } from '../../audit/engine.js';
import { auditSource } from '../../audit/report.js';
import { toSarif } from '../../audit/sarif.js';
import { SEVERITIES } from '../../audit/types.js';
import type { Severity } from '../../audit/types.js';
import { goldgateHome } from '../../core/home.js';
import { resolveImageRef } from '../../images/ref.js';
import { recordAuditInRegistry } from '../../registry/images.js';
import { UsageError } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';
import { checkOutput, writeOutput } from '../output.js';
import { renderAudit } from '../render/audit.js';
import { printProblems } from '../warnings.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';
import { toolVersion } from '../version.js';
import { collectIds, selectRules } from './rule-selection.js';

interface AuditFlags {
  format: 'text' | 'json' | 'sarif';
  json?: boolean;
  failOn: Severity | 'none';
  rule?: string[];
  skipRule?: string[];
  output?: string;
  now?: string;
  verbose?: boolean;
  quiet?: boolean;
}

export function registerAudit(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('audit')
    .summary('find every way an image can change itself at boot')
    .description(
      'Audit a root filesystem (a directory, or a .tar / .tar.gz of one) for every source of change at boot: unattended-upgrades, apt timers, cloud-init package upgrades, boot scripts that install or fetch, mutable container tags, dnf-automatic, snap refresh, needrestart, automatic reboots, OS update agents. Each finding cites the file and line that prove it, and the exact change that fixes it. The image is read as if chrooted: nothing on the host is read through its links.',
    )
    .argument(
      '<image>',
      'root filesystem directory, a .tar / .tar.gz of one, or a stored image id (goldgate images)',
    )
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'),
    )
    .option('--json', 'same as --format json')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity')
        .choices([...SEVERITIES, 'none'])
        .default('medium'),
    )
    .option('--rule <ids>', 'run only these rules (comma-separated, repeatable)', collectIds)
    .option('--skip-rule <ids>', 'do not run these rules (comma-separated, repeatable)', collectIds)
    .option('-o, --output <file>', 'write the report to a file instead of standard output')
    .option('--now <time>', 'the audit clock for timer stamp ages (ISO 8601); default: now')
    .option('-v, --verbose', 'show progress with timings on standard error')
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .addHelpText(
      'after',
      `
Examples:
  goldgate audit /srv/images/web-rootfs
  goldgate audit image.tar.gz --format sarif -o goldgate.sarif
  goldgate audit image.tar.gz --json --fail-on high | jq '.summary'

Exit status: 0 no finding at or above --fail-on, 1 findings at or above it,
2 usage error, 3 environment error. Rules: docs/rules.md. JSON schema: docs/audit-json.md.`,
    )
    .action(async (image: string, flags: AuditFlags) => {
      const format = flags.json === true ? 'json' : flags.format;
      let now: Date | undefined;
      if (flags.now !== undefined) {
        now = new Date(flags.now);
        if (Number.isNaN(now.getTime()))
          throw new UsageError('BAD_TIME', `--now "${flags.now}" is not a time`, {
            hint: 'use ISO 8601, e.g. 2026-11-27T08:00:00Z',
          });
      }
      const rules = selectRules(flags.rule, flags.skipRule);
      if (flags.output !== undefined) checkOutput('--output', flags.output);
      const sink = progressSink(terminal, { verbose: flags.verbose, quiet: flags.quiet });
      const { source, stored } = resolveImageRef(image, { tarball: true });
      const report = await auditSource(source, { rules, now, sink });
      // The gate reads stored audits: only a whole audit (every rule) of a stored image counts.
      if (stored !== undefined && flags.rule === undefined && flags.skipRule === undefined)
        recordAuditInRegistry(goldgateHome(), stored, report.summary);
      let text: string;
      if (format === 'json') text = `${JSON.stringify(report, null, 2)}\n`;
      else if (format === 'sarif')
        text = `${JSON.stringify(toSarif(report, rules, toolVersion()), null, 2)}\n`;
      else
        text = renderAudit(report, {
          color: terminal.color && flags.output === undefined,
          failOn: flags.failOn,
        });
      if (flags.output !== undefined) writeOutput('--output', flags.output, text);
      else terminal.out(text);
      if (flags.quiet !== true) printProblems(terminal, report.problems);
      result.code = failsAt(report.findings, flags.failOn) ? EXIT.checkFailed : EXIT.ok;
    });
}
