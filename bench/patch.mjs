// goldgate patch's time from "a security update is published" to "a candidate with it is baked,
// audited, proven and promoted" (target: under 2 minutes on 2 cores). The peer is EC2 Image
// Builder's pipeline (build → test → distribute), which cannot run here: BENCHMARKS.md gives
// it as a reference, not a measurement.
//
// In a private GOLDGATE_HOME: acme-runtime 1.0 published to the lab repository's bookworm
// suite, examples/acme/specs/fixed.yaml (`channels: [prod]`, `patch: { include: security }`) baked on the shared cached test base, verified and promoted
// to prod through the CLI. Then, each run: a new acme-runtime (1.0+deb12u<k>, a copy of the
// example's 1.0+deb12u2 tree with that version) published to the lab security suite, and
// `goldgate patch <spec> --channel prod --json -v` timed as a user runs it (a whole Node
// process). Its steps' times come from its JSON (pipeline.steps[*].elapsedMs), the listing of
// Debian's archive (the spec's base is a Debian suite: apt-get update on the host's sources,
// plan only) from its verbose progress, and the planning is the whole minus the steps.
// Needs root and `npm run build`. Writes bench/results/patch.json.
//
//   node bench/patch.mjs [--runs 3]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bake } from '../dist/bake/bake.js';
import { cachedBootstrap } from '../dist/bake/mmdebstrap.js';
import { gc } from '../dist/lab/index.js';
import { buildDeb } from '../dist/repo/build-deb.js';
import { createRepo, publish } from '../dist/repo/repo.js';
import { machineFacts, TEST_BASE } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const project = dirname(here);
const EXAMPLES = join(project, 'examples/acme');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
if (process.getuid?.() !== 0) {
  process.stderr.write('bench/patch.mjs needs root (bake and the lab do)\n');
  process.exit(3);
}
const log = (line) => process.stderr.write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
};
const SECURITY = {
  suite: 'bookworm-security',
  origin: 'Debian',
  label: 'Debian-Security',
  codename: 'bookworm-security',
};

const home = mkdtempSync(join(tmpdir(), 'goldgate-bench-patch-'));
const cacheDir = join(process.env.GOLDGATE_CACHE ?? join(homedir(), '.cache', 'goldgate'), 'test');
const env = { ...process.env, GOLDGATE_HOME: home };
const results = {
  machine: machineFacts(),
  runs,
  command: `node bench/patch.mjs --runs ${runs}`,
  timed: 'goldgate patch <spec> --channel prod --json -v',
  loadBefore: loadavg().map((l) => Math.round(l * 100) / 100),
  setup: {},
  patches: [],
};

