#!/usr/bin/env node
// Benchmark of `goldgate audit` (bench/README in BENCHMARKS.md): time on a real Debian root
// filesystem against `lynis audit system --rootdir` on the same tree, and detection coverage
// of the 13 sources of change at boot on a copy with each of them planted.
// Usage: node bench/audit.mjs [--runs N] [--skip-lynis]   (after npm run build; as root)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, homedir, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { plantAll, SOURCES } from './plant.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 10) || 10;
const skipLynis = args.includes('--skip-lynis');

const { cachedBootstrap } = await import('../dist/bake/mmdebstrap.js');
const { auditSource } = await import('../dist/audit/report.js');
const base = await cachedBootstrap(
  { suite: 'bookworm', variant: 'minbase', include: ['systemd-sysv', 'unattended-upgrades'] },
  join(process.env.GOLDGATE_CACHE ?? join(homedir(), '.cache', 'goldgate'), 'test'),
);
const work = mkdtempSync(join(tmpdir(), 'goldgate-bench-'));
const planted = join(work, 'planted');
execFileSync('cp', ['-a', base, planted]);
plantAll(planted);

const fileCount = (root) =>
  Number(execFileSync('sh', ['-c', 'find "$1" | wc -l', 'sh', root], { encoding: 'utf8' }).trim());
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms) => (ms / 1000).toFixed(3);

function timeCli(root) {
  const times = [];
  let report;
  for (let i = 0; i < runs; i += 1) {
    const started = process.hrtime.bigint();
    const out = spawnSync(process.execPath, ['bin/goldgate.js', 'audit', root, '--json', '-q'], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    report = JSON.parse(out.stdout);
  }
  return { median: median(times), min: Math.min(...times), report };
}

async function timeLibrary(root) {
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const started = process.hrtime.bigint();
    await auditSource(root);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(times);
}

function lynis(root, name) {
  const log = join(work, `lynis-${name}.log`);
  const report = join(work, `lynis-${name}.dat`);
  const started = process.hrtime.bigint();
  // --rootdir needs the trailing slash: lynis appends paths such as usr/bin/... to it.
  spawnSync(
    'lynis',
    [
      'audit',
      'system',
      '--rootdir',
      `${root}/`,
      '--quick',
      '--no-colors',
      '--logfile',
      log,
      '--report-file',
      report,
    ],
    { stdio: 'ignore' },
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, log: readFileSync(log, 'utf8'), report: readFileSync(report, 'utf8') };
}

/** What lynis's report says about each source: the lines that name its tool, if any. */
const LYNIS_MENTIONS = {
  'apt-unattended-upgrades': /unattended.upgrade/i,
  'apt-periodic-update': /APT::Periodic|Update-Package-Lists/i,
  'apt-timers-enabled': /apt-daily/i,
  'cloud-init-package-upgrade': /package_upgrade|cloud-init/i,
  'boot-script-package-install': /bootstrap\.sh|apt-get install/i,
  'boot-network-fetch': /curl|get\.example\.com/i,
  'container-mutable-tag': /:latest|app:latest/i,
  'dnf-automatic': /dnf-automatic/i,
  'dnf-release-unlocked': /releasever/i,
  'snap-auto-refresh': /snap.*refresh|refresh\.hold/i,
  'needrestart-auto': /nrconf|needrestart/i,
  'auto-reboot': /Automatic-Reboot/i,
  'os-update-agent': /update.engine|locksmith/i,
};

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const baseFiles = fileCount(base);
const cli = timeCli(base);
const lib = await timeLibrary(base);
const plantedCli = timeCli(planted);
const found = new Set(plantedCli.report.findings.map((f) => f.rule));

const result = {
  machine,
  runs,
  base: {
    files: baseFiles,
    cliMedianS: seconds(cli.median),
    cliMinS: seconds(cli.min),
    libraryMedianS: seconds(lib),
    findings: cli.report.summary.total,
  },
  planted: { files: fileCount(planted), cliMedianS: seconds(plantedCli.median), rulesFound: found.size },
  coverage: SOURCES.map((s) => ({ rule: s.rule, planted: s.planted, goldgate: found.has(s.rule) })),
};

if (!skipLynis) {
  const lynisBase = lynis(base, 'base');
  const lynisPlanted = lynis(planted, 'planted');
  result.base.lynisS = seconds(lynisBase.ms);
  result.base.ratio = (lynisBase.ms / cli.median).toFixed(1);
  result.planted.lynisS = seconds(lynisPlanted.ms);
  const text = `${lynisPlanted.report}\n${lynisPlanted.log}`;
  for (const row of result.coverage) {
    // Only what lynis concludes (results, suggestions, warnings, report keys), not its inventories.
    const lines = text
      .split('\n')
      .filter((line) =>
        /Result:|Suggestion:|Warning:|^suggestion\[\]=|^warning\[\]=|^unattended_upgrade_tool/.test(line),
      )
      .filter((line) => LYNIS_MENTIONS[row.rule].test(line));
    row.lynis =
      lines.length === 0
        ? 'not mentioned'
        : lines
            .slice(0, 2)
            .map((l) => l.replace(/^\S+ \S+ /, '').trim())
            .join(' | ');
  }
}

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/audit.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
rmSync(work, { recursive: true, force: true });
