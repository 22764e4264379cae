import { join, resolve } from 'node:path';
import type { Command } from 'commander';
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
import { instanceDnsLog } from '../../lab/dns-log.js';
import { liveInstance } from '../../lab/instance.js';
import { liveNetwork } from '../../lab/net/network.js';
import { resolveImageRef } from '../../images/ref.js';
import { EXIT } from '../exit-codes.js';
import { seconds, userDataFile } from '../flags.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';

const labHome = () => join(goldgateHome(), 'lab');

export function registerLab(program: Command, terminal: Terminal, result: { code: number }): void {
  const lab = program
    .command('lab')
    .summary('boot instances of an image locally, with real systemd, and look inside them')
    .description(
      "The lab: instances of an image on this machine, as root. Each instance is an overlay over the image (read-only below, its own upper layer: the instance's drift), new mount, pid, network, uts and ipc namespaces, a private minimal /dev, and the image's own systemd as PID 1. Instances sit on the lab network (10.213.0.0/16, inside namespaces the lab made): a resolver that answers the lab repositories' names (<repo>.repo.goldgate.internal), refuses every other name and logs each query in the Route 53 Resolver format, and an HTTP server for the lab repositories. There is no route off the lab network: nothing an instance does leaves the machine. State lives under $GOLDGATE_HOME/lab. More: docs/lab.md.",
    );

  lab
    .command('launch')
    .summary('boot an instance and wait until systemd has settled')
    .argument('<image>', 'a root filesystem directory, or a stored image id (goldgate images)')
    .option('--name <name>', 'a label for the instance (lowercase letters, digits, dashes)')
    .option(
      '--user-data <file>',
      'cloud-init user-data for this instance, given as a NoCloud seed (the image must have cloud-init)',
    )
    .option('--timeout <seconds>', 'how long systemd may take to settle', '60')
    .option('--json', 'print {"instance": {...}}')
    .option('-v, --verbose', 'show progress on standard error')
    .addHelpText(
      'after',
      '\nExamples:\n  goldgate lab launch img-0123456789ab --name web\n  goldgate lab launch img-0123456789ab --user-data cloud-config.yaml --json',
    )
    .action(
      async (
        image: string,
        flags: { name?: string; userData?: string; timeout: string; json?: boolean; verbose?: boolean },
      ) => {
        const timeoutMs = seconds('--timeout', flags.timeout, 1, 86_400, 'BAD_TIMEOUT') * 1000;
        const resolved = resolveImageRef(image, { tarball: false });
        const rootfs = resolved.source;
        const info = await launchInstance({
          rootfs,
          image: resolved.stored === undefined ? resolve(image) : resolved.stored.id,
          name: flags.name,
          home: labHome(),
          reposDir: join(goldgateHome(), 'repos'),
          userData: flags.userData === undefined ? undefined : userDataFile(flags.userData).data,
          timeoutMs,
          events: progressSink(terminal, { verbose: flags.verbose }),
        });
        if (flags.json === true) terminal.out(`${JSON.stringify({ instance: info }, null, 2)}\n`);
        else
          terminal.out(
            `${info.id}  ${info.state}  ${info.address ?? ''}  booted in ${info.bootMs ?? '?'} ms\n`,
          );
        result.code = EXIT.ok;
      },
    );

  lab
    .command('ls')
    .summary('list instances and whether they still run')
    .option('--json', 'print {"instances": [...], "network": {"pid", "gateway", ...} or null}')
    .action((flags: { json?: boolean }) => {
      const instances = listInstances({ home: labHome() });
      if (flags.json === true) {
        terminal.out(`${JSON.stringify({ instances, network: liveNetwork(labHome()) ?? null }, null, 2)}\n`);
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
          `${id}  ${state}${info !== undefined ? `  ${info.address ?? '-'}  ${info.image || info.rootfs}  booted in ${info.bootMs ?? '?'} ms${info.group === null ? '' : `  group ${info.group}`}` : ''}\n`,
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
    .command('dns-log')
    .summary('print the DNS queries an instance made, in Route 53 Resolver query log format')
    .description(
      'Every name the instance looked up through the lab resolver, one JSON object per line as Route 53 Resolver writes its query logs (srcids.instance is the lab instance id): lab repository names answered NOERROR, other names REFUSED. goldgate diagnose reads these lines too.',
    )
    .argument('<instance>', 'instance id')
    .option('--json', 'print {"instance": ..., "queries": [...]}')
    .option('--summary', 'one line per name: how often it was asked and what the resolver answered')
    .action(async (id: string, flags: { json?: boolean; summary?: boolean }) => {
      const queries = await instanceDnsLog(labHome(), id);
      if (flags.json === true) terminal.out(`${JSON.stringify({ instance: id, queries }, null, 2)}\n`);
      else if (flags.summary === true) {
        const names = new Map<string, { count: number; rcodes: Set<string> }>();
        for (const q of queries) {
          const entry = names.get(q.query_name) ?? { count: 0, rcodes: new Set<string>() };
          entry.count += 1;
          entry.rcodes.add(q.rcode);
          names.set(q.query_name, entry);
        }
        if (names.size === 0) terminal.out('no queries\n');
        for (const [name, { count, rcodes }] of names)
          terminal.out(`${String(count).padStart(5)}  ${[...rcodes].join(',').padEnd(9)}  ${name}\n`);
      } else for (const q of queries) terminal.out(`${JSON.stringify(q)}\n`);
    });

  lab
    .command('terminate')
    .summary('stop an instance and remove everything it had')
    .argument('<instance>', 'instance id')
    .option('--json', 'print {"id", "existed", "killed": [pids], "unmounted": [paths]}')
    .action(async (id: string, flags: { json?: boolean }) => {
      const done = await terminateInstance(id, { home: labHome() });
      if (flags.json === true) terminal.out(`${JSON.stringify(done, null, 2)}\n`);
      else terminal.out(done.existed ? `${id} terminated\n` : `${id}: no such instance (nothing to do)\n`);
    });

  lab
    .command('gc')
    .summary('remove what crashed runs left behind: dead instances, mounts, processes, the idle lab network')
    .option('--json', 'print what was removed')
    .action(async (flags: { json?: boolean }) => {
      const removed = await gc({ home: labHome() });
      if (flags.json === true) terminal.out(`${JSON.stringify(removed, null, 2)}\n`);
      else
        terminal.out(
          `terminated ${removed.terminated.length} instances, killed ${removed.killed.length} processes, unmounted ${removed.unmounted.length} mounts, removed ${removed.removed.length} leftovers, freed ${removed.leases.length} addresses${removed.network.length > 0 ? ', stopped the idle lab network' : ''}\n`,
        );
    });
}
