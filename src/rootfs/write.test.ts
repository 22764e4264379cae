import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { snapshot } from '../test-support/confine.js';
import { tempDir, writeTree } from '../test-support/tree.js';
import type { TreeEntry } from '../test-support/tree.js';
import { openRootWriter } from './write.js';

/**
 * A root beside a sentinel directory outside it (holding one file), and a host path outside
 * both that must never appear. The image's links point at them.
 */
function sandbox(entries: (outside: string, escape: string) => Record<string, TreeEntry>) {
  const top = tempDir('goldgate-write-');
  const root = join(top, 'root');
  const outside = join(top, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep'), 'host file\n');
  const escape = join(top, `escape-${randomBytes(4).toString('hex')}`);
  writeTree(root, entries(outside, escape));
  const before = snapshot(outside);
  return {
    root,
    outside,
    escape,
    /** Nothing outside the root was created or changed. */
    untouched(): void {
      expect(snapshot(outside)).toEqual(before);
      expect(existsSync(escape)).toBe(false);
      expect(readdirSync(top).sort()).toEqual(['outside', 'root']);
      expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('host file\n');
    },
  };
}

describe('the confined writer', () => {
  it('replaces a dangling absolute link at the path instead of writing through it', () => {
    const box = sandbox((_, escape) => ({ '/usr/sbin/policy-rc.d': { link: escape } }));
    openRootWriter(box.root).writeFile('/usr/sbin/policy-rc.d', '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    box.untouched();
    const written = lstatSync(join(box.root, 'usr/sbin/policy-rc.d'));
    expect(written.isFile()).toBe(true);
    expect(written.mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(box.root, 'usr/sbin/policy-rc.d'), 'utf8')).toBe('#!/bin/sh\nexit 101\n');
  });

  it('refuses a link at the path when asked to, naming the image path, and changes nothing', () => {
    const box = sandbox((outside) => ({ '/etc/motd': { link: join(outside, 'keep') } }));
    expect(() =>
      openRootWriter(box.root, { label: 'files' }).writeFile('/etc/motd', 'x', { onSymlink: 'refuse' }),
    ).toThrow(/^files: \/etc\/motd in the image: is a symbolic link/);
    expect(readlinkSync(join(box.root, 'etc/motd'))).toBe(join(box.outside, 'keep'));
    box.untouched();
  });

  it('resolves an absolute link in a middle component inside the root, even when its target exists on the host', () => {
    const box = sandbox((outside) => ({ '/etc/apt': { link: outside } }));
    openRootWriter(box.root).writeFile('/etc/apt/apt.conf.d/99goldgate', 'APT::Periodic "0";\n');
    box.untouched();
    // The link leads to <root><outside>: made inside the image, as the image itself would see it.
    expect(readFileSync(join(box.root, box.outside, 'apt.conf.d/99goldgate'), 'utf8')).toContain('Periodic');
    expect(lstatSync(join(box.root, 'etc/apt')).isSymbolicLink()).toBe(true);
  });

  it('stops links to `..` at the root', () => {
    const box = sandbox(() => ({
      '/etc/up': { link: '../../../../../../../..' },
      '/parent': { link: '..' },
      '/etc/d/climb': { link: '../../../outside' },
    }));
    const writer = openRootWriter(box.root);
    writer.writeFile('/etc/up/tmp/a', 'a');
    writer.writeFile('/parent/b', 'b');
    writer.writeFile('/etc/d/climb/c', 'c');
    writer.writeFile('/../../../d', 'd');
    box.untouched();
    expect(readFileSync(join(box.root, 'tmp/a'), 'utf8')).toBe('a');
    expect(readFileSync(join(box.root, 'b'), 'utf8')).toBe('b');
    expect(readFileSync(join(box.root, 'outside/c'), 'utf8')).toBe('c');
    expect(readFileSync(join(box.root, 'd'), 'utf8')).toBe('d');
  });

  it('follows a chain of links inside the root and refuses a loop with a clear error', () => {
    const box = sandbox((outside) => ({
      '/a': { link: 'b' },
      '/b': { link: '/c' },
      '/c': { link: outside },
      '/loop1': { link: '/loop2' },
      '/loop2': { link: 'loop1' },
    }));
    const writer = openRootWriter(box.root, { label: 'files' });
    writer.writeFile('/a/file', 'chained');
    expect(readFileSync(join(box.root, box.outside, 'file'), 'utf8')).toBe('chained');
    expect(() => writer.writeFile('/loop1/x', 'x')).toThrow(/\/loop1\/x in the image: too many levels/);
    expect(() => writer.mkdirp('/loop2')).toThrow(/too many levels of symbolic links/);
    box.untouched();
  });

  it('masks a unit inside the root when etc/systemd/system is a link out of it', () => {
    const box = sandbox((outside) => ({ '/etc/systemd/system': { link: outside } }));
    openRootWriter(box.root).symlink('/etc/systemd/system/apt-daily.timer', '/dev/null');
    box.untouched();
    expect(readlinkSync(join(box.root, box.outside, 'apt-daily.timer'))).toBe('/dev/null');
  });

  it('replaces a FIFO at the path without opening it, and refuses a directory', () => {
    const box = sandbox(() => ({ '/etc/dir/inner': 'x' }));
    execFileSync('mkfifo', [join(box.root, 'etc/fifo')]);
    const writer = openRootWriter(box.root, { label: 'fix' });
    writer.writeFile('/etc/fifo', 'plain\n');
    expect(lstatSync(join(box.root, 'etc/fifo')).isFile()).toBe(true);
    expect(() => writer.writeFile('/etc/dir', 'x')).toThrow(/^fix: \/etc\/dir in the image: is a directory/);
    expect(() => writer.symlink('/etc/dir', '/dev/null')).toThrow(/is a directory/);
    expect(readFileSync(join(box.root, 'etc/dir/inner'), 'utf8')).toBe('x');
    box.untouched();
  });

  it('refuses a path whose directory is a file in the image', () => {
    const box = sandbox(() => ({ '/etc/hostname': 'h\n' }));
    expect(() => openRootWriter(box.root).writeFile('/etc/hostname/x', 'x')).toThrow(
      /\/etc\/hostname is not a directory/,
    );
    expect(() => openRootWriter(box.root).writeFile('/', 'x')).toThrow(/names the root itself/);
    box.untouched();
  });

  it('makes missing directories inside the root with 0755 (or the mode asked), through dangling links', () => {
    const box = sandbox((_, escape) => ({ '/var/lib/cloud': { link: escape } }));
    const created: string[] = [];
    const writer = openRootWriter(box.root);
    const host = writer.mkdirp('/var/lib/cloud/seed/nocloud', { created });
    box.untouched();
    expect(host).toBe(join(box.root, box.escape, 'seed/nocloud'));
    expect(created.at(-1)).toBe(`${box.escape}/seed/nocloud`);
    for (const dir of created) expect(statSync(join(box.root, dir)).mode & 0o7777).toBe(0o755);
    writer.mkdirp('/srv/private', { mode: 0o700 });
    expect(statSync(join(box.root, 'srv/private')).mode & 0o7777).toBe(0o700);
  });

  it('hands out a fresh directory: a link there is removed, not followed, and the host path is inside the root', () => {
    const box = sandbox((outside) => ({
      '/tmp/goldgate-bake-repos': { link: outside },
      '/tmp/goldgate-debs/old': 'stale',
    }));
    const writer = openRootWriter(box.root);
    const repos = writer.freshDir('/tmp/goldgate-bake-repos');
    expect(repos).toBe(join(box.root, 'tmp/goldgate-bake-repos'));
    expect(lstatSync(repos).isDirectory()).toBe(true);
    expect(readdirSync(repos)).toEqual([]);
    expect(readdirSync(writer.freshDir('/tmp/goldgate-debs'))).toEqual([]);
    box.untouched();
  });

  it('removes trees and links without following links out of the root', () => {
    const box = sandbox((outside) => ({
      '/tmp/tree/link-to-outside': { link: outside },
      '/tmp/tree/abs-file': { link: join(outside, 'keep') },
      '/tmp/tree/sub/file': 'x',
      '/etc/link': { link: join(outside, 'keep') },
      '/etc/dirlink': { link: outside },
    }));
    const writer = openRootWriter(box.root);
    writer.remove('/tmp/tree', { recursive: true });
    writer.remove('/etc/link');
    writer.remove('/etc/dirlink', { recursive: true });
    writer.remove('/no/such/path');
    expect(existsSync(join(box.root, 'tmp/tree'))).toBe(false);
    expect(lstatSync(join(box.root, 'etc/link'), { throwIfNoEntry: false })).toBeUndefined();
    expect(lstatSync(join(box.root, 'etc/dirlink'), { throwIfNoEntry: false })).toBeUndefined();
    box.untouched();
  });

  it('copies a host file in through a dangling link, with mode and owner, and leaves no temporary file', () => {
    const box = sandbox((_, escape) => ({ '/tmp/goldgate-debs': { link: escape } }));
    const source = join(tempDir(), 'big.deb');
    writeFileSync(source, randomBytes(3 * 1024 * 1024 + 17));
    const writer = openRootWriter(box.root);
    writer.copyIn(source, '/tmp/goldgate-debs/0-big.deb', { mode: 0o640, uid: 0, gid: 0 });
    box.untouched();
    const copy = join(box.root, box.escape, '0-big.deb');
    expect(readFileSync(copy).equals(readFileSync(source))).toBe(true);
    expect(statSync(copy).mode & 0o7777).toBe(0o640);
    expect(readdirSync(join(box.root, box.escape))).toEqual(['0-big.deb']);
  });

  it('keeps the mode and owner of a regular file it replaces, and sets a stamp time', () => {
    const box = sandbox(() => ({ '/etc/apt/apt.conf': { content: 'old\n', mode: 0o600 } }));
    const at = new Date(Date.UTC(2026, 0, 2));
    openRootWriter(box.root).writeFile('/etc/apt/apt.conf', 'new\n', { mtime: at });
    const stats = statSync(join(box.root, 'etc/apt/apt.conf'));
    expect(stats.mode & 0o7777).toBe(0o600);
    expect(stats.mtimeMs).toBe(at.getTime());
    expect(readdirSync(join(box.root, 'etc/apt'))).toEqual(['apt.conf']);
    box.untouched();
  });

  it('renames entries without following them, inside the root', () => {
    const box = sandbox((_, escape) => ({ '/usr/sbin/policy-rc.d': { link: escape } }));
    const writer = openRootWriter(box.root);
    writer.rename('/usr/sbin/policy-rc.d', '/usr/sbin/.aside');
    expect(readlinkSync(join(box.root, 'usr/sbin/.aside'))).toBe(box.escape);
    expect(writer.lstat('/usr/sbin/policy-rc.d')).toBeUndefined();
    expect(() => writer.rename('/usr/sbin/missing', '/x')).toThrow(/does not exist/);
    box.untouched();
  });
});
