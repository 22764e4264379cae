import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { bake } from '../bake/bake.js';
import { collectingSink } from '../core/events.js';
import type { GroupStatus } from '../core/events.js';
import { diagnose } from '../diagnose/report.js';
import type { StoredImage } from '../images/store.js';
import { execInInstance, gc, listInstances } from '../lab/instance.js';
import { daemonsOf } from '../lab/net/network.js';
import { readInstance } from '../lab/state.js';
import asg from '../logs/parsers/asg-activities/index.js';
import { parseText } from '../logs/read.js';
import { ACME_UPDATE, publishAcmeApp, publishAcmeUpdate } from '../test-support/acme.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { runCli } from '../test-support/cli.js';
import { spawnGoldgate } from '../test-support/faults.js';
import { hostMountsUnder, labHomes, processesNaming } from '../test-support/lab-home.js';
import { openRegistry } from '../registry/db.js';
import { revokeImage } from '../registry/revoke.js';
import { readActivities } from './activities.js';
import type { Activity } from './activities.js';
import { collectGroup, createGroup, deleteGroup, describeGroup, scaleGroup, setGroupImage } from './admin.js';
import { runGroup } from './controller.js';
import { groupDir, readState } from './store.js';

// The lab autoscaling group with real parts: the example images baked on the shared base,
// instances booted with real systemd, acme-runtime's breaking security update published to
// the lab security suite, and a day passing on each instance (--timers fast). The fixed image
// keeps its group healthy; the as-found image reproduces the outage.

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'examples/acme');
const UPDATE = ACME_UPDATE;
const homes = labHomes('goldgate-group-');
let home = '';
const images = new Map<string, StoredImage>();

const lab = (): string => join(home, 'lab');
const members = (name: string): string[] =>
  readState(home, name)
    .members.map((m) => m.id)
    .sort();
const groupInstances = (name: string): string[] =>
  listInstances({ home: lab() })
    .filter((s) => s.info?.group === name)
    .map((s) => s.id)
    .sort();
const launches = (acts: Activity[]) => acts.filter((a) => a.Description.startsWith('Launching'));
const terminations = (acts: Activity[]) => acts.filter((a) => a.Description.startsWith('Terminating'));

async function create(
  name: string,
  image: string,
  desired: number,
  extra: Partial<Parameters<typeof createGroup>[0]> = {},
) {
  return createGroup({
    home,
    name,
    image: (images.get(image) as StoredImage).id,
    desired,
    min: 0,
    max: 10,
    graceSeconds: 3,
    healthIntervalSeconds: 1,
    unhealthyThreshold: 2,
    ...extra,
  });
}

/** Nothing of the lab is left: no instance, mount, process, network daemon. */
function nothingLeft(): void {
  expect(listInstances({ home: lab() })).toEqual([]);
  expect(hostMountsUnder(join(lab(), 'instances'))).toEqual([]);
  expect(processesNaming(join(lab(), 'instances'))).toEqual([]);
  expect(daemonsOf(lab())).toEqual([]);
}

