import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTree, tempDir, writeTree } from '../test-support/tree.js';
import type { TreeEntry } from '../test-support/tree.js';
import { collectDrift, displayPath, MAX_DEPTH } from './drift.js';
import { compileNoisePattern, matchNoise, NOISE_RULES } from './noise.js';
import type { FileDrift, InstanceDrift } from './types.js';

const isRoot = process.getuid?.() === 0;
const rootNote = isRoot ? '' : ' (needs root: whiteouts are device nodes, overlays are mounts)';

/** A dpkg status paragraph. */
function pkg(name: string, version: string, arch = 'amd64', status = 'install ok installed'): string {
  return `Package: ${name}\nStatus: ${status}\nPriority: optional\nArchitecture: ${arch}\nVersion: ${version}\nDescription: ${name}\n`;
}

const status = (...paragraphs: string[]): string => paragraphs.join('\n');

/** An overlay whiteout: what the kernel leaves in the upper layer for a removed path. */
function whiteout(root: string, path: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  execFileSync('mknod', [join(root, path), 'c', '0', '0']);
}

/** A tree with the usual merged-/usr symlinks of Debian 12. */
function image(entries: Record<string, TreeEntry>): string {
  return makeTree({
    '/bin': { link: 'usr/bin' },
    '/sbin': { link: 'usr/sbin' },
    '/lib': { link: 'usr/lib' },
    '/usr/bin/.keep': '',
    '/usr/sbin/.keep': '',
    ...entries,
  });
}

const byPath = (drift: InstanceDrift, path: string): FileDrift | undefined =>
  drift.files.find((f) => f.path === path);

