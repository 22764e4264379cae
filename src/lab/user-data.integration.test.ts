import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeAll, describe, expect } from 'vitest';
import { bake } from '../bake/bake.js';
import { cachedBootstrap } from '../bake/mmdebstrap.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { runCli, useTempHome } from '../test-support/cli.js';
import { labHomes } from '../test-support/lab-home.js';
import { execInInstance, launchInstance, listInstances } from './instance.js';
import type { InstanceInfo } from './instance.js';
import { instanceDir } from './state.js';

// launchInstance({ userData }) with the image's own cloud-init: the user-data reaches it as a
// NoCloud seed, with meta-data of the instance's own (its id is the instance id).

/** cloud-init 22.4's schema types `locale` as a string; "false" turns the module off (minbase has no locales). */
function userData(tag: string): string {
  return `#cloud-config
locale: "false"
write_files:
  - path: /etc/goldgate-proof/written
    permissions: "0640"
    content: |
      written by cloud-init for ${tag}
runcmd:
  - [sh, -c, 'echo "$0 ran on $(uname -n)" > /root/runcmd-proof', ${tag}]
`;
}

const homes = labHomes('goldgate-user-data-');
let cloudRootfs = '';

async function inside(info: InstanceInfo, home: string, ...argv: string[]): Promise<string> {
  const result = await execInInstance(info.id, argv, { home, timeoutMs: 120_000 });
  expect({ argv, ...result }).toMatchObject({ code: 0 });
  return result.stdout;
}

/** What cloud-init reports once it has finished, and what the user-data left behind. */
async function cloudInitOutcome(info: InstanceInfo, home: string) {
  await inside(info, home, 'cloud-init', 'status', '--wait');
  const result = JSON.parse(await inside(info, home, 'cat', '/run/cloud-init/result.json')) as {
    v1: { datasource: string; errors: unknown[] };
  };
  return {
    status: await inside(info, home, 'cloud-init', 'status', '--long'),
    result: result.v1,
    instanceId: (await inside(info, home, 'cloud-init', 'query', 'instance_id')).trim(),
    runcmd: await inside(info, home, 'cat', '/root/runcmd-proof'),
    written: await inside(info, home, 'stat', '-c', '%a %U', '/etc/goldgate-proof/written'),
    writtenText: await inside(info, home, 'cat', '/etc/goldgate-proof/written'),
  };
}

