import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  createWriteStream,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { collectingSink } from '../core/events.js';
import { findExecutable } from '../core/which.js';
import { tempDir, writeTree } from '../test-support/tree.js';
import { mountPointsBelow } from './mounts.js';
import { openImageSource, unmountBelow } from './sources.js';
import type { OpenedSource } from './sources.js';
import { cleanupStore } from './store.js';

const isRoot = process.getuid?.() === 0;
const TOOLS = ['tar', 'zstd', 'sfdisk', 'qemu-img', 'mkfs.ext4', 'mkswap', 'blkid', 'losetup', 'mount'];
const missing = TOOLS.filter((name) => findExecutable(name) === undefined);
const canRun = isRoot && missing.length === 0;
const note = !isRoot
  ? ' (needs root: mounts, loop devices, owners)'
  : missing.length > 0
    ? ` (needs ${missing.join(', ')})`
    : '';
const distSources = new URL('../../dist/images/sources.js', import.meta.url);
const built = existsSync(distSources);

const MiB = 1024 * 1024;

function sh(argv: string[], input?: string): string {
  const [command, ...args] = argv;
  const result = spawnSync(command as string, args, { encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** A small root filesystem: an os-release symlink as Debian has, a set-uid file, a file of uid 1000. */
function makeRootTree(): string {
  const root = join(tempDir('goldgate-src-'), 'tree');
  mkdirSync(root);
  writeTree(root, {
    '/usr/lib/os-release': 'PRETTY_NAME="Test Linux 1"\nID=test\n',
    '/etc/os-release': { link: '../usr/lib/os-release' },
    '/etc/hostname': 'golden\n',
    '/usr/bin/x': { content: '#!/bin/sh\necho x\n', mode: 0o755 },
    '/usr/bin/suid': { content: 'not really a binary\n', mode: 0o755 },
    '/bin': { link: 'usr/bin' },
    '/home/alice/notes.txt': 'hello\n',
  });
  chmodSync(join(root, 'usr/bin/suid'), 0o4755);
  chownSync(join(root, 'home/alice'), 1000, 1000);
  chownSync(join(root, 'home/alice/notes.txt'), 1000, 1000);
  chmodSync(join(root, 'home/alice'), 0o700);
  lchownSync(join(root, 'bin'), 0, 0);
  return root;
}

/** Every path below a root with its type, mode, owner and content (lost+found of ext4 left out). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const imagePath = `${prefix}/${name}`;
      if (imagePath === '/lost+found') continue;
      const stats = lstatSync(path);
      const meta = `${(stats.mode & 0o7777).toString(8)} ${stats.uid}:${stats.gid}`;
      if (stats.isSymbolicLink()) out[imagePath] = `link ${meta} -> ${readlinkSync(path)}`;
      else if (stats.isDirectory()) {
        out[imagePath] = `dir ${meta}`;
        walk(path, imagePath);
      } else
        out[imagePath] =
          `file ${meta} ${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12)}`;
    }
  };
  walk(root, '');
  return out;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Loop devices whose backing file lies below `dir`. */
function loopsBacking(dir: string): string[] {
  return sh(['losetup', '-a'])
    .split('\n')
    .filter((line) => line.includes(dir));
}

async function expectClean(workDir: string, files: string): Promise<void> {
  expect(mountPointsBelow(workDir)).toEqual([]);
  // Autoclear detaches a loop device on its last close; give the kernel a moment.
  for (let i = 0; i < 40 && loopsBacking(files).length > 0; i += 1)
    await new Promise((r) => setTimeout(r, 50));
  expect(loopsBacking(files)).toEqual([]);
}

function newWorkDir(): string {
  const dir = join(tempDir('goldgate-work-'), 'work');
  mkdirSync(dir);
  return dir;
}

/** Writes an ext4 filesystem populated from `tree` at a byte offset of `file` (no mount needed). */
function mkfsExt4(file: string, tree: string, offset: number, bytes: number): void {
  sh(['mkfs.ext4', '-q', '-F', '-d', tree, '-E', `offset=${offset}`, file, `${bytes / 1024}k`]);
}

/** Copies a small filesystem image made by another mkfs into a partition of `file`. */
function writeAt(file: string, image: string, offset: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, readFileSync(image), 0, undefined, offset);
  } finally {
    closeSync(fd);
  }
}

/** A 64 MiB disk: partition 1 (8 MiB) and partition 2 (the rest), by an sfdisk script. */
function partitionedDisk(dir: string, name: string, label: 'gpt' | 'dos', types: [string, string]): string {
  const file = join(dir, name);
  writeFileSync(file, '');
  truncateSync(file, 64 * MiB);
  sh(
    ['sfdisk', '-q', file],
    `label: ${label}\nstart=2048, size=16384, type=${types[0]}\nstart=18432, size=100352, type=${types[1]}\n`,
  );
  return file;
}

const P1 = { offset: 2048 * 512, size: 16384 * 512 };
const P2 = { offset: 18432 * 512, size: 100352 * 512 };

function swapImage(dir: string, bytes: number): string {
  const file = join(dir, 'swap.img');
  writeFileSync(file, '');
  truncateSync(file, bytes);
  sh(['mkswap', '-q', file]);
  return file;
}

async function opened(source: string, workDir: string): Promise<OpenedSource> {
  return openImageSource(source, { workDir });
}

async function tarball(
  file: string,
  entries: Array<{ name: string; type?: string; linkname?: string; body?: string }>,
) {
  const archive = pack();
  for (const entry of entries) {
    archive.entry(
      {
        name: entry.name,
        type: (entry.type ?? 'file') as 'file',
        ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}),
        mode: entry.type === 'directory' ? 0o755 : 0o644,
      },
      entry.body ?? '',
    );
  }
  archive.finalize();
  await pipeline(archive, createGzip(), createWriteStream(file));
}

