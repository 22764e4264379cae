import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { EventSink } from '../../core/events.js';
import { goldgateHome } from '../../core/home.js';
import {
  collectGroup,
  createGroup,
  DEFAULTS,
  deleteGroup,
  describeGroup,
  groupActivities,
  listGroups,
  scaleGroup,
  setGroupImage,
} from '../../group/admin.js';
import { runGroup } from '../../group/controller.js';
import { commandCheckFromFlag, httpCheckFromFlag, unitCheckFromFlag } from '../../lab/index.js';
import type { HealthCheck } from '../../spec/schema.js';
import { EXIT } from '../exit-codes.js';
import { repeat, seconds, wholeNumber } from '../flags.js';
import { groupEventLine, renderActivities, renderDescribe, renderList, statusLine } from '../render/group.js';
import type { Terminal } from '../terminal.js';
import { checkOutput } from '../output.js';

const size = (flag: string, value: string): number => wholeNumber(flag, value, 0, 100, 'GROUP_BAD_SIZE');

interface CreateFlags {
  image: string;
  desired: string;
  min?: string;
  max?: string;
  grace: string;
  healthInterval: string;
  unhealthyThreshold: string;
  healthHttp?: string[];
  healthCommand?: string[];
  healthUnit?: string[];
  json?: boolean;
}

interface RunFlags {
  once?: boolean;
  timers: string;
  day: string;
  duration?: string;
  json?: boolean;
}

