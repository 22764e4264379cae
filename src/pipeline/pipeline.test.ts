import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectingSink } from '../core/events.js';
import { getChannel } from '../registry/channels.js';
import { checkRegistry } from '../registry/check.js';
import { listEvents } from '../registry/events.js';
import { getRun } from '../registry/pipeline.js';
import {
  INTERRUPTED_IMAGE as ID,
  PIPE_SPEC as SPEC,
  interruptedRun as interrupted,
  withRegistry,
} from '../test-support/pipeline.js';
import { tempDir } from '../test-support/tree.js';
import { runPipeline } from './pipeline.js';

// runPipeline without root: a run that was interrupted after its bake, in a registry that holds
// the image and its proofs, resumes to the promote step; bake and verify (which need root and
// a lab) are skipped as a resumed run skips them. The bake and verify steps themselves are
// run by pipeline.integration.test.ts.

describe('a resumed pipeline run', () => {
  it("skips what is recorded and promotes to the spec's first channel", async () => {
    const { home, spec, runId } = interrupted();
    const sink = collectingSink();
    const result = await runPipeline(spec, { home, sink });
    expect(result).toMatchObject({ resumed: true, outcome: 'promoted', channel: 'dev', missing: [] });
    expect(result.run).toMatchObject({ id: runId, status: 'done', outcome: 'promoted', imageId: ID });
    expect(result.steps.map((s) => [s.step, s.status])).toEqual([
      ['bake', 'skipped'],
      ['audit', 'skipped'],
      ['verify', 'skipped'],
      ['promote', 'done'],
    ]);
    expect(result.steps[0]?.message).toBe(`${ID} was baked by run #${runId} before it was interrupted`);
    expect(result.promotion?.assignment?.imageId).toBe(ID);
    // Progress: each step ends with one event, skipped or done.
    const ends = sink.events.filter((e) => e.type === 'progress' && e.done === true);
    expect(ends.map((e) => e.type === 'progress' && [e.step, e.skipped === true])).toEqual([
      ['bake', true],
      ['audit', true],
      ['verify', true],
      ['promote', false],
    ]);
    withRegistry(home, (registry) => {
      expect(getChannel(registry, 'dev')?.current?.imageId).toBe(ID);
      expect(checkRegistry(registry)).toEqual([]);
      const actions = listEvents(registry).map((e) => e.action);
      expect(actions).toContain('pipeline.resume');
      expect(actions.slice(-2)).toEqual(['promote', 'pipeline.finish']);
    });
  });

  it('is refused by the gate with its reasons, and the channel stays as it was', async () => {
    const { home, spec } = interrupted({ classes: ['changes-itself'] });
    const result = await runPipeline(spec, { home });
    expect(result.outcome).toBe('refused');
    expect(result.missing).toHaveLength(1);
    expect(result.missing[0]).toMatch(/is mutable \(changes-itself, which the channel blocks\): \/etc\/x/);
    expect(result.steps.at(-1)).toMatchObject({ step: 'promote', status: 'done' });
    withRegistry(home, (registry) => {
      expect(getChannel(registry, 'dev')?.current).toBeNull();
      expect(getRun(registry, result.run.id)).toMatchObject({ status: 'done', outcome: 'refused' });
      expect(checkRegistry(registry)).toEqual([]);
    });
  });

  it('without a channel, is proven or unproven by the default gate', async () => {
    const noChannel = SPEC.replace('channels: [dev, prod]\n', '');
    const proven = interrupted({ spec: noChannel });
    expect((await runPipeline(proven.spec, { home: proven.home })).outcome).toBe('proven');
    const unproven = interrupted({ spec: noChannel, classes: ['broken'] });
    const result = await runPipeline(unproven.spec, { home: unproven.home });
    expect(result).toMatchObject({ outcome: 'unproven', channel: null, promotion: null });
    expect(result.missing[0]).toMatch(/broken/);
    expect(result.steps.at(-1)).toMatchObject({ step: 'promote', status: 'skipped' });
  });

  it('a second run of the same spec while the first runs is refused, and records nothing', async () => {
    const { home, spec, runId } = interrupted();
    // The first run's process is alive: this test's parent.
    withRegistry(home, (registry) =>
      registry.db.prepare('UPDATE pipeline_runs SET pid = ? WHERE id = ?').run(process.ppid, runId),
    );
    const error = await runPipeline(spec, { home }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PIPELINE_BUSY', fault: 'environment' });
    expect((error as Error).message).toContain(
      `another goldgate (pid ${process.ppid}) is running the pipeline of ${spec}: run #${runId}, at its audit step`,
    );
    withRegistry(home, (registry) => {
      expect(getRun(registry, runId)?.status).toBe('running');
      expect(registry.db.prepare('SELECT COUNT(*) AS n FROM pipeline_runs').get()).toEqual({ n: 1 });
    });
  });

  it('stops before its next step when interrupted, and records the run as failed', async () => {
    const { home, spec, runId } = interrupted();
    const controller = new AbortController();
    controller.abort(new Error('SIGINT'));
    const error = await runPipeline(spec, { home, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PIPELINE_INTERRUPTED' });
    withRegistry(home, (registry) => {
      expect(getRun(registry, runId)).toMatchObject({ status: 'failed', outcome: 'PIPELINE_INTERRUPTED' });
      expect(getChannel(registry, 'dev')).toBeUndefined();
    });
  });
});

describe('before a run starts', () => {
  it('a spec without health checks is a usage error, and no run is recorded', async () => {
    const home = tempDir('goldgate-pipeline-');
    const spec = join(home, 'bare.yaml');
    writeFileSync(spec, 'name: bare\nbase: { suite: bookworm }\n');
    await expect(runPipeline(spec, { home })).rejects.toMatchObject({
      code: 'PIPELINE_NO_HEALTH_CHECKS',
      fault: 'user',
    });
    await expect(runPipeline(join(home, 'none.yaml'), { home })).rejects.toMatchObject({
      code: 'SPEC_NOT_FOUND',
    });
    withRegistry(home, (registry) =>
      expect(registry.db.prepare('SELECT COUNT(*) AS n FROM pipeline_runs').get()).toEqual({ n: 0 }),
    );
  });

  it('a bad --channel is a usage error', async () => {
    const { home, spec } = interrupted();
    await expect(runPipeline(spec, { home, channel: 'Prod' })).rejects.toMatchObject({
      code: 'BAD_CHANNEL_NAME',
    });
  });
});
