import type { EventSink, GoldgateEvent } from '../../core/events.js';
import { printable, printableDeep } from '../../core/printable.js';
import type { PipelineResult } from '../../pipeline/pipeline.js';
import { auditSummary, verifySummary } from '../../pipeline/plan.js';
import { PIPELINE_STEPS } from '../../registry/pipeline.js';
import type { RunStatus } from '../../registry/runs.js';
import { style } from '../terminal.js';
import type { Terminal } from '../terminal.js';
import { table } from './group.js';

const isPipelineStep = (step: string): boolean => (PIPELINE_STEPS as readonly string[]).includes(step);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/**
 * The progress of `pipeline run` on standard error: a line when each of its steps starts and
 * one when it ends (done, with its time, or skipped, with why); the steps' own progress (bake's
 * copy, verify's launch) indented, when the terminal is watched or with --verbose; warnings.
 * Nothing with --quiet.
 */
export function pipelineProgress(
  terminal: Terminal,
  options: { verbose?: boolean; quiet?: boolean },
): EventSink {
  const detail = terminal.interactive || options.verbose === true;
  const color = terminal.color;
  return {
    emit(event: GoldgateEvent) {
      if (options.quiet === true) return;
      if (event.type === 'warning') {
        const where = event.path === undefined ? '' : `${event.path}: `;
        terminal.err(`warning: ${printable(`${where}${event.message}`, { oneLine: true })}\n`);
        return;
      }
      if (event.type !== 'progress') return;
      const text = printable(`${event.step}: ${event.message}`, { oneLine: true });
      if (!isPipelineStep(event.step)) {
        if (detail && event.done === true)
          terminal.err(`    ${style.dim(`${text} (${seconds(event.elapsedMs ?? 0)})`, color)}\n`);
        return;
      }
      if (event.skipped === true)
        terminal.err(
          `${style.dim(`– ${event.step}: skipped: ${printable(event.message, { oneLine: true })}`, color)}\n`,
        );
      else if (event.done === true)
        terminal.err(`${style.green('✓', color)} ${text} (${seconds(event.elapsedMs ?? 0)})\n`);
      else terminal.err(`${style.bold('…', color)} ${text}\n`);
    },
  };
}

/** The result of `pipeline run` for a person: the outcome, the image, its proofs, what is missing. */
export function renderPipeline(unsafe: PipelineResult, color: boolean): string {
  const result = printableDeep(unsafe);
  const { image, run, channel } = result;
  const name = `${image.id} ${image.name}`;
  const head = {
    promoted: style.green(`promoted: ${name} to ${channel ?? ''}`, color),
    already: style.green(`already on ${channel ?? ''}: ${name}`, color),
    proven: style.green(`proven: ${name} (no channel to promote to)`, color),
    refused: style.red(`refused: ${name} was not promoted to ${channel ?? ''}`, color),
    unproven: style.red(
      `unproven: ${name} would not pass the default gate (no channel to promote to)`,
      color,
    ),
  }[result.outcome];
  const steps = result.steps.map((s) => `${s.step} ${s.status}`).join(', ');
  const lines = [
    head,
    `  run #${run.id}${result.resumed ? ' (resumed)' : ''}: ${steps}`,
    `  digest ${image.digest}`,
    `  audit: ${auditSummary(result.audit)} (${result.audit.origin}, ${result.audit.at})`,
    result.verification === null
      ? '  verify: none stored'
      : `  verify: ${verifySummary(result.verification)} (${result.verification.at})${result.verification.proof === null ? '' : `, proof ${result.verification.proof}`}`,
    ...result.missing.map((m) => `  - ${m}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `pipeline run --json`: docs/gate.md#goldgate-pipeline-run---json. */
export function pipelineJson(result: PipelineResult): Record<string, unknown> {
  const { run, image, audit, verification, promotion } = result;
  return {
    schemaVersion: 1,
    outcome: result.outcome,
    channel: result.channel,
    missing: result.missing,
    run: {
      id: run.id,
      kind: run.kind,
      spec: run.spec,
      specDigest: run.specDigest,
      status: run.status,
      resumed: result.resumed,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
    },
    image: { id: image.id, name: image.name, digest: image.digest, parent: image.parent, path: image.path },
    steps: result.steps,
    audit: {
      at: audit.at,
      origin: audit.origin,
      total: audit.total,
      bySeverity: audit.bySeverity,
      worst: audit.worst,
    },
    verification:
      verification === null
        ? null
        : {
            at: verification.at,
            verdict: verification.verdict,
            classes: verification.classes,
            reasons: verification.reasons,
            proof: verification.proof,
          },
    promotion:
      promotion === null
        ? null
        : {
            already: promotion.already,
            assignment:
              promotion.assignment === null
                ? null
                : {
                    id: promotion.assignment.id,
                    at: promotion.assignment.at,
                    by: promotion.assignment.by,
                    forced: promotion.assignment.forced,
                    reason: promotion.assignment.reason,
                  },
          },
  };
}

/** What a run's status column says: `interrupted` for a running run whose process is gone. */
const runState = (run: RunStatus): string => (run.interrupted ? 'interrupted' : run.status);

/** `pipeline status`: the recorded runs, newest first. */
export function renderRuns(unsafe: RunStatus[]): string {
  const runs = printableDeep(unsafe);
  if (runs.length === 0) return 'no pipeline runs (goldgate pipeline run <spec> starts one)\n';
  const rows = [
    ['RUN', 'STATUS', 'STEP', 'OUTCOME', 'CHANNEL', 'IMAGE', 'STARTED', 'KIND', 'SPEC'],
    ...runs.map((run) => [
      `#${run.id}`,
      runState(run),
      run.step,
      run.outcome ?? '-',
      run.channel ?? '-',
      run.imageId ?? '-',
      run.startedAt,
      run.kind,
      run.spec,
    ]),
  ];
  const interrupted = runs.some((run) => run.interrupted)
    ? '\ninterrupted: its process is gone; the next goldgate pipeline run of its spec resumes it\n'
    : '';
  return `${table(rows)}\n${interrupted}`;
}

/** `pipeline status --json`: docs/gate.md#goldgate-pipeline-status---json. */
export function runsJson(runs: RunStatus[]): Record<string, unknown> {
  return {
    schemaVersion: 1,
    runs: runs.map((run) => ({
      id: run.id,
      spec: run.spec,
      specDigest: run.specDigest,
      kind: run.kind,
      channel: run.channel,
      status: run.status,
      interrupted: run.interrupted,
      step: run.step,
      image: run.imageId,
      outcome: run.outcome,
      pid: run.pid,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      steps: run.steps,
    })),
  };
}
