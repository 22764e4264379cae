#!/usr/bin/env node
// Drift detection against AIDE (target: at least 50x faster than `aide --check` on the same
// scope, finding the same changes). Reproduces the incident through the CLI, as
// scripts/demo.mjs does: acme-runtime 1.0 in a lab repository, the as-found image baked, an
// instance launched, the security update published, the instance's apt-daily and
// apt-daily-upgrade services started (it upgrades itself), and (unless --incident-only) one
// hand-made change of each kind (PLANT below). Then, on that running instance:
//   AIDE: `aide --init` over the image's root filesystem (the baseline), `aide --check` over
//         the instance's live merged view (/proc/<init pid>/root: the lab mounts the overlay in
//         the instance's own mount namespace), scope /etc /usr /opt /boot, content and
//         permission attributes;
//   goldgate: collectDrift({ lower, upper, merged }) from dist/verify/drift.js.
// Both must find the same changed paths in scope; exits 1 when they do not.
// Everything lives in a private GOLDGATE_HOME under the temporary directory, removed at the end.
// Needs root. Writes bench/results/drift.json.
//
//   node bench/drift.mjs [--runs 20] [--aide-runs 3] [--skip-build] [--incident-only]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { machineFacts } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const project = dirname(here);
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    'aide-runs': { type: 'string', default: '3' },
    'skip-build': { type: 'boolean', default: false },
    'incident-only': { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(values.runs) || 20);
const aideRuns = Math.max(1, Number(values['aide-runs']) || 3);
const SCOPE = ['/etc', '/usr', '/opt', '/boot'];
// Unless --incident-only: after the upgrade, one change of every kind made inside the running
// instance (a fixed script, no data in it), so that both tools must agree on more than one file:
// metadata only, a touch (no change), an edit, a removal, a file turned into a symlink, a
// directory removed and made again (opaque: the image's entries hidden), new files, a FIFO.
const PLANT = `set -e
chmod 0600 /etc/debian_version
touch /etc/issue
echo '# drift' >> /etc/issue.net
rm /usr/bin/yes
ln -sfn /etc/shadow /etc/motd
rm -rf /etc/apt/apt.conf.d
mkdir /etc/apt/apt.conf.d
echo 'APT::Periodic::Enable "0";' > /etc/apt/apt.conf.d/10periodic-off
mkdir -p /opt/acme
printf '#!/bin/sh\\necho acme\\n' > /opt/acme/tool
chmod 0755 /opt/acme/tool
mkfifo /etc/acme.fifo
`;
const log = (line) => process.stderr.write(`${line}\n`);

if (process.getuid?.() !== 0) {
  log('bench/drift.mjs needs root (bake and the lab do)');
  process.exit(3);
}
const which = (name) =>
  spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' }).stdout.trim();
if (which('aide') === '') {
  log('aide not found: apt-get install aide (npm run bench installs it)');
  process.exit(3);
}

