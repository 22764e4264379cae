import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { bake } from '../bake/bake.js';
import { cachedBootstrap } from '../bake/mmdebstrap.js';
import type { StoredImage } from '../images/store.js';
import { gc, listInstances } from '../lab/instance.js';
import { daemonsOf } from '../lab/net/network.js';
import { readInstance } from '../lab/state.js';
import { loadSpec } from '../spec/load.js';
import { ACME_UPDATE, publishAcmeApp, publishAcmeUpdate } from '../test-support/acme.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { runCli } from '../test-support/cli.js';
import { spawnGoldgate } from '../test-support/faults.js';
import { hostMirrorNames } from '../test-support/host-mirrors.js';
import { hostMountsUnder, labHomes, processesNaming } from '../test-support/lab-home.js';
import { verifyReportErrors } from '../test-support/verify-schema.js';
import { resolveTarget } from './target.js';
import type { VerifyReport } from './types.js';
import { verifyImage } from './verify.js';

// The immutability proof with real parts: images baked on the shared base, booted in the lab
// with real systemd, their timers fast-forwarded, with acme-runtime's breaking security update
// published to the lab security suite. Each kind of self-change must come out `mutable` for
// its own reason, a lookup outside the allowlist alone `reaches-outside`; the images that do
// not change themselves `immutable`.

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'examples/acme');
const UPDATE = ACME_UPDATE;
const homes = labHomes('goldgate-verify-');
let home = '';
let cacheDir = '';

/** Specs of images that are not in the repository, each changing itself in its own way (or not). */
const SPECS: Record<string, string> = {
  hardened: `name: hardened
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, unattended-upgrades, busybox]
autoUpdates: disabled
services:
  mask: [apt-daily.timer, apt-daily-upgrade.timer]
dnsAllow: []
health:
  - { name: journald, unit: { name: systemd-journald.service } }
  - { name: shell, command: { argv: [/bin/true] } }
`,
  'phone-home': `name: phone-home
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, unattended-upgrades, busybox]
autoUpdates: disabled
files:
  - path: /etc/systemd/system/phone-home.service
    content: |
      [Unit]
      Description=report for duty to an outside host
      After=network.target
      [Service]
      Type=oneshot
      RemainAfterExit=yes
      ExecStart=-/usr/bin/getent ahosts telemetry.example.com
      [Install]
      WantedBy=multi-user.target
services:
  enable: [phone-home.service]
health:
  - { name: journald, unit: { name: systemd-journald.service } }
`,
  'motd-timer': `name: motd-timer
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, unattended-upgrades, busybox]
autoUpdates: disabled
files:
  - path: /etc/systemd/system/motd-refresh.timer
    content: |
      [Timer]
      OnCalendar=daily
      Persistent=true
      [Install]
      WantedBy=timers.target
  - path: /etc/systemd/system/motd-refresh.service
    content: |
      [Service]
      Type=oneshot
      ExecStart=/bin/sh -c 'date > /etc/issue.net'
services:
  enable: [motd-refresh.timer]
health:
  - { name: journald, unit: { name: systemd-journald.service } }
`,
  'cron-job': `name: cron-job
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, unattended-upgrades, busybox, cron]
autoUpdates: disabled
files:
  - path: /etc/cron.d/refresh-issue
    content: |
      # a nightly job that rewrites a configuration file
      17 4 * * * root date > /etc/issue.net
health:
  - { name: journald, unit: { name: systemd-journald.service } }
`,
  'baked-update': `name: baked-update
base: { suite: bookworm, variant: minbase }
packages: [systemd-sysv, busybox, acme-runtime=${ACME_UPDATE}]
repositories:
  - lab: acme
    suites: [bookworm, bookworm-security]
autoUpdates: disabled
health:
  - { name: acme health command, command: { argv: [/usr/lib/acme/health] } }
`,
  'cloud-upgrade': `name: cloud-upgrade
base: { suite: bookworm, variant: minbase }
packages: [cloud-init, systemd-sysv, acme-runtime=1.0]
repositories:
  - lab: acme
    suites: [bookworm, bookworm-security]
autoUpdates: disabled
health:
  - { name: acme health command, command: { argv: [/usr/lib/acme/health] } }
`,
};

const images = new Map<string, StoredImage>();

