import { processAlive } from '../images/store.js';
import type { Registry } from './db.js';
import { listEvents } from './events.js';
import { getRun } from './pipeline.js';
import type { PipelineRun, PipelineStep } from './pipeline.js';

// Read-only queries of pipeline runs, for `goldgate pipeline status`.

/** A recorded run as `pipeline status` shows it. */
export interface RunStatus extends PipelineRun {
  /** `running` whose process is gone: the next `pipeline run` of the spec resumes it. */
  interrupted: boolean;
  /** When the run reached each step (from the event log), oldest first. */
  steps: Array<{ step: PipelineStep; at: string; image?: string }>;
}

/** The newest runs first (`limit` of them, default 20), of one spec (its absolute path) when given. */
export function listRuns(registry: Registry, options: { spec?: string; limit?: number } = {}): RunStatus[] {
  const limit = options.limit ?? 20;
  const rows = (
    options.spec === undefined
      ? registry.db.prepare('SELECT id FROM pipeline_runs ORDER BY id DESC LIMIT ?').all(limit)
      : registry.db
          .prepare('SELECT id FROM pipeline_runs WHERE spec = ? ORDER BY id DESC LIMIT ?')
          .all(options.spec, limit)
  ) as Array<{ id: number }>;
  return rows.map(({ id }) => runStatus(registry, getRun(registry, id) as PipelineRun));
}

function runStatus(registry: Registry, run: PipelineRun): RunStatus {
  const steps = listEvents(registry, { subject: `run #${run.id}` })
    .filter((event) => event.action === 'pipeline.step')
    .map((event) => ({
      step: event.details.step as PipelineStep,
      at: event.at,
      ...(typeof event.details.image === 'string' ? { image: event.details.image } : {}),
    }));
  return {
    ...run,
    interrupted: run.status === 'running' && run.pid !== process.pid && !processAlive(run.pid),
    steps,
  };
}
