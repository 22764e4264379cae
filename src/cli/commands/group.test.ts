import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activitiesFile, groupDir, writeGroup } from '../../group/store.js';
import type { GroupDefinition } from '../../group/store.js';
import { findImage } from '../../images/store.js';
import { openRegistry } from '../../registry/db.js';
import { recordImage } from '../../registry/images.js';
import { revokeImage } from '../../registry/revoke.js';
import { runCli, useTempHome } from '../../test-support/cli.js';
import { plantImage } from '../../test-support/stored-image.js';

const IMAGE = 'img-3f2a9c01b4d5';
const CREATED = '2026-11-27T08:00:00.000Z';

/** A group definition written straight to the store: its image need not exist for these commands. */
function defineGroup(home: string, name: string, change: Partial<GroupDefinition> = {}): GroupDefinition {
  const group: GroupDefinition = {
    schemaVersion: 1,
    name,
    image: IMAGE,
    desired: 1,
    min: 0,
    max: 3,
    graceSeconds: 10,
    healthIntervalSeconds: 5,
    unhealthyThreshold: 3,
    checks: null,
    imageChecks: {},
    createdAt: CREATED,
    desiredRequest: { at: CREATED, from: 0, verb: 'created' },
    ...change,
  };
  writeGroup(home, group);
  return group;
}

/** A usage error without a hint of its own: pointed at the command's help. */
const usage = (message: string, command = 'create') => ({
  code: 2,
  stdout: '',
  stderr: `goldgate: ${message}\n  hint: goldgate group ${command} --help describes the arguments and options\n`,
});

