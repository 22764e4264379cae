import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findImage } from '../images/store.js';
import { readStoredPackages } from '../images/stored-manifest.js';
import { declaredFiles } from '../spec/declared.js';
import { plantImage, plantManifest } from '../test-support/stored-image.js';
import { tempDir } from '../test-support/tree.js';
import { openRegistry } from './db.js';
import type { Registry } from './db.js';
import { promote } from './gate.js';
import { indexStore, recordImage, registeredImages } from './images.js';
import { diffPackages, lineageOf } from './lineage.js';
import { imageStatuses } from './listing.js';
import { recordVerification } from './proofs.js';
import { resolveRegisteredImage } from './resolve.js';
import { revokeImage } from './revoke.js';

let home: string;
let registry: Registry;

beforeEach(() => {
  home = tempDir('goldgate-lineage-');
  registry = openRegistry(home);
});
afterEach(() => registry.close());

/** A spec declaring these files, as a user writes it. */
function spec(name: string, files: string[]): string {
  const path = join(home, `${name}.yaml`);
  writeFileSync(
    path,
    [
      `name: ${name}`,
      'base: { suite: bookworm }',
      'files:',
      ...files.map((f) => `  - path: ${f}\n    source: ./gone-since/${f.split('/').pop() ?? 'x'}`),
      '',
    ].join('\n'),
  );
  return path;
}

/** Plants and records an image with a manifest, as bake leaves one. */
function image(
  id: string,
  packages: Record<string, string>,
  fields: { parent?: string; name?: string; createdAt?: string; spec?: string } = {},
) {
  plantImage(home, id, { digest: `sha256:${id}`, ...fields });
  plantManifest(home, id, packages);
  return recordImage(registry, findImage(id, home)!, 'bake');
}

function verify(id: string, verdict: string) {
  recordVerification(
    registry,
    { id, digest: `sha256:${id}` },
    {
      at: '2026-12-01T00:00:00.000Z',
      verdict,
      classes: verdict === 'immutable' ? [] : ['broken'],
      reasons: [],
      proof: null,
    },
  );
}

describe('lineageOf', () => {
  it('lists a name and its ancestors from the oldest, with the package and file changes at each step', () => {
    const baseSpec = spec('debian-base', []);
    const webSpec = spec('acme-web', ['/etc/acme/app.conf', '/etc/acme/v2.conf']);
    image(
      'img-00000000000a',
      { libc6: '2.36-9', 'acme-runtime': '1.0' },
      { name: 'debian-base', spec: baseSpec },
    );
    image(
      'img-00000000000b',
      { libc6: '2.36-9', 'acme-runtime': '1.0', nginx: '1.22' },
      { name: 'acme-web', parent: 'img-00000000000a', createdAt: '2026-11-28T00:00:00.000Z', spec: webSpec },
    );
    image(
      'img-00000000000c',
      { libc6: '2.36-9+deb12u1', 'acme-runtime': '1.0+deb12u1' },
      { name: 'acme-web', parent: 'img-00000000000b', createdAt: '2026-11-29T00:00:00.000Z', spec: webSpec },
    );
    image('img-00000000000d', { other: '1' }, { name: 'unrelated' });
    verify('img-00000000000b', 'immutable');
    verify('img-00000000000c', 'broken');
    promote(registry, 'img-00000000000b', 'prod');
    revokeImage(registry, 'img-00000000000c', 'the app breaks at boot');

    const lineage = lineageOf(registry, 'acme-web');
    expect(lineage.images.map((e) => [e.image.id, e.depth, e.parentKind])).toEqual([
      ['img-00000000000a', 0, null],
      ['img-00000000000b', 1, 'image'],
      ['img-00000000000c', 2, 'image'],
    ]);
    const [base, web, patched] = lineage.images;
    expect(base?.changes).toBeNull();
    expect(web?.changes).toEqual({
      packages: [{ name: 'nginx', architecture: 'amd64', from: null, to: '1.22', change: 'added' }],
      files: ['/etc/acme/app.conf', '/etc/acme/v2.conf'],
      problems: [],
    });
    expect(web).toMatchObject({ channels: ['prod'], revoked: null, verification: { verdict: 'immutable' } });
    expect(patched?.changes?.packages).toEqual([
      { name: 'acme-runtime', architecture: 'amd64', from: '1.0', to: '1.0+deb12u1', change: 'upgraded' },
      { name: 'libc6', architecture: 'amd64', from: '2.36-9', to: '2.36-9+deb12u1', change: 'upgraded' },
      { name: 'nginx', architecture: 'amd64', from: '1.22', to: null, change: 'removed' },
    ]);
    expect(patched).toMatchObject({
      channels: [],
      revoked: { reason: 'the app breaks at boot' },
      verification: { verdict: 'broken' },
    });
  });

  it('says when a spec is gone or a manifest unreadable, and when the parent is a path', () => {
    const gone = spec('acme-web', ['/etc/x']);
    image('img-0000000000a1', { a: '1' }, { name: 'acme-web', parent: '/srv/rootfs' });
    image(
      'img-0000000000a2',
      { a: '2' },
      { name: 'acme-web', parent: 'img-0000000000a1', createdAt: '2026-11-28T00:00:00.000Z', spec: gone },
    );
    rmSync(gone);
    rmSync(join(home, 'images', 'img-0000000000a1', 'manifest.json'));
    const [root, child] = lineageOf(registry, 'acme-web').images;
    expect(root).toMatchObject({ parentKind: 'path', changes: null });
    expect(child?.changes).toEqual({
      packages: null,
      files: null,
      problems: [
        `${join(home, 'images', 'img-0000000000a1', 'manifest.json')} is missing`,
        `the spec ${gone} is gone`,
      ],
    });
  });

  it('refuses a name no image has', () => {
    expect(() => lineageOf(registry, 'nope')).toThrow(
      expect.objectContaining({ code: 'LINEAGE_UNKNOWN_NAME' }),
    );
  });
});