describe('the noise list', () => {
  it('compiles the documented pattern syntax', () => {
    expect(compileNoisePattern('/var/log/**').test('/var/log/apt/history.log')).toBe(true);
    expect(compileNoisePattern('/var/log/**').test('/var/log')).toBe(true);
    expect(compileNoisePattern('/var/log/**').test('/var/logs')).toBe(false);
    expect(compileNoisePattern('/var/**/lock').test('/var/lock')).toBe(true);
    expect(compileNoisePattern('/var/**/lock').test('/var/lib/dpkg/lock')).toBe(true);
    expect(compileNoisePattern('/var/**/lock').test('/var/lib/dpkg/lock-frontend')).toBe(false);
    expect(compileNoisePattern('/etc/ssh/ssh_host_*').test('/etc/ssh/ssh_host_ed25519_key.pub')).toBe(true);
    expect(compileNoisePattern('/etc/ssh/ssh_host_*').test('/etc/ssh/ssh_host_x/y')).toBe(false);
    expect(compileNoisePattern('/etc/.pwd.lock').test('/etc/xpwdxlock')).toBe(false);
    expect(compileNoisePattern('/tmp/**').test('/tmp/a\nb')).toBe(true);
  });

  it('matches each expected runtime change with its rule, first match first', () => {
    const cases: Record<string, string | undefined> = {
      '/etc/machine-id': 'machine-id',
      '/var/lib/dbus/machine-id': 'machine-id',
      '/etc/ssh/ssh_host_rsa_key': 'ssh-host-keys',
      '/var/log/journal/abc/system.journal': 'journal',
      '/var/log/apt/history.log': 'logs',
      '/var/cache/apt/pkgcache.bin': 'caches',
      '/var/lib/apt/lists/lab_dists_bookworm_InRelease': 'apt-lists',
      '/var/lib/apt/periodic/upgrade-stamp': 'apt-periodic',
      '/var/lib/systemd/timers': 'systemd-timers',
      '/var/backups/apt.extended_states.0': 'apt-auto-marks',
      '/var/lib/systemd/timers/stamp-apt-daily.timer': 'systemd-timers',
      '/var/lib/systemd/random-seed': 'systemd-state',
      '/var/lib/dpkg/status': 'dpkg-database',
      '/var/lib/dpkg/status-old': 'dpkg-database',
      '/var/lib/dpkg/lock-frontend': 'dpkg-database',
      '/var/lib/dpkg/triggers/Lock': 'dpkg-database',
      '/var/lib/dpkg/info/acme-runtime.list': 'dpkg-database',
      '/etc/.pwd.lock': 'locks',
      '/var/lib/foo/state.lock': 'locks',
      '/run/lock/x': 'locks',
      '/tmp/x': 'tmp',
      '/var/tmp/x': 'tmp',
      '/var/lib/cloud/instances/i-1/sem/config_ssh': 'cloud-init-state',
      '/etc/.updated': 'update-done-stamps',
      // Not noise: real drift.
      '/etc/ld.so.cache': undefined,
      '/usr/lib/acme/health': undefined,
      '/usr/lib/x/state.lock': undefined,
      '/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/x.service': undefined,
      '/var/lib/dpkg/diversions': undefined,
      '/etc/ssh/sshd_config': undefined,
    };
    for (const [path, rule] of Object.entries(cases)) expect(matchNoise(path), path).toBe(rule);
  });

  it("takes cloud-init's first-boot provisioning as noise only in images that have cloud-init", () => {
    const provisioning = [
      '/etc/passwd',
      '/etc/shadow-',
      '/etc/sudoers.d/90-cloud-init-users',
      '/etc/hosts',
      '/etc/systemd/network/10-cloud-init-eth0.network',
    ];
    for (const path of provisioning) {
      expect(matchNoise(path, { cloudInit: true }), path).toBe('cloud-init-provisioning');
      expect(matchNoise(path, { cloudInit: false }), path).toBeUndefined();
      expect(matchNoise(path), path).toBeUndefined();
    }
    // Only the files cloud-init writes: other configuration stays drift.
    expect(matchNoise('/etc/sudoers.d/99-backdoor', { cloudInit: true })).toBeUndefined();
    expect(matchNoise('/etc/ssh/sshd_config', { cloudInit: true })).toBeUndefined();
    expect(matchNoise('/etc/ssh/ssh_host_ed25519_key', { cloudInit: true })).toBe('ssh-host-keys');

    const upper = tempDir('goldgate-upper-');
    writeTree(upper, {
      '/etc/passwd': 'root:x:0:0::/root:/bin/sh\ndebian:x:1000:1000::/home/debian:/bin/sh\n',
    });
    const without = image({ '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n' });
    expect(collectDrift({ lower: without, upper }).files.map((f) => [f.path, f.class])).toEqual([
      ['/etc/passwd', 'config'],
    ]);
    const withCloudInit = image({
      '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n',
      '/usr/bin/cloud-init': '#!/usr/bin/python3\n',
    });
    const drift = collectDrift({ lower: withCloudInit, upper });
    expect(drift.files).toEqual([]);
    expect(drift.noise).toEqual([
      { path: '/etc/passwd', change: 'modified', rule: 'cloud-init-provisioning' },
    ]);
  });

  it('gives every rule an id, a reason, and patterns that start at the root', () => {
    const ids = NOISE_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of NOISE_RULES) {
      expect(rule.why.length).toBeGreaterThan(10);
      for (const p of rule.paths) expect(p.startsWith('/'), p).toBe(true);
    }
    expect(ids).toContain('copy-up-unchanged');
  });
});

