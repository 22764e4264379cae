// The registry's queries at scale: `goldgate images`, `goldgate channels` and
// `goldgate images --lineage` over a store of 1,000 images (10 names, each a lineage of 100
// derived images with a 150-package manifest), with audits, proofs and 3 channels of 50
// assignments each. Side by side: what a user types to list a store without a registry (jq
// over every image.json), the floor of any goldgate command (`goldgate --version`: Node
// starting and loading goldgate's modules), and, in one process, the registry's query against
// the store scan goldgate did before it had a registry. Writes bench/results/registry.json.
//
//   node bench/registry.mjs [--images 1000] [--runs 10]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listImages } from '../dist/images/store.js';
import { configureChannel } from '../dist/registry/channels.js';
import { openRegistry } from '../dist/registry/db.js';
import { promote } from '../dist/registry/gate.js';
import { recordImage, registeredImages } from '../dist/registry/images.js';
import { recordVerification } from '../dist/registry/proofs.js';
import { machineFacts } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const project = dirname(here);
const { values } = parseArgs({
  options: { images: { type: 'string', default: '1000' }, runs: { type: 'string', default: '10' } },
});
const count = Number(values.images);
const runs = Number(values.runs);
const NAMES = 10;
const log = (line) => process.stderr.write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (ms) => Math.round(ms * 10) / 10;
const summary = {
  total: 0,
  bySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
  rulesRun: 13,
  rulesWithFindings: [],
};

/** Times a whole command `runs` times (after one warm-up); returns the median and min in ms. */
function timeCommand(argv, env) {
  const times = [];
  for (let run = 0; run <= runs; run++) {
    const started = performance.now();
    const child = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', maxBuffer: 1024 ** 3 });
    const elapsed = performance.now() - started;
    if (child.status !== 0) throw new Error(`${argv.join(' ')} exited ${child.status}: ${child.stderr}`);
    if (run > 0) times.push(elapsed);
  }
  return { medianMs: round(median(times)), minMs: round(Math.min(...times)) };
}

function timeInProcess(fn) {
  const times = [];
  for (let run = 0; run <= runs; run++) {
    const started = performance.now();
    fn();
    if (run > 0) times.push(performance.now() - started);
  }
  return { medianMs: round(median(times)), minMs: round(Math.min(...times)) };
}

const home = mkdtempSync(join(tmpdir(), 'goldgate-bench-registry-'));
const results = {
  machine: machineFacts(),
  command: `node bench/registry.mjs --images ${count} --runs ${runs}`,
  images: count,
  loadBefore: loadavg().map((l) => Math.round(l * 100) / 100),
};
try {
  log(`planting ${count} images`);
  const packages = Array.from({ length: 150 }, (_, n) => ({
    name: `pkg-${n}`,
    version: '1.0',
    arch: 'amd64',
  }));
  const registry = openRegistry(home);
  const started = performance.now();
  const ids = [];
  for (let n = 0; n < count; n++) {
    const id = `img-${n.toString(16).padStart(12, '0')}`;
    const name = `app-${n % NAMES}`;
    const parent = n >= NAMES ? ids[n - NAMES] : undefined;
    const dir = join(home, 'images', id);
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    const record = {
      id,
      name,
      digest: `sha256:${n.toString(16).padStart(64, '0')}`,
      createdAt: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
      spec: `/specs/${name}.yaml`,
      base: 'bench@2026-01-01',
      autoUpdates: 'disabled',
      audit: { before: summary, after: summary, applied: 0, notApplied: 0 },
      ...(parent === undefined ? {} : { parent }),
    };
    const upgraded = packages.map((p, k) =>
      k === n % 150 ? { ...p, version: `1.${Math.floor(n / NAMES)}` } : p,
    );
    writeFileSync(join(dir, 'image.json'), JSON.stringify(record));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ digest: record.digest, packages: upgraded }));
    recordImage(registry, { ...record, path: dir }, 'bake');
    recordVerification(registry, record, {
      at: record.createdAt,
      verdict: 'immutable',
      classes: [],
      reasons: [],
      proof: null,
    });
    ids.push(id);
  }
  for (const channel of ['dev', 'staging', 'prod']) {
    configureChannel(registry, channel);
    for (let k = 0; k < 50; k++) promote(registry, ids[count - 1 - k * 3], channel, { reason: 'bench' });
  }
  registry.close();
  results.recordMsPerImage = round((performance.now() - started) / count);
  log(`recorded in ${results.recordMsPerImage} ms per image (image, audit, verification and their events)`);

  const env = { ...process.env, GOLDGATE_HOME: home };
  const goldgate = (...args) => [process.execPath, join(project, 'bin/goldgate.js'), ...args];
  log('timing whole commands');
  results.commands = {
    // The floor of any goldgate command: Node starting and loading goldgate's modules.
    version: timeCommand(goldgate('--version'), env),
    images: timeCommand(goldgate('images', '--json'), env),
    channels: timeCommand(goldgate('channels', '--json'), env),
    lineage: timeCommand(goldgate('images', '--lineage', 'app-3', '--json'), env),
    jqStoreScan: timeCommand(
      ['sh', '-c', 'jq -s "sort_by(.createdAt) | reverse" "$1"/images/*/image.json', 'sh', home],
      env,
    ),
  };
  log('timing in one process');
  const reopened = openRegistry(home);
  results.inProcess = {
    registryImages: timeInProcess(() => registeredImages(reopened)),
    storeScan: timeInProcess(() => listImages(home)),
  };
  reopened.close();
  const c = results.commands;
  results.loadAfter = loadavg().map((l) => Math.round(l * 100) / 100);
  results.ratios = {
    imagesAboveFloorMs: round(c.images.medianMs - c.version.medianMs),
    imagesVsJq: round(c.jqStoreScan.medianMs / c.images.medianMs),
    registryVsStoreScan: round(
      results.inProcess.storeScan.medianMs / results.inProcess.registryImages.medianMs,
    ),
  };
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'registry.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
} finally {
  rmSync(home, { recursive: true, force: true });
}
