import { resolve } from 'node:path';
import type { Command } from 'commander';
import { goldgateHome } from '../../core/home.js';
import { runPipeline } from '../../pipeline/pipeline.js';
import { openRegistry } from '../../registry/db.js';
import { listRuns } from '../../registry/runs.js';
import { EXIT } from '../exit-codes.js';
import { wholeNumber } from '../flags.js';
import { pipelineJson, pipelineProgress, renderPipeline, renderRuns, runsJson } from '../render/pipeline.js';
import type { Terminal } from '../terminal.js';

interface RunFlags {
  channel?: string;
  instances: string;
  timeout: string;
  refreshBase?: boolean;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

interface StatusFlags {
  limit: string;
  json?: boolean;
}

export function registerPipeline(program: Command, terminal: Terminal, result: { code: number }): void {
  const pipeline = program
    .command('pipeline')
    .summary('bake, audit, verify and promote a spec as one resumable command')
    .description(
      'The gate as one command: bake the spec, audit the image, verify it on booted lab instances, and promote it to a channel through its gate. Each step is recorded in the registry as it is reached, so a run that was killed (or a machine that went down) is resumed by the next run of the same spec: what is already recorded for the image digest is skipped. Reference: docs/gate.md#pipeline.',
    );

  pipeline
    .command('run')
    .summary('bake → audit → verify → promote a spec, resuming an interrupted run')
    .description(
      "Bakes the spec (as goldgate bake), audits the image (skipped when an audit of its digest is stored: bake stores one), verifies it (as goldgate verify with the spec's health checks and dnsAllow; skipped when a verify of its digest is stored) and promotes it to --channel or the spec's first channels entry (as goldgate promote). Without a channel it stops after the proofs and says whether they pass the default gate. A run killed at any moment is resumed by the next run of the same spec text: its image is not baked again, and every proof recorded for the digest is kept. Needs root (bake and verify do). Reference: docs/gate.md#pipeline.",
    )
    .argument('<spec>', 'the image spec (YAML; docs/spec.md), with health checks')
    .option('--channel <name>', "the channel to promote to (default the spec's first channels entry)")
    .option('-n, --instances <n>', 'instances the verify step boots at once (1-20)', '1')
    .option('--timeout <seconds>', "how long the verify step's fast-forwarded services may run", '600')
    .option('--refresh-base', 'bootstrap the base again even if one was built today')
    .option('--json', 'print the run as one JSON document (docs/gate.md#pipeline)')
    .option('-v, --verbose', "also show each step's own progress (bake's copy, verify's launch)")
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .addHelpText(
      'after',
      `
Examples:
  sudo goldgate pipeline run examples/acme/specs/fixed.yaml --channel prod
  sudo goldgate pipeline run acme.yaml --json | jq -r .outcome

Exit status: 0 promoted, already on the channel, or proven (no channel given);
1 the gate refused the promotion (or, without a channel, the proofs do not pass
the default gate): the reasons are printed; 2 usage error (a bad spec or
channel); 3 environment error (not root, a step failed, another run of the same
spec is running).`,
    )
    .action(async (spec: string, flags: RunFlags) => {
      const instances = wholeNumber('--instances', flags.instances, 1, 20, 'PIPELINE_BAD_FLAG');
      const timeoutS = wholeNumber('--timeout', flags.timeout, 1, 86_400, 'PIPELINE_BAD_FLAG');
      // Ctrl-C stops the run before its next step (verify terminates its instances); a second
      // one ends it at once, and the next run resumes it.
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) process.exit(130);
        terminal.err(
          `goldgate: ${signal}: stopping after this step (again to stop at once; the next run resumes)\n`,
        );
        controller.abort(new Error(signal));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const run = await runPipeline(spec, {
          sink: pipelineProgress(terminal, { verbose: flags.verbose, quiet: flags.quiet }),
          signal: controller.signal,
          verify: { instances, fastForwardTimeoutMs: timeoutS * 1000 },
          ...(flags.channel === undefined ? {} : { channel: flags.channel }),
          ...(flags.refreshBase === true ? { basePolicy: 'refresh' as const } : {}),
        });
        terminal.out(
          flags.json === true
            ? `${JSON.stringify(pipelineJson(run), null, 2)}\n`
            : renderPipeline(run, terminal.color),
        );
        result.code = run.outcome === 'refused' || run.outcome === 'unproven' ? EXIT.checkFailed : EXIT.ok;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  pipeline
    .command('status')
    .summary('list the recorded pipeline runs, newest first')
    .description(
      'Lists the runs of goldgate pipeline run and goldgate patch that the registry recorded, newest first: the step each reached, its image, how it ended. A run whose process is gone before it finished is shown as interrupted: the next run of its spec resumes it. Reads only. Reference: docs/gate.md#pipeline.',
    )
    .argument('[spec]', 'only the runs of this spec')
    .option('--limit <n>', 'how many runs to list (1-1000)', '20')
    .option('--json', 'print {"runs": [...]} as JSON (docs/gate.md#pipeline)')
    .addHelpText(
      'after',
      `
Examples:
  goldgate pipeline status
  goldgate pipeline status examples/acme/specs/fixed.yaml --json

Exit status: 0, 2 usage error, 3 the registry cannot be read.`,
    )
    .action((spec: string | undefined, flags: StatusFlags) => {
      const limit = wholeNumber('--limit', flags.limit, 1, 1000, 'PIPELINE_BAD_FLAG');
      const registry = openRegistry(goldgateHome());
      try {
        const runs = listRuns(registry, { limit, ...(spec === undefined ? {} : { spec: resolve(spec) }) });
        terminal.out(flags.json === true ? `${JSON.stringify(runsJson(runs), null, 2)}\n` : renderRuns(runs));
      } finally {
        registry.close();
      }
      result.code = EXIT.ok;
    });
}
