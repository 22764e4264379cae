#!/usr/bin/env node
// The main job (`npm run demo`): installs what goldgate needs on a fresh Debian machine,
// then reproduces the incident's image and catches it.
//   1. bootstrap a real Debian 12 root filesystem as Debian ships it with unattended-upgrades
//      (cached after the first run),
//   2. audit it: the three sources of change at boot are found, with file and line,
//   3. fix a copy with the audit's own remediations, audit again: clean,
//   4. read the image as a tarball too: same manifest digest,
//   5. diagnose the real logs of a lab instance that upgraded itself at boot.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages, ensureNodeModules, run } from './setup-lib.mjs';

const bold = (text) => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text);
const step = (text) => console.log(`\n${bold(`== ${text}`)}`);

ensureNodeModules();
ensureDebianPackages(['mmdebstrap']);
run(['npm', 'run', '--silent', 'build']);

const home = process.env.GOLDGATE_HOME ?? join(homedir(), '.local', 'share', 'goldgate');
const demoDir = join(home, 'demo');
mkdirSync(demoDir, { recursive: true });

const { cachedBootstrap } = await import('../dist/bake/mmdebstrap.js');
const request = { suite: 'bookworm', variant: 'minbase', include: ['systemd-sysv', 'unattended-upgrades'] };

step('1. A golden image as Debian ships it: bookworm minbase + systemd + unattended-upgrades');
const started = Date.now();
const base = await cachedBootstrap(request, join(home, 'cache'), {
  emit: (event) => {
    if (event.type === 'progress') console.log(`   ${event.message}`);
  },
});
console.log(`   root filesystem: ${base} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

/** Runs the goldgate CLI the way a user would and returns its exit status. */
function goldgate(...args) {
  console.log(`\n$ goldgate ${args.join(' ')}`);
  const result = spawnSync(process.execPath, ['bin/goldgate.js', ...args], { stdio: 'inherit' });
  return result.status;
}

step('2. Audit it: every way this image changes itself at boot');
const before = goldgate('audit', base);
console.log(
  `   exit status ${before}: ${before === 1 ? 'caught — this image would upgrade itself on every instance' : 'unexpected'}`,
);

step('3. Harden a copy with the audit’s own remediations, and audit again');
const copy = join(demoDir, 'hardened-rootfs');
rmSync(copy, { recursive: true, force: true });
run(['cp', '-a', base, copy]);
goldgate('fix', copy);
const after = goldgate('audit', copy);
console.log(`   exit status ${after}: ${after === 0 ? 'immutable by configuration' : 'still mutable'}`);

step('4. The same image as a tarball reads to the same manifest digest');
const tarball = join(demoDir, 'debian-uu.tar.gz');
if (!existsSync(tarball)) run(['tar', '-C', base, '-I', 'gzip -1', '-cf', tarball, '.']);
const digest = (source) => {
  const out = spawnSync(process.execPath, ['bin/goldgate.js', 'manifest', source, '--json', '-q'], {
    encoding: 'utf8',
  });
  return JSON.parse(out.stdout).digest;
};
const fromDir = digest(base);
const fromTar = digest(tarball);
console.log(
  `   directory: ${fromDir}\n   tarball:   ${fromTar}\n   ${fromDir === fromTar ? 'same image, same digest' : 'DIGESTS DIFFER'}`,
);

step('5. Diagnose the logs of an instance that upgraded itself after boot (a real lab run)');
const diagnosed = spawnSync(
  process.execPath,
  ['bin/goldgate.js', 'diagnose', 'examples/bundles/lab-incident', '--json', '-q'],
  { encoding: 'utf8' },
);
goldgate('diagnose', 'examples/bundles/lab-incident');
const top = JSON.parse(diagnosed.stdout).causes[0];
const found =
  top?.kind === 'package-change' && top.package === 'acme-runtime' && top.by === 'unattended-upgrade';
console.log(`   ${found ? `found: ${top.summary}` : 'the boot-time upgrade was not found'}`);

const ok = before === 1 && after === 0 && fromDir === fromTar && found;
console.log(
  `\n${bold(ok ? 'Demo complete: the incident’s image was caught and fixed, and its logs diagnosed.' : 'Demo did not go as expected.')}`,
);
process.exitCode = ok ? 0 : 1;
