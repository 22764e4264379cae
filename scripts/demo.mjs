#!/usr/bin/env node
// The main job (`npm run demo`): installs what goldgate needs on a fresh Debian machine, then
// reproduces the incident in the lab and catches it, with real parts only:
//   1. the app's repository: acme-runtime 1.0 published to the lab's main suite,
//   2. the golden image as it was found (Debian's defaults: automatic updates on), baked,
//   3. two instances of it: healthy, running 1.0,
//   4. the security update published to the lab's security suite,
//   5. what the instances' apt timers do: both upgrade themselves and fail their health
//      check, while the image has not changed at all,
//   6. the evidence: what each instance looked up, and its logs diagnosed,
//   7. the audit that would have caught the image before production,
//   8. the fixed image (automatic updates disabled): the same timers change nothing,
//   9. goldgate verify: the as-found image proven mutable (with the cause), the fixed immutable,
//  10. the gate: the as-found image refused by the prod channel, the fixed image promoted,
//  11. goldgate patch: the pending security update baked into a candidate, which verify finds
//      broken at boot: not promoted, prod keeps the fixed image,
//  12. the app fixed (acme-runtime 1.0+deb12u2 ships its new configuration): patch again,
//      proven and promoted; the lineage shows the three images,
//  13. the outage: an autoscaling group of 3 from the as-found image, days passing fast; once
//      the update is published, healthy capacity falls to 0 and the group keeps replacing,
//      its activities and collected evidence diagnosed,
//  14. the same group from the fixed image stays at 3 healthy instances.
// Everything an instance reaches is served by the lab inside namespaces it made.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDebianPackages, ensureNodeModules, run } from './setup-lib.mjs';

const tty = process.stdout.isTTY;
const bold = (text) => (tty ? `\u001b[1m${text}\u001b[0m` : text);
const red = (text) => (tty ? `\u001b[31m${text}\u001b[0m` : text);
const green = (text) => (tty ? `\u001b[32m${text}\u001b[0m` : text);
const step = (text) => console.log(`\n${bold(`== ${text}`)}`);
const say = (text) => console.log(`   ${text}`);

if (process.getuid?.() !== 0) {
  console.error(
    'npm run demo needs root: the lab makes namespaces, mounts and cgroups, and bake runs mmdebstrap',
  );
  process.exit(3);
}
ensureNodeModules();
ensureDebianPackages([
  'mmdebstrap',
  ['ip', 'iproute2'],
  'zstd',
  ['sfdisk', 'fdisk'],
  ['qemu-img', 'qemu-utils'],
]);
run(['npm', 'run', '--silent', 'build']);

const home = process.env.GOLDGATE_HOME ?? join(homedir(), '.local', 'share', 'goldgate');
const demoDir = join(home, 'demo');
mkdirSync(demoDir, { recursive: true });
const checks = [];
const check = (ok, what) => {
  checks.push({ ok, what });
  say(ok ? green(`✓ ${what}`) : red(`✗ ${what}`));
};

/** Runs the goldgate CLI as a user would, showing the command and its output. */
function goldgate(...args) {
  console.log(`\n$ goldgate ${args.join(' ')}`);
  const result = spawnSync(process.execPath, ['bin/goldgate.js', ...args], { stdio: 'inherit' });
  return result.status;
}

/** Runs the goldgate CLI quietly and returns its output; exit 1 (a check failed) is an answer too. */
function goldgateText(...args) {
  const result = spawnSync(process.execPath, ['bin/goldgate.js', ...args], { encoding: 'utf8' });
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`goldgate ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

const goldgateJson = (...args) => ({ json: JSON.parse(goldgateText(...args)) });

const version = (id) =>
  goldgateText('lab', 'exec', id, '--', 'dpkg-query', '-W', '-f', '${Version}', 'acme-runtime').trim();
const healthy = (id) => goldgateJson('lab', 'health', id, '--json').json;

const PUBLISH_UPDATE = [
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
];

/** Deletes a group left by an earlier run, if there is one. */
function removeGroup(name) {
  spawnSync(process.execPath, ['bin/goldgate.js', 'group', 'delete', name], { encoding: 'utf8' });
}

/** Polls `test` every second until it holds, or fails the demo after `seconds`. */
async function until(what, test, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${seconds} s`);
    await sleep(1000);
  }
}

