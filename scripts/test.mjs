#!/usr/bin/env node
// The project's test command (`npm test`): works on a fresh clone. It installs what the
// tests need, builds, type-checks and lints, runs vitest, and ends with one plain line
// "N passed, N failed" counted from vitest's JSON report.
//   --fast   unit tests only (no real Debian image is bootstrapped)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureDebianPackages, ensureNodeModules, run } from './setup-lib.mjs';

const fast = process.argv.includes('--fast');
const extra = process.argv.slice(2).filter((arg) => arg !== '--fast');

ensureNodeModules();
if (!fast)
  ensureDebianPackages([
    'mmdebstrap',
    ['ip', 'iproute2'],
    'chromium',
    'zstd',
    ['sfdisk', 'fdisk'],
    ['qemu-img', 'qemu-utils'],
  ]);

const checks = [
  ['build', ['npm', 'run', '--silent', 'build']],
  ['typecheck', ['npm', 'run', '--silent', 'typecheck']],
  ['lint', ['npm', 'run', '--silent', 'lint']],
  ['format', ['npm', 'run', '--silent', 'format:check']],
];
let checksFailed = 0;
for (const [name, argv] of checks) {
  const status = run(argv, { allowFailure: true });
  if (status !== 0) {
    checksFailed += 1;
    console.error(`check failed: ${name}`);
  }
}

mkdirSync('.cache', { recursive: true });
const report = '.cache/vitest-report.json';
rmSync(report, { force: true });
const env = { ...process.env, ...(fast ? { GOLDGATE_TEST_TIER: 'fast' } : {}) };
const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra],
  { stdio: 'inherit', env },
);

let passed = 0;
let failed = checksFailed;
if (existsSync(report)) {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  // A file that fails to load has no tests to count: count it as a failure.
  failed += result.testResults.filter(
    (file) => file.status === 'failed' && file.assertionResults.length === 0,
  ).length;
} else {
  failed += 1;
  console.error('vitest wrote no report');
}
if (vitest.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
