import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { goldgateHome } from '../../core/home.js';
import { commandCheckFromFlag, httpCheckFromFlag, unitCheckFromFlag } from '../../lab/health.js';
import type { HealthCheck } from '../../spec/schema.js';
import { parseAge } from '../../verify/age.js';
import { renderVerifyHtml } from '../../verify/html.js';
import { resolveTarget } from '../../verify/target.js';
import type { ReasonClass } from '../../verify/types.js';
import { passes, REASON_CLASSES } from '../../verify/verdict.js';
import { verifyImage } from '../../verify/verify.js';
import { EXIT } from '../exit-codes.js';
import { checkOutput, writeOutput } from '../output.js';
import { renderVerify } from '../render/verify.js';
import { repeat, userDataFile, wholeNumber as wholeFlag } from '../flags.js';
import { progressSink } from '../terminal.js';
import type { Terminal } from '../terminal.js';

interface VerifyFlags {
  instances: string;
  userData?: string;
  imageAge?: string;
  soak?: string;
  allowDomain?: string[];
  accept?: string[];
  healthHttp?: string[];
  healthCommand?: string[];
  healthUnit?: string[];
  timeout: string;
  json?: boolean;
  html?: string;
  keep?: boolean;
  store: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

const list = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(',').filter((v) => v !== ''),
];

const wholeNumber = (flag: string, value: string, min: number, max: number): number =>
  wholeFlag(flag, value, min, max, 'VERIFY_BAD_FLAG');

/** `--accept broken,reaches-outside`: the classes that do not fail the exit status. */
function acceptedClasses(given: readonly string[]): ReasonClass[] {
  const known = REASON_CLASSES as readonly string[];
  const values = given.map((v) => v.trim());
  const unknown = values.filter((v) => !known.includes(v));
  if (unknown.length > 0)
    throw new UsageError('VERIFY_BAD_FLAG', `--accept "${unknown.join(',')}" is not a class of failure`, {
      hint: `give a comma-separated list of ${REASON_CLASSES.join(', ')}`,
    });
  return REASON_CLASSES.filter((c) => values.includes(c));
}

