import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { bake } from '../bake/bake.js';
import { ACME_UPDATE, publishAcmeApp, publishAcmeUpdate } from '../test-support/acme.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { runCli } from '../test-support/cli.js';
import { loopDevicesUnder, rawGptDisk, spawnGoldgate } from '../test-support/faults.js';
import { hostMountsUnder, labHomes } from '../test-support/lab-home.js';
import { verifyReportErrors } from '../test-support/verify-schema.js';
import type { VerifyReport } from '../verify/types.js';
import { importImage } from './import.js';
import type { StoredImage } from './store.js';
import { findImage } from './store.js';

// Bring your own image, end to end with real parts: root filesystems that goldgate did not
// bake (copied out of the store and changed by hand, as another tool would leave them) are
// imported from a directory, a tar.gz and a raw disk with a GPT partition table, verified with
// health checks given as flags, and used as the parent of a derived spec.

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'examples/acme');
const UPDATE = ACME_UPDATE;
const homes = labHomes('goldgate-import-');
let home = '';
let work = '';
const trees: Record<string, string> = {};

/** A raw disk image with a GPT table: a small first partition, the tree as ext4 in the second. */
const rawDisk = (tree: string, path: string): void => rawGptDisk(tree, path, 900);

async function withHome<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.GOLDGATE_HOME;
  process.env.GOLDGATE_HOME = home;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.GOLDGATE_HOME;
    else process.env.GOLDGATE_HOME = saved;
  }
}

async function verifyJson(...args: string[]): Promise<{ code: number; report: VerifyReport }> {
  const result = await withHome(() => runCli('verify', ...args, '--json', '-q'));
  const report = JSON.parse(result.stdout) as VerifyReport;
  expect(verifyReportErrors(report)).toBe('');
  return { code: result.code, report };
}

