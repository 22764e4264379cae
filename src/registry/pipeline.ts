import { processAlive } from '../images/store.js';
import type { Registry } from './db.js';
import { nowIso } from './db.js';
import { appendEvent } from './events.js';

/** The steps of a pipeline run, in order. */
export const PIPELINE_STEPS = ['bake', 'audit', 'verify', 'promote'] as const;
export type PipelineStep = (typeof PIPELINE_STEPS)[number];

/** A run of `goldgate pipeline run` or `goldgate patch`, as recorded step by step. */
export interface PipelineRun {
  id: number;
  spec: string;
  /** sha256 of what the run bakes (the spec's text, or the patch plan): a resumed run must bake the same. */
  specDigest: string;
  channel: string | null;
  kind: 'pipeline' | 'patch';
  startedAt: string;
  pid: number;
  imageId: string | null;
  /** The step being done (or the last one done, once finished). */
  step: PipelineStep;
  status: 'running' | 'done' | 'failed';
  finishedAt: string | null;
  /** How it ended: promoted, refused, already, nothing-to-do, or the error's code. */
  outcome: string | null;
}

interface RunRow {
  id: number;
  spec: string;
  spec_digest: string;
  channel: string | null;
  kind: string;
  started_at: string;
  pid: number;
  image_id: string | null;
  step: string;
  status: string;
  finished_at: string | null;
  outcome: string | null;
}

const fromRow = (row: RunRow): PipelineRun => ({
  id: row.id,
  spec: row.spec,
  specDigest: row.spec_digest,
  channel: row.channel,
  kind: row.kind as PipelineRun['kind'],
  startedAt: row.started_at,
  pid: row.pid,
  imageId: row.image_id,
  step: row.step as PipelineStep,
  status: row.status as PipelineRun['status'],
  finishedAt: row.finished_at,
  outcome: row.outcome,
});

/** A started run; `busy` when another live process runs the same spec (the run returned is its). */
export interface StartedRun {
  run: PipelineRun;
  resumed: boolean;
  busy: boolean;
}

/**
 * Starts a run, or takes over the interrupted one: the newest run of the same spec, baking the
 * same thing (`specDigest`), whose process is gone without finishing. Returns the run and
 * whether it was resumed.
 */
export function startRun(
  registry: Registry,
  spec: string,
  specDigest: string,
  kind: PipelineRun['kind'],
  channel: string | null,
): StartedRun {
  return registry.db
    .transaction((): StartedRun => {
      const last = registry.db
        .prepare('SELECT * FROM pipeline_runs WHERE spec = ? AND kind = ? ORDER BY id DESC LIMIT 1')
        .get(spec, kind) as RunRow | undefined;
      if (last !== undefined && last.status === 'running') {
        if (last.pid !== process.pid && processAlive(last.pid))
          return { run: fromRow(last), resumed: false, busy: true };
        if (last.spec_digest === specDigest && last.channel === channel) {
          registry.db.prepare('UPDATE pipeline_runs SET pid = ? WHERE id = ?').run(process.pid, last.id);
          appendEvent(registry, 'pipeline.resume', spec, null, {
            run: last.id,
            step: last.step,
            image: last.image_id,
          });
          return { run: { ...fromRow(last), pid: process.pid }, resumed: true, busy: false };
        }
        // Another spec text or channel: the interrupted run can never finish as it was.
        registry.db
          .prepare(
            "UPDATE pipeline_runs SET status = 'failed', finished_at = ?, outcome = 'abandoned' WHERE id = ?",
          )
          .run(nowIso(), last.id);
        appendEvent(
          registry,
          'pipeline.abandon',
          spec,
          'the spec or channel changed since it was interrupted',
          { run: last.id },
        );
      }
      const id = Number(
        registry.db
          .prepare(
            `INSERT INTO pipeline_runs (spec, spec_digest, channel, kind, started_at, pid, step, status)
             VALUES (?, ?, ?, ?, ?, ?, 'bake', 'running')`,
          )
          .run(spec, specDigest, channel, kind, nowIso(), process.pid).lastInsertRowid,
      );
      appendEvent(registry, 'pipeline.start', spec, null, { run: id, kind, channel });
      const row = registry.db.prepare('SELECT * FROM pipeline_runs WHERE id = ?').get(id) as RunRow;
      return { run: fromRow(row), resumed: false, busy: false };
    })
    .immediate();
}

/** Records that a run reached a step (and, after the bake, its image). */
export function recordStep(registry: Registry, runId: number, step: PipelineStep, imageId?: string): void {
  registry.db
    .transaction(() => {
      registry.db
        .prepare('UPDATE pipeline_runs SET step = ?, image_id = COALESCE(?, image_id) WHERE id = ?')
        .run(step, imageId ?? null, runId);
      appendEvent(registry, 'pipeline.step', `run #${runId}`, null, {
        step,
        ...(imageId === undefined ? {} : { image: imageId }),
      });
    })
    .immediate();
}

/** Records how a run ended. */
export function finishRun(
  registry: Registry,
  runId: number,
  status: 'done' | 'failed',
  outcome: string,
  reason: string | null = null,
): void {
  registry.db
    .transaction(() => {
      registry.db
        .prepare('UPDATE pipeline_runs SET status = ?, finished_at = ?, outcome = ? WHERE id = ?')
        .run(status, nowIso(), outcome, runId);
      appendEvent(registry, `pipeline.${status === 'done' ? 'finish' : 'fail'}`, `run #${runId}`, reason, {
        outcome,
      });
    })
    .immediate();
}

/** A recorded run. */
export function getRun(registry: Registry, runId: number): PipelineRun | undefined {
  const row = registry.db.prepare('SELECT * FROM pipeline_runs WHERE id = ?').get(runId) as
    RunRow | undefined;
  return row === undefined ? undefined : fromRow(row);
}