async function waitFor(what: string, test: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

describe('goldgate group', { sequential: true }, () => {
  beforeAll(async () => {
    const base = baseRootfs();
    if (base === undefined) return; // the fast tier: every test here is skipped
    const cacheDir = dirname(dirname(dirname(base)));
    home = homes.create();
    await publishAcmeApp(home);
    for (const spec of ['as-found', 'fixed']) {
      const { image } = await bake(join(EXAMPLES, 'specs', `${spec}.yaml`), {
        home,
        cacheDir,
        basePolicy: 'any',
      });
      images.set(spec, image);
    }
    // Upstream publishes the breaking security update after the images were baked.
    await publishAcmeUpdate(home);
  }, 900_000);
  afterAll(homes.cleanUp, 180_000);

  itWithBase(
    'a group of the fixed image stays at 3 healthy instances while days pass, and none is replaced',
    async () => {
      await create('fixed-web', 'fixed', 3);
      const sink = collectingSink();
      const summary = await runGroup({
        home,
        name: 'fixed-web',
        timers: 'fast',
        dayMs: 6_000,
        durationMs: 40_000,
        events: sink,
      });
      expect(summary.launched).toBe(3);
      expect(summary.replaced).toBe(0);
      const group = describeGroup(home, 'fixed-web');
      expect(group.Status).toMatchObject({ desired: 3, inService: 3, healthy: 3, replaced: 0, launched: 3 });
      expect(group.Instances.map((i) => i.InstanceId).sort()).toEqual(groupInstances('fixed-web'));
      for (const instance of group.Instances) {
        expect(instance).toMatchObject({
          LifecycleState: 'InService',
          HealthStatus: 'Healthy',
          Serving: true,
        });
        // Several days passed on each, with the update published: the app is still the image's.
        expect(instance.TimerDays).toBeGreaterThanOrEqual(3);
        const version = await execInInstance(
          instance.InstanceId,
          ['dpkg-query', '-W', '-f', '${Version}', 'acme-runtime'],
          { home: lab() },
        );
        expect(version.stdout).toBe('1.0');
      }
      const { activities } = readActivities(home, 'fixed-web');
      expect(terminations(activities)).toEqual([]);
      expect(launches(activities).map((a) => a.StatusCode)).toEqual([
        'Successful',
        'Successful',
        'Successful',
      ]);
      // Once all three served, the serving capacity never fell.
      const statuses = sink.events.flatMap((e) => (e.type === 'group-status' ? [e.status] : []));
      const first = statuses.findIndex((s) => s.healthy === 3);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(statuses.slice(first).every((s: GroupStatus) => s.healthy === 3)).toBe(true);
      expect(sink.events.some((e) => e.type === 'group' && e.action === 'timers')).toBe(true);
      await deleteGroup(home, 'fixed-web');
      expect(groupInstances('fixed-web')).toEqual([]);
    },
    300_000,
  );

  itWithBase(
    'a group of the as-found image reaches 0 healthy and keeps replacing; its bundle blames unattended-upgrade',
    async () => {
      // The grace period outlasts the upgrade: a replacement never serves.
      await create('asfound-web', 'as-found', 3, { graceSeconds: 12 });
      const sink = collectingSink();
      const stop = new AbortController();
      const events = {
        emit(event: Parameters<typeof sink.emit>[0]) {
          sink.emit(event);
          if (event.type === 'group-status' && event.status.replaced >= 6) stop.abort();
        },
      };
      const summary = await runGroup({
        home,
        name: 'asfound-web',
        timers: 'fast',
        dayMs: 600_000,
        durationMs: 240_000,
        signal: stop.signal,
        events,
      });
      expect(summary.replaced).toBeGreaterThanOrEqual(6);
      expect(summary.launched).toBeGreaterThanOrEqual(9);
      const statuses = sink.events.flatMap((e) => (e.type === 'group-status' ? [e.status] : []));
      // The outage: after the first replacement, no instance of the group serves.
      const afterFirst = statuses.filter((s) => s.replaced > 0);
      expect(afterFirst.length).toBeGreaterThan(0);
      expect(afterFirst.some((s) => s.healthy === 0 && s.inService + s.pending > 0)).toBe(true);

      const { activities } = readActivities(home, 'asfound-web');
      const health = terminations(activities).filter((a) => /health check failure/.test(a.Cause));
      expect(health.length).toBeGreaterThanOrEqual(6);
      for (const a of health) {
        expect(a).toMatchObject({ StatusCode: 'Successful', AutoScalingGroupName: 'asfound-web' });
        expect(a.Cause).toMatch(
          /^At \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ an instance was taken out of service in response to a health check failure: "acme http health" .*HTTP 503/,
        );
      }
      const launched = launches(activities);
      expect(launched.length).toBeGreaterThanOrEqual(9);
      expect(
        launched.every((a) =>
          a.Cause.includes(
            'an instance was started in response to a difference between desired and actual capacity',
          ),
        ),
      ).toBe(true);
      // The first three were started by the user request that created the group.
      expect(
        launched.filter((a) => a.Cause.includes('a user request created an AutoScalingGroup')),
      ).toHaveLength(3);

      // diagnose reads the lab's activities as it reads AWS's.
      const parsed = parseText(
        `${JSON.stringify({ Activities: activities }, null, 2)}\n`,
        asg,
        'scaling-activities.json',
      );
      expect(parsed.problems).toEqual([]);
      expect(parsed.records.filter((r) => r.kind === 'terminate' && r.reason === 'health-check').length).toBe(
        health.length,
      );

      const output = join(home, 'asfound-web.tar.gz');
      const collected = await collectGroup(home, 'asfound-web', output);
      expect(collected.terminated.length).toBeGreaterThanOrEqual(6);
      expect(collected.live).toEqual(groupInstances('asfound-web'));
      const report = await diagnose(output);
      expect(report.causes[0]).toMatchObject({
        kind: 'package-change',
        package: 'acme-runtime',
        from: '1.0',
        to: UPDATE,
        by: 'unattended-upgrade',
      });
      expect(report.causes[0]?.instances.length).toBeGreaterThanOrEqual(6);
      expect(report.files.some((f) => f.format === 'asg-activities')).toBe(true);

      await deleteGroup(home, 'asfound-web');
      await gc({ home: lab() });
      nothingLeft();
    },
    420_000,
  );

  itWithBase(
    'never launches an image revoked after the group took it: the launch fails with why',
    async () => {
      await create('revoked', 'fixed', 1);
      const image = (images.get('fixed') as StoredImage).id;
      const registry = openRegistry(home);
      try {
        revokeImage(registry, image, 'a test revokes it');
      } finally {
        registry.close();
      }
      try {
        await runGroup({ home, name: 'revoked', once: true });
        expect(members('revoked')).toEqual([]);
        expect(groupInstances('revoked')).toEqual([]);
        const [failed] = launches(readActivities(home, 'revoked').activities);
        expect(failed).toMatchObject({ StatusCode: 'Failed' });
        expect(failed?.StatusMessage).toContain(`image ${image} was revoked`);
      } finally {
        const undo = openRegistry(home);
        try {
          undo.db.exec('DELETE FROM revocations');
        } finally {
          undo.close();
        }
        await deleteGroup(home, 'revoked');
      }
    },
    120_000,
  );

  itWithBase(
    'scales out and in, and set-image changes what new launches use (one pass each)',
    async () => {
      await create('scaling', 'fixed', 1);
      await runGroup({ home, name: 'scaling', once: true });
      expect(members('scaling')).toHaveLength(1);
      const [firstId] = members('scaling');

      scaleGroup(home, 'scaling', { desired: 3 });
      await runGroup({ home, name: 'scaling', once: true });
      expect(members('scaling')).toHaveLength(3);
      expect(members('scaling')).toEqual(groupInstances('scaling'));
      const scaledOut = launches(readActivities(home, 'scaling').activities).filter((a) =>
        a.Cause.includes(
          'a user request update of AutoScalingGroup constraints changing the desired capacity from 1 to 3.',
        ),
      );
      expect(scaledOut).toHaveLength(2);

      // A launch template change: running instances keep the old image; new launches take the new one.
      const asFound = images.get('as-found') as StoredImage;
      await setGroupImage(home, 'scaling', asFound.id);
      await runGroup({ home, name: 'scaling', once: true });
      expect(
        readState(home, 'scaling').members.every((m) => m.image === (images.get('fixed') as StoredImage).id),
      ).toBe(true);
      // Scale in by one: an instance of the old image goes, the oldest first.
      scaleGroup(home, 'scaling', { desired: 2 });
      await runGroup({ home, name: 'scaling', once: true });
      expect(members('scaling')).toHaveLength(2);
      expect(members('scaling')).not.toContain(firstId);
      const shrink = terminations(readActivities(home, 'scaling').activities);
      expect(shrink).toHaveLength(1);
      expect(shrink[0]?.Cause).toContain('shrinking the capacity from 3 to 2');
      expect(shrink[0]?.Cause).toContain(`instance ${firstId} was selected for termination`);
      scaleGroup(home, 'scaling', { desired: 3 });
      await runGroup({ home, name: 'scaling', once: true });
      const images3 = readState(home, 'scaling').members.map((m) => m.image);
      expect(images3.filter((i) => i === asFound.id)).toHaveLength(1);

      // Instances launched under --timers real get their days once a controller runs with fast.
      await runGroup({ home, name: 'scaling', timers: 'fast', dayMs: 600_000, durationMs: 6_000 });
      expect(readState(home, 'scaling').members.map((m) => m.days)).toEqual([1, 1, 1]);

      // Through the CLI: describe, ls, activities in describe-scaling-activities' shape.
      process.env.GOLDGATE_HOME = home;
      try {
        const described = await runCli('group', 'describe', 'scaling', '--json');
        expect(described.code).toBe(0);
        expect(JSON.parse(described.stdout)).toMatchObject({
          AutoScalingGroupName: 'scaling',
          DesiredCapacity: 3,
        });
        const acts = await runCli('group', 'activities', 'scaling', '--json');
        const doc = JSON.parse(acts.stdout) as { Activities: Activity[] };
        expect(doc.Activities.length).toBe(readActivities(home, 'scaling').activities.length);
        for (const a of doc.Activities)
          expect(Object.keys(a)).toEqual(
            expect.arrayContaining([
              'ActivityId',
              'Description',
              'Cause',
              'StartTime',
              'EndTime',
              'StatusCode',
            ]),
          );
        const deleted = await runCli('group', 'delete', 'scaling');
        expect(deleted.code).toBe(0);
      } finally {
        delete process.env.GOLDGATE_HOME;
      }
      expect(groupInstances('scaling')).toEqual([]);
      expect(existsSync(groupDir(home, 'scaling'))).toBe(false);
    },
    300_000,
  );

  itWithBase(
    "the image's checks are read when it becomes the group's: a spec moved away later changes nothing",
    async () => {
      const spec = join(home, 'moved.yaml');
      copyFileSync(join(EXAMPLES, 'specs/fixed.yaml'), spec);
      const dir = dirname(dirname(dirname(baseRootfs() as string)));
      const { image } = await bake(spec, { home, cacheDir: dir, basePolicy: 'any' });
      const group = await createGroup({
        home,
        name: 'moved',
        image: image.id,
        desired: 1,
        min: 1,
        max: 1,
        graceSeconds: 0,
        healthIntervalSeconds: 1,
        unhealthyThreshold: 2,
      });
      expect(group.imageChecks[image.id]?.map((c) => c.name)).toEqual([
        'acme http health',
        'acme health command',
      ]);
      rmSync(spec);
      const summary = await runGroup({ home, name: 'moved', durationMs: 6_000 });
      expect(summary.replaced).toBe(0);
      const [member] = readState(home, 'moved').members;
      expect(member?.lastCheck).toMatchObject({ ok: true, detail: 'all checks passed' });
      await deleteGroup(home, 'moved');
    },
    120_000,
  );

  itWithBase(
    'a launch that fails is a Failed activity, and a user request made while launches back off keeps its cause',
    async () => {
      const fixed = images.get('fixed') as StoredImage;
      await create('backoff', 'fixed', 1);
      // The image leaves the store: every launch fails.
      renameSync(fixed.path, `${fixed.path}.away`);
      try {
        let scaled = false;
        await runGroup({
          home,
          name: 'backoff',
          durationMs: 1_800,
          events: {
            emit(event) {
              // A user scales out while the controller backs off after the failed launch.
              if (event.type === 'group' && event.action === 'launch-failed' && !scaled) {
                scaled = true;
                scaleGroup(home, 'backoff', { desired: 2 });
              }
            },
          },
        });
        expect(scaled).toBe(true);
      } finally {
        renameSync(`${fixed.path}.away`, fixed.path);
      }
      const failed = launches(readActivities(home, 'backoff').activities);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ StatusCode: 'Failed', Progress: 100 });
      expect(failed[0]?.StatusMessage).toMatch(
        /^Launching a lab instance failed: image img-[0-9a-f]+ is no longer in the store/,
      );
      expect(members('backoff')).toEqual([]);

      await runGroup({ home, name: 'backoff', once: true });
      const ok = launches(readActivities(home, 'backoff').activities).filter(
        (a) => a.StatusCode === 'Successful',
      );
      expect(ok).toHaveLength(2);
      for (const a of ok)
        expect(a.Cause).toContain(
          'a user request update of AutoScalingGroup constraints changing the desired capacity from 1 to 2.',
        );
      await deleteGroup(home, 'backoff');
    },
    120_000,
  );

  itWithBase(
    'a controller killed with SIGKILL, mid-launch and after, is restarted: no duplicate, no orphan; delete and gc leave nothing',
    async () => {
      await create('crash', 'fixed', 2);
      const runCliChild = () => spawnGoldgate(['group', 'run', 'crash', '--json'], home);

      // 1. Killed while its two launches are under way.
      let run = runCliChild();
      await waitFor(
        'two launches under way',
        () =>
          readState(home, 'crash').members.filter((m) => m.lifecycle === 'Pending').length === 2 &&
          groupInstances('crash').length === 2,
        60_000,
      );
      run.child.kill('SIGKILL');
      await run.exited;
      const interrupted = members('crash');
      const sink = collectingSink();
      await runGroup({ home, name: 'crash', once: true, events: sink });
      // An interrupted launch is terminated once, and said once.
      for (const id of interrupted) {
        const said = sink.events.filter(
          (e) => e.type === 'group' && e.instance === id && e.action !== 'in-service',
        );
        expect(said.length).toBeLessThanOrEqual(1);
      }
      let now = members('crash');
      expect(now).toHaveLength(2);
      expect(groupInstances('crash')).toEqual(now);
      expect(
        listInstances({ home: lab() })
          .filter((s) => s.info?.group === 'crash')
          .every((s) => s.alive),
      ).toBe(true);
      // What the killed controller began either finished (and serves) or was failed and replaced: never both.
      const failed = launches(readActivities(home, 'crash').activities).filter(
        (a) => a.StatusCode === 'Failed',
      );
      const kept = interrupted.filter((id) => now.includes(id));
      expect(kept.length + failed.length).toBe(2);
      expect(
        launches(readActivities(home, 'crash').activities).filter((a) => a.StatusCode === 'InProgress'),
      ).toEqual([]);

      // 2. Killed while keeping two healthy instances, its record of them lost too: a new controller adopts them.
      run = runCliChild();
      await waitFor(
        'the controller to run',
        () => existsSync(join(groupDir(home, 'crash'), 'controller.json')),
        30_000,
      );
      await new Promise((done) => setTimeout(done, 2_000));
      run.child.kill('SIGKILL');
      await run.exited;
      now = members('crash');
      rmSync(join(groupDir(home, 'crash'), 'state.json'));
      const adopted = await runGroup({ home, name: 'crash', once: true });
      expect(adopted.adopted.sort()).toEqual(now);
      expect(adopted.launched).toBe(0);
      expect(members('crash')).toEqual(now);
      expect(groupInstances('crash')).toEqual(now);
      for (const id of now) expect(readInstance(lab(), id)?.state).toBe('running');

      // lab gc leaves a group's running instances alone; delete terminates them.
      expect((await gc({ home: lab() })).terminated).toEqual([]);
      expect(groupInstances('crash')).toEqual(now);
      expect((await deleteGroup(home, 'crash')).terminated).toEqual(now);
      await gc({ home: lab() });
      nothingLeft();
    },
    300_000,
  );
});