describe('openImageSource without root', () => {
  it('opens a directory in place and closes it without touching it', async () => {
    const tree = join(tempDir(), 'root');
    writeTree(tree, { '/etc/os-release': 'ID=test\n', '/usr/bin/x': 'x' });
    const source = await opened(tree, newWorkDir());
    expect(source).toMatchObject({ kind: 'directory', root: tree });
    await source.close();
    await source.close();
    expect(readFileSync(join(tree, 'etc/os-release'), 'utf8')).toBe('ID=test\n');
  });

  it('refuses a directory that is not a root filesystem, and a missing path', async () => {
    const dir = tempDir();
    writeTree(dir, { '/home/x': 'x' });
    await expect(opened(dir, newWorkDir())).rejects.toMatchObject({ code: 'IMPORT_NOT_A_ROOTFS' });
    await expect(opened(join(dir, 'nope'), newWorkDir())).rejects.toMatchObject({ code: 'IMPORT_NOT_FOUND' });
  });

  it('refuses a file that stats as regular and fails its reads, naming it', async () => {
    // /proc/self/mem is a regular file of size 0 whose first page is never mapped: EIO.
    await expect(opened('/proc/self/mem', newWorkDir())).rejects.toMatchObject({
      code: 'IMPORT_UNREADABLE',
      fault: 'user',
      message: '/proc/self/mem cannot be read (EIO)',
    });
  });

  it('names an xz archive instead of treating it as a disk', async () => {
    const file = join(tempDir(), 'image.bin');
    writeFileSync(file, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));
    await expect(opened(file, newWorkDir())).rejects.toMatchObject({
      code: 'IMPORT_UNSUPPORTED_FORMAT',
      hint: expect.stringContaining('zstd'),
    });
  });

  it.skipIf(isRoot)('needs root for a tarball or a disk', async () => {
    const file = join(tempDir(), 'disk.raw');
    writeFileSync(file, Buffer.alloc(MiB));
    await expect(opened(file, newWorkDir())).rejects.toMatchObject({ code: 'IMPORT_NOT_ROOT' });
  });
});