const run = (argv, options = {}) => {
  const [command, ...args] = argv;
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28, cwd: project, ...options });
};
if (!values['skip-build']) {
  const build = run(['npm', 'run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const { collectDrift } = await import('../dist/verify/drift.js');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (ms, digits = 1) => Number(ms.toFixed(digits));
const inScope = (path) => SCOPE.some((top) => path === top || path.startsWith(`${top}/`));

const work = mkdtempSync(join(tmpdir(), 'goldgate-bench-drift-'));
const home = join(work, 'home');
const env = { ...process.env, GOLDGATE_HOME: home };

/** The goldgate CLI with the private home; its JSON output, or a thrown error with its stderr. */
function goldgate(...args) {
  const result = run([process.execPath, 'bin/goldgate.js', ...args], { env });
  if (result.status !== 0)
    throw new Error(`goldgate ${args.join(' ')} exited ${result.status}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Milliseconds of one synchronous child process, and its result. */
function timed(argv, options) {
  const started = performance.now();
  const result = run(argv, options);
  return { ms: performance.now() - started, result };
}

const result = {
  machine: machineFacts({
    aide: (({ stdout, stderr }) => `${stdout}${stderr}`.split('\n')[0].trim())(run(['aide', '--version'])),
  }),
  command: `node bench/drift.mjs --runs ${runs} --aide-runs ${aideRuns}${values['incident-only'] ? ' --incident-only' : ''}`,
  scope: SCOPE,
};
let instance;
let failed = false;
try {
  // The incident, as scripts/demo.mjs steps 1-5 play it.
  log('setup: lab repository, bake (a cold mmdebstrap in the private home), launch, upgrade');
  goldgate('repo', 'create', 'acme');
  goldgate('repo', 'publish', 'acme', '--suite', 'bookworm', 'examples/acme/packages/acme-runtime-1.0');
  const image = JSON.parse(goldgate('bake', 'examples/acme/specs/as-found.yaml', '--json', '-q')).image;
  goldgate(
    'repo',
    'publish',
    'acme',
    '--suite',
    'bookworm-security',
    '--origin',
    'Debian',
    '--label',
    'Debian-Security',
    '--codename',
    'bookworm-security',
    'examples/acme/packages/acme-runtime-1.0+deb12u1',
  );
  instance = JSON.parse(goldgate('lab', 'launch', image.id, '--json')).instance;
  goldgate(
    'lab',
    'exec',
    instance.id,
    '--',
    'systemctl',
    'start',
    'apt-daily.service',
    'apt-daily-upgrade.service',
  );
  const version = goldgate(
    'lab',
    'exec',
    instance.id,
    '--',
    'dpkg-query',
    '-W',
    '-f',
    '${Version}',
    'acme-runtime',
  );
  log(`instance ${instance.id} runs acme-runtime ${version}`);
  if (!values['incident-only']) goldgate('lab', 'exec', instance.id, '--', 'sh', '-c', PLANT);
  const lower = image.rootfs;
  const upper = instance.upper;
  const merged = `/proc/${instance.pid}/root`;
  const upperEntries = Number(run(['sh', '-c', 'find "$1" | wc -l', 'sh', upper]).stdout.trim()) - 1;
  result.image = { id: image.id, rootfs: lower, acmeRuntime: { image: '1.0', instance: version } };
  result.planted = values['incident-only'] ? null : PLANT;
  result.instance = { id: instance.id, upperEntries };

  // AIDE: the same scope, content and permission attributes; directories by permissions and
  // type only (overlayfs reports one link for a merged directory, and its size is the upper
  // layer's). Report and database checksums off, so AIDE does only the comparison.
  const conf = join(work, 'aide.conf');
  const db = join(work, 'aide.db');
  const rules = SCOPE.flatMap((top) => [`${top}($|/) f,l,c,b,p,s Content`, `${top}($|/) d Dirs`]);
  const aideConf = (workers) =>
    [
      `database_in=file:${db}`,
      `database_out=file:${db}.new`,
      'gzip_dbout=no',
      'database_attrs=E',
      'report_level=list_entries',
      'report_format=json',
      'report_url=stdout',
      'log_level=warning',
      `num_workers=${workers}`,
      'Content = p+u+g+s+n+ftype+l+sha256',
      'Dirs = p+u+g+ftype',
      ...rules,
      '',
    ].join('\n');
  const aide = (mode, root, workers) => {
    writeFileSync(conf, aideConf(workers));
    return timed(['aide', mode, '-c', conf, '-B', `root_prefix=${root}`]);
  };
  log('aide --init on the image (the baseline)');
  const init = aide('--init', lower, 1);
  if (init.result.status !== 0) throw new Error(`aide --init failed: ${init.result.stderr}`);
  renameSync(`${db}.new`, db);
  const checks = (workers) => {
    const times = [];
    let report;
    for (let i = 0; i < aideRuns; i += 1) {
      const check = aide('--check', merged, workers);
      // Exit 1-7: added, removed, changed entries found; above that, an error.
      if (check.result.status === null || check.result.status > 7)
        throw new Error(`aide --check failed (${check.result.status}): ${check.result.stderr}`);
      times.push(check.ms);
      report = JSON.parse(check.result.stdout);
    }
    return { times, report };
  };
  log(
    `aide --check on the instance's merged view, ${aideRuns} runs with 1 worker (the default), then with ${cpus().length}`,
  );
  const aide1 = checks(1);
  const aideAll = checks(cpus().length);
  const report = aide1.report;
  const filesInScope = report.number_of_entries.total;

  // goldgate: the first call in this process (nothing compiled yet), one warm-up, then the runs.
  log(`collectDrift: first call, warm-up, ${runs} runs`);
  const options = { lower, upper, merged };
  let started = performance.now();
  const drift = collectDrift(options);
  const firstMs = performance.now() - started;
  collectDrift(options);
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    started = performance.now();
    collectDrift(options);
    times.push(performance.now() - started);
  }
  // A whole Node process: start, import, one call (what a CLI command would pay).
  const processRun = timed([
    process.execPath,
    '--input-type=module',
    '-e',
    `import { collectDrift } from ${JSON.stringify(join(project, 'dist/verify/drift.js'))};
     collectDrift(${JSON.stringify(options)});`,
  ]);
  if (processRun.result.status !== 0) throw new Error(`node: ${processRun.result.stderr}`);

  // What each found in scope.
  const aideFound = new Map();
  for (const change of ['added', 'removed', 'changed'])
    for (const path of Object.keys(report[change] ?? {})) aideFound.set(path, change);
  const goldgateFound = new Map();
  for (const f of drift.files) if (f.class !== 'data') goldgateFound.set(f.path, `${f.class} ${f.change}`);
  const noiseInScope = drift.noise.filter((n) => inScope(n.path));
  for (const n of noiseInScope)
    if (n.rule !== 'copy-up-unchanged') goldgateFound.set(n.path, `noise ${n.rule} ${n.change}`);
  // Files the lab mounts over the overlay inside the instance (hostname, resolv.conf): AIDE
  // reads the mounted file; goldgate reads the layers, where the instance never wrote.
  const labMounts = readFileSync(`/proc/${instance.pid}/mountinfo`, 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point) => point !== undefined && inScope(point));
  const onlyAide = [...aideFound.keys()].filter((p) => !goldgateFound.has(p)).sort();
  const onlyGoldgate = [...goldgateFound.keys()].filter((p) => !aideFound.has(p)).sort();
  const unexplained = [...onlyAide.filter((p) => !labMounts.includes(p)), ...onlyGoldgate];
  const upgraded = drift.packages.find((p) => p.name === 'acme-runtime');
  failed =
    unexplained.length > 0 || upgraded?.action !== 'upgraded' || !goldgateFound.has('/usr/lib/acme/health');

  const goldgateMs = median(times);
  const aideMs = median(aide1.times);
  const aideAllMs = median(aideAll.times);
  result.filesInScope = filesInScope;
  result.goldgate = {
    medianMs: round(goldgateMs, 2),
    minMs: round(Math.min(...times), 2),
    firstCallMs: round(firstMs, 2),
    wholeProcessMs: round(processRun.ms),
    runs,
  };
  result.aide = {
    initMs: round(init.ms),
    check1WorkerMs: round(aideMs),
    check1WorkerRunsMs: aide1.times.map((t) => round(t)),
    checkAllWorkersMs: round(aideAllMs),
    checkAllWorkersRunsMs: aideAll.times.map((t) => round(t)),
    workers: cpus().length,
  };
  result.ratio = {
    median: round(aideMs / goldgateMs, 0),
    firstCall: round(aideMs / firstMs, 0),
    wholeProcess: round(aideMs / processRun.ms, 1),
    allWorkersMedian: round(aideAllMs / goldgateMs, 0),
  };
  result.found = {
    aide: Object.fromEntries([...aideFound].sort()),
    goldgate: Object.fromEntries([...goldgateFound].sort()),
    goldgateNoiseInScope: noiseInScope,
    packages: drift.packages,
    labMounts,
    onlyAide,
    onlyGoldgate,
    unexplained,
    same: unexplained.length === 0,
  };

  const machine = `${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.memoryGiB} GiB`;
  console.log(`\n## Drift detection vs AIDE (${result.machine.aide})\n`);
  console.log(
    '| machine | command | files in scope | goldgate ms (median / first call / whole process) | AIDE check ms (1 worker / all) | ratio (median) | AIDE init ms |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  console.log(
    `| ${machine} | \`${result.command}\` | ${filesInScope} | ${result.goldgate.medianMs} / ${result.goldgate.firstCallMs} / ${result.goldgate.wholeProcessMs} | ${result.aide.check1WorkerMs} / ${result.aide.checkAllWorkersMs} | **${result.ratio.median}x** (first call ${result.ratio.firstCall}x, whole process ${result.ratio.wholeProcess}x, AIDE on all cores ${result.ratio.allWorkersMedian}x) | ${result.aide.initMs} |`,
  );
  console.log(`\nupper layer: ${upperEntries} entries; packages: ${JSON.stringify(drift.packages)}`);
  console.log('\nAIDE found (in scope):');
  for (const [path, change] of aideFound) console.log(`  ${change.padEnd(8)} ${JSON.stringify(path)}`);
  console.log('goldgate found (config, binary, and noise in scope other than copy-up-unchanged):');
  for (const [path, what] of goldgateFound) console.log(`  ${what.padEnd(8)} ${JSON.stringify(path)}`);
  const unchanged = noiseInScope.filter((n) => n.rule === 'copy-up-unchanged').map((n) => n.path);
  console.log(
    `goldgate copy-up-unchanged in scope (AIDE sees no change either): ${JSON.stringify(unchanged)}`,
  );
  console.log(`only AIDE: ${JSON.stringify(onlyAide)} (lab mounts in scope: ${JSON.stringify(labMounts)})`);
  console.log(`only goldgate: ${JSON.stringify(onlyGoldgate)}`);
  console.log(failed ? `DIFFERENT: ${JSON.stringify(unexplained)}` : 'same changes found by both');
} catch (error) {
  failed = true;
  result.error = String(error?.stack ?? error);
  log(result.error);
} finally {
  if (instance !== undefined)
    run([process.execPath, 'bin/goldgate.js', 'lab', 'terminate', instance.id], { env });
  run([process.execPath, 'bin/goldgate.js', 'lab', 'gc'], { env });
  rmSync(work, { recursive: true, force: true });
}
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'drift.json'), `${JSON.stringify(result, null, 2)}\n`);
log('wrote bench/results/drift.json');
process.exitCode = failed ? 1 : 0;