function goldgate(args, { allow = [0] } = {}) {
  const started = performance.now();
  const child = spawnSync(process.execPath, [join(project, 'bin/goldgate.js'), ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const wallMs = Math.round(performance.now() - started);
  if (!allow.includes(child.status))
    throw new Error(`goldgate ${args.join(' ')} exited ${child.status}: ${child.stderr}`);
  return { wallMs, stdout: child.stdout, stderr: child.stderr };
}

/** A copy of the example's fixed update, at version 1.0+deb12u<k>, built into a .deb. */
async function updateDeb(k) {
  const tree = join(home, 'trees', `acme-runtime-1.0+deb12u${k}`);
  cpSync(join(EXAMPLES, 'packages/acme-runtime-1.0+deb12u2'), tree, { recursive: true });
  const control = join(tree, 'DEBIAN', 'control');
  writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: 1.0+deb12u${k}`));
  return buildDeb(tree, join(home, 'debs'));
}

try {
  log('setting up: the acme repository, the fixed image verified and on prod');
  await cachedBootstrap(TEST_BASE, cacheDir);
  await createRepo('acme', { home });
  const debs = join(home, 'debs');
  await publish('acme', [await buildDeb(join(EXAMPLES, 'packages/acme-runtime-1.0'), debs)], {
    suite: 'bookworm',
    home,
  });
  // The example's spec: its channels ([prod]) and its patch policy (include: security).
  const spec = join(EXAMPLES, 'specs/fixed.yaml');
  let started = performance.now();
  const { image } = await bake(spec, { home, cacheDir, basePolicy: 'any' });
  results.setup.bakeMs = Math.round(performance.now() - started);
  const verified = goldgate(['verify', image.id, '--json', '-q']);
  results.setup.verifyMs = verified.wallMs;
  results.setup.verdict = JSON.parse(verified.stdout).verdict;
  results.setup.promoteMs = goldgate(['promote', image.id, '--channel', 'prod', '--json']).wallMs;
  log(`${image.id} on prod (${results.setup.verdict})`);

  for (let run = 0; run < runs; run += 1) {
    const version = `1.0+deb12u${run + 2}`;
    await publish('acme', [await updateDeb(run + 2)], { ...SECURITY, home });
    const patched = goldgate(['patch', spec, '--channel', 'prod', '--json', '-v'], { allow: [0, 1] });
    const report = JSON.parse(patched.stdout);
    const steps = Object.fromEntries(
      (report.pipeline?.steps ?? []).map((s) => [s.step, { status: s.status, elapsedMs: s.elapsedMs }]),
    );
    const stepsMs = Object.values(steps).reduce((sum, s) => sum + s.elapsedMs, 0);
    const archive = /archive: indexes fetched[^(]*\((\d+\.\d+) s\)/.exec(patched.stderr);
    const entry = {
      version,
      outcome: report.outcome,
      approved: report.approved.map((u) => `${u.name} ${u.from} -> ${u.to}`),
      image: report.pipeline?.image?.id ?? null,
      wallMs: patched.wallMs,
      steps,
      stepsMs,
      planningMs: patched.wallMs - stepsMs,
      debianSuite: report.debianSuite,
      debianArchiveMs: archive === null ? null : Math.round(Number(archive[1]) * 1000),
      debianProblems: report.sources.flatMap((s) => s.problems ?? []).length,
      load: loadavg().map((l) => Math.round(l * 100) / 100),
    };
    results.patches.push(entry);
    log(
      `run ${run + 1}: ${version} ${entry.outcome} in ${entry.wallMs} ms (${Object.entries(steps)
        .map(([step, s]) => `${step} ${s.elapsedMs}`)
        .join(', ')}; planning ${entry.planningMs}, of which Debian's archive ${entry.debianArchiveMs})`,
    );
    if (entry.outcome !== 'promoted') throw new Error(`run ${run + 1}: patch ended ${entry.outcome}`);
  }
  results.versionMs = median(Array.from({ length: 5 }, () => goldgate(['--version']).wallMs));
} finally {
  await gc({ home: join(home, 'lab') }).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
}

const p = results.patches;
const stepNames = Object.keys(p[0].steps);
results.median = {
  wallMs: median(p.map((r) => r.wallMs)),
  planningMs: median(p.map((r) => r.planningMs)),
  debianArchiveMs: p.some((r) => r.debianArchiveMs === null) ? null : median(p.map((r) => r.debianArchiveMs)),
  steps: Object.fromEntries(stepNames.map((s) => [s, median(p.map((r) => r.steps[s]?.elapsedMs ?? 0))])),
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'patch.json'), `${JSON.stringify(results, null, 2)}\n`);
const m = results.machine;
console.log(`\nMachine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}`);
console.log(`Command: ${results.command}; load before ${results.loadBefore.join(' ')}\n`);
console.log(
  `| run | update | outcome | whole | ${stepNames.join(' | ')} | planning | of which Debian's archive |`,
);
console.log(`|---|---|---|---|${stepNames.map(() => '---|').join('')}---|---|`);
for (const [n, r] of p.entries())
  console.log(
    `| ${n + 1} | ${r.version} | ${r.outcome} | ${r.wallMs} | ${stepNames.map((s) => r.steps[s]?.elapsedMs ?? '').join(' | ')} | ${r.planningMs} | ${r.debianArchiveMs} |`,
  );
const md = results.median;
console.log(
  `| median | | | ${md.wallMs} | ${stepNames.map((s) => md.steps[s]).join(' | ')} | ${md.planningMs} | ${md.debianArchiveMs} |`,
);
console.log(`\ngoldgate --version (the Node start and module loading floor): ${results.versionMs} ms`);
