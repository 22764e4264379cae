import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useTempHome } from '../test-support/cli.js';
import { sentinel } from '../test-support/confine.js';
import { tempDir, writeTree } from '../test-support/tree.js';
import type { TreeEntry } from '../test-support/tree.js';

// Hostile parent images for a derived bake, run through the CLI as a user would: whatever
// links the parent holds, bake writes nothing outside its own copy of the image.

const asRoot = process.getuid?.() === 0 ? it : it.skip;

/** The parent of the reproduction: just enough of a Debian root for a derived bake. */
function parentRoot(dir: string, entries: Record<string, TreeEntry>, usrSbin = true): string {
  const parent = join(dir, 'parent');
  mkdirSync(join(parent, 'var/lib/dpkg'), { recursive: true });
  if (usrSbin) mkdirSync(join(parent, 'usr/sbin'), { recursive: true });
  writeTree(parent, {
    '/etc/os-release': 'ID=debian\n',
    '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
    '/etc/group': 'root:x:0:\n',
    '/var/lib/dpkg/status': '',
    ...entries,
  });
  return parent;
}

function derivedSpec(dir: string, extra = ''): string {
  const spec = join(dir, 'derived.yaml');
  writeFileSync(spec, `name: d2\nbase:\n  from: ./parent\n${extra}`);
  return spec;
}

/** The root filesystem of the image a bake stored, from its `--json` output. */
async function bakeJson(spec: string): Promise<{ code: number; rootfs: string; stderr: string }> {
  const { code, stdout, stderr } = await runCli('bake', spec, '--json', '--quiet');
  const image = code === 0 ? (JSON.parse(stdout) as { image: { path: string } }).image : undefined;
  return { code, rootfs: image === undefined ? '' : join(image.path, 'rootfs'), stderr };
}

describe('bake from a hostile parent writes nothing outside the image', () => {
  useTempHome();

  asRoot(
    "the issue's reproduction: a dangling absolute policy-rc.d link creates nothing on the host",
    async () => {
      const dir = tempDir('goldgate-repro-');
      const escape = `/run/goldgate-escape-${randomBytes(6).toString('hex')}`;
      parentRoot(dir, { '/usr/sbin/policy-rc.d': { link: escape } });
      const { code, rootfs, stderr } = await bakeJson(derivedSpec(dir));
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(existsSync(escape)).toBe(false);
      // The image's own link is put back as it was.
      expect(readlinkSync(join(rootfs, 'usr/sbin/policy-rc.d'))).toBe(escape);
    },
  );

  asRoot('a parent without usr/sbin bakes (the directory made for the policy is removed after)', async () => {
    const dir = tempDir('goldgate-nosbin-');
    parentRoot(dir, {}, false);
    const { code, rootfs, stderr } = await bakeJson(derivedSpec(dir));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(existsSync(join(rootfs, 'usr/sbin'))).toBe(false);
  });

  asRoot(
    'usr/sbin, files, their directories and the user-data seed behind links out of the image',
    async () => {
      const dir = tempDir('goldgate-hostile-');
      const outside = sentinel();
      parentRoot(
        dir,
        {
          '/usr/sbin': { link: outside.dir },
          '/etc/acme': { link: outside.dir },
          '/etc/motd': { link: join(outside.dir, 'keep') },
          '/etc/up': { link: '../../../../../..' },
          '/var/lib/cloud': { link: outside.dir },
        },
        false,
      );
      const spec = derivedSpec(
        dir,
        `files:
  - path: /etc/acme/app.conf
    content: "x=1\\n"
  - path: /etc/motd
    content: "hello\\n"
  - path: /etc/up/tmp/climbed
    content: "c\\n"
userData: |
  #cloud-config
  runcmd: [true]
`,
      );
      const { code, rootfs, stderr } = await bakeJson(spec);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      outside.untouched();
      // Each write landed where the image's own links lead, inside the image.
      expect(readFileSync(join(rootfs, outside.dir, 'app.conf'), 'utf8')).toBe('x=1\n');
      expect(lstatSync(join(rootfs, 'etc/motd')).isFile()).toBe(true);
      expect(readFileSync(join(rootfs, 'tmp/climbed'), 'utf8')).toBe('c\n');
      expect(readFileSync(join(rootfs, outside.dir, 'seed/nocloud/user-data'), 'utf8')).toContain('runcmd');
    },
  );

  asRoot('services with /etc/systemd/system linked out of the image: exit 2 naming the path', async () => {
    const dir = tempDir('goldgate-units-');
    const outside = sentinel();
    parentRoot(dir, {
      '/etc/systemd/system': { link: outside.dir },
      '/usr/lib/systemd/system/acme.service':
        '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n',
    });
    const { code, stderr } = await bakeJson(derivedSpec(dir, 'services:\n  mask: [acme]\n'));
    expect(code).toBe(2);
    expect(stderr).toContain(
      `services: /etc/systemd/system in the image is a symbolic link (to ${outside.dir})`,
    );
    outside.untouched();
  });

  asRoot('a wants directory linked out of the image: exit 2', async () => {
    const dir = tempDir('goldgate-wants-');
    const outside = sentinel();
    parentRoot(dir, {
      '/etc/systemd/system/multi-user.target.wants': { link: outside.dir },
      '/usr/lib/systemd/system/acme.service':
        '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n',
    });
    const { code, stderr } = await bakeJson(derivedSpec(dir, 'services:\n  enable: [acme]\n'));
    expect(code).toBe(2);
    expect(stderr).toContain('/etc/systemd/system/multi-user.target.wants in the image is a symbolic link');
    outside.untouched();
  });
});