describe('diffPackages', () => {
  const p = (name: string, version: string, architecture = 'amd64') => ({ name, version, architecture });

  it('tells upgrades from downgrades by dpkg order, not by text', () => {
    expect(diffPackages([p('a', '1.9'), p('b', '2:1.0')], [p('a', '1.10'), p('b', '1:9.0')])).toEqual([
      { name: 'a', architecture: 'amd64', from: '1.9', to: '1.10', change: 'upgraded' },
      { name: 'b', architecture: 'amd64', from: '2:1.0', to: '1:9.0', change: 'downgraded' },
    ]);
  });

  it('keeps the architectures of one package apart, and finds nothing between equal lists', () => {
    const parent = [p('libc6', '2.36', 'amd64'), p('libc6', '2.36', 'i386')];
    expect(diffPackages(parent, parent)).toEqual([]);
    expect(diffPackages(parent, [p('libc6', '2.36', 'amd64')])).toEqual([
      { name: 'libc6', architecture: 'i386', from: '2.36', to: null, change: 'removed' },
    ]);
  });
});

describe('the stored manifest and spec readers', () => {
  it('read leniently: an entry without a version is counted, `arch` is taken, removed packages are not', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        packages: [
          { name: 'a', version: '1', arch: 'all' },
          { name: 'b' },
          { name: 'c', version: '2', architecture: 'amd64', state: 'config-files' },
          { name: 'd', version: '3', architecture: 7 },
        ],
      }),
    );
    expect(readStoredPackages(dir)).toEqual({
      packages: [
        { name: 'a', version: '1', architecture: 'all' },
        { name: 'd', version: '3', architecture: '' },
      ],
      problems: [`${join(dir, 'manifest.json')}: 1 package entry without a name or version`],
    });
    writeFileSync(join(dir, 'manifest.json'), '{"packages": 3}');
    expect(readStoredPackages(dir).packages).toBeNull();
  });

  it('read only files[].path of a spec, whatever else it holds', () => {
    const dir = tempDir();
    const path = join(dir, 'spec.yaml');
    writeFileSync(
      path,
      'name: x\nfuture: { field: 1 }\nfiles:\n  - path: /etc/a\n  - 12\n  - { path: /etc/b, mode: "0600" }\n',
    );
    expect(declaredFiles(path)).toEqual({ files: ['/etc/a', '/etc/b'], problem: null });
    writeFileSync(path, '- a list\n');
    expect(declaredFiles(path)).toEqual({
      files: null,
      problem: `the spec ${path} is not a YAML mapping any more`,
    });
  });
});

describe('image statuses and references', () => {
  it('gives each image its channels, revocation and newest proofs in a few queries', () => {
    image('img-0000000000b1', {});
    image('img-0000000000b2', {}, { createdAt: '2026-11-28T00:00:00.000Z' });
    verify('img-0000000000b1', 'broken');
    verify('img-0000000000b1', 'immutable');
    promote(registry, 'img-0000000000b1', 'dev');
    promote(registry, 'img-0000000000b1', 'prod');
    revokeImage(registry, 'img-0000000000b2', 'bad');
    const statuses = imageStatuses(registry, registeredImages(registry));
    expect(
      statuses.map((s) => [
        s.image.id,
        s.channels,
        s.revoked?.reason ?? null,
        s.verification?.verdict ?? null,
      ]),
    ).toEqual([
      ['img-0000000000b2', [], 'bad', null],
      ['img-0000000000b1', ['dev', 'prod'], null, 'immutable'],
    ]);
  });

  it('reads an id, a unique prefix or a name, and refuses what is ambiguous', () => {
    plantImage(home, 'img-0000000000c1', { digest: 'sha256:c1', name: 'web' });
    plantImage(home, 'img-0000000000c2', {
      digest: 'sha256:c2',
      name: 'web',
      createdAt: '2026-11-28T00:00:00.000Z',
    });
    plantImage(home, 'img-0000000000d1', { digest: 'sha256:d1', name: 'db' });
    indexStore(registry);
    expect(resolveRegisteredImage(registry, 'img-0000000000c1', 'unique')).toMatchObject({ by: 'id' });
    expect(resolveRegisteredImage(registry, 'img-0000000000d', 'unique').image.id).toBe('img-0000000000d1');
    expect(resolveRegisteredImage(registry, 'web', 'newest')).toMatchObject({
      by: 'name',
      ofName: 2,
      image: { id: 'img-0000000000c2' },
    });
    expect(() => resolveRegisteredImage(registry, 'web', 'unique')).toThrow(/2 images are named web/);
    expect(() => resolveRegisteredImage(registry, 'img-0000000000c', 'newest')).toThrow(
      expect.objectContaining({ code: 'IMAGE_AMBIGUOUS' }),
    );
    expect(() => resolveRegisteredImage(registry, 'img-000000000000', 'newest')).toThrow(
      'no stored image img-000000000000 (goldgate images lists them)',
    );
  });
});
