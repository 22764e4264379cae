import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { bake } from '../bake/bake.js';
import { createGroup, deleteGroup, scaleGroup } from '../group/admin.js';
import { readState } from '../group/store.js';
import { listImages } from '../images/store.js';
import type { StoredImage } from '../images/store.js';
import { gc, listInstances } from '../lab/instance.js';
import { readInstance } from '../lab/state.js';
import { latestProof } from '../verify/store.js';
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
  reapersEnded,
  say,
  seededRandom,
  smallRawDisk,
  smallRoot,
} from '../test-support/faults.js';
import type { KillOutcome, TrialRecord } from '../test-support/faults.js';
import { labHomes } from '../test-support/lab-home.js';

// SIGKILL at random moments of the real CLI (`node bin/goldgate.js`, built by `npm run build`):
// bake, image import, verify and group run. Each command's duration is measured, then it
// is killed at moments drawn uniformly in [0, duration] from a seeded generator
// (GOLDGATE_FAULT_SEED reproduces a run; the seed and moments are printed). After each kill:
// lab gc, then no mount, loop device, process, network namespace or cgroup of this test's
// GOLDGATE_HOME may be left, and the image store holds only whole images; then the same
// command runs again and must succeed, leaving no staging directory. A run that ends before
// its moment must have succeeded.
// GOLDGATE_RELIABILITY_REPORT=<dir> writes each experiment's summary as JSON (RELIABILITY.md).

const TRIALS = 20;
const seed = faultSeed();
const random = seededRandom(seed);
const homes = labHomes('goldgate-kill-');
let home = '';
const lab = (): string => join(home, 'lab');
let verifyImage: StoredImage | undefined;

/** A derived bake from the shared base: a copy of the base, a file, the auto-update remediations. */
function derivedSpec(name: string, from: string): string {
  return `name: ${name}
base:
  from: ${from}
files:
  - path: /etc/motd
    content: "baked under fire\\n"
health:
  - { name: journald, unit: { name: systemd-journald.service } }
`;
}

/** Removes the stored image of this name, so that the next run stores it again (registration included). */
function forget(name: string): void {
  for (const image of listImages(home).filter((i) => i.name === name))
    rmSync(image.path, { recursive: true, force: true });
}

const groupInstances = (): string[] =>
  listInstances({ home: lab() })
    .filter((s) => s.alive && s.info?.group === 'kill')
    .map((s) => s.id)
    .sort();

interface Experiment {
  name: string;
  args: () => string[];
  /** Before each run: -1 the first, 0 and 1 the measured ones, then each trial's number. */
  prepare?: (run: number) => void;
  /** Instances that may outlive a kill and gc (a group's running members). */
  keep?: () => string[];
  /** Whether every run does the same work (so a run that ended before its moment can be tried again). */
  repeatable: boolean;
  /** Checks on a run that ended on its own (and succeeded). */
  completed: (result: { code: number | null; stdout: string; stderr: string }) => void;
}

const NOTHING = { mounts: [], loopDevices: [], processes: [], namespaces: [], cgroups: [] };

/** A run of the command that ended on its own: it succeeded and left no staging directory, no half image, nothing else. */
function expectCompleted(
  experiment: Experiment,
  result: { code: number | null; stdout: string; stderr: string },
  where: string,
): void {
  expect(result.code, `${where}: ${result.stderr}`).toBe(0);
  experiment.completed(result);
  const store = checkStore(home);
  expect(store.problems, where).toEqual([]);
  expect(store.staging, where).toEqual([]);
  expect(leftovers({ home, keep: experiment.keep?.() ?? [] }), where).toEqual(NOTHING);
}

/**
 * Measures the command, then TRIALS times: runs it and kills it at its moment; gc; checks that
 * nothing is left and the store is whole; runs the same command again, which must succeed.
 */