describe.skipIf(!isRoot)(`collectDrift on overlay layers${rootNote}`, () => {
  it('sorts added, modified, metadata and removed paths into config, binary, data and noise', () => {
    const lower = image({
      '/etc/app.conf': 'listen = 80\n',
      '/etc/same-size.conf': 'aaaa\n',
      '/etc/mode.conf': { content: 'x\n', mode: 0o644 },
      '/etc/touched.conf': 'unchanged\n',
      '/etc/link': { link: 'app.conf' },
      '/etc/link-to-file': { link: 'app.conf' },
      '/etc/gone.conf': 'bye\n',
      '/usr/lib/old/a.so': 'a',
      '/usr/lib/old/sub/b.so': 'b',
      '/usr/share/doc/x/README': 'doc',
      '/etc/machine-id': '',
      '/srv/www/index.html': '<p>hi</p>\n',
    });
    const upper = makeTree({
      '/etc/app.conf': 'listen = 8080\n',
      '/etc/same-size.conf': 'bbbb\n',
      '/etc/mode.conf': { content: 'x\n', mode: 0o600 },
      '/etc/touched.conf': 'unchanged\n',
      '/etc/link': { link: 'other.conf' },
      '/etc/link-to-file': 'now a file',
      '/etc/new.d/extra.conf': 'new\n',
      '/usr/bin/tool': { content: '#!/bin/sh\n', mode: 0o755 },
      '/usr/share/doc/x/README': 'doc',
      '/etc/machine-id': '0123456789abcdef0123456789abcdef\n',
      '/var/log/apt/history.log': 'Upgrade: x\n',
      '/srv/www/new.html': 'new\n',
    });
    whiteout(upper, '/etc/gone.conf');
    whiteout(upper, '/usr/lib/old');
    chmodSync(join(upper, 'usr/share/doc/x'), 0o700);

    const drift = collectDrift({ lower, upper });
    expect(drift.packages).toEqual([]);
    expect(drift.files.map((f) => [f.path, f.class, f.change])).toEqual([
      ['/etc/app.conf', 'config', 'modified'],
      ['/etc/gone.conf', 'config', 'removed'],
      ['/etc/link', 'config', 'modified'],
      ['/etc/link-to-file', 'config', 'modified'],
      ['/etc/mode.conf', 'config', 'metadata'],
      ['/etc/new.d', 'config', 'added'],
      ['/etc/new.d/extra.conf', 'config', 'added'],
      ['/etc/same-size.conf', 'config', 'modified'],
      ['/srv/www/new.html', 'data', 'added'],
      ['/usr/bin/tool', 'binary', 'added'],
      ['/usr/lib/old', 'binary', 'removed'],
      ['/usr/lib/old/a.so', 'binary', 'removed'],
      ['/usr/lib/old/sub', 'binary', 'removed'],
      ['/usr/lib/old/sub/b.so', 'binary', 'removed'],
      ['/usr/share/doc/x', 'binary', 'metadata'],
      // A new directory outside every noise rule (this image has no /var): data drift.
      ['/var', 'data', 'added'],
    ]);
    expect(drift.noise).toEqual([
      { path: '/etc/machine-id', change: 'modified', rule: 'machine-id' },
      { path: '/etc/touched.conf', change: 'metadata', rule: 'copy-up-unchanged' },
      { path: '/usr/share/doc/x/README', change: 'metadata', rule: 'copy-up-unchanged' },
      { path: '/var/log', change: 'added', rule: 'logs' },
      { path: '/var/log/apt', change: 'added', rule: 'logs' },
      { path: '/var/log/apt/history.log', change: 'added', rule: 'logs' },
    ]);
    expect(byPath(drift, '/etc/app.conf')?.package).toBeNull();
  });

  it('compares files larger than one read chunk, and never reads past maxCompareBytes', () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const changed = Buffer.from(big);
    changed[changed.length - 1] = 8;
    const lower = image({});
    const upper = makeTree({});
    for (const [root, same, diff] of [
      [lower, big, big],
      [upper, big, changed],
    ] as const) {
      mkdirSync(join(root, 'usr/lib'), { recursive: true });
      writeFileSync(join(root, 'usr/lib/same.bin'), same);
      writeFileSync(join(root, 'usr/lib/diff.bin'), diff);
    }
    const drift = collectDrift({ lower, upper });
    expect(drift.files.map((f) => [f.path, f.change])).toEqual([['/usr/lib/diff.bin', 'modified']]);
    expect(drift.noise.map((n) => [n.path, n.rule])).toEqual([['/usr/lib/same.bin', 'copy-up-unchanged']]);
    // Past the limit a same-size file is not proven equal: reported, not read.
    const limited = collectDrift({ lower, upper, maxCompareBytes: 1024 });
    expect(limited.files.map((f) => f.path)).toEqual(['/usr/lib/diff.bin', '/usr/lib/same.bin']);
  });

  it('reads a hostile upper layer without following, opening or hanging on anything', () => {
    const host = tempDir('goldgate-host-');
    // If anything followed these links and opened the target, the FIFO would block forever.
    execFileSync('mkfifo', [join(host, 'fifo')]);
    writeFileSync(join(host, 'shadow'), 'root:$6$secret:19000:0:99999:7:::\n');
    mkdirSync(join(host, 'dir'));
    writeFileSync(join(host, 'dir', 'inside'), 'host file\n');
    const lower = image({
      '/etc/shadow': 'root:*:19000:0:99999:7:::\n',
      '/etc/app.conf': { link: 'app.conf.d/default' },
      '/etc/pipe.conf': 'x\n',
      '/usr/lib/data.img': '',
    });
    const upper = makeTree({
      // A symlink to the host's shadow named like the image's config file.
      '/etc/shadow': { link: join(host, 'shadow') },
      '/etc/app.conf': { link: join(host, 'fifo') },
      '/etc/hostdir': { link: join(host, 'dir') },
      '/etc/cron.d/x': { link: '../../../../../../../../../' },
    });
    execFileSync('mkfifo', [join(upper, 'etc/pipe.conf')]);
    execFileSync('mkfifo', [join(upper, 'etc/new.fifo')]);
    execFileSync('mknod', [join(upper, 'etc/null'), 'c', '1', '3']);
    writeFileSync(join(upper, 'etc/bad\nname.conf'), 'newline\n');
    writeFileSync(Buffer.from(`${upper}/etc/caf\xe9-\xff.conf`, 'latin1'), 'latin1 name\n');
    writeFileSync(join(upper, 'etc/café.conf'), 'utf-8 name\n');
    // 1 GiB sparse files of the same size in both layers: past the compare limit, never read.
    for (const [root, last] of [
      [lower, 0],
      [upper, 1],
    ] as const) {
      mkdirSync(join(root, 'usr/lib'), { recursive: true });
      const fd = openSync(join(root, 'usr/lib/data.img'), 'w');
      ftruncateSync(fd, 2 ** 30);
      writeSync(fd, Buffer.from([last]), 0, 1, 2 ** 30 - 1);
      closeSync(fd);
    }
    // Deeper than the walk goes: the top of the tree is still reported.
    const deep = join(upper, 'opt/deep', ...Array.from({ length: MAX_DEPTH + 10 }, () => 'd'));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'payload'), 'x');

    const started = Date.now();
    const drift = collectDrift({ lower, upper });
    expect(Date.now() - started).toBeLessThan(10_000);
    const changes = Object.fromEntries(drift.files.map((f) => [f.path, `${f.class} ${f.change}`]));
    expect(changes).toMatchObject({
      '/etc/shadow': 'config modified',
      '/etc/app.conf': 'config modified',
      '/etc/hostdir': 'config added',
      '/etc/cron.d': 'config added',
      '/etc/cron.d/x': 'config added',
      '/etc/pipe.conf': 'config modified',
      '/etc/new.fifo': 'config added',
      '/etc/null': 'config added',
      '/etc/bad\nname.conf': 'config added',
      '/etc/caf\\xe9-\\xff.conf': 'config added',
      '/etc/café.conf': 'config added',
      '/usr/lib/data.img': 'binary modified',
      '/opt/deep': 'binary added',
    });
    // Nothing of the host's directory was listed through the link.
    expect(drift.files.some((f) => f.path.includes('inside'))).toBe(false);
    const deepest = drift.files.filter((f) => f.path.startsWith('/opt/deep')).length;
    expect(deepest).toBeLessThanOrEqual(MAX_DEPTH + 1);
    expect(drift.files.some((f) => f.path.endsWith('payload'))).toBe(false);
  });

  it('renders names: UTF-8 as is, other bytes as \\xNN', () => {
    expect(displayPath('/etc/a\nb')).toBe('/etc/a\nb');
    expect(displayPath(Buffer.from('/etc/café', 'utf8').toString('latin1'))).toBe('/etc/café');
    expect(displayPath('/etc/\xff\xc3')).toBe('/etc/\\xff\\xc3');
    expect(displayPath('')).toBe('/');
  });

  it('diffs dpkg status: installed, upgraded, downgraded, removed (config-files too), arch all', () => {
    const before = status(
      pkg('acme-runtime', '1.0', 'all'),
      pkg('downer', '2:1.0-2'),
      pkg('gone', '1.0'),
      pkg('purged', '3.1'),
      pkg('same', '1.0'),
      pkg('archless', '1.0', 'amd64'),
      pkg('libmulti', '1.0', 'amd64'),
      pkg('never', '1.0', 'amd64', 'deinstall ok config-files'),
    );
    const after = status(
      pkg('acme-runtime', '1.0+deb12u1', 'all'),
      pkg('downer', '2:1.0-1'),
      pkg('gone', '1.0', 'amd64', 'deinstall ok config-files'),
      pkg('same', '1.0'),
      pkg('archless', '1.1', 'all'),
      pkg('libmulti', '1.0', 'amd64'),
      pkg('libmulti', '1.0', 'i386'),
      pkg('newbie', '0.5', 'amd64', 'install ok half-configured'),
      pkg('never', '1.0', 'amd64', 'deinstall ok config-files'),
    );
    const lower = image({ '/var/lib/dpkg/status': before });
    const upper = makeTree({ '/var/lib/dpkg/status': after });
    const drift = collectDrift({ lower, upper });
    expect(drift.packages).toEqual([
      { name: 'acme-runtime', arch: 'all', from: '1.0', to: '1.0+deb12u1', action: 'upgraded' },
      { name: 'archless', arch: 'all', from: '1.0', to: '1.1', action: 'upgraded' },
      { name: 'downer', arch: 'amd64', from: '2:1.0-2', to: '2:1.0-1', action: 'downgraded' },
      { name: 'gone', arch: 'amd64', from: '1.0', to: null, action: 'removed' },
      { name: 'libmulti', arch: 'i386', from: null, to: '1.0', action: 'installed' },
      { name: 'newbie', arch: 'amd64', from: null, to: '0.5', action: 'installed' },
      { name: 'purged', arch: 'amd64', from: '3.1', to: null, action: 'removed' },
    ]);
    expect(drift.noise).toEqual([
      { path: '/var/lib/dpkg/status', change: 'modified', rule: 'dpkg-database' },
    ]);
    // Without a status in the upper layer, dpkg never ran: no package drift, nothing parsed.
    expect(collectDrift({ lower, upper: makeTree({ '/etc/x': 'y' }) }).packages).toEqual([]);
  });

  it('names the owning package from the instance’s file lists, across merged /usr and for removed paths', () => {
    const lower = image({
      '/var/lib/dpkg/status': status(pkg('acme-runtime', '1.0', 'all'), pkg('coreutils', '9.1-1')),
      '/var/lib/dpkg/info/acme-runtime.list': '/.\n/usr\n/usr/lib\n/usr/lib/acme\n/usr/lib/acme/health\n',
      '/var/lib/dpkg/info/coreutils.list': '/.\n/bin\n/bin/ls\n/bin/cat\n/etc\n/etc/coreutils.conf\n',
      '/var/lib/dpkg/info/libfoo:amd64.list': '/.\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n',
      // One line, no newline at the end: the path is both the first and the last line.
      '/var/lib/dpkg/info/libbar.list': '/usr/lib/bar.so',
      '/usr/lib/bar.so': 'bar',
      '/usr/lib/acme/health': 'v1\n',
      '/usr/bin/ls': 'ls',
      '/usr/bin/cat': 'cat',
      '/etc/coreutils.conf': 'a\n',
      '/usr/lib/x86_64-linux-gnu/libfoo.so.1': 'foo',
    });
    const upper = makeTree({
      '/var/lib/dpkg/status': status(
        pkg('acme-runtime', '1.0+deb12u1', 'all'),
        pkg('coreutils', '9.1-1'),
        pkg('acme-tools', '1.0', 'all'),
      ),
      '/var/lib/dpkg/info/acme-tools.list': '/.\n/usr\n/usr/bin\n/usr/bin/acme\n',
      '/usr/lib/acme/health': 'v2\n',
      '/usr/bin/acme': 'acme',
      '/usr/bin/ls': 'LS',
      '/usr/lib/bar.so': 'BAR',
      '/etc/coreutils.conf': 'b\n',
      '/etc/unowned.conf': 'c\n',
      '/srv/data': 'not looked up',
    });
    whiteout(upper, '/usr/bin/cat');
    whiteout(upper, '/usr/lib/x86_64-linux-gnu/libfoo.so.1');
    const drift = collectDrift({ lower, upper });
    expect(drift.files.map((f) => [f.path, f.change, f.package])).toEqual([
      ['/etc/coreutils.conf', 'modified', 'coreutils'],
      ['/etc/unowned.conf', 'added', null],
      ['/srv', 'added', null],
      ['/srv/data', 'added', null],
      ['/usr/bin/acme', 'added', 'acme-tools'],
      ['/usr/bin/cat', 'removed', 'coreutils'],
      ['/usr/bin/ls', 'modified', 'coreutils'],
      ['/usr/lib/acme/health', 'modified', 'acme-runtime'],
      ['/usr/lib/bar.so', 'modified', 'libbar'],
      ['/usr/lib/x86_64-linux-gnu/libfoo.so.1', 'removed', 'libfoo'],
    ]);
    expect(drift.packages.map((p) => `${p.name} ${p.action}`)).toEqual([
      'acme-runtime upgraded',
      'acme-tools installed',
    ]);
  });

  it('attributes a whole removed tree (many paths: one pass over each list)', () => {
    const docs = Array.from({ length: 40 }, (_, i) => `/usr/share/doc/big/file${i}`);
    const lower = image({
      '/var/lib/dpkg/info/big.list': ['/.', '/usr/share/doc/big', ...docs, ''].join('\n'),
      '/var/lib/dpkg/info/other.list': '/.\n/usr/share/doc/other\n',
      ...Object.fromEntries(docs.map((d) => [d, d])),
    });
    const upper = makeTree({});
    whiteout(upper, '/usr/share/doc/big');
    const drift = collectDrift({ lower, upper });
    expect(drift.files).toHaveLength(41);
    expect(drift.files.every((f) => f.change === 'removed' && f.package === 'big')).toBe(true);
  });

  it('is deterministic: the same layers give the same document', () => {
    const lower = image({ '/etc/a': '1', '/etc/b': '2', '/usr/lib/c': '3' });
    const upper = makeTree({ '/etc/b': '22', '/etc/z': 'new', '/usr/lib/c': '33', '/usr/lib/a': 'n' });
    whiteout(upper, '/etc/a');
    const fds = readdirSync('/proc/self/fd').length;
    const first = collectDrift({ lower, upper });
    expect(collectDrift({ lower, upper })).toEqual(first);
    // Every directory it opened was closed again.
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
    const paths = first.files.map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
  });

  it('refuses a merged path that is not a mounted overlay (a lab instance’s mount point seen from the host)', () => {
    const lower = image({});
    const upper = makeTree({});
    expect(() => collectDrift({ lower, upper, merged: tempDir() })).toThrow(/not a mounted overlay/);
    expect(() => collectDrift({ lower, upper: join(upper, 'missing') })).toThrow(/not a directory/);
  });
});

