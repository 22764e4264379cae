import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { bytesBelow, writeZeroBomb } from '../test-support/archives.js';
import { tempDir } from '../test-support/tree.js';
import { extractLimits, shownName } from './limits.js';
import { openDirRootFs } from './dir.js';
import { extractTar, openTarRootFs } from './tar.js';

const MiB = 1024 * 1024;
const plenty = (): number => 1024 ** 4;

interface Entry {
  name: string;
  body?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  mode?: number;
  mtime?: Date;
}

async function writeTar(path: string, entries: Entry[], gzip = path.endsWith('.gz')): Promise<string> {
  const packer = pack();
  const done = gzip
    ? pipeline(packer, createGzip(), createWriteStream(path))
    : pipeline(packer, createWriteStream(path));
  for (const entry of entries) {
    const { body, ...header } = entry;
    if (body === undefined) packer.entry({ ...header });
    else packer.entry({ ...header }, body);
  }
  packer.finalize();
  await done;
  return path;
}

describe('root filesystem tarballs are extracted only as far as they are read', () => {
  it('indexes a 2.4 MB tar.gz of 300 files of 8 MiB without writing them, and reads one on demand', async () => {
    const dir = tempDir();
    const bomb = join(dir, 'bomb.tar.gz');
    writeZeroBomb(
      bomb,
      Array.from({ length: 300 }, (_, i): [string, number] => [`usr/share/blob${i}`, 8]),
      ['usr/', 'usr/share/'],
    );
    const workDir = tempDir();
    const fs = await openTarRootFs(bomb, { workDir });
    try {
      expect(bytesBelow(workDir)).toBeLessThan(MiB);
      expect(fs.readdir('/usr/share')).toHaveLength(300);
      expect(fs.stat('/usr/share/blob299')).toMatchObject({ kind: 'file', size: 8 * MiB });
      const blob = fs.readFile('/usr/share/blob1');
      expect(blob?.length).toBe(8 * MiB);
      expect(blob?.every((byte) => byte === 0)).toBe(true);
      // Only the file read was written.
      expect(bytesBelow(workDir)).toBeLessThan(9 * MiB);
      expect(bytesBelow(workDir)).toBeGreaterThanOrEqual(8 * MiB);
    } finally {
      await fs.close();
    }
    expect(readdirSync(workDir)).toEqual([]);
  });

  for (const gzip of [false, true]) {
    it(`fetches files that were not written, byte for byte with their times (${gzip ? 'tar.gz' : 'plain tar'})`, async () => {
      const dir = tempDir();
      const library = randomBytes(2 * MiB + 123);
      const mtime = new Date('2025-05-05T05:05:05Z');
      const archive = await writeTar(
        join(dir, gzip ? 'lazy.tar.gz' : 'lazy.tar'),
        [
          { name: 'etc/hostname', body: 'lazy\n' },
          { name: 'opt/app/settings.txt', body: 'kept in the archive\n', mtime, mode: 0o666 },
          { name: 'usr/lib/libbig.so', body: library, mode: 0o755 },
          { name: 'usr/lib/libbig.so.1', type: 'link', linkname: 'usr/lib/libbig.so' },
          { name: 'opt/after', body: 'the last entry\n' },
        ],
        gzip,
      );
      const workDir = tempDir();
      const fs = await openTarRootFs(archive, { workDir });
      try {
        const before = bytesBelow(workDir);
        expect(before).toBeLessThan(64 * 1024);
        expect(fs.lstat('/opt/app/settings.txt')).toMatchObject({ mode: 0o666, mtimeMs: mtime.getTime() });
        expect(fs.readText('/opt/app/settings.txt')).toBe('kept in the archive\n');
        // Once written out, the file says what its phantom said.
        expect(fs.lstat('/opt/app/settings.txt')).toMatchObject({ mode: 0o666, mtimeMs: mtime.getTime() });
        expect(fs.readFile('/usr/lib/libbig.so.1')?.equals(library)).toBe(true);
        expect(fs.readFile('/usr/lib/libbig.so')?.equals(library)).toBe(true);
        expect(fs.readText('/opt/after')).toBe('the last entry\n');
        // A read bound still answers as for a directory, without fetching.
        expect(fs.readFile('/usr/lib/libbig.so', { maxBytes: MiB })).toBeUndefined();
        expect(fs.problems.at(-1)?.reason).toBe(
          `${library.length} bytes, larger than the read limit of ${MiB}`,
        );
        expect(fs.problems).toHaveLength(1);
      } finally {
        await fs.close();
      }
      expect(readdirSync(workDir)).toEqual([]);
    });
  }

  it('fetches the small siblings of a file of a tar.gz in the same pass, not those of a plain tar', async () => {
    const dir = tempDir();
    const entries = [
      { name: 'opt/conf/a.yaml', body: 'a: 1\n' },
      { name: 'opt/conf/b.yaml', body: 'b: 2\n' },
      { name: 'opt/conf/sub/c.yaml', body: 'c: 3\n' },
      { name: 'opt/other.yaml', body: 'o: 4\n' },
    ];
    for (const gzip of [true, false]) {
      const archive = await writeTar(join(dir, gzip ? 'siblings.tar.gz' : 'siblings.tar'), entries, gzip);
      const extraction = await extractTar(archive, { workDir: tempDir() });
      const fs = openDirRootFs(extraction.root, { phantoms: extraction.phantoms, fetch: extraction.fetch });
      expect(fs.readText('/opt/conf/a.yaml')).toBe('a: 1\n');
      expect([...extraction.phantoms.keys()].sort()).toEqual(
        gzip
          ? ['/opt/conf/sub/c.yaml', '/opt/other.yaml']
          : ['/opt/conf/b.yaml', '/opt/conf/sub/c.yaml', '/opt/other.yaml'],
      );
      expect(fs.readText('/opt/conf/b.yaml')).toBe('b: 2\n');
      expect(fs.readText('/opt/conf/sub/c.yaml')).toBe('c: 3\n');
      await extraction.cleanup();
    }
  });

  it('writes configuration, state and executables during the pass, not data', async () => {
    const dir = tempDir();
    const archive = await writeTar(join(dir, 'kinds.tar'), [
      { name: 'etc/apt/apt.conf.d/20auto-upgrades', body: 'APT::Periodic::Unattended-Upgrade "1";\n' },
      { name: 'var/lib/dpkg/status', body: 'Package: x\n' },
      { name: 'usr/lib/systemd/system/x.service', body: '[Service]\n' },
      { name: 'usr/local/bin/boot', body: '#!/bin/sh\n', mode: 0o755 },
      { name: 'opt/app/app.service', body: '[Service]\n' },
      { name: 'opt/app/env.sh', body: 'A=1\n' },
      { name: 'opt/app/data.bin', body: 'data\n' },
      { name: 'usr/share/doc/x/README', body: 'docs\n' },
      { name: 'usr/lib/x86_64-linux-gnu/libx.a', body: 'data\n' },
    ]);
    const { root, phantoms, cleanup } = await extractTar(archive, { workDir: tempDir() });
    try {
      expect([...phantoms.keys()].sort()).toEqual([
        '/opt/app/data.bin',
        '/usr/lib/x86_64-linux-gnu/libx.a',
        '/usr/share/doc/x/README',
      ]);
      expect(readdirSync(join(root, 'usr/local/bin'))).toEqual(['boot']);
      expect(readdirSync(join(root, 'opt/app')).sort()).toEqual(['app.service', 'env.sh']);
    } finally {
      await cleanup();
    }
  });
});

