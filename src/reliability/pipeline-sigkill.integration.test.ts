import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { gc } from '../lab/instance.js';
import { getChannel } from '../registry/channels.js';
import { checkRegistry } from '../registry/check.js';
import { getImage, indexStore } from '../registry/images.js';
import { listRuns } from '../registry/runs.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import {
  checkStore,
  counts,
  faultSeed,
  killAt,
  killFractions,
  leftovers,
  namespacesUnder,
  recordExperiment,
  runGoldgate,
  say,
  seededRandom,
  spawnGoldgate,
} from '../test-support/faults.js';
import type { KillOutcome, TrialRecord } from '../test-support/faults.js';
import { labHomes } from '../test-support/lab-home.js';
import { withRegistry } from '../test-support/pipeline.js';

// SIGKILL at random moments of `goldgate pipeline run` (the real CLI, built by `npm run build`):
// a spec derived from the shared base, baked, audited, booted in the lab and promoted to dev.
// Two runs are measured, then each trial writes the spec anew (another motd: another image, so that
// every step has work to do), runs it and kills it at a moment drawn uniformly in [0, the shorter]
// from a seeded generator (GOLDGATE_FAULT_SEED reproduces a run; the seed and moments are
// printed). After each kill: the registry passes SQLite's integrity check and its own, every
// image of the store is whole and recorded once indexed, no staging directory has a live owner;
// after lab gc nothing of the home is left (instance, mount, namespace, cgroup, process); then
// the same command resumes the killed run and promotes the image, leaving nothing behind.
// Then two runs at once: of different specs, both complete; of the same spec, the second is refused.

const TRIALS = 20;
const seed = faultSeed();
const random = seededRandom(seed);
const homes = labHomes('goldgate-pipekill-');
let home = '';
let work = '';
const NOTHING = { mounts: [], loopDevices: [], processes: [], namespaces: [], cgroups: [] };

/** The spec `name`, derived from the shared base; `motd` makes each version another image. */
function writeSpec(name: string, motd: string, channels = '[dev, prod]'): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(
    path,
    `name: ${name}
base:
  from: ${baseRootfs() ?? ''}
files:
  - path: /etc/motd
    content: "${motd}\\n"
health:
  - { name: journald, unit: { name: systemd-journald.service } }
channels: ${channels}
`,
  );
  return path;
}

const args = (spec: string): string[] => ['pipeline', 'run', spec, '--json', '-q'];

interface RunJson {
  outcome: string;
  run: { id: number; resumed: boolean };
  image: { id: string };
}

/** A run that ended on its own: exit 0, its image on dev, a consistent registry, a whole store, nothing left. */
function expectCompleted(
  result: { code: number | null; stdout: string; stderr: string },
  where: string,
  channel = 'dev',
): RunJson {
  expect(result.code, `${where}: ${result.stderr}`).toBe(0);
  const run = JSON.parse(result.stdout) as RunJson;
  expect(['promoted', 'already'], where).toContain(run.outcome);
  withRegistry(home, (registry) => {
    expect(checkRegistry(registry), where).toEqual([]);
    expect(getChannel(registry, channel)?.current?.imageId, where).toBe(run.image.id);
  });
  const store = checkStore(home);
  expect(store.problems, where).toEqual([]);
  expect(store.staging, where).toEqual([]);
  expect(leftovers({ home, paths: [work] }), where).toEqual(NOTHING);
  return run;
}

/**
 * Waits (at most 30 s) until no process of the home is left: what a killed bake had started (a
 * copy of the base) ends on its own, soon after the goldgate that started it.
 */
async function processesEnded(): Promise<void> {
  const until = Date.now() + 30_000;
  while (leftovers({ home, paths: [work] }).processes.length > 0 && Date.now() < until)
    await new Promise((done) => setTimeout(done, 100));
}

/** Right after a kill: the registry whole and consistent, every stored image whole and recorded. */
function expectConsistent(where: string): void {
  withRegistry(home, (registry) => {
    expect(registry.db.pragma('integrity_check', { simple: true }), where).toBe('ok');
    expect(checkRegistry(registry), where).toEqual([]);
    indexStore(registry);
    const store = checkStore(home);
    expect(store.problems, where).toEqual([]);
    for (const id of store.images) expect(getImage(registry, id), `${where}: ${id}`).toBeDefined();
    expect(
      store.staging.filter((s) => s.ownerAlive),
      where,
    ).toEqual([]);
    expect(checkRegistry(registry), where).toEqual([]);
  });
}

