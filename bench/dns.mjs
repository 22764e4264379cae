#!/usr/bin/env node
// Benchmark of goldgate's Route 53 query-log aggregation (src/logs/dns) against jq doing the
// same aggregation in one pass, with `wc -l` as the I/O floor. Generates a realistic query
// log (deterministic PRNG) in a temporary directory, times each tool on it (file in the page
// cache for all: wc -l runs first), checks that goldgate's counts equal jq's, and deletes
// the file. Writes bench/results/dns.json.
// Usage: node bench/dns.mjs [--size-mb 1024] [--runs 1] [--jq-runs 1] [--keep] [--skip-jq-floor] [--generate-only]
// (after npm run build; --generate-only --keep leaves the log for other experiments)
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { machineFacts } from './common.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

// The counting side, run in a child process so that its memory is its own (and /usr/bin/time's).
if (args[0] === '--child') {
  const { aggregateQueries } = await import('../dist/logs/dns/index.js');
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const started = process.hrtime.bigint();
  const result = await aggregateQueries([args[1]]);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const counts = {};
  for (const [who, names] of result.byInstance) {
    counts[who] = {};
    for (const [name, count] of names) counts[who][name] = count.rcodes;
  }
  // Exit once the pipe has taken everything (a large write to a pipe is asynchronous).
  process.stdout.write(
    JSON.stringify({ ms, peakRss: peak, records: result.records, problems: result.problems.length, counts }),
    () => process.exit(0),
  );
  await new Promise(() => {});
}

const sizeMb = Number(option('--size-mb', 1024));
const runs = Math.max(1, Number(option('--runs', 1)));
// jq takes minutes on a gigabyte: once unless asked.
const jqRuns = Math.max(1, Number(option('--jq-runs', 1)));
const keep = args.includes('--keep');
const skipFloor = args.includes('--skip-jq-floor');
const onlyGenerate = args.includes('--generate-only');
const here = fileURLToPath(new URL('.', import.meta.url));

// ---- generation -------------------------------------------------------------------------------

function prng(seed) {
  // mulberry32: small, fast, and the same file on every machine.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(path, bytes) {
  const random = prng(20261127);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const hex = (n) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const instances = Array.from({ length: 50 }, (_, k) => ({
    id: `i-0${hex(16)}`,
    addr: `10.0.${1 + (k % 4)}.${20 + k}`,
  }));
  const services = [
    'ssm',
    'ec2messages',
    'ssmmessages',
    'logs',
    'monitoring',
    'sts',
    's3',
    'ecr',
    'api.ecr',
    'secretsmanager',
    'kms',
    'sqs',
    'sns',
    'dynamodb',
    'elasticloadbalancing',
    'autoscaling',
  ];
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1'];
  const names = [];
  for (const service of services)
    for (const region of regions) names.push(`${service}.${region}.amazonaws.com.`);
  for (const mirror of ['security', 'archive', 'deb', 'mirrors', 'cdn', 'ftp'])
    names.push(`${mirror}.distro-mirror.example.`);
  for (let k = 0; k < 120; k++) names.push(`svc-${k}.acme.internal.`);
  for (let k = 0; k < 60; k++) names.push(`api${k % 7}.vendor-${k}.example.com.`);
  for (let k = 0; k < 40; k++) names.push(`${20 + k}.1.0.10.in-addr.arpa.`);
  names.push(
    'metrics.example-vendor.com.',
    'Telemetry.Example-Vendor.COM.',
    'time.aws.com.',
    'ntp.ubuntu.com.',
  );
  // A few hundred names, some much more popular than others.
  const weighted = names.flatMap((name, k) =>
    Array.from({ length: k < 48 ? 6 : k < 80 ? 3 : 1 }, () => name),
  );
  const endpoint = 'rslvr-in-0a1b2c3d4e5f60001';
  const fd = openSync(path, 'w');
  let written = 0;
  let lines = 0;
  let time = Date.parse('2026-11-27T00:00:00Z');
  const batch = [];
  let batchBytes = 0;
  while (written < bytes) {
    time += Math.floor(random() * 40);
    const instance = pick(instances);
    const fromEndpoint = random() < 0.02;
    const name = pick(weighted);
    const roll = random();
    const rcode = roll < 0.02 ? 'NXDOMAIN' : roll < 0.024 ? 'SERVFAIL' : roll < 0.025 ? 'REFUSED' : 'NOERROR';
    const ptr = name.endsWith('.in-addr.arpa.');
    const txt = !ptr && random() < 0.005;
    const type = ptr ? 'PTR' : txt ? 'TXT' : random() < 0.3 ? 'AAAA' : 'A';
    const answers = [];
    if (rcode === 'NOERROR') {
      if (type === 'A') {
        const n = 1 + Math.floor(random() * 3);
        for (let k = 0; k < n; k++)
          answers.push({
            Rdata: `${52 + Math.floor(random() * 100)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`,
            Type: 'A',
            Class: 'IN',
          });
      } else if (type === 'PTR')
        answers.push({
          Rdata: `ip-10-0-1-${Math.floor(random() * 250)}.ec2.internal.`,
          Type: 'PTR',
          Class: 'IN',
        });
      // TXT data is quoted: the JSON holds escapes, the lines the fast path hands to the parser.
      else if (type === 'TXT')
        answers.push({ Rdata: '"v=spf1 include:_spf.example.com ~all"', Type: 'TXT', Class: 'IN' });
    }
    const record = {
      version: '1.100000',
      account_id: '111122223333',
      region: 'us-east-1',
      vpc_id: 'vpc-0a1b2c3d4e5f60001',
      query_timestamp: new Date(time).toISOString().replace('.000Z', 'Z'),
      query_name: name,
      query_type: type,
      query_class: 'IN',
      rcode,
      answers,
      srcaddr: fromEndpoint ? `192.168.7.${10 + Math.floor(random() * 8)}` : instance.addr,
      srcport: String(1024 + Math.floor(random() * 60000)),
      transport: random() < 0.97 ? 'UDP' : 'TCP',
      srcids: fromEndpoint ? { resolver_endpoint: endpoint } : { instance: instance.id },
    };
    const line = `${JSON.stringify(record)}\n`;
    batch.push(line);
    batchBytes += line.length;
    written += line.length;
    lines++;
    if (batchBytes >= 4 * 1024 * 1024) {
      writeSync(fd, batch.join(''));
      batch.length = 0;
      batchBytes = 0;
    }
  }
  writeSync(fd, batch.join(''));
  closeSync(fd);
  return lines;
}