describe('caps on what an extraction writes', () => {
  it('refuses an archive past the entry cap, naming it, the cap and how to raise it', async () => {
    const dir = tempDir();
    const archive = await writeTar(
      join(dir, 'many.tar.gz'),
      Array.from({ length: 20 }, (_, i) => ({ name: `etc/f${i}`, body: 'x' })),
    );
    const workDir = tempDir();
    const error = await openTarRootFs(archive, { workDir, limits: { maxBytes: MiB, maxEntries: 10 } }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'EXTRACT_TOO_MANY_ENTRIES',
      fault: 'user',
      message: `${archive} holds more than 10 entries, the cap on entries for one archive`,
      hint: expect.stringContaining('GOLDGATE_MAX_EXTRACT_ENTRIES=20'),
    });
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('refuses an archive past the byte cap before writing the file that would pass it', async () => {
    const dir = tempDir();
    const archive = await writeTar(join(dir, 'big.tar'), [
      { name: 'etc/one', body: Buffer.alloc(600 * 1024) },
      { name: 'etc/two', body: Buffer.alloc(600 * 1024) },
    ]);
    const workDir = tempDir();
    const error = await openTarRootFs(archive, { workDir, limits: { maxBytes: MiB, maxEntries: 100 } }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'EXTRACT_TOO_LARGE',
      fault: 'user',
      message: `${archive} expands to more than 1.0 MiB (1048576 bytes), the cap on what one extraction writes`,
      hint: expect.stringMatching(
        /^if the archive is trusted, raise the cap: GOLDGATE_MAX_EXTRACT_BYTES=1G goldgate/,
      ),
    });
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('stops reading when a file fetched on demand would pass the byte cap (plain tar and tar.gz)', async () => {
    const dir = tempDir();
    for (const name of ['lazy-cap.tar', 'lazy-cap.tar.gz']) {
      const archive = await writeTar(join(dir, name), [
        { name: 'opt/data', body: Buffer.alloc(2 * MiB) },
        { name: 'opt/small', body: 'small\n' },
      ]);
      const fs = await openTarRootFs(archive, {
        workDir: tempDir(),
        limits: { maxBytes: MiB, maxEntries: 100 },
      });
      try {
        expect(() => fs.readFile('/opt/data'), name).toThrow(
          expect.objectContaining({ code: 'EXTRACT_TOO_LARGE' }),
        );
        expect(fs.readText('/opt/small'), name).toBe('small\n');
      } finally {
        await fs.close();
      }
    }
  });

  it('takes the caps from GOLDGATE_MAX_EXTRACT_BYTES and GOLDGATE_MAX_EXTRACT_ENTRIES, else from the archive size', () => {
    expect(extractLimits(10 * MiB, {})).toEqual({ maxBytes: 1024 ** 3, maxEntries: 1_000_000 });
    expect(extractLimits(100 * 1024 ** 2, {}).maxBytes).toBe(2000 * MiB);
    expect(
      extractLimits(0, { GOLDGATE_MAX_EXTRACT_BYTES: '8G', GOLDGATE_MAX_EXTRACT_ENTRIES: '2000000' }),
    ).toEqual({ maxBytes: 8 * 1024 ** 3, maxEntries: 2_000_000 });
    expect(extractLimits(0, { GOLDGATE_MAX_EXTRACT_BYTES: '1500' }).maxBytes).toBe(1500);
    expect(() => extractLimits(0, { GOLDGATE_MAX_EXTRACT_BYTES: 'lots' })).toThrow(
      expect.objectContaining({ code: 'EXTRACT_BAD_LIMIT', fault: 'user' }),
    );
    expect(() => extractLimits(0, { GOLDGATE_MAX_EXTRACT_ENTRIES: '10k' })).toThrow(
      expect.objectContaining({ code: 'EXTRACT_BAD_LIMIT' }),
    );
  });
});

describe('disk space', () => {
  it('checks the free space before writing, naming the directory, what is needed and what is free', async () => {
    const dir = tempDir();
    const archive = await writeTar(join(dir, 'space.tar'), [{ name: 'etc/motd', body: 'hello\n' }]);
    const workDir = tempDir();
    const error = await openTarRootFs(archive, { workDir, statfs: () => 10 * MiB }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'EXTRACT_NO_SPACE',
      fault: 'environment',
      message: `extracting ${archive} needs at least 6 B in ${workDir}, with 64.0 MiB kept free there, but 10.0 MiB are free`,
      hint: expect.stringContaining('TMPDIR'),
    });
    expect(readdirSync(workDir)).toEqual([]);
    await openTarRootFs(archive, { workDir, statfs: plenty }).then((fs) => fs.close());
    await expect(openTarRootFs(archive, { workDir: join(workDir, 'missing') })).rejects.toMatchObject({
      code: 'EXTRACT_NO_WORKDIR',
      fault: 'environment',
      message: `cannot extract ${archive} into ${join(workDir, 'missing')}: ENOENT`,
    });
  });

  it.skipIf(process.getuid?.() !== 0)(
    'turns ENOSPC into a clear error and removes the partial extraction (needs root: tmpfs)',
    async () => {
      const dir = tempDir();
      const archive = await writeTar(join(dir, 'full.tar.gz'), [
        { name: 'etc/a', body: randomBytes(700 * 1024) },
        { name: 'etc/b', body: randomBytes(700 * 1024) },
      ]);
      const small = join(tempDir(), 'small');
      mkdirSync(small);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'goldgate-test', small]);
      try {
        // The disk claims to be large (another writer fills it meanwhile): ENOSPC is met while writing.
        const error = await openTarRootFs(archive, { workDir: small, statfs: plenty }).catch(
          (e: unknown) => e,
        );
        expect(error).toMatchObject({
          code: 'EXTRACT_NO_SPACE',
          fault: 'environment',
          message: `no space left in ${small} while extracting ${archive} (what was extracted is removed)`,
        });
        expect(readdirSync(small)).toEqual([]);
      } finally {
        spawnSync('umount', [small]);
        rmdirSync(small);
      }
    },
  );
});