export function registerGroup(program: Command, terminal: Terminal, result: { code: number }): void {
  const group = program
    .command('group')
    .summary('lab autoscaling groups: keep N healthy instances of an image, as Auto Scaling does')
    .description(
      "A lab autoscaling group keeps a desired number of instances of an image in service and healthy, as an AWS Auto Scaling group does: it launches lab instances of the group's image, checks their health after a grace period with the image's checks, takes an instance out of service after K failed checks in a row, terminates and replaces it, and scales in and out. Every launch and termination is a scaling activity with its cause, in describe-scaling-activities' shape. `group run` is the controller; the other commands define, change, describe and collect groups. State lives under $GOLDGATE_HOME/groups. More: docs/group.md.",
    );

  group
    .command('create')
    .summary('define a group (goldgate group run then keeps it)')
    .argument('<name>', 'the group name (letters, digits, . _ -)')
    .requiredOption('--image <id>', 'the stored image its instances are launched from')
    .requiredOption('--desired <n>', 'desired capacity: instances kept in service')
    .option('--min <n>', 'minimum size (default the desired capacity)')
    .option('--max <n>', 'maximum size (default the desired capacity)')
    .option(
      '--grace <seconds>',
      'health check grace period after an instance is in service',
      String(DEFAULTS.graceSeconds),
    )
    .option(
      '--health-interval <seconds>',
      'time between health checks of an instance',
      String(DEFAULTS.healthIntervalSeconds),
    )
    .option(
      '--unhealthy-threshold <k>',
      'failed checks in a row that make an instance unhealthy',
      String(DEFAULTS.unhealthyThreshold),
    )
    .option('--health-http <port/path>', "an HTTP check instead of the image's (repeatable)", repeat)
    .option('--health-command <argv>', "a command check instead of the image's (repeatable)", repeat)
    .option(
      '--health-unit <name>',
      "a unit that must be active, instead of the image's checks (repeatable)",
      repeat,
    )
    .option('--json', 'print the group definition')
    .addHelpText(
      'after',
      `
Examples:
  goldgate group create acme-web --image img-3f2a9c01b4d5 --desired 3
  goldgate group create acme-web --image img-3f2a9c01b4d5 --desired 3 --min 1 --max 6 --grace 15 --health-interval 2 --unhealthy-threshold 2`,
    )
    .action(async (name: string, flags: CreateFlags) => {
      const desired = size('--desired', flags.desired);
      const min = flags.min === undefined ? undefined : size('--min', flags.min);
      const max = flags.max === undefined ? undefined : size('--max', flags.max);
      const checks: HealthCheck[] = [
        ...(flags.healthHttp ?? []).map(httpCheckFromFlag),
        ...(flags.healthCommand ?? []).map(commandCheckFromFlag),
        ...(flags.healthUnit ?? []).map(unitCheckFromFlag),
      ];
      const created = await createGroup({
        home: goldgateHome(),
        name,
        image: flags.image,
        desired,
        // A bound not given follows the desired capacity, within the other bound: so that
        // `--desired 5 --max 3` is refused for its desired capacity, not for a --min never given.
        min: min ?? Math.min(desired, max ?? desired),
        max: max ?? Math.max(desired, min ?? desired),
        graceSeconds: seconds('--grace', flags.grace, 0, 86_400, 'GROUP_BAD_TIMING'),
        healthIntervalSeconds: seconds(
          '--health-interval',
          flags.healthInterval,
          0.1,
          86_400,
          'GROUP_BAD_TIMING',
        ),
        unhealthyThreshold: wholeNumber(
          '--unhealthy-threshold',
          flags.unhealthyThreshold,
          1,
          100,
          'GROUP_BAD_TIMING',
        ),
        checks,
      });
      terminal.out(
        flags.json === true
          ? `${JSON.stringify({ group: created }, null, 2)}\n`
          : `group ${created.name}: ${created.desired} × ${created.image} (min ${created.min}, max ${created.max}); start it with goldgate group run ${created.name}\n`,
      );
      result.code = EXIT.ok;
    });

  group
    .command('ls')
    .summary('list the groups with their capacity')
    .option('--json', 'print {"groups": [...]} (each as group describe --json)')
    .action((flags: { json?: boolean }) => {
      const groups = listGroups(goldgateHome());
      terminal.out(flags.json === true ? `${JSON.stringify({ groups }, null, 2)}\n` : renderList(groups));
      result.code = EXIT.ok;
    });

  group
    .command('describe')
    .summary("a group's settings, capacity and instances (lifecycle and health of each)")
    .argument('<name>')
    .option('--json', 'print the description (fields named as describe-auto-scaling-groups names them)')
    .action((name: string, flags: { json?: boolean }) => {
      const described = describeGroup(goldgateHome(), name);
      terminal.out(
        flags.json === true
          ? `${JSON.stringify(described, null, 2)}\n`
          : renderDescribe(described, terminal.color),
      );
      result.code = EXIT.ok;
    });

  group
    .command('scale')
    .summary('set the desired capacity (the controller launches or terminates at its next pass)')
    .argument('<name>')
    .requiredOption('--desired <n>', 'the new desired capacity')
    .option('--min <n>', 'a new minimum size')
    .option('--max <n>', 'a new maximum size')
    .action((name: string, flags: { desired: string; min?: string; max?: string }) => {
      const updated = scaleGroup(goldgateHome(), name, {
        desired: size('--desired', flags.desired),
        ...(flags.min === undefined ? {} : { min: size('--min', flags.min) }),
        ...(flags.max === undefined ? {} : { max: size('--max', flags.max) }),
      });
      terminal.out(
        `group ${updated.name}: desired ${updated.desired} (min ${updated.min}, max ${updated.max})\n`,
      );
      result.code = EXIT.ok;
    });

  group
    .command('set-image')
    .summary('launch new instances from another image; running instances keep theirs')
    .argument('<name>')
    .requiredOption('--image <id>', 'the stored image new launches use')
    .action(async (name: string, flags: { image: string }) => {
      const updated = await setGroupImage(goldgateHome(), name, flags.image);
      terminal.out(
        `group ${updated.name}: new launches use ${updated.image}; running instances stay as they are (scale in and out, or a rollout, replaces them)\n`,
      );
      result.code = EXIT.ok;
    });

  group
    .command('delete')
    .summary("terminate the group's instances and remove it")
    .argument('<name>')
    .option('--json', 'print {"terminated": [...]}')
    .action(async (name: string, flags: { json?: boolean }) => {
      const done = await deleteGroup(goldgateHome(), name);
      terminal.out(
        flags.json === true
          ? `${JSON.stringify(done, null, 2)}\n`
          : `group ${name} deleted; terminated ${done.terminated.length === 0 ? 'no instance' : done.terminated.join(' ')}\n`,
      );
      result.code = EXIT.ok;
    });

  group
    .command('run')
    .summary('the controller: keep the group at its desired capacity, healthy (foreground)')
    .argument('<name>')
    .option('--once', 'one reconcile pass (waiting for what it launched and terminated), then exit')
    .option(
      '--timers <mode>',
      "fast: each new instance runs its timers' services shortly after boot, then once a --day, as a long-running instance would; real: systemd's own schedule",
      'real',
    )
    .option('--day <seconds>', 'with --timers fast: how long a day lasts', '60')
    .option('--duration <seconds>', 'stop after this long (default: until Ctrl-C)')
    .option('--json', 'print each event as one JSON line, then a summary line')
    .addHelpText(
      'after',
      `
Ctrl-C (or SIGTERM) stops the controller and leaves the instances running: a controller
started again adopts them. Each pass reads the lab, checks the health of instances past
their grace period, replaces those that failed too many checks in a row, and launches or
terminates to match the desired capacity.

Examples:
  goldgate group run acme-web
  goldgate group run acme-web --timers fast --day 30
  goldgate group run acme-web --once`,
    )
    .action(async (name: string, flags: RunFlags) => {
      if (flags.timers !== 'fast' && flags.timers !== 'real')
        throw new UsageError('GROUP_BAD_TIMERS', `--timers "${flags.timers}" is neither fast nor real`);
      const dayMs = seconds('--day', flags.day, 1, 86_400, 'GROUP_BAD_TIMING') * 1000;
      const durationMs =
        flags.duration === undefined
          ? undefined
          : seconds('--duration', flags.duration, 0, 31_536_000, 'GROUP_BAD_TIMING') * 1000;
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) process.exit(130);
        terminal.err(
          `goldgate: ${signal}: stopping the controller; the instances keep running (goldgate group run ${name} adopts them)\n`,
        );
        controller.abort(new Error(signal));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const events: EventSink = {
        emit(event) {
          if (flags.json === true) {
            if (event.type === 'group' || event.type === 'group-status')
              terminal.out(`${JSON.stringify(event)}\n`);
            return;
          }
          const line = groupEventLine(event, terminal.color);
          if (line !== undefined) terminal.out(line);
          else if (event.type === 'warning') terminal.err(`warning: ${event.message}\n`);
        },
      };
      try {
        const summary = await runGroup({
          home: goldgateHome(),
          name,
          timers: flags.timers,
          dayMs,
          signal: controller.signal,
          events,
          ...(flags.once === true ? { once: true } : {}),
          ...(durationMs === undefined ? {} : { durationMs }),
        });
        if (flags.json === true)
          terminal.out(`${JSON.stringify({ type: 'summary', ...summary, passMs: undefined })}\n`);
        else {
          const status = describeGroup(goldgateHome(), name).Status;
          terminal.out(
            `stopped after ${(summary.durationMs / 1000).toFixed(1)} s: ${statusLine(status, terminal.color)}; launched ${summary.launched}, replaced ${summary.replaced} in this run${summary.adopted.length > 0 ? `, adopted ${summary.adopted.length}` : ''}\n`,
          );
        }
        result.code = EXIT.ok;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  group
    .command('activities')
    .summary("the group's scaling activities, newest first")
    .argument('<name>')
    .option('--json', 'print {"Activities": [...]}: the shape of aws autoscaling describe-scaling-activities')
    .action((name: string, flags: { json?: boolean }) => {
      const { Activities, unreadable } = groupActivities(goldgateHome(), name);
      terminal.out(
        flags.json === true
          ? `${JSON.stringify({ Activities }, null, 2)}\n`
          : renderActivities(Activities, terminal.color),
      );
      if (unreadable > 0)
        terminal.err(
          `warning: ${unreadable} line(s) of the activity log could not be read (cut short by a crash)\n`,
        );
      result.code = EXIT.ok;
    });

  group
    .command('collect')
    .summary('an evidence bundle of the group for goldgate diagnose')
    .argument('<name>')
    .requiredOption('-o, --output <file>', 'the bundle to write (.tar.gz)')
    .option('--json', 'print what was collected')
    .addHelpText(
      'after',
      `
The bundle holds scaling-activities.json (describe-scaling-activities), and one folder per
instance: the running instances' logs gathered now, and the logs the controller kept of each
instance it terminated. Read it with: goldgate diagnose bundle.tar.gz`,
    )
    .action(async (name: string, flags: { output: string; json?: boolean }) => {
      checkOutput('--output', flags.output, { regular: true });
      const done = await collectGroup(goldgateHome(), name, flags.output);
      terminal.out(
        flags.json === true
          ? `${JSON.stringify(done, null, 2)}\n`
          : `${done.output}: ${done.activities} activities, ${done.live.length} running and ${done.terminated.length} terminated instances' logs (read it with goldgate diagnose ${flags.output})\n`,
      );
      result.code = EXIT.ok;
    });
}