describe('goldgate group', () => {
  const homeOf = useTempHome();
  const create = (...flags: string[]) => runCli('group', 'create', 'web', '--image', IMAGE, ...flags);

  it('lists every subcommand in its help', async () => {
    const help = await runCli('group', '--help');
    expect(help.code).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]);
    expect(commands).toEqual([
      'create',
      'ls',
      'describe',
      'scale',
      'set-image',
      'delete',
      'run',
      'activities',
      'collect',
      'help',
    ]);
  });

  it('refuses a desired capacity outside min and max, naming it', async () => {
    expect(await create('--desired', '5', '--max', '3')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'goldgate: desired capacity 5 is outside min 3 and max 3\n  hint: the desired capacity must lie between the minimum and the maximum size\n',
    });
    expect((await create('--desired', '1', '--min', '2')).stderr).toMatch(
      /^goldgate: desired capacity 1 is outside min 2 and max 2\n/,
    );
    expect(await create('--desired', '3', '--min', '4', '--max', '2')).toEqual(
      usage('--min 4 is more than --max 2'),
    );
  });

  it('creates a group whose bounds not given follow the desired capacity', async () => {
    plantImage(homeOf(), IMAGE, { createdAt: CREATED, spec: 'acme.yaml' });
    const bounds = async (name: string, ...flags: string[]) => {
      const created = await runCli(
        'group',
        'create',
        name,
        '--image',
        IMAGE,
        '--health-http',
        '8080/health',
        ...flags,
      );
      expect(created.code).toBe(0);
      return /\(min (\d+), max (\d+)\)/.exec(created.stdout)?.slice(1);
    };
    expect(await bounds('both', '--desired', '2')).toEqual(['2', '2']);
    expect(await bounds('up', '--desired', '2', '--max', '5')).toEqual(['2', '5']);
    expect(await bounds('down', '--desired', '2', '--min', '1')).toEqual(['1', '2']);
    expect((await runCli('group', 'create', 'both', '--image', IMAGE, '--desired', '1')).stderr).toMatch(
      /^goldgate: group both already exists\n/,
    );
  });

  it('refuses sizes and timings that are not numbers', async () => {
    expect(await create('--desired', 'abc')).toEqual(
      usage('--desired "abc" must be a whole number from 0 to 100'),
    );
    expect(await create('--desired', '2', '--max', '101')).toEqual(
      usage('--max "101" must be a whole number from 0 to 100'),
    );
    expect(await create('--desired', '1', '--grace', 'soon')).toEqual(
      usage('--grace "soon" must be a number of seconds from 0 to 86400'),
    );
  });

  it('refuses a revoked image, saying who revoked it and why', async () => {
    plantImage(homeOf(), IMAGE, { createdAt: CREATED, spec: 'acme.yaml' });
    const registry = openRegistry(homeOf());
    try {
      recordImage(registry, findImage(IMAGE, homeOf())!, 'bake');
      revokeImage(registry, IMAGE, 'acme-runtime breaks at boot');
    } finally {
      registry.close();
    }
    const created = await runCli(
      'group',
      'create',
      'web',
      '--image',
      IMAGE,
      '--desired',
      '1',
      '--health-http',
      '8080/health',
    );
    expect(created.code).toBe(2);
    expect(created.stderr).toMatch(
      new RegExp(
        `^goldgate: image ${IMAGE} was revoked .* acme-runtime breaks at boot\n  hint: a revoked image is never launched`,
      ),
    );
    defineGroup(homeOf(), 'old');
    expect((await runCli('group', 'set-image', 'old', '--image', IMAGE)).stderr).toContain('was revoked');
  });

  it('refuses an image that is not in the store, with a hint', async () => {
    expect(await create('--desired', '1')).toEqual({
      code: 2,
      stdout: '',
      stderr: `goldgate: no stored image ${IMAGE} (goldgate images lists them)\n  hint: a group runs a stored image: bake one (goldgate bake) or import one (goldgate image import)\n`,
    });
    expect((await runCli('group', 'ls', '--json')).stdout).toBe('{\n  "groups": []\n}\n');
  });

  it('says there is no such group', async () => {
    expect(await runCli('group', 'describe', 'nope')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'goldgate: no group "nope"\n  hint: goldgate group ls lists the groups; goldgate group create makes one\n',
    });
    expect((await runCli('group', 'activities', 'nope')).code).toBe(2);
    expect((await runCli('group', 'scale', 'nope', '--desired', '1')).stderr).toMatch(
      /^goldgate: no group "nope"/,
    );
  });

  it('refuses --timers other than fast or real before starting a controller', async () => {
    defineGroup(homeOf(), 'x');
    expect(await runCli('group', 'run', 'x', '--timers', 'slow')).toEqual(
      usage('--timers "slow" is neither fast nor real', 'run'),
    );
    expect(await runCli('group', 'run', 'x', '--timers', 'fast', '--day', '0')).toEqual(
      usage('--day "0" must be a number of seconds from 1 to 86400', 'run'),
    );
  });

  it('lists no groups', async () => {
    expect(await runCli('group', 'ls')).toEqual({
      code: 0,
      stdout: 'no groups (goldgate group create makes one)\n',
      stderr: '',
    });
    expect(JSON.parse((await runCli('group', 'ls', '--json')).stdout)).toEqual({ groups: [] });
  });

  it('lists the groups, and skips a folder that is not one', async () => {
    defineGroup(homeOf(), 'web', { desired: 2 });
    defineGroup(homeOf(), 'api');
    mkdirSync(groupDir(homeOf(), 'future'));
    writeFileSync(join(groupDir(homeOf(), 'future'), 'group.json'), '{"schemaVersion": 2}\n');
    const listed = await runCli('group', 'ls');
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n').map((line) => line.split(/\s+/).slice(0, 4))).toEqual([
      ['GROUP', 'IMAGE', 'DESIRED', 'MIN'],
      ['api', IMAGE, '1', '0'],
      ['web', IMAGE, '2', '0'],
      [''],
    ]);
  });

  it('describes a group as describe-auto-scaling-groups would', async () => {
    defineGroup(homeOf(), 'web', { desired: 2 });
    const described = await runCli('group', 'describe', 'web', '--json');
    expect(described.code).toBe(0);
    expect(JSON.parse(described.stdout)).toEqual({
      AutoScalingGroupName: 'web',
      ImageId: IMAGE,
      MinSize: 0,
      MaxSize: 3,
      DesiredCapacity: 2,
      HealthCheckGracePeriod: 10,
      HealthCheckIntervalSeconds: 5,
      UnhealthyThreshold: 3,
      HealthChecks: 'image',
      CreatedTime: CREATED,
      Instances: [],
      Status: {
        desired: 2,
        min: 0,
        max: 3,
        pending: 0,
        inService: 0,
        healthy: 0,
        unhealthy: 0,
        terminating: 0,
        launched: 0,
        replaced: 0,
      },
      Controller: { running: false, pid: null, since: null },
    });
    const text = await runCli('group', 'describe', 'web');
    expect(text.stdout).toContain('controller: not running');
    expect(text.stdout).toMatch(/ {2}no instances\n$/);
  });

  it('scales within min and max, recording the request', async () => {
    defineGroup(homeOf(), 'web');
    expect(await runCli('group', 'scale', 'web', '--desired', '3')).toEqual({
      code: 0,
      stdout: 'group web: desired 3 (min 0, max 3)\n',
      stderr: '',
    });
    const stored = JSON.parse(
      readFileSync(join(groupDir(homeOf(), 'web'), 'group.json'), 'utf8'),
    ) as GroupDefinition;
    expect(stored.desired).toBe(3);
    expect(stored.desiredRequest).toMatchObject({ from: 1, verb: 'updated' });
    expect(stored.desiredRequest.at).not.toBe(CREATED);

    expect((await runCli('group', 'scale', 'web', '--desired', '6', '--max', '8')).stdout).toBe(
      'group web: desired 6 (min 0, max 8)\n',
    );
  });

  it('refuses to scale outside min and max, and leaves the group as it was', async () => {
    const group = defineGroup(homeOf(), 'web');
    expect((await runCli('group', 'scale', 'web', '--desired', '4')).stderr).toBe(
      'goldgate: desired capacity 4 is outside min 0 and max 3\n  hint: the desired capacity must lie between the minimum and the maximum size\n',
    );
    expect(await runCli('group', 'scale', 'web', '--desired', '1', '--min', '2', '--max', '1')).toEqual(
      usage('--min 2 is more than --max 1', 'scale'),
    );
    expect(await runCli('group', 'scale', 'web', '--desired', 'two')).toEqual(
      usage('--desired "two" must be a whole number from 0 to 100', 'scale'),
    );
    expect((await runCli('group', 'scale', 'web')).code).toBe(2);
    expect(JSON.parse(readFileSync(join(groupDir(homeOf(), 'web'), 'group.json'), 'utf8'))).toEqual(group);
  });

  it('prints no activities of a group that has none', async () => {
    defineGroup(homeOf(), 'web');
    expect(await runCli('group', 'activities', 'web')).toEqual({
      code: 0,
      stdout: 'no activities\n',
      stderr: '',
    });
    expect(JSON.parse((await runCli('group', 'activities', 'web', '--json')).stdout)).toEqual({
      Activities: [],
    });
  });

  it('warns about activity lines it could not read', async () => {
    defineGroup(homeOf(), 'web');
    writeFileSync(activitiesFile(homeOf(), 'web'), '{"ActivityId": "a", "Descri');
    expect(await runCli('group', 'activities', 'web')).toEqual({
      code: 0,
      stdout: 'no activities\n',
      stderr: 'warning: 1 line(s) of the activity log could not be read (cut short by a crash)\n',
    });
  });
});