async function bakeSpec(name: string, path: string): Promise<StoredImage> {
  const { image } = await bake(path, { home, cacheDir, basePolicy: 'any' });
  images.set(name, image);
  return image;
}

async function verify(
  name: string,
  extra: Partial<Parameters<typeof verifyImage>[0]> = {},
): Promise<VerifyReport> {
  const image = images.get(name) as StoredImage;
  const target = await resolveTarget(image.id, home);
  const report = await verifyImage({
    rootfs: target.rootfs,
    image: target.image,
    home,
    checks: target.spec?.health ?? [],
    dnsAllow: target.spec?.dnsAllow ?? [],
    ...extra,
  });
  expect(verifyReportErrors(report)).toBe('');
  return report;
}

/** Nothing of the proof is left: no instance, mount, process, network daemon. */
function nothingLeft(): void {
  const lab = join(home, 'lab');
  expect(listInstances({ home: lab })).toEqual([]);
  expect(hostMountsUnder(join(lab, 'instances'))).toEqual([]);
  expect(processesNaming(join(lab, 'instances'))).toEqual([]);
  expect(daemonsOf(lab)).toEqual([]);
}

describe('goldgate verify', { sequential: true }, () => {
  beforeAll(async () => {
    const base = baseRootfs();
    if (base === undefined) return; // the fast tier: every test here is skipped
    cacheDir = dirname(dirname(dirname(base)));
    home = homes.create();
    await publishAcmeApp(home);
    for (const spec of ['as-found', 'fixed']) await bakeSpec(spec, join(EXAMPLES, 'specs', `${spec}.yaml`));
    // The security update is published after the bake, as upstream published it.
    await publishAcmeUpdate(home);
    await cachedBootstrap(
      { suite: 'bookworm', variant: 'minbase', include: ['cloud-init', 'systemd-sysv'] },
      cacheDir,
    );
    for (const [name, text] of Object.entries(SPECS)) {
      const path = join(home, `${name}.yaml`);
      writeFileSync(path, text);
      await loadSpec(path);
      await bakeSpec(name, path);
    }
  }, 900_000);
  afterAll(homes.cleanUp, 180_000);

  itWithBase(
    'the as-found image is mutable: acme-runtime upgraded by unattended-upgrade, and the health check it broke',
    async () => {
      const report = await verify('as-found', { instances: 2 });
      expect(report.verdict).toBe('mutable');
      expect(report.classes).toEqual(['changes-itself', 'broken', 'reaches-outside']);
      expect(report.instances).toHaveLength(2);
      const ids = report.instances.map((i) => i.id).sort();
      expect(report.drift.packages).toEqual([
        { name: 'acme-runtime', arch: 'all', from: '1.0', to: UPDATE, action: 'upgraded', instances: ids },
      ]);
      expect(report.reasons).toContainEqual(
        expect.objectContaining({
          kind: 'package',
          package: 'acme-runtime',
          from: '1.0',
          to: UPDATE,
          action: 'upgraded',
        }),
      );
      // Healthy after boot, broken after the timers ran.
      expect(report.health.filter((h) => h.phase === 'before').every((h) => h.ok)).toBe(true);
      const failed = report.reasons.filter((r) => r.kind === 'health');
      expect(failed.map((r) => [r.check, r.phase])).toEqual([
        ['acme http health', 'after'],
        ['acme health command', 'after'],
      ]);
      expect(report.reasons.find((r) => r.check === 'acme health command')?.detail).toBe(
        'exit 1 (expected 0): missing /etc/acme/v2.conf',
      );
      // The cause, read from the instances' own logs.
      expect(report.causes).toHaveLength(4);
      for (const cause of report.causes) {
        expect(cause.cause).toMatchObject({
          service: 'apt-daily-upgrade.service',
          by: 'unattended-upgrade',
          package: 'acme-runtime',
          from: '1.0',
          to: UPDATE,
        });
        expect(cause.text).toMatch(
          new RegExp(
            `^apt-daily-upgrade\\.service ran unattended-upgrade at \\d\\d:\\d\\d:\\d\\d, which upgraded acme-runtime 1\\.0 → 1\\.0\\+deb12u1; health \`${cause.check}\` failed at \\d\\d:\\d\\d:\\d\\d: `,
          ),
        );
      }
      // What changed: the package's files, as binaries owned by it; the runtime noise apart.
      expect(report.drift.files).toContainEqual(
        expect.objectContaining({
          path: '/usr/lib/acme/health',
          class: 'binary',
          change: 'modified',
          package: 'acme-runtime',
        }),
      );
      expect(report.reasons).toContainEqual(
        expect.objectContaining({ kind: 'binary', package: 'acme-runtime' }),
      );
      expect(report.drift.files.map((f) => f.path)).not.toContain('/etc/machine-id');
      expect(report.drift.noise.map((n) => n.path)).toContain('/var/lib/dpkg/status');
      // The timers fast-forwarded, and what they looked up.
      for (const instance of report.instances)
        expect(instance.timers.filter((t) => t.result === 'success').map((t) => t.service)).toEqual(
          expect.arrayContaining(['apt-daily.service', 'apt-daily-upgrade.service']),
        );
      expect(report.dns.find((d) => d.name === 'acme.repo.goldgate.internal')).toMatchObject({
        answered: true,
      });
      expect(hostMirrorNames()).not.toEqual([]);
      for (const mirror of hostMirrorNames())
        expect(report.dns.find((d) => d.name === mirror)).toMatchObject({ answered: false, allowed: false });
      expect(report.timeline.map((e) => e.kind)).toEqual(
        expect.arrayContaining(['boot', 'timer', 'package', 'health', 'dns']),
      );
      expect(report.phases.map((p) => p.phase)).toEqual([
        'launch',
        'health-before',
        'fast-forward',
        'health-after',
        'collect',
        'terminate',
      ]);
      // Stored with the image, with the evidence diagnose reads.
      expect(report.storedAt).not.toBeNull();
      const stored = JSON.parse(
        readFileSync(join(report.storedAt ?? '', 'report.json'), 'utf8'),
      ) as VerifyReport;
      expect(stored.verdict).toBe('mutable');
      for (const id of ids) {
        expect(existsSync(join(report.storedAt ?? '', 'evidence', id, 'var/log/apt/history.log'))).toBe(true);
        // The instance's own zone, read through its mount namespace, places its local-time logs.
        expect(readFileSync(join(report.storedAt ?? '', 'evidence', id, 'etc/timezone'), 'utf8').trim()).toBe(
          'Etc/UTC',
        );
      }
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    'the fixed image with the same update published is immutable',
    async () => {
      const report = await verify('fixed');
      expect(report.reasons).toEqual([]);
      expect(report.verdict).toBe('immutable');
      expect(report.drift.packages).toEqual([]);
      expect(report.drift.files.filter((f) => f.class !== 'data')).toEqual([]);
      expect(report.health.map((h) => [h.phase, h.name, h.ok])).toEqual([
        ['before', 'acme http health', true],
        ['before', 'acme health command', true],
        ['after', 'acme http health', true],
        ['after', 'acme health command', true],
      ]);
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    'an image with the breaking update baked in is broken, not mutable: its health fails at boot and nothing changes',
    async () => {
      const report = await verify('baked-update');
      expect(report.verdict).toBe('broken');
      expect(report.classes).toEqual(['broken']);
      expect(report.drift.packages).toEqual([]);
      expect(report.drift.files.filter((f) => f.class !== 'data')).toEqual([]);
      expect(report.reasons.map((r) => [r.kind, r.class, r.phase])).toEqual([
        ['health', 'broken', 'before'],
        ['health', 'broken', 'after'],
      ]);
      expect(report.reasons[0]?.detail).toBe('exit 1 (expected 0): missing /etc/acme/v2.conf');
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    "cloud-init's package_upgrade in the user-data makes it mutable: the package it upgraded at boot",
    async () => {
      const userData = join(home, 'user-data.yaml');
      // cloud-init 22.4's schema types `locale` as a string; "false" turns the module off (no locales in minbase).
      writeFileSync(userData, '#cloud-config\npackage_upgrade: true\nlocale: "false"\n');
      const report = await verify('cloud-upgrade', {
        userData: { path: userData, data: readFileSync(userData) },
      });
      expect(report.verdict).toBe('mutable');
      expect(report.options.userData).toBe(userData);
      expect(report.reasons).toContainEqual(
        expect.objectContaining({ kind: 'package', package: 'acme-runtime', to: UPDATE, action: 'upgraded' }),
      );
      // It broke at boot, before any timer ran: cloud-init made the change.
      const before = report.causes.find((c) => c.check === 'acme health command');
      expect(before?.cause).toMatchObject({ by: 'cloud-init', package: 'acme-runtime' });
      expect(report.health.find((h) => h.phase === 'before')?.ok).toBe(false);
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    'the same cloud-init image with user-data that only provisions (the default user, runcmd) is immutable',
    async () => {
      const userData = join(home, 'provision.yaml');
      writeFileSync(userData, '#cloud-config\nlocale: "false"\nruncmd:\n  - [touch, /root/provisioned]\n');
      const report = await verify('cloud-upgrade', {
        userData: { path: userData, data: readFileSync(userData) },
      });
      expect(report.reasons).toEqual([]);
      expect(report.instances[0]?.cloudInit?.status).toBe('done');
      // cloud-init's first boot is shown, not failed: the default user, its own state, what runcmd made.
      const noise = new Set(report.drift.noise.map((n) => n.rule));
      expect(noise).toContain('cloud-init-provisioning');
      expect(noise).toContain('cloud-init-state');
      expect(report.drift.files).toContainEqual(
        expect.objectContaining({ path: '/root/provisioned', class: 'data', change: 'added' }),
      );
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    'an enabled unit that looks up an outside host at boot, and changes nothing, reaches outside: the name, refused',
    async () => {
      const report = await verify('phone-home');
      expect(report.verdict).toBe('reaches-outside');
      expect(report.classes).toEqual(['reaches-outside']);
      expect(report.reasons).toContainEqual(
        expect.objectContaining({
          kind: 'dns',
          class: 'reaches-outside',
          name: 'telemetry.example.com',
          rcodes: expect.objectContaining({ REFUSED: expect.any(Number) }),
        }),
      );
      expect(report.reasons.every((r) => r.kind === 'dns')).toBe(true);
      nothingLeft();

      // The CLI fails it, unless the class is accepted; the stored verdict stays what it is.
      const image = images.get('phone-home') as StoredImage;
      const saved = process.env.GOLDGATE_HOME;
      process.env.GOLDGATE_HOME = home;
      try {
        const failed = await runCli('verify', image.id, '--no-store', '-q');
        expect(failed.code).toBe(1);
        expect(failed.stdout).toMatch(
          /^REACHES OUTSIDE {2}img-.*\n {2}reaches outside: it looked up a name outside the allowlist \(telemetry\.example\.com\) but changed nothing and broke nothing/,
        );
        const accepted = await runCli('verify', image.id, '--accept', 'reaches-outside', '--json', '-q');
        expect(accepted.code).toBe(0);
        expect(JSON.parse(accepted.stdout)).toMatchObject({ verdict: 'reaches-outside' });
      } finally {
        if (saved === undefined) delete process.env.GOLDGATE_HOME;
        else process.env.GOLDGATE_HOME = saved;
      }
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    'a custom timer that rewrites a file in /etc makes it mutable: the configuration it changed',
    async () => {
      const report = await verify('motd-timer');
      expect(report.verdict).toBe('mutable');
      expect(report.reasons).toContainEqual(
        expect.objectContaining({
          kind: 'config',
          path: '/etc/issue.net',
          change: 'modified',
          package: 'base-files',
        }),
      );
      const run = report.instances[0]?.timers.find((t) => t.timer === 'motd-refresh.timer');
      expect(run).toMatchObject({
        service: 'motd-refresh.service',
        triggered: 'fast-forward',
        result: 'success',
      });
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    'a cron job that rewrites a file in /etc makes it mutable: cron runs each job once in the fast-forward',
    async () => {
      const report = await verify('cron-job');
      expect(report.verdict).toBe('mutable');
      const run = report.instances[0]?.timers.find((t) => t.timer === 'cron /etc/cron.d/refresh-issue:2');
      expect(run).toMatchObject({
        service: 'date > /etc/issue.net',
        triggered: 'fast-forward',
        result: 'success',
      });
      // Debian's own /etc/crontab jobs ran too (run-parts of cron.hourly and cron.daily).
      expect(
        report.instances[0]?.timers.filter((t) => t.timer.startsWith('cron /etc/crontab:')).length,
      ).toBeGreaterThan(0);
      expect(report.reasons).toContainEqual(
        expect.objectContaining({ kind: 'config', path: '/etc/issue.net', package: 'base-files' }),
      );
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    '--image-age: an image baked 90 days ago catches up its persistent timer at boot, during the soak',
    async () => {
      const report = await verify('motd-timer', { imageAgeMs: 90 * 86_400_000, soakSeconds: 3 });
      expect(report.options).toMatchObject({ fastForward: false, imageAgeDays: 90, soakSeconds: 3 });
      expect(report.options.agedStamps).toContain('/var/lib/systemd/timers/stamp-motd-refresh.timer');
      expect(report.phases.map((p) => p.phase)).toContain('soak');
      expect(report.phases.map((p) => p.phase)).not.toContain('fast-forward');
      // Nothing started it but systemd itself: its stamp said it had missed 90 days of runs.
      const run = report.instances[0]?.timers.find((t) => t.timer === 'motd-refresh.timer');
      expect(run).toMatchObject({ triggered: 'schedule', result: 'success' });
      expect(report.reasons).toContainEqual(
        expect.objectContaining({ kind: 'config', path: '/etc/issue.net' }),
      );
      // The stamp the image never had is the instance's, in its upper layer: the image is untouched.
      const image = images.get('motd-timer') as StoredImage;
      expect(existsSync(join(image.path, 'rootfs/var/lib/systemd/timers/stamp-motd-refresh.timer'))).toBe(
        false,
      );
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    'the CLI: a hardened image is immutable, exit 0, the JSON report stored with the image and an HTML report',
    async () => {
      const image = images.get('hardened') as StoredImage;
      const html = join(home, 'proof.html');
      const saved = process.env.GOLDGATE_HOME;
      process.env.GOLDGATE_HOME = home;
      try {
        const result = await runCli('verify', image.id, '--json', '--html', html, '-q');
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        const report = JSON.parse(result.stdout) as VerifyReport;
        expect(verifyReportErrors(report)).toBe('');
        expect(report).toMatchObject({
          verdict: 'immutable',
          reasons: [],
          image: { id: image.id, name: 'hardened' },
        });
        expect(readFileSync(html, 'utf8')).toContain('immutable');
        const proofs = readdirSync(join(image.path, 'verify')).filter(
          (n) => !n.startsWith('.') && n !== 'latest',
        );
        expect(proofs).toHaveLength(1);
        expect(readFileSync(join(image.path, 'verify/latest'), 'utf8').trim()).toBe(proofs[0]);

        const text = await runCli('verify', image.id, '--no-store');
        expect(text.code).toBe(0);
        expect(text.stdout).toMatch(/^IMMUTABLE {2}img-/);
        expect(
          readdirSync(join(image.path, 'verify')).filter((n) => !n.startsWith('.') && n !== 'latest'),
        ).toHaveLength(1);
      } finally {
        if (saved === undefined) delete process.env.GOLDGATE_HOME;
        else process.env.GOLDGATE_HOME = saved;
      }
      nothingLeft();
    },
    600_000,
  );

  itWithBase(
    'a verify killed with SIGKILL leaves its instances to gc, which removes them all',
    async () => {
      const image = images.get('hardened') as StoredImage;
      const lab = join(home, 'lab');
      const { child, exited } = spawnGoldgate(['verify', image.id, '--soak', '60', '-q'], home);
      // Wait until its instance has booted, then kill the verify in the middle of its soak.
      const until = Date.now() + 120_000;
      let booted = false;
      while (!booted && Date.now() < until) {
        booted = listInstances({ home: lab }).some(
          (s) => s.alive && readInstance(lab, s.id)?.state === 'running',
        );
        if (!booted) await new Promise((done) => setTimeout(done, 100));
      }
      expect(booted).toBe(true);
      child.kill('SIGKILL');
      await exited;
      expect(listInstances({ home: lab }).filter((s) => s.alive)).toHaveLength(1);
      const cleaned = await gc({ home: lab });
      expect(cleaned.terminated).toHaveLength(1);
      nothingLeft();
    },
    300_000,
  );
});
