import type { Command } from 'commander';
import { printable } from '../../core/printable.js';
import { runPatch } from '../../patch/patch.js';
import type { PatchResult } from '../../patch/patch.js';
import { patchReport } from '../../patch/report.js';
import { EXIT } from '../exit-codes.js';
import { renderPlan } from '../render/patch.js';
import { pipelineJson, pipelineProgress, renderPipeline } from '../render/pipeline.js';
import type { Terminal } from '../terminal.js';

interface PatchFlags {
  dryRun?: boolean;
  channel?: string;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

function nothingToPatch(result: PatchResult): string {
  const { plan } = result;
  const n = plan.planOnly.length;
  const why =
    plan.pending.length === 0
      ? 'no update is pending'
      : n > 0
        ? `the ${n === 1 ? 'update' : `${n} updates`} the policy approves come${n === 1 ? 's' : ''} from Debian's archive, which a derived bake does not install from (plan only)`
        : `no pending update is approved by the policy (${plan.leftOut.length} left out)`;
  return `nothing to patch: ${why}; nothing baked\n`;
}

export function registerPatch(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('patch')
    .summary("list the updates pending against a spec's image, and bake the ones its policy approves")
    .description(
      "List the updates pending against the image of a spec (the one on the spec's first channel, or --channel, else the newest image of the spec's name not revoked): for each installed package, the newest version each repository suite offers that is newer, from the spec's lab repositories and, for an image of a Debian suite, Debian's archive (the suite, -updates and -security through the host's apt sources). Each with where it comes from, whether it is a security update, and when goldgate first saw it. Then apply the spec's patch policy (include, minAge, hold, allow) and, unless --dry-run, write a candidate spec deriving from the image with exactly the approved updates (under $GOLDGATE_HOME/patch/<name>/) and run the pipeline on it: bake, audit, verify, and promote to the channel whose image was patched. Nothing approved: nothing is baked. Reference: docs/gate.md (Patch policy).",
    )
    .argument('<spec>', 'the image spec (YAML; docs/spec.md), with its patch policy')
    .option('--dry-run', 'print the pending updates and the plan, and stop there (needs no root)')
    .option(
      '--channel <channel>',
      "patch the image on this channel and promote the candidate to it (default: the spec's first channel)",
    )
    .option('--json', 'print the plan and its outcome as one JSON document (docs/gate.md)')
    .option(
      '-v, --verbose',
      "also show each step's own progress (reading the sources, bake's copy, verify's launch)",
    )
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .addHelpText(
      'after',
      `
Examples:
  goldgate patch acme.yaml --dry-run
  goldgate patch acme.yaml --channel prod --json | jq '.approved'

Exit status: 0 planned, nothing to patch, or the candidate promoted (or proven
when there is no channel); 1 the channel's gate refused the candidate (or, without
a channel, its proofs do not pass the default gate): the reasons are printed;
2 the spec is invalid or has no image; 3 environment error (the bake and verify of
the candidate need root). Reference: docs/gate.md.`,
    )
    .action(async (specPath: string, flags: PatchFlags) => {
      // Ctrl-C stops the pipeline before its next step (verify terminates its instances); the
      // next patch of the same plan resumes its run.
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) process.exit(130);
        terminal.err(
          `goldgate: ${signal}: stopping after this step (again to stop at once; the next patch resumes)\n`,
        );
        controller.abort(new Error(signal));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let patched;
      try {
        patched = await runPatch(specPath, {
          sink: pipelineProgress(terminal, { verbose: flags.verbose, quiet: flags.quiet }),
          pipeline: { signal: controller.signal },
          ...(flags.channel === undefined ? {} : { channel: flags.channel }),
          ...(flags.dryRun === true ? { dryRun: true } : {}),
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const { pipeline } = patched;
      if (flags.json === true)
        terminal.out(
          `${JSON.stringify(patchReport(patched, pipeline === null ? null : { outcome: pipeline.outcome, json: pipelineJson(pipeline) }), null, 2)}\n`,
        );
      else {
        terminal.out(renderPlan(patched.plan));
        if (patched.outcome === 'dry-run') terminal.out('dry run: nothing written, nothing baked\n');
        else if (patched.outcome === 'nothing-to-patch') terminal.out(nothingToPatch(patched));
        else if (patched.candidate !== null)
          terminal.out(
            `candidate spec: ${printable(patched.candidate.path)} (plan ${patched.candidate.digest})\n`,
          );
        if (pipeline !== null) terminal.out(renderPipeline(pipeline, terminal.color));
      }
      result.code =
        pipeline?.outcome === 'refused' || pipeline?.outcome === 'unproven' ? EXIT.checkFailed : EXIT.ok;
    });
}