describe('bring your own image', { sequential: true }, () => {
  beforeAll(async () => {
    const base = baseRootfs();
    if (base === undefined) return;
    const cacheDir = dirname(dirname(dirname(base)));
    home = homes.create();
    work = join(home, 'work');
    await publishAcmeApp(home);
    // Two trees as another tool would leave them: baked here, then copied out and changed by hand.
    for (const spec of ['as-found', 'fixed'] as const) {
      const { image } = await bake(join(EXAMPLES, 'specs', `${spec}.yaml`), {
        home,
        cacheDir,
        basePolicy: 'any',
      });
      const tree = join(work, spec);
      execFileSync('mkdir', ['-p', work]);
      execFileSync('cp', ['-a', join(image.path, 'rootfs'), tree]);
      // Not goldgate's: no spec, and a unit of its own.
      writeFileSync(join(tree, 'etc/motd'), `built elsewhere (${spec})\n`);
      trees[spec] = tree;
    }
    await publishAcmeUpdate(home);
  }, 900_000);
  afterAll(homes.cleanUp, 180_000);

  itWithBase(
    'imports the same tree from a directory, a tar.gz and a raw GPT disk to the same manifest digest',
    async () => {
      const tree = trees['as-found'] as string;
      const tarball = join(work, 'as-found.tar.gz');
      execFileSync('tar', ['--numeric-owner', '--xattrs', '-czf', tarball, '-C', tree, '.']);
      const disk = join(work, 'as-found.raw');
      rawDisk(tree, disk);

      const fromDir = await importImage(tree, { name: 'byo', home });
      const fromTar = await importImage(tarball, { name: 'byo-tar', home });
      const fromDisk = await importImage(disk, { name: 'byo-disk', home });
      expect(fromDir.image.source).toMatchObject({ kind: 'directory', path: tree });
      expect(fromTar.image.source).toMatchObject({ kind: 'tar', path: tarball });
      expect(fromDisk.image.source).toMatchObject({
        kind: 'raw',
        path: disk,
        partition: 2,
        filesystem: 'ext4',
      });
      expect(fromTar.image.digest).toBe(fromDir.image.digest);
      expect(fromDisk.image.digest).toBe(fromDir.image.digest);
      // The same content and name is one image.
      expect((await importImage(tree, { name: 'byo', home })).existing).toBe(true);
      // Stored like a baked image: manifest, audit (Debian's automatic updates found), no spec.
      const stored = findImage(fromDir.image.id, home) as StoredImage;
      expect(existsSync(join(stored.path, 'manifest.json'))).toBe(true);
      expect(stored.audit.after.total).toBeGreaterThan(0);
      expect(stored.spec).toBe('');
      expect(readFileSync(join(stored.path, 'rootfs/etc/motd'), 'utf8')).toBe('built elsewhere (as-found)\n');
      // The source was only read, and nothing stays mounted or attached.
      expect(hostMountsUnder(home)).toEqual([]);
      expect(loopDevicesUnder([work])).toEqual([]);
    },
    600_000,
  );

  itWithBase(
    'verifies imported images with health checks given as flags: the self-upgrading one mutable, the hardened one immutable',
    async () => {
      const asFound = await importImage(trees['as-found'] as string, { name: 'byo', home });
      const fixed = await importImage(trees.fixed as string, { name: 'byo-fixed', home });
      const checks = ['--health-command', '/usr/lib/acme/health', '--health-http', '8080/cgi-bin/health'];

      const mutable = await verifyJson(asFound.image.id, ...checks);
      expect(mutable.code).toBe(1);
      expect(mutable.report.image).toMatchObject({ id: asFound.image.id, spec: null });
      expect(mutable.report.reasons).toContainEqual(
        expect.objectContaining({ kind: 'package', package: 'acme-runtime', to: UPDATE }),
      );
      expect(mutable.report.causes[0]?.cause).toMatchObject({
        by: 'unattended-upgrade',
        package: 'acme-runtime',
      });

      const immutable = await verifyJson(fixed.image.id, ...checks, '--health-unit', 'acme-httpd.service');
      expect(immutable.report.reasons).toEqual([]);
      expect(immutable.code).toBe(0);
      // The flags' checks run in kind order (http, command, unit), before and after.
      const checks3 = [
        'http :8080/cgi-bin/health',
        'command /usr/lib/acme/health',
        'unit acme-httpd.service',
      ];
      expect(immutable.report.health.map((h) => [h.phase, h.name, h.ok])).toEqual([
        ...checks3.map((name) => ['before', name, true]),
        ...checks3.map((name) => ['after', name, true]),
      ]);
    },
    600_000,
  );

  itWithBase(
    'a derived spec on top of an imported image bakes, and its lineage names the parent',
    async () => {
      const parent = await importImage(trees['as-found'] as string, { name: 'byo', home });
      const spec = join(work, 'derived.yaml');
      writeFileSync(
        spec,
        `name: byo-hardened
base:
  from: ${parent.image.id}
autoUpdates: disabled
files:
  - path: /etc/goldgate-derived
    content: "hardened on top of an imported image\\n"
health:
  - { name: acme, command: { argv: [/usr/lib/acme/health] } }
`,
      );
      const { image } = await bake(spec, { home });
      expect(image.parent).toBe(parent.image.id);
      expect(readFileSync(join(image.path, 'rootfs/etc/goldgate-derived'), 'utf8')).toContain(
        'imported image',
      );
      // The audit's remediations were applied to the copy, never to the parent.
      expect(image.audit.after.total).toBeLessThan(image.audit.before.total);
      expect((findImage(parent.image.id, home) as StoredImage).digest).toBe(parent.image.digest);
      const listed = await withHome(() => runCli('images', '--json'));
      const images = (JSON.parse(listed.stdout) as { images: Array<{ id: string; parent?: string }> }).images;
      expect(images.find((i) => i.id === image.id)?.parent).toBe(parent.image.id);
    },
    600_000,
  );

  itWithBase(
    'refuses a tarball with .. entries and a disk with no Linux root, leaving nothing mounted or attached, also after SIGKILL',
    async () => {
      const evil = join(work, 'evil');
      execFileSync('mkdir', ['-p', join(evil, 'etc'), join(evil, 'usr')]);
      writeFileSync(join(evil, 'escape'), 'x');
      const tarball = join(work, 'evil.tar.gz');
      execFileSync('tar', ['-czf', tarball, '-C', evil, '--transform', 's,^./escape,../escape,', '.'], {
        stdio: 'ignore',
      });
      const refused = await withHome(() => runCli('image', 'import', tarball, '--name', 'evil'));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/\.\.\/escape/);

      const noRoot = join(work, 'data.raw');
      execFileSync('truncate', ['-s', '64M', noRoot]);
      execFileSync('sfdisk', ['--quiet', noRoot], { input: 'label: gpt\nstart=2048, type=L\n' });
      const data = join(work, 'data');
      execFileSync('mkdir', ['-p', join(data, 'srv')]);
      execFileSync('mkfs.ext4', ['-q', '-F', '-d', data, '-E', `offset=${2048 * 512}`, noRoot, '30000k']);
      const none = await withHome(() => runCli('image', 'import', noRoot, '--name', 'data'));
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/no partition holds a Linux root/);

      // Killed while the disk is mounted: the next import removes what it left.
      const disk = join(work, 'as-found.raw');
      if (!existsSync(disk)) rawDisk(trees['as-found'] as string, disk);
      const { child, exited } = spawnGoldgate(['image', 'import', disk, '--name', 'killed'], home);
      const until = Date.now() + 60_000;
      while (hostMountsUnder(join(home, 'images')).length === 0 && Date.now() < until)
        await new Promise((done) => setTimeout(done, 20));
      expect(hostMountsUnder(join(home, 'images')).length).toBeGreaterThan(0);
      child.kill('SIGKILL');
      await exited;
      // With no command run after it: the import's reaper unmounts, which frees the loop device.
      const gone = Date.now() + 10_000;
      while ((hostMountsUnder(home).length > 0 || loopDevicesUnder([work]).length > 0) && Date.now() < gone)
        await new Promise((done) => setTimeout(done, 50));
      expect(hostMountsUnder(home)).toEqual([]);
      expect(loopDevicesUnder([work])).toEqual([]);
      expect(readdirSync(join(home, 'images')).filter((n) => n.startsWith('.staging-'))).toEqual([]);
      const again = await importImage(trees.fixed as string, { name: 'byo-fixed', home });
      expect(again.image.name).toBe('byo-fixed');
      expect(findImage('img-000000000000', home)).toBeUndefined();
    },
    600_000,
  );
});
