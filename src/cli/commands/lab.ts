import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { goldgateHome } from '../../core/home.js';
import {
  commandCheckFromFlag,
  execInInstance,
  gc,
  httpCheckFromFlag,
  launchInstance,
  listInstances,
  runHealthChecks,
  terminateInstance,
  unitCheckFromFlag,
} from '../../lab/index.js';
import { imageHealthChecks } from '../../lab/image-health.js';
import { liveInstance } from '../../lab/instance.js';
import { EXIT } from '../exit-codes.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';

const labHome = () => join(goldgateHome(), 'lab');

/** An image to boot: a root filesystem directory, or the id of an image in the store. */
export function resolveImageRoot(image: string): string {
  if (statSync(image, { throwIfNoEntry: false })?.isDirectory() === true) return image;
  const stored = join(goldgateHome(), 'images', image);
  if (
    /^[a-z0-9-]+$/.test(image) &&
    existsSync(join(stored, 'image.json')) &&
    existsSync(join(stored, 'rootfs'))
  )
    return join(stored, 'rootfs');
  throw new UsageError('LAB_NO_IMAGE', `no image "${image}"`, {
    hint: 'give a root filesystem directory or the id of a baked image (goldgate images)',
  });
}

export function registerLab(program: Command, terminal: Terminal, result: { code: number }): void {
  const lab = program
    .command('lab')
    .summary('boot instances of an image locally, with real systemd, and look inside them')
    .description(
      "The lab: instances of an image on this machine, as root. Each instance is an overlay over the image (read-only below, its own upper layer: the instance's drift), new mount, pid, network, uts and ipc namespaces with loopback only, a private minimal /dev, and the image's own systemd as PID 1. Nothing an instance does leaves the machine. State lives under $GOLDGATE_HOME/lab. More: docs/lab.md.",
    );

  lab
    .command('launch')
    .summary('boot an instance and wait until systemd has settled')
    .argument('<image>', 'a root filesystem directory, or the id of a baked image')
    .option('--name <name>', 'a label for the instance (lowercase letters, digits, dashes)')
    .option('--timeout <seconds>', 'how long systemd may take to settle', '60')
    .option('--json', 'print {"instance": {...}}')
    .option('-v, --verbose', 'show progress on standard error')
    .action(
      async (image: string, flags: { name?: string; timeout: string; json?: boolean; verbose?: boolean }) => {
        const timeoutMs = Number(flags.timeout) * 1000;
        if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
          throw new UsageError('BAD_TIMEOUT', `--timeout "${flags.timeout}" is not a number of seconds`);
        const info = await launchInstance({
          rootfs: resolveImageRoot(image),
          name: flags.name,
          home: labHome(),
          timeoutMs,
          events: progressSink(terminal, { verbose: flags.verbose }),
        });
        if (flags.json === true) terminal.out(`${JSON.stringify({ instance: info }, null, 2)}\n`);
        else terminal.out(`${info.id}  ${info.state}  booted in ${info.bootMs ?? '?'} ms\n`);
        result.code = EXIT.ok;
      },
    );

  lab
    .command('ls')
    .summary('list instances and whether they still run')
    .option('--json', 'print {"instances": [...]}')
    .action((flags: { json?: boolean }) => {
      const instances = listInstances({ home: labHome() });
      if (flags.json === true) {
        terminal.out(`${JSON.stringify({ instances }, null, 2)}\n`);
        return;
      }
      if (instances.length === 0) terminal.out('no instances\n');
      for (const { id, info, alive } of instances) {
        const state =
          info === undefined
            ? 'half-written (goldgate lab gc removes it)'
            : alive
              ? info.state
              : 'dead (goldgate lab gc removes it)';
        terminal.out(
          `${id}  ${state}${info !== undefined ? `  ${info.rootfs}  booted in ${info.bootMs ?? '?'} ms` : ''}\n`,
        );
      }
    });

  lab
    .command('exec')
    .summary('run a command inside an instance')
    .argument('<instance>', 'instance id')
    .argument('<argv...>', 'the command and its arguments (after --)')
    .addHelpText('after', '\nExample:\n  goldgate lab exec lab-i-0001 -- dpkg-query -W acme-runtime')
    .action(async (id: string, argv: string[]) => {
      const run = await execInInstance(id, argv, { home: labHome() });
      terminal.out(run.stdout);
      if (run.stderr !== '') terminal.err(run.stderr);
      // The command's own status, as ssh does; 0–255.
      result.code = run.code;
    });

  lab
    .command('logs')
    .summary("print an instance's journal")
    .argument('<instance>', 'instance id')
    .option('--json', 'the journal as journalctl -o json (what goldgate diagnose reads)')
    .action(async (id: string, flags: { json?: boolean }) => {
      const run = await execInInstance(
        id,
        ['journalctl', '--no-pager', '-o', flags.json === true ? 'json' : 'short-iso'],
        { home: labHome() },
      );
      terminal.out(run.stdout);
      if (run.code !== 0) {
        terminal.err(run.stderr);
        result.code = EXIT.environment;
      }
    });

  const collect = (value: string, previous: string[]): string[] => [...previous, value];
  lab
    .command('health')
    .summary("run the image's health checks inside an instance")
    .description(
      "Runs the health checks of the instance's image (the `health` list of the spec it was baked from) inside the instance, or the checks given with the flags instead (any image). Each result is also appended to the instance's goldgate-health.jsonl. Exit 0 when every check passes, 1 when one fails.",
    )
    .argument('<instance>', 'instance id')
    .option(
      '--health-http <port/path>',
      'an http check: GET 127.0.0.1:PORT/PATH inside the instance must answer 200 (repeatable)',
      collect,
      [],
    )
    .option(
      '--health-command <argv>',
      'a command check: the command (split on spaces, no quoting) must exit 0 (repeatable)',
      collect,
      [],
    )
    .option(
      '--health-unit <name>',
      'a unit check: systemctl is-active NAME must say active (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print {"instance": ..., "ok": ..., "results": [...]}')
    .addHelpText(
      'after',
      '\nExamples:\n  goldgate lab health acme-1a2b3c4d\n  goldgate lab health i-1a2b3c4d --health-http 8080/health --health-unit ssh.service --health-command "test -e /etc/acme.conf"',
    )
    .action(
      async (
        id: string,
        flags: { healthHttp: string[]; healthCommand: string[]; healthUnit: string[]; json?: boolean },
      ) => {
        const home = labHome();
        const info = liveInstance(home, id);
        const given = [
          ...flags.healthHttp.map(httpCheckFromFlag),
          ...flags.healthCommand.map(commandCheckFromFlag),
          ...flags.healthUnit.map(unitCheckFromFlag),
        ];
        const checks = given.length > 0 ? given : await imageHealthChecks(info.rootfs);
        const results = await runHealthChecks(id, checks, { home });
        const ok = results.every((r) => r.ok);
        if (flags.json === true) terminal.out(`${JSON.stringify({ instance: id, ok, results }, null, 2)}\n`);
        else
          for (const r of results)
            terminal.out(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}  ${r.detail}  (${r.durationMs} ms)\n`);
        result.code = ok ? EXIT.ok : EXIT.checkFailed;
      },
    );

  lab
    .command('terminate')
    .summary('stop an instance and remove everything it had')
    .argument('<instance>', 'instance id')
    .action(async (id: string) => {
      await terminateInstance(id, { home: labHome() });
      terminal.out(`${id} terminated\n`);
    });

  lab
    .command('gc')
    .summary('remove what crashed runs left behind: dead instances, mounts, processes')
    .option('--json', 'print what was removed')
    .action(async (flags: { json?: boolean }) => {
      const removed = await gc({ home: labHome() });
      if (flags.json === true) terminal.out(`${JSON.stringify(removed, null, 2)}\n`);
      else
        terminal.out(
          `terminated ${removed.terminated.length} instances, killed ${removed.killed.length} processes, unmounted ${removed.unmounted.length} mounts, removed ${removed.removed.length} leftovers\n`,
        );
    });

  for (const command of lab.commands) command.exitOverride();
  lab.exitOverride();
}