export function registerVerify(program: Command, terminal: Terminal, result: { code: number }): void {
  program
    .command('verify')
    .summary('prove that instances booted from an image do not change themselves')
    .description(
      "The immutability proof. Boots lab instances of the image (real systemd, on the lab network), runs its health checks, fast-forwards time (starts the service of every scheduled timer once: apt-daily, apt-daily-upgrade, dnf-automatic, custom timers; cloud-init runs for real at boot with the image's or the given user-data), runs the checks again, and reads what each instance changed: packages (the image's dpkg status against the instance's), configuration (/etc), binaries and libraries (/usr, /lib, /opt, /boot), runtime noise (machine-id, journal, logs, caches, stamps, locks: shown, never failing), every DNS name looked up, failed units. A failed check is linked to what preceded it in the instance's own logs. The verdict is `immutable` only with no package, configuration or binary drift, no lookup outside the spec's dnsAllow, no failed unit and every check passing before and after; otherwise it says which kind of failure: `mutable` (it changes itself, whatever else), `broken` (a check, a unit or cloud-init failed but nothing changed: what is inside the image breaks it), `reaches-outside` (it only looked up names outside the allowlist). The report is stored with the image. Reference: docs/verify.md, JSON schema: docs/verify-json.md.",
    )
    .argument('<image>', 'a stored image id (goldgate images) or a root filesystem directory')
    .option('-n, --instances <n>', 'instances to boot at once (1-20)', '1')
    .option(
      '--user-data <file>',
      "cloud-init user-data for the instances (NoCloud seed); default the image's own",
    )
    .option(
      '--image-age <age>',
      'boot as an image baked this long ago would (90d, 12h, 2w): timer and apt periodic stamps aged; soaks instead of fast-forwarding',
    )
    .option('--soak <seconds>', 'watch without fast-forwarding for this long (default 30 with --image-age)')
    .option(
      '--allow-domain <patterns>',
      "DNS names instances may look up, besides the spec's dnsAllow (exact or *.suffix; comma-separated, repeatable)",
      list,
    )
    .option(
      '--accept <classes>',
      'classes of failure that do not fail the exit status: changes-itself, broken, reaches-outside (comma-separated, repeatable); the verdict is unchanged',
      list,
    )
    .option(
      '--health-http <port/path>',
      'an HTTP health check (8080/health), instead of the spec’s (repeatable)',
      repeat,
    )
    .option('--health-command <argv>', 'a command health check, split on spaces (repeatable)', repeat)
    .option('--health-unit <name>', 'a unit that must be active (repeatable)', repeat)
    .option('--timeout <seconds>', 'how long the fast-forwarded services may run', '600')
    .option('--json', 'print the report as one JSON document (docs/verify-json.md)')
    .option('--html <file>', 'also write a self-contained HTML report with an SVG timeline')
    .option('--keep', 'leave the instances running afterwards, to look inside (goldgate lab terminate them)')
    .option('--no-store', 'do not store the report with the image')
    .option('-v, --verbose', 'show progress on standard error')
    .option('-q, --quiet', 'no progress or warnings on standard error')
    .addHelpText(
      'after',
      `
Examples:
  goldgate verify img-3f2a9c01b4d5
  goldgate verify img-3f2a9c01b4d5 --instances 3 --json > proof.json
  goldgate verify img-3f2a9c01b4d5 --user-data user-data.yaml --html proof.html
  goldgate verify img-3f2a9c01b4d5 --image-age 90d --soak 120
  goldgate verify ./rootfs --health-unit nginx.service --allow-domain '*.internal.example.com'
  goldgate verify img-3f2a9c01b4d5 --accept reaches-outside

Exit status: 0 immutable, 1 mutable, broken or reaches-outside (unless --accept accepts each of its
classes), 2 usage error, 3 environment error (not root, a tool missing).`,
    )
    .action(async (image: string, flags: VerifyFlags) => {
      const home = goldgateHome();
      const instances = wholeNumber('--instances', flags.instances, 1, 20);
      const timeoutS = wholeNumber('--timeout', flags.timeout, 1, 86_400);
      const soak = flags.soak === undefined ? undefined : wholeNumber('--soak', flags.soak, 0, 86_400);
      const imageAgeMs = flags.imageAge === undefined ? undefined : parseAge(flags.imageAge);
      const accepted = acceptedClasses(flags.accept ?? []);
      const userData = flags.userData === undefined ? undefined : userDataFile(flags.userData);
      if (flags.html !== undefined) checkOutput('--html', flags.html);
      const fromFlags: HealthCheck[] = [
        ...(flags.healthHttp ?? []).map(httpCheckFromFlag),
        ...(flags.healthCommand ?? []).map(commandCheckFromFlag),
        ...(flags.healthUnit ?? []).map(unitCheckFromFlag),
      ];
      const target = await resolveTarget(image, home);
      const checks = fromFlags.length > 0 ? fromFlags : (target.spec?.health ?? []);
      if (checks.length === 0)
        throw new UsageError(
          'VERIFY_NO_HEALTH_CHECKS',
          target.spec === undefined
            ? `no health checks: ${target.noSpec ?? 'no spec'}`
            : 'the spec has no health checks',
          {
            hint: 'give the checks with --health-http PORT/PATH, --health-command "ARGV" or --health-unit NAME',
          },
        );
      const dnsAllow = [...(target.spec?.dnsAllow ?? []), ...(flags.allowDomain ?? [])];

      // Ctrl-C stops the proof and terminates its instances; a second one leaves them to `lab gc`.
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) process.exit(130);
        terminal.err(
          `goldgate: ${signal}: stopping, terminating the instances (again to leave them to goldgate lab gc)\n`,
        );
        controller.abort(new Error(signal));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const report = await verifyImage({
          rootfs: target.rootfs,
          image: target.image,
          home,
          instances,
          checks,
          dnsAllow,
          fastForwardTimeoutMs: timeoutS * 1000,
          store: flags.store,
          signal: controller.signal,
          events: progressSink(terminal, { verbose: flags.verbose, quiet: flags.quiet }),
          ...(userData === undefined ? {} : { userData }),
          ...(imageAgeMs === undefined ? {} : { imageAgeMs }),
          ...(soak === undefined ? {} : { soakSeconds: soak }),
          ...(flags.keep === true ? { keep: true } : {}),
        });
        if (flags.html !== undefined) writeOutput('--html', flags.html, renderVerifyHtml(report));
        terminal.out(
          flags.json === true
            ? `${JSON.stringify(report, null, 2)}\n`
            : renderVerify(report, { color: terminal.color, accepted }),
        );
        if (flags.keep === true && flags.quiet !== true)
          terminal.err(
            `kept running: ${report.instances.map((i) => i.id).join(' ')} (look inside with goldgate lab exec <id> -- <command>; goldgate lab terminate <id> when done)\n`,
          );
        result.code = passes(report.classes, accepted) ? EXIT.ok : EXIT.checkFailed;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