async function killExperiment(experiment: Experiment): Promise<void> {
  // The first run warms the page cache and starts what stays started. Then an even and an odd
  // run are measured: trials draw their moment from the duration of the run of their parity
  // (a group's even runs launch an instance, its odd runs terminate one).
  experiment.prepare?.(-1);
  expectCompleted(
    experiment,
    await runGoldgate(experiment.args(), home),
    `${experiment.name}, the first run`,
  );
  const durations: number[] = [];
  for (const run of [0, 1]) {
    experiment.prepare?.(run);
    const measured = await runGoldgate(experiment.args(), home);
    expectCompleted(experiment, measured, `${experiment.name}, measuring run ${run}`);
    durations.push(measured.ms);
  }
  const durationOf = (trial: number): number => durations[trial % 2] ?? 0;
  const fractions = killFractions(random, TRIALS);
  const trials: TrialRecord[] = [];
  for (const [index, fraction] of fractions.entries()) {
    const trial = index + 1;
    let atMs = Math.round(fraction * durationOf(trial));
    let where = '';
    let outcome: KillOutcome | undefined;
    let attempts = 0;
    while (outcome === undefined || (!outcome.killed && experiment.repeatable && attempts < 3)) {
      if (outcome !== undefined) atMs = Math.round(fraction * outcome.ms);
      where = `${experiment.name}, seed ${seed}, trial ${trial}: SIGKILL due ${atMs} ms after start`;
      attempts += 1;
      experiment.prepare?.(trial);
      outcome = await killAt(experiment.args(), home, atMs);
      // A run that ended before its moment must have succeeded; then the same fraction of
      // the duration it really took is tried (up to 3 runs) where runs can repeat.
      if (!outcome.killed) expectCompleted(experiment, outcome, `${where} (it ended first)`);
    }
    const record: TrialRecord = {
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
    // What the kill left for the reaper and gc: the window the moment fell in.
    record.atKill = counts(leftovers({ home, namespaces, keep: experiment.keep?.() ?? [] }));
    // An import's reaper outlives it by design, to unmount what it had mounted: it ends first.
    expect(await reapersEnded(home), where).toEqual([]);
    const cleaned = await gc({ home: lab() });
    const left = leftovers({ home, namespaces, keep: experiment.keep?.() ?? [] });
    const store = checkStore(home);
    Object.assign(record, {
      cleaned: counts(cleaned),
      left: counts(left),
      staging: store.staging.length,
      storeProblems: store.problems.length,
    });
    expect(left, where).toEqual(NOTHING);
    expect(store.problems, where).toEqual([]);
    expect(
      store.staging.filter((s) => s.ownerAlive),
      where,
    ).toEqual([]);
    // The same command again.
    const again = await runGoldgate(experiment.args(), home);
    record.rerun = again.code;
    expectCompleted(experiment, again, `${where}, the same command after it`);
  }
  recordExperiment({
    experiment: experiment.name,
    command: `goldgate ${experiment.args().join(' ').replaceAll(home, '$GOLDGATE_HOME')}`,
    seed,
    durationMs: durations,
    trials,
  });
}

describe('SIGKILL at random moments', { sequential: true }, () => {
  let base = '';
  let disk = '';
  beforeAll(async () => {
    const shared = baseRootfs();
    if (shared === undefined) return; // the fast tier: every test here is skipped
    base = shared;
    home = homes.create();
    say(`SIGKILL experiments: seed ${seed} (GOLDGATE_FAULT_SEED=${seed} reproduces the moments)`);
    const work = join(home, 'work');
    mkdirSync(work);
    disk = smallRawDisk(base, work);
    const spec = join(work, 'verified.yaml');
    writeFileSync(spec, derivedSpec('kill-verify', base));
    verifyImage = (await bake(spec, { home })).image;
  }, 600_000);
  afterAll(homes.cleanUp, 180_000);

  itWithBase(
    `bake: ${TRIALS} kills, each followed by gc; nothing left, no half image, then it bakes`,
    async () => {
      // Derived from a small root cut from the base: every step of a bake, in less time.
      const spec = join(home, 'work', 'bake.yaml');
      writeFileSync(spec, derivedSpec('kill-bake', smallRoot(base, join(home, 'work', 'parent'))));
      await killExperiment({
        name: 'bake',
        repeatable: true,
        args: () => ['bake', spec, '-q'],
        prepare: () => forget('kill-bake'),
        completed: (result) => expect(result.stdout).toMatch(/^baked: img-[0-9a-f]{12} kill-bake /),
      });
    },
    600_000,
  );

  itWithBase(
    `image import of a raw disk: ${TRIALS} kills, each followed by gc; nothing mounted or attached, no half image, then it imports`,
    async () => {
      await killExperiment({
        name: 'image-import',
        repeatable: true,
        args: () => ['image', 'import', disk, '--name', 'kill-import'],
        prepare: () => forget('kill-import'),
        completed: (result) => expect(result.stdout).toMatch(/^img-[0-9a-f]{12} {2}kill-import /),
      });
    },
    600_000,
  );

  itWithBase(
    `verify: ${TRIALS} kills, each followed by gc; no instance, namespace or cgroup left, then it proves`,
    async () => {
      const image = verifyImage as StoredImage;
      await killExperiment({
        name: 'verify',
        repeatable: true,
        args: () => ['verify', image.id, '-q'],
        completed: () => expect(latestProof(home, image.id)?.verdict).toBe('immutable'),
      });
    },
    600_000,
  );

  itWithBase(
    `group run: ${TRIALS} kills while it launches or terminates, each followed by gc; only the group's running instances stay, then it reconciles`,
    async () => {
      let desired = 1;
      await createGroup({
        home,
        name: 'kill',
        image: (verifyImage as StoredImage).id,
        desired: 1,
        min: 0,
        max: 2,
        graceSeconds: 1,
        healthIntervalSeconds: 1,
        unhealthyThreshold: 2,
      });
      await killExperiment({
        name: 'group-run',
        // A run that ended first has reached its desired capacity: the same run again does nothing.
        repeatable: false,
        args: () => ['group', 'run', 'kill', '--once', '--json'],
        // Even runs launch a second instance, odd ones terminate one (the first launches the first).
        prepare: (run) => {
          desired = run % 2 === 0 ? 2 : 1;
          scaleGroup(home, 'kill', { desired });
        },
        keep: groupInstances,
        completed: () => {
          const state = readState(home, 'kill');
          const members = state.members.map((m) => m.id).sort();
          expect(members).toEqual(groupInstances());
          expect(members).toHaveLength(desired);
          for (const id of members) expect(readInstance(lab(), id)?.state).toBe('running');
        },
      });
      await deleteGroup(home, 'kill');
      await gc({ home: lab() });
      expect(leftovers({ home })).toEqual({
        mounts: [],
        loopDevices: [],
        processes: [],
        namespaces: [],
        cgroups: [],
      });
    },
    600_000,
  );
});
