// goldgate verify's wall time, by phase, on the example's images (target: under 5 s in total on
// a baked image), side by side with what the proof cannot do without: the boot of the image's
// own systemd alone (launch to `running`, then terminate). The fixed image is the one a
// pipeline would promote (immutable); the as-found image is measured too (mutable: its
// apt-daily services fetch lists and upgrade, which is most of its time).
// Needs root and `npm run build`. Writes bench/results/verify.json.
//
//   node bench/verify.mjs [--runs 10]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { bake } from '../dist/bake/bake.js';
import { cachedBootstrap } from '../dist/bake/mmdebstrap.js';
import { gc, launchInstance, terminateInstance } from '../dist/lab/index.js';
import { buildDeb } from '../dist/repo/build-deb.js';
import { createRepo, publish } from '../dist/repo/repo.js';
import { machineFacts, TEST_BASE } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const project = dirname(here);
const EXAMPLES = join(project, 'examples/acme');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
if (process.getuid?.() !== 0) {
  process.stderr.write('bench/verify.mjs needs root (the lab does)\n');
  process.exit(3);
}
const log = (line) => process.stderr.write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
};

// A private home: the bench never touches the user's images or repositories. Bases come from
// the shared cache the tests use, so nothing is bootstrapped twice.
const home = mkdtempSync(join(tmpdir(), 'goldgate-bench-verify-'));
const cacheDir = join(process.env.GOLDGATE_CACHE ?? join(homedir(), '.cache', 'goldgate'), 'test');
const lab = join(home, 'lab');
const results = { machine: {}, runs, command: `node bench/verify.mjs --runs ${runs}`, images: {} };

function goldgateVerify(id) {
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    [join(project, 'bin/goldgate.js'), 'verify', id, '--json', '-q', '--no-store'],
    {
      env: { ...process.env, GOLDGATE_HOME: home },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const wallMs = Math.round(performance.now() - started);
  if (child.status !== 0 && child.status !== 1)
    throw new Error(`verify exited ${child.status}: ${child.stderr}`);
  const report = JSON.parse(child.stdout);
  return { wallMs, report };
}

try {
  results.machine = machineFacts();
  log('setting up: the acme repository, the example images, the security update');
  await cachedBootstrap(TEST_BASE, cacheDir);
  await createRepo('acme', { home });
  const debs = join(home, 'debs');
  await publish('acme', [await buildDeb(join(EXAMPLES, 'packages/acme-runtime-1.0'), debs)], {
    suite: 'bookworm',
    home,
  });
  const images = {};
  for (const name of ['fixed', 'as-found'])
    images[name] = (
      await bake(join(EXAMPLES, 'specs', `${name}.yaml`), { home, cacheDir, basePolicy: 'any' })
    ).image;
  await publish('acme', [await buildDeb(join(EXAMPLES, 'packages/acme-runtime-1.0+deb12u1'), debs)], {
    suite: 'bookworm-security',
    origin: 'Debian',
    label: 'Debian-Security',
    codename: 'bookworm-security',
    home,
  });

  for (const [name, image] of Object.entries(images)) {
    const rootfs = join(image.path, 'rootfs');
    // The peer: the same image's systemd booting to `running` and halting, nothing else.
    const boots = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      const info = await launchInstance({ rootfs, home: lab, reposDir: join(home, 'repos') });
      await terminateInstance(info.id, { home: lab });
      boots.push(Math.round(performance.now() - started));
    }
    const proofs = [];
    for (let i = 0; i < (name === 'fixed' ? runs : Math.min(runs, 3)); i += 1) {
      const { wallMs, report } = goldgateVerify(image.id);
      proofs.push({ wallMs, verdict: report.verdict, durationMs: report.durationMs, phases: report.phases });
      log(
        `${name} run ${i + 1}: ${report.verdict} in ${wallMs} ms (${report.phases.map((p) => `${p.phase} ${p.ms}`).join(', ')})`,
      );
    }
    const phaseNames = proofs[0].phases.map((p) => p.phase);
    const byPhase = Object.fromEntries(
      phaseNames.map((phase) => [
        phase,
        median(proofs.map((p) => p.phases.find((q) => q.phase === phase)?.ms ?? 0)),
      ]),
    );
    results.images[name] = {
      id: image.id,
      verdicts: [...new Set(proofs.map((p) => p.verdict))],
      bootAndHaltMedianMs: median(boots),
      verifyWallMedianMs: median(proofs.map((p) => p.wallMs)),
      verifyWallMaxMs: Math.max(...proofs.map((p) => p.wallMs)),
      verifyReportedMedianMs: median(proofs.map((p) => p.durationMs)),
      phasesMedianMs: byPhase,
      runs: proofs.length,
    };
  }
} finally {
  await gc({ home: lab }).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
}

mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'verify.json'), `${JSON.stringify(results, null, 2)}\n`);
const m = results.machine;
console.log(`\nMachine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}`);
console.log(`Command: ${results.command}\n`);
console.log(
  '| image | verdict | verify, wall (median / max) | boot + halt of its systemd alone | ratio | launch | health-before | fast-forward | health-after | collect | terminate |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [name, r] of Object.entries(results.images)) {
  const p = r.phasesMedianMs;
  console.log(
    `| ${name} | ${r.verdicts.join('/')} | ${r.verifyWallMedianMs} / ${r.verifyWallMaxMs} ms | ${r.bootAndHaltMedianMs} ms | ${(r.verifyWallMedianMs / r.bootAndHaltMedianMs).toFixed(2)}× | ${p.launch} | ${p['health-before']} | ${p['fast-forward']} | ${p['health-after']} | ${p.collect} | ${p.terminate} |`,
  );
}
