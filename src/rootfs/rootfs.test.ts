import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../test-support/tree.js';
import { openDirRootFs, openRootFs, openTarRootFs } from './index.js';

const work = mkdtempSync(join(tmpdir(), 'goldgate-rootfs-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('directory root filesystems read as if chrooted', () => {
  const root = makeTree({
    '/etc/hostname': 'image-host\n',
    '/etc/real/apt.conf': 'APT::Periodic::Update-Package-Lists "1";\n',
    '/abs-link': { link: '/etc/hostname' },
    '/climb': { link: '../../../../../../etc/hostname' },
    '/leak': { link: '/etc/os-release' },
    '/etc/apt': { link: '/etc/real' },
    '/lib': { link: 'usr/lib' },
    '/usr/lib/systemd/system/a.service': '[Service]\n',
    '/loop-a': { link: '/loop-b' },
    '/loop-b': { link: '/loop-a' },
    '/self': { link: 'self' },
    '/dir-loop/x': { link: '../dir-loop/x/y' },
  });
  const fs = openDirRootFs(root);

  it('resolves absolute symlinks inside the root, never on the host', () => {
    expect(fs.readText('/abs-link')).toBe('image-host\n');
    // The host has /etc/os-release; the image does not: the link leads nowhere.
    expect(existsSync('/etc/os-release')).toBe(true);
    expect(fs.readText('/leak')).toBeUndefined();
    expect(fs.exists('/leak')).toBe(false);
  });

  it('stops `..` at the root', () => {
    expect(fs.readText('/climb')).toBe('image-host\n');
    expect(fs.readText('/../../etc/hostname')).toBe('image-host\n');
    expect(fs.resolve('/usr/../../../etc/hostname')).toBe('/etc/hostname');
  });

  it('follows symlinked directories inside the image', () => {
    expect(fs.readText('/etc/apt/apt.conf')).toContain('Update-Package-Lists');
    expect(fs.resolve('/lib/systemd/system/a.service')).toBe('/usr/lib/systemd/system/a.service');
    expect(fs.readdir('/lib/systemd/system').map((e) => e.name)).toEqual(['a.service']);
  });

  it('reports symlinks as symlinks with lstat and follows them with stat', () => {
    expect(fs.lstat('/abs-link')).toMatchObject({
      kind: 'symlink',
      target: '/etc/hostname',
      path: '/abs-link',
    });
    expect(fs.stat('/abs-link')).toMatchObject({ kind: 'file', path: '/etc/hostname', size: 11 });
    expect(fs.readlink('/etc/apt')).toBe('/etc/real');
  });

  it('detects symlink loops and records them as problems instead of hanging', () => {
    expect(fs.readText('/loop-a')).toBeUndefined();
    expect(fs.readText('/self')).toBeUndefined();
    expect(fs.readText('/dir-loop/x')).toBeUndefined();
    expect(fs.problems.map((p) => p.path)).toEqual(['/loop-a', '/self', '/dir-loop/x']);
    expect(fs.problems[0]?.reason).toMatch(/too many levels of symbolic links/);
  });

  it('lists directories in byte order', () => {
    expect(fs.readdir('/').map((e) => `${e.name}:${e.kind}`)).toEqual([
      'abs-link:symlink',
      'climb:symlink',
      'dir-loop:dir',
      'etc:dir',
      'leak:symlink',
      'lib:symlink',
      'loop-a:symlink',
      'loop-b:symlink',
      'self:symlink',
      'usr:dir',
    ]);
    expect(fs.readdir('/nope')).toEqual([]);
    expect(fs.readdir('/etc/hostname')).toEqual([]);
  });
});

describe('special and huge files', () => {
  const root = makeTree({ '/etc/ok': 'ok' });
  execFileSync('mkfifo', [join(root, 'etc/fifo')]);
  execFileSync('mknod', [join(root, 'etc/null'), 'c', '1', '3']);
  writeFileSync(join(root, 'etc/huge'), '');
  truncateSync(join(root, 'etc/huge'), 100 * 1024 ** 3);
  const fs = openDirRootFs(root);

  it('never opens FIFOs or device files', () => {
    expect(fs.readText('/etc/fifo')).toBeUndefined();
    expect(fs.readText('/etc/null')).toBeUndefined();
    expect(fs.lstat('/etc/fifo')?.kind).toBe('fifo');
    expect(fs.lstat('/etc/null')?.kind).toBe('char-device');
    expect(fs.problems.map((p) => p.reason)).toEqual([
      'is a fifo, not a regular file',
      'is a char-device, not a regular file',
    ]);
  });

  it('bounds reads: a 100 GiB sparse file is refused by size, not read', () => {
    expect(fs.stat('/etc/huge')?.size).toBe(100 * 1024 ** 3);
    expect(fs.readFile('/etc/huge')).toBeUndefined();
    expect(fs.problems.at(-1)?.reason).toMatch(/107374182400 bytes, larger than the read limit/);
    expect(fs.readText('/etc/ok', { maxBytes: 1 })).toBeUndefined();
    expect(fs.readText('/etc/ok')).toBe('ok');
  });
});

type Entry = {
  name: string;
  type?: 'file' | 'symlink' | 'directory' | 'link' | 'fifo' | 'character-device';
  body?: string;
  linkname?: string;
  size?: number;
};