describe('lab instances with cloud-init user-data', { sequential: true }, () => {
  beforeAll(async () => {
    const base = baseRootfs();
    if (base === undefined) return; // the fast tier: every test here is skipped
    // A second base beside the shared one, in the same cache: bootstrapped once, reused after.
    cloudRootfs = await cachedBootstrap(
      { suite: 'bookworm', variant: 'minbase', include: ['cloud-init', 'systemd-sysv'] },
      dirname(dirname(dirname(base))),
    );
  }, 600_000);
  afterEach(homes.cleanUp, 180_000);

  itWithBase(
    'runs the user-data with the NoCloud seed: runcmd and write_files, status done, the instance id as its instance-id',
    async () => {
      const home = homes.create();
      const lab = join(home, 'lab');
      const info = await launchInstance({
        rootfs: cloudRootfs,
        home: lab,
        reposDir: join(home, 'repos'),
        name: 'cloud',
        userData: userData('cloud'),
        timeoutMs: 120_000,
      });
      // The seed the instance was given: the user-data as passed, meta-data of its own.
      const seed = join(instanceDir(lab, info.id), 'seed');
      expect(readFileSync(join(seed, 'user-data'), 'utf8')).toBe(userData('cloud'));
      expect(readFileSync(join(seed, 'meta-data'), 'utf8')).toBe(
        `instance-id: ${info.id}\nlocal-hostname: ${info.id}\n`,
      );
      expect(await inside(info, lab, 'cat', '/var/lib/cloud/seed/nocloud/user-data')).toBe(userData('cloud'));
      const overwrite = await execInInstance(
        info.id,
        ['sh', '-c', 'echo changed > /var/lib/cloud/seed/nocloud/meta-data'],
        { home: lab },
      );
      expect(overwrite.code).not.toBe(0);
      expect(overwrite.stderr).toContain('Read-only file system');

      const outcome = await cloudInitOutcome(info, lab);
      expect(outcome.status).toMatch(/^status: done$/m);
      expect(outcome.status).toContain('DataSourceNoCloud [seed=/var/lib/cloud/seed/nocloud]');
      expect(outcome.result).toEqual({
        datasource: expect.stringMatching(/^DataSourceNoCloud \[seed=\/var\/lib\/cloud\/seed\/nocloud\]/),
        errors: [],
      });
      expect(outcome.instanceId).toBe(info.id);
      // The user-data passed cloud-init's schema (a warning there would still end in "done").
      expect(await inside(info, lab, 'cat', '/var/log/cloud-init-output.log')).not.toContain(
        'Invalid cloud-config',
      );
      expect(outcome.runcmd).toBe(`cloud ran on ${info.id}\n`);
      expect(outcome.written).toBe('640 root\n');
      expect(outcome.writtenText).toBe('written by cloud-init for cloud\n');
      // What cloud-init wrote is the instance's drift, in its upper layer; the image has none of it.
      expect(readFileSync(join(info.upper, 'root/runcmd-proof'), 'utf8')).toBe(`cloud ran on ${info.id}\n`);
      expect(existsSync(join(cloudRootfs, 'root/runcmd-proof'))).toBe(false);
      expect(existsSync(join(cloudRootfs, 'etc/goldgate-proof'))).toBe(false);
      expect(existsSync(join(cloudRootfs, 'var/lib/cloud/seed/nocloud/meta-data'))).toBe(false);
    },
    300_000,
  );

  itWithBase(
    'two instances of the same image each get an instance-id of their own, and each runs the per-instance modules',
    async () => {
      const home = homes.create();
      const lab = join(home, 'lab');
      const launched: InstanceInfo[] = [];
      for (const name of ['one', 'two'])
        launched.push(
          await launchInstance({
            rootfs: cloudRootfs,
            home: lab,
            reposDir: join(home, 'repos'),
            name,
            userData: userData('same'),
            timeoutMs: 120_000,
          }),
        );
      const [one, two] = launched as [InstanceInfo, InstanceInfo];
      expect(one.id).not.toBe(two.id);
      for (const info of launched) {
        const outcome = await cloudInitOutcome(info, lab);
        expect(outcome.status).toMatch(/^status: done$/m);
        expect(outcome.instanceId).toBe(info.id);
        expect(outcome.runcmd).toBe(`same ran on ${info.id}\n`);
        // cloud-init keeps its per-instance state under the instance-id it was given.
        expect(await inside(info, lab, 'readlink', '/var/lib/cloud/instance')).toBe(
          `/var/lib/cloud/instances/${info.id}\n`,
        );
      }
    },
    300_000,
  );

  itWithBase(
    "an image baked with the spec's user-data gives it to each instance, each with an instance-id of its own",
    async () => {
      const home = homes.create();
      const lab = join(home, 'lab');
      const specPath = join(home, 'spec.yaml');
      writeFileSync(
        specPath,
        `name: cloud-baked
base: { suite: bookworm, variant: minbase }
packages: [cloud-init, systemd-sysv]
userData: |
${userData('baked')
  .split('\n')
  .map((line) => (line === '' ? '' : `  ${line}`))
  .join('\n')}`,
      );
      const { image } = await bake(specPath, {
        home,
        cacheDir: dirname(dirname(dirname(cloudRootfs))),
        basePolicy: 'any',
      });
      const rootfs = join(image.path, 'rootfs');
      // The image's own seed names one instance-id for every instance launched from it...
      expect(readFileSync(join(rootfs, 'var/lib/cloud/seed/nocloud/meta-data'), 'utf8')).toContain(
        'instance-id: cloud-baked',
      );
      const launched: InstanceInfo[] = [];
      for (const name of ['one', 'two'])
        launched.push(
          await launchInstance({
            rootfs,
            home: lab,
            reposDir: join(home, 'repos'),
            name,
            timeoutMs: 120_000,
          }),
        );
      // ...the lab gives each its own, with the image's user-data, as a cloud would.
      for (const info of launched) {
        const outcome = await cloudInitOutcome(info, lab);
        expect(outcome.status).toMatch(/^status: done$/m);
        expect(outcome.instanceId).toBe(info.id);
        expect(outcome.runcmd).toBe(`baked ran on ${info.id}\n`);
      }
    },
    300_000,
  );

  itWithBase('refuses user-data for an image without cloud-init, before anything is made', async () => {
    const home = homes.create();
    const lab = join(home, 'lab');
    await expect(
      launchInstance({
        rootfs: baseRootfs() as string,
        home: lab,
        reposDir: join(home, 'repos'),
        userData: userData('none'),
        timeoutMs: 60_000,
      }),
    ).rejects.toMatchObject({ code: 'LAB_NO_CLOUD_INIT', fault: 'user' });
    expect(listInstances({ home: lab })).toEqual([]);
    expect(existsSync(join(lab, 'instances'))).toBe(false);
  });

  describe('goldgate lab launch --user-data', () => {
    const goldgateHome = useTempHome();

    itWithBase(
      'boots with the file as user-data, and a missing file exits 2 with a hint and launches nothing',
      async () => {
        const home = goldgateHome();
        homes.track(home);
        const lab = join(home, 'lab');

        const missing = await runCli(
          'lab',
          'launch',
          cloudRootfs,
          '--user-data',
          join(home, 'no-such-user-data.yaml'),
        );
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain(`--user-data ${join(home, 'no-such-user-data.yaml')}: no such file`);
        expect(missing.stderr).toMatch(/^ {2}hint: give a cloud-config/m);
        expect(missing.stdout).toBe('');
        expect(listInstances({ home: lab })).toEqual([]);

        const file = join(home, 'user-data.yaml');
        writeFileSync(file, userData('cli'));
        const launched = await runCli(
          'lab',
          'launch',
          cloudRootfs,
          '--name',
          'cli',
          '--user-data',
          file,
          '--json',
        );
        expect(launched).toMatchObject({ code: 0 });
        const { instance } = JSON.parse(launched.stdout) as { instance: InstanceInfo };
        expect(listInstances({ home: lab }).map((s) => s.id)).toEqual([instance.id]);
        const outcome = await cloudInitOutcome(instance, lab);
        expect(outcome.status).toMatch(/^status: done$/m);
        expect(outcome.instanceId).toBe(instance.id);
        expect(outcome.runcmd).toBe(`cli ran on ${instance.id}\n`);
        expect((await runCli('lab', 'terminate', instance.id)).code).toBe(0);
        expect(listInstances({ home: lab })).toEqual([]);
      },
      300_000,
    );
  });
});