// ---- measuring --------------------------------------------------------------------------------

const hasTime = existsSync('/usr/bin/time');
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Runs argv (under /usr/bin/time -v when present): wall ms, stdout (or none), max RSS in bytes. */
function measure(argv, { output = true } = {}) {
  const full = hasTime ? ['/usr/bin/time', '-v', ...argv] : argv;
  const started = process.hrtime.bigint();
  const out = spawnSync(full[0], full.slice(1), {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', output ? 'pipe' : 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (out.status !== 0)
    throw new Error(`${argv.join(' ')} failed (${out.status}): ${out.stderr.slice(-2000)}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(out.stderr);
  return { ms, stdout: out.stdout, maxRss: rss ? Number(rss[1]) * 1024 : null };
}

function repeat(argv, options, times = runs) {
  const all = Array.from({ length: times }, () => measure(argv, options));
  const best = all.find((m) => m.ms === median(all.map((r) => r.ms)));
  return { ...best, all: all.map((m) => Math.round(m.ms)) };
}

// One pass, per (instance or source address, name, rcode): the counting goldgate does. Names
// are counted as written; lowercasing and dropping the trailing dot happen afterwards, once per
// distinct name, in JavaScript (jq 1.6's ascii_downcase on every line would double its time).
const JQ_PROGRAM =
  'reduce inputs as $r ({}; .[$r.srcids.instance // $r.srcaddr][$r.query_name][$r.rcode] += 1)';
// jq's floor: parsing every line and printing one field, no aggregation.
const JQ_FLOOR = '.query_name';

/** jq's counts with names normalized as goldgate does (lowercase, no trailing dot), merged. */
function normalizeJq(counts) {
  const out = {};
  for (const [who, byName] of Object.entries(counts)) {
    out[who] ??= {};
    for (const [raw, rcodes] of Object.entries(byName)) {
      const lower = raw.toLowerCase();
      const name = lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
      out[who][name] ??= {};
      for (const [rcode, n] of Object.entries(rcodes))
        out[who][name][rcode] = (out[who][name][rcode] ?? 0) + n;
    }
  }
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'goldgate-bench-dns-'));
const file = join(work, 'resolver-query-log.jsonl');
const cleanup = () => {
  if (!keep) rmSync(work, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  const generated = process.hrtime.bigint();
  const lines = generate(file, sizeMb * 1024 * 1024);
  const size = statSync(file).size;
  const mb = size / 1e6;
  console.error(
    `generated ${lines} lines, ${mb.toFixed(0)} MB in ${(Number(process.hrtime.bigint() - generated) / 1e9).toFixed(1)} s`,
  );
  if (onlyGenerate) {
    console.log(file);
    process.exit(0);
  }
  const loadBefore = loadavg()[0];

  const wc = repeat(['wc', '-l', file]);
  console.error(`wc -l: ${(wc.ms / 1000).toFixed(2)} s`);
  const gg = repeat([process.execPath, join(here, 'dns.mjs'), '--child', file]);
  const ggOut = JSON.parse(gg.stdout);
  console.error(`goldgate: ${(gg.ms / 1000).toFixed(2)} s`);
  const jq = repeat(['jq', '-n', '-c', JQ_PROGRAM, file], {}, jqRuns);
  const jqOut = normalizeJq(JSON.parse(jq.stdout));
  console.error(`jq: ${(jq.ms / 1000).toFixed(2)} s`);
  const floor = skipFloor ? null : repeat(['jq', '-c', JQ_FLOOR, file], { output: false }, jqRuns);
  if (floor) console.error(`jq parse floor: ${(floor.ms / 1000).toFixed(2)} s`);

  // Same counts: per instance, and per (instance, name, rcode).
  const sum = (byName) =>
    Object.values(byName).reduce(
      (total, rcodes) => total + Object.values(rcodes).reduce((a, b) => a + b, 0),
      0,
    );
  const perInstance = (counts) =>
    Object.fromEntries(
      Object.entries(counts)
        .map(([who, byName]) => [who, sum(byName)])
        .sort(),
    );
  const canonical = (counts) =>
    JSON.stringify(
      Object.entries(counts)
        .flatMap(([who, byName]) =>
          Object.entries(byName).flatMap(([name, rcodes]) =>
            Object.entries(rcodes).map(([rcode, n]) => [who, name, rcode, n]),
          ),
        )
        .sort((a, b) => (a.join('\0') < b.join('\0') ? -1 : 1)),
    );
  const sameTotals = JSON.stringify(perInstance(ggOut.counts)) === JSON.stringify(perInstance(jqOut));
  const sameCounts = canonical(ggOut.counts) === canonical(jqOut);
  const pairs = Object.values(ggOut.counts).reduce((n, byName) => n + Object.keys(byName).length, 0);

  const rate = (ms) => Math.round(mb / (ms / 1000));
  const result = {
    machine: machineFacts({ jq: spawnSync('jq', ['--version'], { encoding: 'utf8' }).stdout.trim() }),
    command: `node bench/dns.mjs --size-mb ${sizeMb} --runs ${runs} --jq-runs ${jqRuns}`,
    // Other work on the machine shows here: the medians of several runs are the figures to use.
    loadAverage1m: { before: +loadBefore.toFixed(2), after: +loadavg()[0].toFixed(2) },
    input: { bytes: size, lines, instances: Object.keys(ggOut.counts).length, pairs, inPageCache: true },
    goldgate: {
      wallSeconds: +(gg.ms / 1000).toFixed(2),
      aggregateSeconds: +(ggOut.ms / 1000).toFixed(2),
      mbPerSecond: rate(gg.ms),
      peakRssSampledMiB: +(ggOut.peakRss / 2 ** 20).toFixed(1),
      maxRssTimeMiB: gg.maxRss === null ? null : +(gg.maxRss / 2 ** 20).toFixed(1),
      records: ggOut.records,
      problems: ggOut.problems,
      runsMs: gg.all,
    },
    jq: {
      program: JQ_PROGRAM,
      wallSeconds: +(jq.ms / 1000).toFixed(2),
      mbPerSecond: rate(jq.ms),
      maxRssTimeMiB: jq.maxRss === null ? null : +(jq.maxRss / 2 ** 20).toFixed(1),
      runsMs: jq.all,
    },
    jqParseFloor: floor && {
      program: `jq -c '${JQ_FLOOR}' (parses every line, no aggregation: not the same work)`,
      wallSeconds: +(floor.ms / 1000).toFixed(2),
      mbPerSecond: rate(floor.ms),
    },
    wcL: { wallSeconds: +(wc.ms / 1000).toFixed(2), mbPerSecond: rate(wc.ms), runsMs: wc.all },
    ratios: {
      goldgateSpeedupOverJq: +(jq.ms / gg.ms).toFixed(1),
      goldgateTimeOverJq: +(gg.ms / jq.ms).toFixed(3),
      goldgateTimeOverWc: +(gg.ms / wc.ms).toFixed(2),
      goldgateSpeedupOverJqParseFloor: floor && +(floor.ms / gg.ms).toFixed(1),
    },
    verified: {
      sameTotalsPerInstance: sameTotals,
      sameCountsPerInstanceNameRcode: sameCounts,
      records: ggOut.records === lines,
    },
  };
  mkdirSync(join(here, 'results'), { recursive: true });
  const out = JSON.stringify(result, null, 2);
  writeFileSync(join(here, 'results', 'dns.json'), `${out}\n`);
  console.log(out);
  if (!sameTotals || !sameCounts) process.exitCode = 1;
} finally {
  cleanup();
}
