import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { failsAt } from '../../audit/engine.js';
import { applyRemediations, remediationSteps } from '../../audit/remediate.js';
import { auditSource } from '../../audit/report.js';
import { SEVERITIES } from '../../audit/types.js';
import type { Severity } from '../../audit/types.js';
import { UsageError } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';
import { describeStep } from '../render/audit.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';
import { selectRules, collectIds } from './rule-selection.js';
import { printable } from '../../core/printable.js';

interface FixFlags {
  dryRun?: boolean;
  json?: boolean;
  failOn: Severity | 'none';
  rule?: string[];
  skipRule?: string[];
  verbose?: boolean;
  quiet?: boolean;
}

export function registerFix(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('fix')
    .summary("apply the audit's remediations to a root filesystem directory")
    .description(
      'Audit a root filesystem directory, apply every remediation that is a file change (apt.conf overrides, masked timers, edited settings), then audit again and show what is left. Commands that cannot be expressed as a file change are listed, not run. Writes stay inside the root: links in the image are resolved inside it and never written through.',
    )
    .argument('<root-dir>', 'root filesystem directory (extract a tarball first)')
    .option('-n, --dry-run', 'show the changes without making them')
    .option('--json', 'print {"applied": [...], "before": summary, "after": report} as JSON')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity remains')
        .choices([...SEVERITIES, 'none'])
        .default('medium'),
    )
    .option('--rule <ids>', 'fix only these rules (comma-separated, repeatable)', collectIds)
    .option('--skip-rule <ids>', 'leave these rules alone (comma-separated, repeatable)', collectIds)
    .option('-v, --verbose', 'show progress with timings on standard error')
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .action(async (rootDir: string, flags: FixFlags) => {
      if (statSync(rootDir, { throwIfNoEntry: false })?.isDirectory() !== true) {
        throw new UsageError('FIX_NEEDS_DIRECTORY', `${rootDir} is not a directory`, {
          hint: 'fix changes a root filesystem in place: extract a tarball into a directory first',
        });
      }
      const rules = selectRules(flags.rule, flags.skipRule);
      const sink = progressSink(terminal, { verbose: flags.verbose, quiet: flags.quiet });
      const before = await auditSource(rootDir, { rules, sink });
      const steps = remediationSteps(before.findings);
      const applied =
        flags.dryRun === true
          ? steps.map((s) => ({ ...s, applied: false, reason: 'dry run' }))
          : applyRemediations(rootDir, steps);
      const after = flags.dryRun === true ? before : await auditSource(rootDir, { rules, sink });
      if (flags.json === true) {
        terminal.out(`${JSON.stringify({ applied, before: before.summary, after }, null, 2)}\n`);
      } else {
        for (const item of applied) {
          const mark = item.applied ? 'applied' : `not applied (${item.reason ?? ''})`;
          terminal.out(printable(`${item.rule}: ${describeStep(item.step)}\n    ${mark}\n`));
        }
        terminal.out(
          `${before.summary.total} finding${before.summary.total === 1 ? '' : 's'} before, ${after.summary.total} after${flags.dryRun === true ? ' (dry run: nothing changed)' : ''}.\n`,
        );
        for (const finding of after.findings)
          terminal.out(printable(`  left: ${finding.rule} (${finding.severity}): ${finding.message}\n`));
      }
      result.code = failsAt(after.findings, flags.failOn) ? EXIT.checkFailed : EXIT.ok;
    });
}