async function writeTar(file: string, entries: Entry[], gzip = false): Promise<string> {
  const tar = pack();
  for (const entry of entries) {
    const { body, ...header } = entry;
    if (body !== undefined) tar.entry({ ...header, mtime: new Date('2026-01-02T03:04:05Z') }, body);
    else tar.entry({ ...header, mtime: new Date('2026-01-02T03:04:05Z') }, '');
  }
  tar.finalize();
  const path = join(work, file);
  if (gzip) await pipeline(tar, createGzip(), createWriteStream(path));
  else await pipeline(tar, createWriteStream(path));
  return path;
}

function leftovers(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('goldgate-tar-'));
}

describe('tar root filesystems', () => {
  it('reads a tar.gz made by tar(1) the same as the directory it came from', async () => {
    const root = makeTree({
      '/etc/hostname': 'image-host\n',
      '/etc/alt': { link: '/etc/hostname' },
      '/var/lib/systemd/timers/stamp-apt-daily.timer': {
        content: '',
        mtime: new Date('2025-03-01T00:00:00Z'),
      },
    });
    const archive = join(work, 'from-tar.tar.gz');
    execFileSync('tar', ['-C', root, '-czf', archive, '.']);
    const before = new Set(leftovers());
    const fs = await openRootFs(archive);
    expect(fs.label).toBe(`tar:${archive}`);
    expect(fs.readText('/etc/alt')).toBe('image-host\n');
    expect(fs.lstat('/var/lib/systemd/timers/stamp-apt-daily.timer')?.mtimeMs).toBe(
      Date.parse('2025-03-01T00:00:00Z'),
    );
    await fs.close();
    expect(leftovers().filter((n) => !before.has(n))).toEqual([]);
  });

  it('refuses entries with .. and absolute names, leaving nothing behind', async () => {
    const before = new Set(leftovers());
    const dotdot = await writeTar('dotdot.tar', [
      { name: 'etc/ok', body: 'ok' },
      { name: 'etc/../../escape', body: 'bad' },
    ]);
    await expect(openTarRootFs(dotdot)).rejects.toMatchObject({
      code: 'TAR_UNSAFE_ENTRY',
      message: `${dotdot}: tar entry "etc/../../escape" contains ".."`,
    });
    const absolute = await writeTar('absolute.tar.gz', [{ name: '/etc/passwd', body: 'x' }], true);
    await expect(openTarRootFs(absolute)).rejects.toMatchObject({ code: 'TAR_UNSAFE_ENTRY' });
    expect(existsSync(join(work, '..', 'escape'))).toBe(false);
    expect(leftovers().filter((n) => !before.has(n))).toEqual([]);
  });

  it('never writes through a symlink the archive made', async () => {
    const sneaky = await writeTar('sneaky.tar', [
      { name: 'etc', type: 'symlink', linkname: work },
      { name: 'etc/planted', body: 'owned' },
    ]);
    await expect(openTarRootFs(sneaky)).rejects.toMatchObject({ code: 'TAR_UNSAFE_ENTRY' });
    expect(existsSync(join(work, 'planted'))).toBe(false);
  });

  it('records devices, FIFOs and oversized files by metadata only', async () => {
    const archive = await writeTar('special.tar', [
      { name: 'dev/', type: 'directory' },
      { name: 'dev/null', type: 'character-device' },
      { name: 'run/initctl', type: 'fifo' },
      { name: 'big.bin', body: 'x'.repeat(64) },
      { name: 'hard', type: 'link', linkname: 'big.bin' },
    ]);
    const fs = await openTarRootFs(archive, { maxFileBytes: 16 });
    expect(fs.lstat('/dev/null')?.kind).toBe('char-device');
    expect(fs.lstat('/run/initctl')?.kind).toBe('fifo');
    expect(fs.readdir('/dev').map((e) => e.name)).toEqual(['null']);
    expect(fs.stat('/big.bin')).toMatchObject({ kind: 'file', size: 64 });
    expect(fs.readText('/big.bin')).toBeUndefined();
    expect(fs.readText('/dev/null')).toBeUndefined();
    expect(fs.stat('/hard')?.size).toBe(64);
    await fs.close();
  });

  it('says clearly when the input is not a tar archive', async () => {
    const junk = join(work, 'junk.tar');
    writeFileSync(
      junk,
      'this is not a tarball at all, just text that is long enough to fill a header block?'.repeat(20),
    );
    await expect(openRootFs(junk)).rejects.toMatchObject({ code: 'TAR_UNREADABLE' });
    await expect(openRootFs(join(work, 'missing'))).rejects.toMatchObject({ code: 'ROOTFS_NOT_FOUND' });
  });
});

describe('crash leftovers', () => {
  it('removes extractions of killed processes, not of live ones', async () => {
    const { mkdirSync } = await import('node:fs');
    const { removeStaleExtractions } = await import('./tar.js');
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-stale-test-'));
    // A pid far above pid_max is never alive.
    mkdirSync(join(dir, 'goldgate-tar-99999999-abc/root'), { recursive: true });
    mkdirSync(join(dir, `goldgate-tar-${process.pid}-def/root`), { recursive: true });
    mkdirSync(join(dir, 'unrelated'));
    expect(removeStaleExtractions(dir)).toEqual(['goldgate-tar-99999999-abc']);
    expect(readdirSync(dir).sort()).toEqual([`goldgate-tar-${process.pid}-def`, 'unrelated']);
    rmSync(dir, { recursive: true, force: true });
  });
});