describe('tar messages', () => {
  it('names a hard link by its own path and its target, and the archive', async () => {
    const dir = tempDir();
    const toDir = await writeTar(join(dir, 'hard-dir.tar'), [
      { name: 'etc/', type: 'directory' },
      { name: 'usr/bin/hard', type: 'link', linkname: 'etc' },
    ]);
    await expect(openTarRootFs(toDir, { workDir: tempDir() })).rejects.toMatchObject({
      code: 'TAR_UNSAFE_ENTRY',
      message: `${toDir}: tar entry "usr/bin/hard" is a hard link to "etc", which is not a regular file in the archive`,
    });
    const absolute = await writeTar(join(dir, 'hard-abs.tar'), [
      { name: 'usr/bin/hard', type: 'link', linkname: '/etc/shadow' },
    ]);
    await expect(openTarRootFs(absolute, { workDir: tempDir() })).rejects.toMatchObject({
      message: `${absolute}: tar entry "usr/bin/hard" is a hard link to "/etc/shadow", which is an absolute name`,
    });
    const dotdot = await writeTar(join(dir, 'hard-dotdot.tar'), [
      { name: 'usr/bin/hard', type: 'link', linkname: 'usr/../../shadow' },
    ]);
    await expect(openTarRootFs(dotdot, { workDir: tempDir() })).rejects.toMatchObject({
      message: `${dotdot}: tar entry "usr/bin/hard" is a hard link to "usr/../../shadow", which contains ".."`,
    });
  });

  it('names a too deep entry shortly, by the archive, never by the private extraction directory', async () => {
    const dir = tempDir();
    const deep = `${'d/'.repeat(2100)}file`;
    const archive = await writeTar(join(dir, 'deep.tar.gz'), [{ name: deep, body: 'x' }]);
    const workDir = tempDir();
    const error = (await openTarRootFs(archive, { workDir }).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'TAR_UNEXTRACTABLE', fault: 'user' });
    expect(error.message).toMatch(
      new RegExp(`^${archive}: tar entry "d/d/d/.*….*d/d/file": its name is too long`),
    );
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).not.toContain(workDir);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('escapes control characters in entry names', async () => {
    const dir = tempDir();
    const archive = await writeTar(join(dir, 'ansi.tar'), [
      { name: 'etc/\u001b[31mred\n/../../x', body: 'x' },
    ]);
    const error = (await openTarRootFs(archive, { workDir: tempDir() }).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(`${archive}: tar entry "etc/\\x1b[31mred\\n/../../x" contains ".."`);
    expect(shownName('a\u0000b\u009bc\td')).toBe('a\\x00b\\x9bc\\td');
  });
});
