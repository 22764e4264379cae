import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { collectingSink } from '../core/events.js';
import { listInstances } from '../lab/instance.js';
import { getChannel } from '../registry/channels.js';
import { checkRegistry } from '../registry/check.js';
import { getRun } from '../registry/pipeline.js';
import { latestVerification } from '../registry/proofs.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { labHomes } from '../test-support/lab-home.js';
import { withRegistry } from '../test-support/pipeline.js';
import { latestProof } from '../verify/store.js';
import { runPipeline } from './pipeline.js';

// The pipeline with real parts: a spec derived from the shared base (a copy of it, a file, the
// auto-update remediations) baked, audited, booted in the lab with real systemd and promoted;
// then the same spec again, which finds everything recorded.

const homes = labHomes('goldgate-pipeline-');
let home = '';

/** A derived spec that bakes in seconds from the shared base, with a health check and channels. */
function derivedSpec(from: string): string {
  return `name: pipe-int
base:
  from: ${from}
files:
  - path: /etc/motd
    content: "through the pipeline\\n"
health:
  - { name: journald, unit: { name: systemd-journald.service } }
channels: [dev, prod]
`;
}

describe('goldgate pipeline run, baking and booting', () => {
  beforeAll(() => {
    if (baseRootfs() === undefined) return;
    home = homes.create();
  });
  afterAll(homes.cleanUp, 180_000);

  itWithBase(
    'bakes, verifies and promotes to the first channel; again, it finds the image and its proofs recorded; another image of the same digest is verified',
    async () => {
      const work = join(home, 'work');
      mkdirSync(work);
      const spec = join(work, 'pipe.yaml');
      writeFileSync(spec, derivedSpec(baseRootfs() ?? ''));

      const sink = collectingSink();
      const first = await runPipeline(spec, { home, sink });
      expect(first.missing).toEqual([]);
      expect(first).toMatchObject({ outcome: 'promoted', channel: 'dev', resumed: false });
      expect(first.steps.map((s) => [s.step, s.status])).toEqual([
        ['bake', 'done'],
        // bake stores the audit it made of the image.
        ['audit', 'skipped'],
        ['verify', 'done'],
        ['promote', 'done'],
      ]);
      expect(first.steps[0]?.message).toBe(`baked: ${first.image.id} pipe-int ${first.image.digest}`);
      expect(first.verification).toMatchObject({ verdict: 'immutable', classes: [] });
      expect(latestProof(home, first.image.id)?.verdict).toBe('immutable');
      // The steps' own progress, under their names.
      const steps = new Set(sink.events.flatMap((e) => (e.type === 'progress' ? [e.step] : [])));
      for (const step of ['bake', 'bake.copy', 'bake.store', 'audit', 'verify', 'verify.launch', 'promote'])
        expect(steps, step).toContain(step);
      // The verify's instance is gone.
      expect(listInstances({ home: join(home, 'lab') }).filter((i) => i.alive)).toEqual([]);

      const second = await runPipeline(spec, { home });
      expect(second.image.id).toBe(first.image.id);
      expect(second.outcome).toBe('already');
      expect(second.run.id).toBeGreaterThan(first.run.id);
      expect(second.steps.map((s) => [s.step, s.status])).toEqual([
        // A new run bakes: the same spec gives the same image, stored already.
        ['bake', 'done'],
        ['audit', 'skipped'],
        ['verify', 'skipped'],
        ['promote', 'skipped'],
      ]);
      expect(second.steps[0]?.message).toMatch(/^already present: /);
      expect(second.steps[3]?.message).toBe(`dev already points to ${first.image.id}`);

      // The next channel: the proofs of the digest are used again, nothing is booted.
      const prod = await runPipeline(spec, { home, channel: 'prod' });
      expect(prod).toMatchObject({ outcome: 'promoted', channel: 'prod' });
      expect(prod.steps.find((s) => s.step === 'verify')?.status).toBe('skipped');

      // Another file: another image, with the same manifest digest. It is booted all the same.
      writeFileSync(spec, derivedSpec(baseRootfs() ?? '').replace('through the pipeline', 'another motd'));
      const other = await runPipeline(spec, { home });
      expect(other.image.id).not.toBe(first.image.id);
      expect(other.image.digest).toBe(first.image.digest);
      expect(other.steps.find((s) => s.step === 'verify')).toMatchObject({
        status: 'done',
        message: 'immutable',
      });
      expect(other.outcome).toBe('promoted');

      withRegistry(home, (registry) => {
        expect(checkRegistry(registry)).toEqual([]);
        expect(getChannel(registry, 'dev')?.current?.imageId).toBe(other.image.id);
        expect(getChannel(registry, 'prod')?.current?.imageId).toBe(first.image.id);
        expect(latestVerification(registry, first.image.digest)?.imageId).toBe(other.image.id);
        for (const run of [first, second, prod])
          expect(getRun(registry, run.run.id)).toMatchObject({ status: 'done', imageId: first.image.id });
      });
    },
    600_000,
  );
});