describe.skipIf(!canRun)(`openImageSource on real archives and disks${note}`, () => {
  it('gives the same tree, modes and owners from a directory, tar.gz, tar.zst and plain tar', async () => {
    const tree = makeRootTree();
    const expected = snapshot(tree);
    expect(expected['/usr/bin/suid']).toMatch(/^file 4755 0:0 /);
    expect(expected['/home/alice/notes.txt']).toMatch(/^file 644 1000:1000 /);
    const dir = tempDir();
    const gz = join(dir, 'image.tgz.bin');
    const zst = join(dir, 'image.zst.bin');
    const plain = join(dir, 'nested.tar.bin');
    sh(['tar', '--numeric-owner', '-C', tree, '-czf', gz, '.']);
    sh(['tar', '--numeric-owner', '--zstd', '-C', tree, '-cf', zst, '.']);
    // Entries under one top directory (rootfs/etc…): the root is found one level down.
    sh([
      'tar',
      '--numeric-owner',
      '-C',
      join(tree, '..'),
      '-cf',
      plain,
      '--transform=s,^tree,rootfs,',
      'tree',
    ]);

    const fromDir = await opened(tree, newWorkDir());
    expect(snapshot(fromDir.root)).toEqual(expected);
    await fromDir.close();

    for (const archive of [gz, zst, plain]) {
      const workDir = newWorkDir();
      const events = collectingSink();
      const source = await openImageSource(archive, { workDir, events });
      expect(source.kind).toBe('tar');
      expect(source.root).toBe(join(workDir, 'rootfs', archive === plain ? 'rootfs' : ''));
      expect(snapshot(source.root)).toEqual(expected);
      expect(events.events.map((e) => (e.type === 'progress' ? e.step : ''))).toContain('import.extract');
      await source.close();
      await source.close();
      expect(readdirSync(workDir)).toEqual([]);
    }
  });

  it('finds the root on partition 2 of a GPT disk, mounted read-only, and leaves nothing behind', async () => {
    const tree = makeRootTree();
    const boot = join(tempDir(), 'boot');
    writeTree(boot, { '/grub/grub.cfg': 'set timeout=1\n' });
    const dir = tempDir('goldgate-disk-');
    const disk = partitionedDisk(dir, 'gpt.raw', 'gpt', ['linux', 'linux']);
    mkfsExt4(disk, boot, P1.offset, P1.size);
    mkfsExt4(disk, tree, P2.offset, P2.size);
    const before = sha256(disk);
    const workDir = newWorkDir();
    const events = collectingSink();

    const source = await openImageSource(disk, { workDir, events });
    expect(source).toMatchObject({
      kind: 'raw',
      partition: 2,
      filesystem: 'ext4',
      root: join(workDir, 'mnt-2'),
    });
    expect(snapshot(source.root)).toEqual(snapshot(tree));
    // Only the root stays mounted, through a read-only loop device.
    expect(mountPointsBelow(workDir)).toEqual([source.root]);
    const loop = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((line) => line.split(' ')[4] === source.root)
      ?.split(' - ')[1]
      ?.split(' ')[1];
    expect(loop).toMatch(/^\/dev\/loop\d+$/);
    expect(readFileSync(`/sys/block/${loop?.slice(5)}/ro`, 'utf8').trim()).toBe('1');
    expect(events.events).toContainEqual(expect.objectContaining({ step: 'import.mount', done: true }));

    await source.close();
    await source.close();
    await expectClean(workDir, dir);
    expect(sha256(disk)).toBe(before);
  });

  it('finds the root on an MBR disk next to a swap partition, and on a whole-disk ext4', async () => {
    const tree = makeRootTree();
    const dir = tempDir('goldgate-disk-');
    const mbr = partitionedDisk(dir, 'mbr.raw', 'dos', ['82', '83']);
    writeAt(mbr, swapImage(dir, P1.size), P1.offset);
    mkfsExt4(mbr, tree, P2.offset, P2.size);
    const whole = join(dir, 'whole.img');
    writeFileSync(whole, '');
    truncateSync(whole, 48 * MiB);
    sh(['mkfs.ext4', '-q', '-F', '-d', tree, whole]);

    for (const [disk, partition] of [
      [mbr, 2],
      [whole, null],
    ] as const) {
      const workDir = newWorkDir();
      const source = await opened(disk, workDir);
      expect(source).toMatchObject({ kind: 'raw', partition, filesystem: 'ext4' });
      expect(snapshot(source.root)).toEqual(snapshot(tree));
      await source.close();
      await expectClean(workDir, dir);
    }
  });

  it('converts a qcow2 below workDir, then removes the conversion on close', async () => {
    const tree = makeRootTree();
    const dir = tempDir('goldgate-disk-');
    const disk = partitionedDisk(dir, 'gpt.raw', 'gpt', ['linux', 'linux']);
    mkfsExt4(disk, tree, P2.offset, P2.size);
    const qcow2 = join(dir, 'image.qcow2');
    sh(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', disk, qcow2]);
    const workDir = newWorkDir();
    const events = collectingSink();
    const source = await openImageSource(qcow2, { workDir, events });
    expect(source).toMatchObject({ kind: 'qcow2', partition: 2, filesystem: 'ext4' });
    expect(snapshot(source.root)).toEqual(snapshot(tree));
    expect(existsSync(join(workDir, 'disk.raw'))).toBe(true);
    expect(events.events).toContainEqual(expect.objectContaining({ step: 'import.convert', done: true }));
    await source.close();
    await expectClean(workDir, dir);
    await expectClean(workDir, workDir);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('refuses a qcow2 that reads a backing file', async () => {
    const dir = tempDir('goldgate-disk-');
    const base = join(dir, 'base.raw');
    writeFileSync(base, Buffer.alloc(MiB));
    const overlay = join(dir, 'overlay.qcow2');
    sh(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', 'raw', overlay]);
    await expect(opened(overlay, newWorkDir())).rejects.toMatchObject({ code: 'IMPORT_QCOW2_EXTERNAL' });
  });

  it('names the qcow2 as given, not its raw copy, when it holds no disk', async () => {
    const dir = tempDir('goldgate-disk-');
    const empty = join(dir, 'empty.qcow2');
    sh(['qemu-img', 'create', '-q', '-f', 'qcow2', empty, '1M']);
    const workDir = newWorkDir();
    const error: unknown = await opened(empty, workDir).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'IMPORT_UNRECOGNIZED',
      message: `${empty} is not a disk image: no partition table and no filesystem`,
    });
    await expectClean(workDir, dir);
  });

  it('refuses tarballs with "..", absolute names or writes through their own symlinks', async () => {
    const dir = tempDir();
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    const cases: Array<[string, Parameters<typeof tarball>[1], RegExp]> = [
      [
        'dotdot',
        [{ name: 'etc/', type: 'directory' }, { name: 'etc/../../evil' }],
        /"etc\/\.\.\/\.\.\/evil".*"\.\."/,
      ],
      ['absolute', [{ name: 'etc/', type: 'directory' }, { name: '/etc/evil' }], /"\/etc\/evil".*absolute/],
      [
        'symlink',
        [
          { name: 'etc/', type: 'directory' },
          { name: 'etc/link', type: 'symlink', linkname: outside },
          { name: 'etc/link/evil', body: 'pwned' },
        ],
        /"etc\/link\/evil".*"\/etc\/link".*symlink/,
      ],
      [
        'hardlink-to-symlink',
        [
          { name: 'usr/', type: 'directory' },
          { name: 'usr/a', type: 'symlink', linkname: outside },
          { name: 'usr/b', type: 'link', linkname: 'usr/a' },
          { name: 'usr/b/evil', body: 'pwned' },
        ],
        /"usr\/b\/evil".*"\/usr\/b"/,
      ],
      [
        'hardlink-below-symlink',
        [
          { name: 'usr/', type: 'directory' },
          { name: 'usr/a', type: 'symlink', linkname: outside },
          { name: 'usr/h', type: 'link', linkname: 'usr/a/passwd' },
        ],
        /: tar entry "usr\/h" is a hard link to "usr\/a\/passwd", which lies below "\/usr\/a"/,
      ],
    ];
    for (const [name, entries, message] of cases) {
      const file = join(dir, `${name}.tar.gz`);
      await tarball(file, entries);
      const workDir = newWorkDir();
      const error = await opened(file, workDir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).toMatchObject({
        code: 'IMPORT_UNSAFE_TAR',
        message: expect.stringMatching(message),
      });
      expect(readdirSync(workDir), name).toEqual([]);
    }
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses a tarball past the entry or byte cap, or larger than the free space, before extracting', async () => {
    const dir = tempDir();
    const file = join(dir, 'capped.tar.gz');
    await tarball(file, [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/os-release', body: 'ID=test\n' },
      { name: 'usr/', type: 'directory' },
      { name: 'usr/big', body: 'x'.repeat(4096) },
    ]);
    const attempt = async (options: Omit<Parameters<typeof openImageSource>[1], 'workDir'>) => {
      const workDir = newWorkDir();
      const error = await openImageSource(file, { workDir, ...options }).then(
        async (source) => {
          await source.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(readdirSync(workDir)).toEqual([]);
      return { error, workDir };
    };
    expect((await attempt({ limits: { maxBytes: 1 << 20, maxEntries: 3 } })).error).toMatchObject({
      code: 'EXTRACT_TOO_MANY_ENTRIES',
      fault: 'user',
      message: `${file} holds more than 3 entries, the cap on entries for one archive`,
      hint: expect.stringContaining('GOLDGATE_MAX_EXTRACT_ENTRIES=6'),
    });
    expect((await attempt({ limits: { maxBytes: 4000, maxEntries: 100 } })).error).toMatchObject({
      code: 'EXTRACT_TOO_LARGE',
      fault: 'user',
      message: expect.stringContaining(`${file} expands to more than 3.9 KiB (4000 bytes)`),
      hint: expect.stringContaining('GOLDGATE_MAX_EXTRACT_BYTES='),
    });
    const full = await attempt({ statfs: () => 32 * MiB });
    expect(full.error).toMatchObject({
      code: 'EXTRACT_NO_SPACE',
      fault: 'environment',
      message: `extracting ${file} needs at least 4.0 KiB in ${full.workDir}, with 64.0 MiB kept free there, but 32.0 MiB are free`,
      hint: expect.stringContaining('GOLDGATE_HOME'),
    });
    expect((await attempt({})).error).toBeUndefined();
  });

  it('turns a disk filled during the extraction into a clear error, removing what was extracted', async () => {
    const dir = tempDir();
    const file = join(dir, 'fills.tar.gz');
    await tarball(file, [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/os-release', body: 'ID=test\n' },
      { name: 'usr/', type: 'directory' },
      { name: 'usr/random', body: randomBytes(1536 * 1024).toString('latin1') },
    ]);
    const small = join(tempDir(), 'small');
    mkdirSync(small);
    sh(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'goldgate-test', small]);
    try {
      const workDir = join(small, 'work');
      mkdirSync(workDir);
      // The disk claims room enough (another writer fills it meanwhile): tar meets ENOSPC.
      const error = await openImageSource(file, { workDir, statfs: () => 2 ** 40 }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'EXTRACT_NO_SPACE',
        fault: 'environment',
        message: `no space left in ${workDir} while extracting ${file} (what was extracted is removed)`,
      });
      expect(readdirSync(workDir)).toEqual([]);
    } finally {
      spawnSync('umount', [small]);
    }
  });

  it('refuses a disk without a Linux root, naming what each partition was', async () => {
    const dir = tempDir('goldgate-disk-');
    const data = join(tempDir(), 'data');
    writeTree(data, { '/srv/www/index.html': '<p>hi</p>' });
    const disk = partitionedDisk(dir, 'noroot.raw', 'gpt', ['linux', 'linux']);
    mkfsExt4(disk, data, P1.offset, P1.size);
    writeAt(disk, swapImage(dir, P2.size), P2.offset);
    const workDir = newWorkDir();
    await expect(opened(disk, workDir)).rejects.toMatchObject({
      code: 'IMPORT_NO_ROOT',
      message: expect.stringMatching(/partition 1: ext4 \(no \/etc\/os-release\).*partition 2: swap/),
    });
    await expectClean(workDir, dir);
  });

  it('names a filesystem it could not mount', async () => {
    const dir = tempDir('goldgate-disk-');
    const disk = partitionedDisk(dir, 'minix.raw', 'gpt', ['linux', 'linux']);
    const minix = join(dir, 'minix.img');
    writeFileSync(minix, '');
    truncateSync(minix, P1.size);
    sh(['mkfs.minix', minix]);
    writeAt(disk, minix, P1.offset);
    const workDir = newWorkDir();
    const error = await opened(disk, workDir).catch((e: unknown) => e);
    // IMPORT_UNSUPPORTED_FS where the kernel has no minix driver, IMPORT_NO_ROOT where it has one.
    expect(error).toMatchObject({ code: expect.stringMatching(/^IMPORT_(UNSUPPORTED_FS|NO_ROOT)$/) });
    expect((error as Error).message).toContain('minix');
    await expectClean(workDir, dir);
  });

  it('refuses random bytes as not a disk image', async () => {
    const dir = tempDir('goldgate-disk-');
    const file = join(dir, 'random.bin');
    writeFileSync(file, createHash('sha512').update('seed').digest().toString('hex').repeat(4096));
    const workDir = newWorkDir();
    await expect(opened(file, workDir)).rejects.toMatchObject({ code: 'IMPORT_UNRECOGNIZED' });
    await expectClean(workDir, dir);
  });

  it('unmountBelow unmounts what is left below a directory', async () => {
    const tree = makeRootTree();
    const dir = tempDir('goldgate-disk-');
    const whole = join(dir, 'whole.img');
    writeFileSync(whole, '');
    truncateSync(whole, 32 * MiB);
    sh(['mkfs.ext4', '-q', '-F', '-d', tree, whole]);
    const workDir = newWorkDir();
    const source = await opened(whole, workDir);
    expect(await unmountBelow(workDir)).toEqual([source.root]);
    await expectClean(workDir, dir);
    await source.close();
  });
});

describe.runIf(canRun && built)(`crash cleanup after SIGKILL${note}`, () => {
  it('cleanupStore unmounts and removes the staging directory of a killed import', async () => {
    const tree = makeRootTree();
    const dir = tempDir('goldgate-disk-');
    const disk = partitionedDisk(dir, 'gpt.raw', 'gpt', ['linux', 'linux']);
    mkfsExt4(disk, tree, P2.offset, P2.size);
    const home = tempDir('goldgate-home-');
    const script = join(dir, 'import.mjs');
    const store = new URL('../../dist/images/store.js', import.meta.url);
    writeFileSync(
      script,
      [
        `import { mkdirSync } from 'node:fs';`,
        `import { join } from 'node:path';`,
        `import { createStaging } from ${JSON.stringify(store.href)};`,
        `import { openImageSource } from ${JSON.stringify(pathToFileURL(distSources.pathname).href)};`,
        `const staging = createStaging(process.argv[2]);`,
        `const workDir = join(staging, 'work');`,
        `mkdirSync(workDir);`,
        `const source = await openImageSource(process.argv[3], { workDir });`,
        `console.log(JSON.stringify({ staging, root: source.root }));`,
        `setInterval(() => undefined, 1000);`,
      ].join('\n'),
    );
    const child = spawn(process.execPath, [script, home, disk], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.on('close', resolve));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      child.on('close', () => reject(new Error(`the import exited early: ${stderr}`)));
    });
    const { staging, root } = JSON.parse(line) as { staging: string; root: string };
    expect(mountPointsBelow(staging)).toEqual([root]);
    expect(loopsBacking(dir)).toHaveLength(1);

    child.kill('SIGKILL');
    await exited;
    expect(mountPointsBelow(staging)).toEqual([root]);
    expect(cleanupStore(home)).toEqual([staging]);
    expect(existsSync(staging)).toBe(false);
    await expectClean(staging, dir);
  });
});

it.skipIf(built || !canRun)('the SIGKILL cleanup test needs a build (npm run build)', () => undefined);