const launched = [];
let controllerRun;
try {
  step('1. The app: acme-runtime 1.0 in the lab repository "acme" (main suite bookworm)');
  const repo = join(home, 'repos', 'acme');
  if (existsSync(repo)) {
    say(`the example repository is reset for this run (${repo})`);
    rmSync(repo, { recursive: true, force: true });
  }
  goldgate('repo', 'create', 'acme');
  goldgate('repo', 'publish', 'acme', '--suite', 'bookworm', 'examples/acme/packages/acme-runtime-1.0');

  step('2. Bake the golden image as it was found: Debian defaults, automatic updates on');
  say('the first run bootstraps Debian bookworm with mmdebstrap (cached for the day after)');
  console.log('\n$ goldgate bake examples/acme/specs/as-found.yaml --json');
  const asFound = goldgateJson('bake', 'examples/acme/specs/as-found.yaml', '--json').json.image;
  say(`image ${asFound.id}  digest ${asFound.digest}`);
  say(
    `its audit: ${asFound.audit.before.total} findings (${asFound.audit.before.rulesWithFindings.join(', ')})`,
  );

  step('3. Launch two instances: the image boots with its own systemd, on the lab network');
  const instances = [];
  for (let n = 0; n < 2; n++) {
    console.log(`\n$ goldgate lab launch ${asFound.id} --json`);
    const info = goldgateJson('lab', 'launch', asFound.id, '--json').json.instance;
    launched.push(info.id);
    instances.push(info);
    say(`${info.id}  ${info.state}  ${info.address}  booted in ${info.bootMs} ms`);
  }
  for (const { id } of instances) {
    const health = healthy(id);
    check(
      version(id) === '1.0' && health.ok,
      `${id} runs acme-runtime ${version(id)}, health ${health.ok ? 'passes' : 'FAILS'}`,
    );
  }

  step('4. Upstream publishes a security update: acme-runtime 1.0+deb12u1, to the lab security suite');
  say('Origin Debian, Label Debian-Security: stock unattended-upgrades treats it as a security origin');
  goldgate(...PUBLISH_UPDATE);

  step(
    "5. The instances' apt timers fire (here: their services started now, as the timers would after boot)",
  );
  for (const { id } of instances) {
    goldgate('lab', 'exec', id, '--', 'systemctl', 'start', 'apt-daily.service', 'apt-daily-upgrade.service');
  }
  for (const { id } of instances) {
    const now = version(id);
    const health = healthy(id);
    const failed = health.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
    check(now === '1.0+deb12u1', `${id} upgraded itself to acme-runtime ${now}`);
    check(!health.ok, `${id} health ${health.ok ? 'passes' : `FAILS — ${failed.join('; ')}`}`);
  }
  const history = goldgateText(
    'lab',
    'exec',
    instances[0].id,
    '--',
    'grep',
    '-h',
    'acme-runtime',
    '/var/log/apt/history.log',
  );
  say(`/var/log/apt/history.log: ${history.trim().split('\n').at(-1)}`);
  const manifest = goldgateJson('manifest', join(home, 'images', asFound.id, 'rootfs'), '--json', '-q').json;
  const pkg = manifest.packages.find((p) => p.name === 'acme-runtime');
  check(
    manifest.digest === asFound.digest && pkg?.version === '1.0',
    `the image itself has not changed: digest ${manifest.digest.slice(0, 19)}…, acme-runtime ${pkg?.version}`,
  );
  say(
    'every instance drifted from the same image in the same way: the group keeps launching broken instances',
  );

  step('6. The evidence: DNS query logs and the instance logs, diagnosed');
  goldgate('lab', 'dns-log', instances[0].id, '--summary');
  const bundle = join(demoDir, 'bundle');
  rmSync(bundle, { recursive: true, force: true });
  for (const { id } of instances) {
    const dir = join(bundle, id);
    const upper = join(home, 'lab', 'instances', id, 'upper');
    for (const path of ['var/log/apt', 'var/log/dpkg.log', 'var/log/unattended-upgrades'])
      if (existsSync(join(upper, path))) cpSync(join(upper, path), join(dir, path), { recursive: true });
    for (const file of ['goldgate-health.jsonl', 'dns-query.log'])
      cpSync(join(home, 'lab', 'instances', id, file), join(dir, file));
    writeFileSync(join(dir, 'journal.json'), goldgateText('lab', 'logs', id, '--json'));
  }
  say(`collected each instance's logs into ${bundle}`);
  // The lab's own names are expected lookups, as a VPC's internal names would be.
  const allow = ['--allow-domain', '*.goldgate.internal'];
  const diagnosis = goldgateJson('diagnose', bundle, ...allow, '--json', '-q').json;
  goldgate('diagnose', bundle, ...allow);
  const top = diagnosis.causes[0];
  check(
    top?.kind === 'package-change' && top.package === 'acme-runtime',
    `diagnosed: ${top?.summary ?? 'no cause found'}`,
  );

  step('7. The audit that catches this image before production');
  const audit = goldgate('audit', join(home, 'images', asFound.id, 'rootfs'));
  check(audit === 1, 'the audit fails the as-found image: it would change itself after boot');

  step('8. The fixed image: the same spec with autoUpdates: disabled');
  console.log('\n$ goldgate bake examples/acme/specs/fixed.yaml --json');
  const fixed = goldgateJson('bake', 'examples/acme/specs/fixed.yaml', '--json').json.image;
  say(
    `image ${fixed.id}: audit ${fixed.audit.before.total} findings before its remediations, ${fixed.audit.after.total} after`,
  );
  const good = goldgateJson('lab', 'launch', fixed.id, '--json').json.instance;
  launched.push(good.id);
  say(`${good.id}  ${good.state}  booted in ${good.bootMs} ms`);
  goldgate(
    'lab',
    'exec',
    good.id,
    '--',
    'systemctl',
    'start',
    'apt-daily.service',
    'apt-daily-upgrade.service',
  );
  const fixedHealth = healthy(good.id);
  check(
    version(good.id) === '1.0' && fixedHealth.ok,
    `${good.id} still runs acme-runtime ${version(good.id)}, health ${fixedHealth.ok ? 'passes' : 'FAILS'}`,
  );

  step(
    '9. The proof before shipping: goldgate verify boots each image, fast-forwards its timers, and compares',
  );
  const proofs = {};
  for (const [name, image] of [
    ['as-found', asFound],
    ['fixed', fixed],
  ]) {
    const html = join(demoDir, `verify-${name}.html`);
    goldgate('verify', image.id, '--html', html);
    // The proof is stored with the image: read it back rather than verify twice.
    const proofDir = join(home, 'images', image.id, 'verify');
    const latest = readFileSync(join(proofDir, 'latest'), 'utf8').trim();
    proofs[name] = JSON.parse(readFileSync(join(proofDir, latest, 'report.json'), 'utf8'));
    say(`HTML report: ${html}`);
  }
  const mutable = proofs['as-found'];
  const upgrade = mutable.drift.packages.find((p) => p.name === 'acme-runtime');
  check(
    mutable.verdict === 'mutable' && upgrade?.to === '1.0+deb12u1',
    `as found: ${mutable.verdict}, acme-runtime ${upgrade?.from} → ${upgrade?.to}`,
  );
  check(
    mutable.causes.some((c) => c.cause?.by === 'unattended-upgrade' && c.cause?.package === 'acme-runtime'),
    `cause: ${mutable.causes[0]?.text ?? 'none found'}`,
  );
  const proof = proofs.fixed;
  check(
    proof.verdict === 'immutable',
    `fixed: ${proof.verdict} (${proof.reasons.length} reasons, whole proof in ${(proof.durationMs / 1000).toFixed(1)} s)`,
  );
  say('patches now reach production only by baking a new image and proving it first');

  step('10. The gate: only an image proven immutable reaches the prod channel');
  const refusedAsFound = goldgate('promote', asFound.id, '--channel', 'prod');
  check(refusedAsFound === 1, 'the as-found image is refused by prod: its audit and its proof fail the gate');
  const promotedFixed = goldgate('promote', fixed.id, '--channel', 'prod', '--reason', 'proven immutable');
  const prodImage = () =>
    goldgateJson('channels', '--json').json.channels.find((c) => c.name === 'prod')?.current?.image?.id;
  check(promotedFixed === 0 && prodImage() === fixed.id, `prod runs the fixed image ${fixed.id}`);

  step('11. A security update is pending: goldgate patch bakes it into a candidate and proves it first');
  say('acme-runtime 1.0+deb12u1 was published to the security suite in step 4');
  const SPEC = 'examples/acme/specs/fixed.yaml';
  const firstPatch = goldgate('patch', SPEC);
  const lineage = () => goldgateJson('images', '--lineage', 'acme-web', '--json').json.images;
  const runtimeOf = (image) => image.changes?.packages?.find((p) => p.name === 'acme-runtime')?.to;
  const broken = lineage().find((i) => i.parent === fixed.id && runtimeOf(i) === '1.0+deb12u1');
  check(
    firstPatch === 1 && broken?.verification?.verdict === 'broken',
    `the candidate with acme-runtime 1.0+deb12u1 (${broken?.id ?? 'none'}) was proven ${broken?.verification?.verdict ?? 'nothing'}: its app fails at boot, so it was not promoted`,
  );
  check(prodImage() === fixed.id, `prod kept the last good image, ${fixed.id}`);

  step('12. The app is fixed: acme-runtime 1.0+deb12u2 ships /etc/acme/v2.conf; patch again');
  goldgate(...PUBLISH_UPDATE.slice(0, -1), 'examples/acme/packages/acme-runtime-1.0+deb12u2');
  const secondPatch = goldgate('patch', SPEC);
  const good2 = lineage().find((i) => i.parent === fixed.id && runtimeOf(i) === '1.0+deb12u2');
  check(
    secondPatch === 0 && good2?.verification?.verdict === 'immutable' && prodImage() === good2?.id,
    `the candidate with acme-runtime 1.0+deb12u2 (${good2?.id ?? 'none'}) was proven ${good2?.verification?.verdict ?? 'nothing'} and promoted to prod`,
  );
  goldgate('images', '--lineage', 'acme-web');
  // A store that earlier runs used may hold more images of this name; these three are the story.
  const family = lineage().map((i) => i.id);
  check(
    [fixed.id, broken?.id, good2?.id].every((id) => family.includes(id)),
    `the lineage of acme-web shows the fixed image and its two patch candidates, each derived from it (${family.length} images of that name in the store)`,
  );

  step('13. The outage: an autoscaling group of 3 from the as-found image');
  say('the repository as it was before the update, so that the group starts healthy');
  rmSync(repo, { recursive: true, force: true });
  goldgateText('repo', 'create', 'acme');
  goldgateText('repo', 'publish', 'acme', '--suite', 'bookworm', 'examples/acme/packages/acme-runtime-1.0');
  for (const name of ['acme-web', 'acme-web-fixed']) removeGroup(name);
  const groupFlags = [
    '--desired',
    '3',
    '--grace',
    '15',
    '--health-interval',
    '2',
    '--unhealthy-threshold',
    '2',
  ];
  goldgate('group', 'create', 'acme-web', '--image', asFound.id, ...groupFlags);
  say(
    '--timers fast: a day passes on each instance every 20 s (its timers run, as they would after a day up)',
  );
  console.log('\n$ goldgate group run acme-web --timers fast --day 20');
  controllerRun = spawn(
    process.execPath,
    ['bin/goldgate.js', 'group', 'run', 'acme-web', '--timers', 'fast', '--day', '20'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const stopped = new Promise((done) => controllerRun.on('exit', done));
  const status = (name) => goldgateJson('group', 'describe', name, '--json').json.Status;
  await until('3 healthy instances', () => status('acme-web').healthy === 3, 120);
  console.log('\n$ goldgate repo publish acme --suite bookworm-security ... acme-runtime-1.0+deb12u1');
  goldgateText(...PUBLISH_UPDATE);
  say('the security update is published: each instance takes it on its next day');
  await until(
    'the group to replace 6 instances with no healthy one left',
    () => {
      const now = status('acme-web');
      return now.healthy === 0 && now.replaced >= 6;
    },
    300,
  );
  controllerRun.kill('SIGINT');
  await stopped;
  controllerRun = undefined;
  const outage = status('acme-web');
  check(
    outage.healthy === 0 && outage.replaced >= 6,
    `healthy capacity fell to ${outage.healthy} of 3; the group replaced ${outage.replaced} instances, launched ${outage.launched}, and every replacement broke the same way`,
  );
  goldgate('group', 'activities', 'acme-web');
  const groupBundle = join(demoDir, 'acme-web-evidence.tar.gz');
  goldgate('group', 'collect', 'acme-web', '-o', groupBundle);
  const groupDiagnosis = goldgateJson('diagnose', groupBundle, ...allow, '--json', '-q').json;
  const first = groupDiagnosis.causes[0];
  check(
    first?.kind === 'package-change' && first.package === 'acme-runtime' && first.by === 'unattended-upgrade',
    `the group's bundle diagnosed: ${first?.summary ?? 'no cause found'}`,
  );
  goldgate('group', 'delete', 'acme-web');

  step('14. The same group from the fixed image, with the update published');
  goldgate('group', 'create', 'acme-web-fixed', '--image', fixed.id, ...groupFlags);
  goldgate('group', 'run', 'acme-web-fixed', '--timers', 'fast', '--day', '10', '--duration', '50');
  const steady = goldgateJson('group', 'describe', 'acme-web-fixed', '--json').json;
  const days = Math.min(...steady.Instances.map((i) => i.TimerDays));
  check(
    steady.Status.healthy === 3 && steady.Status.replaced === 0 && steady.Status.launched === 3,
    `the fixed group stayed at ${steady.Status.healthy} healthy instances over ${days}+ days each, ${steady.Status.replaced} replaced`,
  );
  goldgate('group', 'delete', 'acme-web-fixed');
} finally {
  step('Clean up: terminate the instances; nothing of theirs is left');
  if (controllerRun !== undefined) {
    controllerRun.kill('SIGINT');
    await new Promise((done) => controllerRun.on('exit', done));
  }
  for (const name of ['acme-web', 'acme-web-fixed']) removeGroup(name);
  for (const id of launched) goldgate('lab', 'terminate', id);
  goldgate('lab', 'gc');
}

const failed = checks.filter((c) => !c.ok);
console.log(
  `\n${bold(
    failed.length === 0
      ? `Demo complete (${checks.length} checks): the incident and its outage were reproduced in the lab and explained; the fixed image stayed immutable and its group healthy; patches reached prod only through the gate.`
      : `Demo did not go as expected: ${failed.map((c) => c.what).join('; ')}`,
  )}`,
);
console.log(
  `The images stay in ${join(home, 'images')} (goldgate images), the repository in ${join(home, 'repos', 'acme')}: see README.md to walk the same steps by hand.`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