describe('SIGKILL at random moments of pipeline run', { sequential: true }, () => {
  beforeAll(() => {
    if (baseRootfs() === undefined) return;
    home = homes.create();
    work = join(home, 'work');
    mkdirSync(work);
    say(`pipeline run SIGKILL experiment: seed ${seed} (GOLDGATE_FAULT_SEED=${seed} reproduces the moments)`);
  });
  afterAll(homes.cleanUp, 180_000);

  itWithBase(
    `${TRIALS} kills, each followed by gc; the registry consistent, nothing left, then the run resumes and promotes`,
    async () => {
      let version = 0;
      const next = (): string => writeSpec('pipekill', `version ${(version += 1)}`);
      // A first run warms the page cache; two more are measured, and kills are spread over the
      // shorter (a run that ends before its moment is tried again at the same fraction).
      expectCompleted(await runGoldgate(args(next()), home), 'the first run');
      const durations: number[] = [];
      for (const run of [1, 2]) {
        const measured = await runGoldgate(args(next()), home);
        expectCompleted(measured, `measured run ${run}`);
        durations.push(measured.ms);
      }
      const duration = Math.min(...durations);
      // Each trial also records the step the killed run had reached (none: killed before its start).
      const trials: Array<TrialRecord & { step?: string }> = [];
      for (const [index, fraction] of killFractions(random, TRIALS).entries()) {
        const trial = index + 1;
        let atMs = Math.round(fraction * duration);
        let where = '';
        let outcome: KillOutcome | undefined;
        let attempts = 0;
        let spec = '';
        let started = '';
        // A run that ended before its moment must have succeeded; then the same fraction of the
        // duration it really took is tried again (up to 3 runs), each on a new version of the spec.
        while (outcome === undefined || (!outcome.killed && attempts < 3)) {
          if (outcome !== undefined) atMs = Math.round(fraction * outcome.ms);
          where = `pipeline run, seed ${seed}, trial ${trial}: SIGKILL due ${atMs} ms after start`;
          attempts += 1;
          spec = next();
          started = new Date().toISOString();
          outcome = await killAt(args(spec), home, atMs);
          if (!outcome.killed) expectCompleted(outcome, `${where} (it ended first)`);
        }
        const record: TrialRecord & { step?: string } = {
          trial,
          atMs,
          fraction: Number(fraction.toFixed(3)),
          killed: outcome.killed,
          attempts,
          code: outcome.code,
          cleaned: {},
          left: counts(NOTHING),
          staging: 0,
          storeProblems: 0,
          rerun: null,
        };
        trials.push(record);
        if (!outcome.killed) continue;
        const namespaces = namespacesUnder([home]);
        record.atKill = counts(leftovers({ home, paths: [work], namespaces }));
        expectConsistent(where);
        const interrupted = withRegistry(home, (registry) => listRuns(registry, { spec, limit: 1 })[0]);
        // The step the killed run was at; or killed before it recorded its run, or after it ended.
        if (interrupted === undefined || interrupted.startedAt < started) record.step = 'before start';
        else record.step = interrupted.status === 'running' ? interrupted.step : 'after the end';
        const cleaned = await gc({ home: join(home, 'lab') });
        await processesEnded();
        const left = leftovers({ home, paths: [work], namespaces });
        const store = checkStore(home);
        Object.assign(record, {
          cleaned: counts(cleaned),
          left: counts(left),
          staging: store.staging.length,
          storeProblems: store.problems.length,
        });
        expect(left, where).toEqual(NOTHING);
        // The same command again: it takes over the killed run when the kill came after its start.
        const again = await runGoldgate(args(spec), home);
        record.rerun = again.code;
        const run = expectCompleted(again, `${where}, the same command after it`);
        if (interrupted?.status === 'running') {
          expect(interrupted.interrupted, where).toBe(true);
          expect(run.run, where).toMatchObject({ id: interrupted.id, resumed: true });
        } else expect(run.run.resumed, where).toBe(false);
      }
      const steps = new Map<string, number>();
      for (const t of trials) if (t.step !== undefined) steps.set(t.step, (steps.get(t.step) ?? 0) + 1);
      say(`pipeline-run: killed at step ${[...steps].map(([step, n]) => `${step} ${n}`).join(', ')}`);
      recordExperiment({
        experiment: 'pipeline-run',
        command: `goldgate ${args('pipekill.yaml').join(' ')}`,
        seed,
        durationMs: durations,
        trials,
      });
    },
    1_800_000,
  );

  itWithBase(
    'two runs of different specs at once both complete; a second run of the same spec is refused',
    async () => {
      const a = writeSpec('pipe-a', 'side by side a', '[side-a]');
      const b = writeSpec('pipe-b', 'side by side b', '[side-b]');
      const [ra, rb] = await Promise.all([runGoldgate(args(a), home), runGoldgate(args(b), home)]);
      expect(expectCompleted(ra, 'pipe-a, beside pipe-b', 'side-a').outcome).toBe('promoted');
      expect(expectCompleted(rb, 'pipe-b, beside pipe-a', 'side-b').outcome).toBe('promoted');

      const c = writeSpec('pipe-c', 'one at a time');
      const first = spawnGoldgate(args(c), home);
      let ended = false;
      void first.exited.then(() => (ended = true));
      // The second starts once the first has recorded its run.
      const running = (): boolean =>
        withRegistry(home, (registry) => listRuns(registry, { spec: c, limit: 1 })[0]?.status === 'running');
      while (!ended && !running()) await new Promise((done) => setTimeout(done, 20));
      expect(ended, first.output().stderr).toBe(false);
      const second = await runGoldgate(args(c), home);
      expect(second.code).toBe(3);
      expect(second.stderr).toContain(
        `another goldgate (pid ${first.child.pid}) is running the pipeline of ${c}`,
      );
      expect((await first.exited).code, first.output().stderr).toBe(0);
      expect((JSON.parse(first.output().stdout) as RunJson).outcome).toBe('promoted');
      expect(leftovers({ home, paths: [work] })).toEqual(NOTHING);
    },
    600_000,
  );
});