describe.skipIf(!isRoot)(`collectDrift on a real overlay mount${rootNote}`, () => {
  it('sees what rm, rm -rf and mkdir (opaque), chmod, touch, edits, new binaries and noise leave', () => {
    const lower = image({
      '/etc/app.conf': 'listen = 80\n',
      '/etc/removed.conf': 'bye\n',
      '/etc/mode.conf': 'x\n',
      '/etc/touched.conf': 'same\n',
      '/usr/lib/plugins/one.so': 'one',
      '/usr/lib/plugins/two.so': 'two',
      '/usr/lib/plugins/sub/three.so': 'three',
      '/etc/machine-id': '',
      '/var/lib/dpkg/status': status(pkg('app', '1.0')),
      '/var/lib/dpkg/info/app.list': '/.\n/etc\n/etc/app.conf\n/usr/lib/plugins\n/usr/lib/plugins/one.so\n',
    });
    const dir = tempDir('goldgate-overlay-');
    const [upper, work, merged] = ['upper', 'work', 'merged'].map((d) => join(dir, d)) as [
      string,
      string,
      string,
    ];
    for (const d of [upper, work, merged]) mkdirSync(d);
    // The overlay's root takes the upper layer's mode: the lab makes it the image's.
    chmodSync(upper, statSync(lower).mode & 0o7777);
    execFileSync('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
      merged,
    ]);
    try {
      const m = (path: string): string => join(merged, path);
      rmSync(m('etc/removed.conf'));
      rmSync(m('usr/lib/plugins'), { recursive: true });
      mkdirSync(m('usr/lib/plugins'));
      writeFileSync(m('usr/lib/plugins/one.so'), 'one');
      writeFileSync(m('usr/lib/plugins/new.so'), 'new');
      chmodSync(m('etc/mode.conf'), 0o600);
      utimesSync(m('etc/touched.conf'), new Date(), new Date());
      writeFileSync(m('etc/app.conf'), 'listen = 8080\n');
      writeFileSync(m('usr/bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
      writeFileSync(m('etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
      mkdirSync(m('var/log'), { recursive: true });
      writeFileSync(m('var/log/syslog'), 'boot\n');
      writeTree(merged, { '/var/lib/dpkg/status': status(pkg('app', '1.1')) });

      const live = collectDrift({ lower, upper, merged });
      expect(live.packages).toEqual([
        { name: 'app', arch: 'amd64', from: '1.0', to: '1.1', action: 'upgraded' },
      ]);
      expect(live.files.map((f) => [f.path, f.class, f.change, f.package])).toEqual([
        ['/etc/app.conf', 'config', 'modified', 'app'],
        ['/etc/mode.conf', 'config', 'metadata', null],
        ['/etc/removed.conf', 'config', 'removed', null],
        ['/usr/bin/tool', 'binary', 'added', null],
        ['/usr/lib/plugins/new.so', 'binary', 'added', null],
        // Hidden by the opaque directory: only the merged view shows them gone.
        ['/usr/lib/plugins/sub', 'binary', 'removed', null],
        ['/usr/lib/plugins/sub/three.so', 'binary', 'removed', null],
        ['/usr/lib/plugins/two.so', 'binary', 'removed', null],
      ]);
      expect(live.noise.map((n) => [n.path, n.change, n.rule])).toEqual([
        ['/etc/machine-id', 'modified', 'machine-id'],
        ['/etc/touched.conf', 'metadata', 'copy-up-unchanged'],
        ['/usr/lib/plugins/one.so', 'metadata', 'copy-up-unchanged'],
        ['/var/lib/dpkg/status', 'modified', 'dpkg-database'],
        ['/var/log', 'added', 'logs'],
        ['/var/log/syslog', 'added', 'logs'],
      ]);

      // Without the merged view the opaque directory's hidden entries are not seen (documented).
      const layersOnly = collectDrift({ lower, upper });
      expect(layersOnly.files.map((f) => f.path)).not.toContain('/usr/lib/plugins/two.so');
      expect(layersOnly.files.map((f) => f.path)).toContain('/etc/removed.conf');
    } finally {
      execFileSync('umount', [merged]);
    }
  });
});
