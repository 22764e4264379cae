import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silent } from '../core/events.js';
import { parseSpec } from '../spec/load.js';
import { sentinel } from '../test-support/confine.js';
import { makeTree, tempDir, writeTree } from '../test-support/tree.js';
import {
  blockServiceStarts,
  configureRepositories,
  installDebs,
  writeFiles,
  writeUserData,
} from './customize.js';

// Each of bake's write sites against a parent image whose links lead out of it: the write
// lands inside the image (where the image's own links lead, resolved inside it) or is
// refused, and the sentinel directory on the host stays as it was.

const asRoot = process.getuid?.() === 0 ? it : it.skip;

describe("bake's customisation confined to the image", () => {
  asRoot('copies debs into the image even when /tmp/goldgate-debs or /tmp lead out of it', async () => {
    const outside = sentinel();
    const deb = join(tempDir(), 'acme_1.0_all.deb');
    writeFileSync(deb, 'not really a deb\n');
    const debsLinked = makeTree({ '/tmp/goldgate-debs': { link: outside.dir } });
    // The tree has no dpkg: the step fails after the copy, which is what is checked here.
    await expect(installDebs(debsLinked, [deb])).rejects.toThrow(/dpkg -i failed/);
    outside.untouched();
    expect(existsSync(join(debsLinked, 'tmp/goldgate-debs'))).toBe(false);

    const tmpLinked = makeTree({ '/tmp': { link: '/var/tmp' } });
    await expect(installDebs(tmpLinked, [deb])).rejects.toThrow(/dpkg -i failed/);
    expect(lstatSync(join(tmpLinked, 'var/tmp')).isDirectory()).toBe(true);
    expect(existsSync(join(tmpLinked, 'var/tmp/goldgate-debs'))).toBe(false);

    // The error says what to look at, not the command's usage.
    const failed = await installDebs(tmpLinked, [deb]).catch((e: unknown) => e);
    expect((failed as { hint?: string }).hint).toBe(
      "dpkg's last lines are above: check the spec's debs (acme_1.0_all.deb) and that the image (or its parent) has a working dpkg",
    );

    // The sentinel lives under the host's /tmp: inside the image, /tmp -> /tmp/... is a loop.
    const looping = makeTree({ '/tmp': { link: outside.dir } });
    await expect(installDebs(looping, [deb])).rejects.toThrow(
      /^debs: \/tmp\/goldgate-debs in the image: too many levels of symbolic links/,
    );
    outside.untouched();
  });

  it('lists and copies lab repositories inside the image whatever its sources.list.d and /tmp links', async () => {
    const outside = sentinel();
    const root = makeTree({
      '/etc/apt/sources.list.d': { link: outside.dir },
      '/tmp/goldgate-bake-repos': { link: outside.dir },
      '/tmp/goldgate-bake-sources.list': { link: join(outside.dir, 'keep') },
    });
    const repo = tempDir('goldgate-repo-');
    writeTree(repo, { '/dists/bookworm/Release': 'Suite: bookworm\n' });
    const { spec } = await parseSpec(
      [
        'name: acme-web',
        'base: { suite: bookworm }',
        'repositories:',
        '  - lab: acme',
        '    suites: [bookworm]',
        '  - uri: http://deb.distro-mirror.example/debian',
        '    suites: [bookworm]',
        '    components: [main]',
      ].join('\n'),
      join(tempDir(), 'spec.yaml'),
    );
    if (spec === undefined) throw new Error('the test spec does not validate');
    const options = await configureRepositories(
      root,
      spec,
      () => repo,
      () => new Set(['bookworm']),
      silent,
    );
    expect(options).toEqual([
      '-o',
      'Dir::Etc::sourcelist=/tmp/goldgate-bake-sources.list',
      '-o',
      'Dir::Etc::sourceparts=-',
    ]);
    outside.untouched();
    expect(lstatSync(join(root, 'tmp/goldgate-bake-repos')).isDirectory()).toBe(true);
    expect(readFileSync(join(root, 'tmp/goldgate-bake-repos/acme/dists/bookworm/Release'), 'utf8')).toBe(
      'Suite: bookworm\n',
    );
    expect(readFileSync(join(root, 'tmp/goldgate-bake-sources.list'), 'utf8')).toContain(
      'file:///tmp/goldgate-bake-repos/acme bookworm',
    );
    expect(readFileSync(join(root, outside.dir, 'goldgate-acme.list'), 'utf8')).toContain(
      'http://acme.repo.goldgate.internal/',
    );
  });

  it('looks up file owners in the image, never through its links in the host', () => {
    const outside = sentinel();
    writeFileSync(join(outside.dir, 'passwd'), 'hostonly:x:4242:4242::/:/bin/sh\n');
    const root = makeTree({ '/etc/passwd': { link: join(outside.dir, 'passwd') } });
    expect(() =>
      writeFiles(root, [{ path: '/etc/acme.conf', content: 'x\n', mode: '0644', owner: 'hostonly' }]),
    ).toThrow(/no user hostonly in the image/);
  });

  it('writes files and the user-data seed through links inside the image only', () => {
    const outside = sentinel();
    const root = makeTree({
      '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n',
      '/etc/group': 'root:x:0:\n',
      '/etc/acme': { link: outside.dir },
      '/etc/issue': { link: join(outside.dir, 'keep') },
      '/var/lib/cloud/seed': { link: `../../../../../..${outside.dir}` },
    });
    writeFiles(root, [
      { path: '/etc/acme/app.conf', content: 'a\n', mode: '0600', owner: 'root:root' },
      { path: '/etc/issue', content: 'hi\n', mode: '0644', owner: '0:0' },
    ]);
    writeUserData(root, 'acme-web', '#cloud-config\n');
    outside.untouched();
    expect(readFileSync(join(root, outside.dir, 'app.conf'), 'utf8')).toBe('a\n');
    expect(lstatSync(join(root, outside.dir, 'app.conf')).mode & 0o7777).toBe(0o600);
    expect(readFileSync(join(root, 'etc/issue'), 'utf8')).toBe('hi\n');
    expect(readFileSync(join(root, outside.dir, 'nocloud/meta-data'), 'utf8')).toContain(
      'instance-id: acme-web',
    );
  });

  it("keeps an image's own policy-rc.d, and sets a dangling one aside and back", () => {
    const own = makeTree({
      '/usr/sbin/real-policy': { content: '#!/bin/sh\nexit 0\n', mode: 0o755 },
      '/usr/sbin/policy-rc.d': { link: 'real-policy' },
    });
    blockServiceStarts(own)();
    expect(readlinkSync(join(own, 'usr/sbin/policy-rc.d'))).toBe('real-policy');

    const outside = sentinel();
    const root = makeTree({ '/usr/sbin/policy-rc.d': { link: join(outside.dir, 'policy-rc.d') } });
    const unblock = blockServiceStarts(root);
    expect(readFileSync(join(root, 'usr/sbin/policy-rc.d'), 'utf8')).toContain('exit 101');
    outside.untouched();
    unblock();
    expect(readlinkSync(join(root, 'usr/sbin/policy-rc.d'))).toBe(join(outside.dir, 'policy-rc.d'));
    outside.untouched();
  });
});
