import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GoldgateError, UsageError } from '../core/errors.js';
import { tempDir } from '../test-support/tree.js';
import { buildDeb } from './build-deb.js';
import { debFileName, poolDir } from './repo.js';
import { createRepo, listRepos, publish, repoPath } from './repo.js';
import { testDeb } from './test-debs.js';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const NOW = new Date('2026-11-27T08:00:00Z');

async function thrown(promise: Promise<unknown>): Promise<GoldgateError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GoldgateError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('repository names', () => {
  it.each(['lab', 'lab-security', '0', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(repoPath(name, { home: '/h' })).toBe(`/h/repos/${name}`);
  });
  it.each(['', 'Lab', '-lab', 'lab_1', 'lab/x', '..', 'a'.repeat(64), 'lab ', 'lab.x'])(
    'refuses %j',
    (name) => {
      expect(() => repoPath(name, { home: '/h' })).toThrow(UsageError);
    },
  );
});

describe('pool layout', () => {
  it('files a package under its source, as Debian does (lib packages under a four-letter prefix)', () => {
    expect(poolDir('main', 'acme-runtime')).toBe('pool/main/a/acme-runtime');
    expect(poolDir('main', 'libfoo')).toBe('pool/main/libf/libfoo');
    expect(debFileName('acme', '2:1.0-1', 'amd64')).toBe('acme_1.0-1_amd64.deb');
  });
});

describe('createRepo', () => {
  it('makes pool/ and dists/, and refuses a repository that exists', async () => {
    const home = tempDir();
    const info = await createRepo('lab', { home });
    expect(info).toEqual({ name: 'lab', path: join(home, 'repos', 'lab'), suites: [] });
    expect(readdirSync(info.path).sort()).toEqual(['dists', 'pool']);
    const error = await thrown(createRepo('lab', { home }));
    expect(error.code).toBe('REPO_EXISTS');
    expect(error.fault).toBe('user');
    expect(error.hint).toContain('goldgate repo publish lab');
  });

  it('publishing into a repository that does not exist says how to create it', async () => {
    const error = await thrown(publish('nope', ['x.deb'], { suite: 's', home: tempDir() }));
    expect(error.code).toBe('NO_REPO');
    expect(error.hint).toBe('create it with: goldgate repo create nope');
  });
});

describe('publish: Packages and Release of a small repository', async () => {
  const home = tempDir();
  await createRepo('lab', { home });
  const hello1 = await testDeb('hello', '1.0-1', 'amd64', { Depends: 'libc6 (>= 2.36)' });
  const hello2 = await testDeb('hello', '1.0-1+deb12u1', 'amd64', { Depends: 'libc6 (>= 2.36)' });
  const data = await testDeb('hello-data', '1.0-1', 'all', { Source: 'hello (1.0-1)' });
  // Published in two steps, newest first: the earlier version must stay listed.
  await publish('lab', [hello2, data], { suite: 'bookworm-security', home, now: NOW });
  const result = await publish('lab', [hello1], {
    suite: 'bookworm-security',
    origin: 'Debian',
    label: 'Debian-Security',
    codename: 'bookworm-security',
    home,
    now: NOW,
  });
  const repo = join(home, 'repos', 'lab');
  const dist = join(repo, 'dists', 'bookworm-security');
  const pool = (file: string) => readFileSync(join(repo, file));
  const stanza = (file: string, pkg: string, version: string, arch: string, extra: string[]) => {
    const deb = pool(file);
    return [
      `Package: ${pkg}`,
      `Version: ${version}`,
      `Architecture: ${arch}`,
      'Maintainer: Lab <lab@example.org>',
      'Installed-Size: 4',
      ...extra,
      `Filename: ${file}`,
      `Size: ${deb.length}`,
      `MD5sum: ${md5(deb)}`,
      `SHA256: ${sha256(deb)}`,
      `Description: ${pkg} for tests`,
      ' A package goldgate builds in its tests.',
      '',
    ].join('\n');
  };
  const helloData = stanza('pool/main/h/hello/hello-data_1.0-1_all.deb', 'hello-data', '1.0-1', 'all', [
    'Source: hello (1.0-1)',
  ]);
  const helloOld = stanza('pool/main/h/hello/hello_1.0-1_amd64.deb', 'hello', '1.0-1', 'amd64', [
    'Depends: libc6 (>= 2.36)',
  ]);
  const helloNew = stanza(
    'pool/main/h/hello/hello_1.0-1+deb12u1_amd64.deb',
    'hello',
    '1.0-1+deb12u1',
    'amd64',
    ['Depends: libc6 (>= 2.36)'],
  );

  it('lists every version in dpkg order, and the all package in every binary-* index', () => {
    expect(readFileSync(join(dist, 'main/binary-amd64/Packages'), 'utf8')).toBe(
      [helloOld, helloNew, helloData].join('\n'),
    );
    expect(readFileSync(join(dist, 'main/binary-all/Packages'), 'utf8')).toBe(helloData);
    for (const arch of ['amd64', 'all']) {
      const dir = join(dist, `main/binary-${arch}`);
      expect(gunzipSync(readFileSync(join(dir, 'Packages.gz')))).toEqual(readFileSync(join(dir, 'Packages')));
    }
    expect(readdirSync(join(dist, 'main')).sort()).toEqual(['binary-all', 'binary-amd64']);
  });

  it('writes a Release whose sizes and checksums are those of the index files', () => {
    const files = [
      'main/binary-all/Packages',
      'main/binary-all/Packages.gz',
      'main/binary-amd64/Packages',
      'main/binary-amd64/Packages.gz',
    ].map((path) => ({ path, data: readFileSync(join(dist, path)) }));
    const line = (hash: string, data: Buffer, path: string) =>
      ` ${hash} ${String(data.length).padStart(16)} ${path}`;
    expect(readFileSync(join(dist, 'Release'), 'utf8')).toBe(
      [
        'Origin: Debian',
        'Label: Debian-Security',
        'Suite: bookworm-security',
        'Codename: bookworm-security',
        'Date: Fri, 27 Nov 2026 08:00:00 UTC',
        'Architectures: all amd64',
        'Components: main',
        'Description: goldgate lab repository lab',
        'MD5Sum:',
        ...files.map((f) => line(md5(f.data), f.data, f.path)),
        'SHA256:',
        ...files.map((f) => line(sha256(f.data), f.data, f.path)),
        '',
      ].join('\n'),
    );
  });

  it('keeps the published files byte for byte in the pool', () => {
    expect(pool('pool/main/h/hello/hello_1.0-1_amd64.deb')).toEqual(readFileSync(hello1));
    expect(pool('pool/main/h/hello/hello_1.0-1+deb12u1_amd64.deb')).toEqual(readFileSync(hello2));
  });

  it('reports what it published and the repository', async () => {
    expect(result.changed).toBe(true);
    expect(result.published).toEqual([
      {
        package: 'hello',
        version: '1.0-1',
        architecture: 'amd64',
        filename: 'pool/main/h/hello/hello_1.0-1_amd64.deb',
        added: true,
      },
    ]);
    expect(await listRepos({ home })).toEqual([result.repo]);
    expect(result.repo.suites).toEqual([
      {
        suite: 'bookworm-security',
        origin: 'Debian',
        label: 'Debian-Security',
        codename: 'bookworm-security',
        components: ['main'],
        architectures: ['all', 'amd64'],
        packages: [
          { name: 'hello', versions: ['1.0-1', '1.0-1+deb12u1'] },
          { name: 'hello-data', versions: ['1.0-1'] },
        ],
      },
    ]);
  });

  it('switches the suite with one symlink rename and leaves no older snapshot behind', () => {
    expect(lstatSync(dist).isSymbolicLink()).toBe(true);
    const target = readlinkSync(dist);
    expect(target).toMatch(/^\.bookworm-security_[0-9a-z]+$/);
    expect(readdirSync(join(repo, 'dists')).sort()).toEqual(['bookworm-security', target].sort());
  });

  it('re-publishing the same files is a no-op: nothing is rewritten', async () => {
    const before = readlinkSync(dist);
    const releaseTime = statSync(join(dist, 'Release')).mtimeMs;
    const again = await publish('lab', [hello1, hello2, data], {
      suite: 'bookworm-security',
      home,
      now: new Date('2030-01-01T00:00:00Z'),
    });
    expect(again.changed).toBe(false);
    expect(again.published.map((p) => p.added)).toEqual([false, false, false]);
    expect(readlinkSync(dist)).toBe(before);
    expect(statSync(join(dist, 'Release')).mtimeMs).toBe(releaseTime);
    // A rebuild of the same tree gives the same bytes, so it too is a no-op.
    const rebuilt = await testDeb('hello', '1.0-1', 'amd64', { Depends: 'libc6 (>= 2.36)' });
    expect((await publish('lab', [rebuilt], { suite: 'bookworm-security', home })).changed).toBe(false);
  });

  it('refuses a different file for a published version, and changes nothing', async () => {
    const before = readFileSync(join(dist, 'Release'));
    const other = await testDeb('hello', '1.0-1', 'amd64', {}, 'changed content\n');
    const error = await thrown(publish('lab', [other], { suite: 'bookworm-security', home }));
    expect(error.code).toBe('VERSION_ALREADY_PUBLISHED');
    expect(error.message).toContain('hello 1.0-1 (amd64) is already published as a different file');
    expect(error.hint).toContain('new version');
    expect(readFileSync(join(dist, 'Release'))).toEqual(before);
    // The pool is shared by suites: another suite cannot change that version either.
    const error2 = await thrown(publish('lab', [other], { suite: 'bookworm', home }));
    expect(error2.code).toBe('VERSION_ALREADY_PUBLISHED');
    expect(existsSync(join(repo, 'dists', 'bookworm'))).toBe(false);
    expect(pool('pool/main/h/hello/hello_1.0-1_amd64.deb')).toEqual(readFileSync(hello1));
  });

  it('a bad file fails the command before anything changes', async () => {
    const bogus = join(tempDir(), 'bogus.deb');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bogus, 'not a deb');
    const newer = await testDeb('hello', '1.0-1+deb12u2', 'amd64');
    const error = await thrown(publish('lab', [newer, bogus], { suite: 'bookworm-security', home }));
    expect(error.code).toBe('BAD_DEB');
    expect(existsSync(join(repo, 'pool/main/h/hello/hello_1.0-1+deb12u2_amd64.deb'))).toBe(false);
  });
});

describe('publish: architectures', () => {
  it('writes a binary index per architecture present, always amd64 and all', async () => {
    const home = tempDir();
    await createRepo('multi', { home });
    const arm = await testDeb('tool', '2.0', 'arm64');
    const all = await testDeb('tool-doc', '2.0', 'all');
    await publish('multi', [arm, all], { suite: 'lab', home, now: NOW });
    const dist = join(home, 'repos/multi/dists/lab');
    expect(readdirSync(join(dist, 'main')).sort()).toEqual(['binary-all', 'binary-amd64', 'binary-arm64']);
    const names = (arch: string) =>
      [...readFileSync(join(dist, `main/binary-${arch}/Packages`), 'utf8').matchAll(/^Package: (.*)$/gm)].map(
        (m) => m[1],
      );
    expect(names('arm64')).toEqual(['tool', 'tool-doc']);
    expect(names('amd64')).toEqual(['tool-doc']);
    expect(names('all')).toEqual(['tool-doc']);
    expect(readFileSync(join(dist, 'Release'), 'utf8')).toMatch(/^Architectures: all amd64 arm64$/m);
  });

  it('refuses bad suite and component names', async () => {
    const home = tempDir();
    await createRepo('r', { home });
    expect((await thrown(publish('r', ['x'], { suite: '../etc', home }))).code).toBe('BAD_SUITE_NAME');
    expect((await thrown(publish('r', ['x'], { suite: 's', component: 'Main', home }))).code).toBe(
      'BAD_COMPONENT_NAME',
    );
  });
});

describe('the acme example packages', async () => {
  const examples = join(import.meta.dirname, '../../examples/acme/packages');
  const out = tempDir();
  const v1 = await buildDeb(join(examples, 'acme-runtime-1.0'), out);
  const v2 = await buildDeb(join(examples, 'acme-runtime-1.0+deb12u1'), out);

  it('both build, under their canonical names', () => {
    expect(v1).toBe(join(out, 'acme-runtime_1.0_all.deb'));
    expect(v2).toBe(join(out, 'acme-runtime_1.0+deb12u1_all.deb'));
  });

  it('their control fields come out in the published Packages index', async () => {
    const home = tempDir();
    await createRepo('lab', { home });
    await publish('lab', [v1, v2], { suite: 'bookworm-security', home, now: NOW });
    const text = readFileSync(
      join(home, 'repos/lab/dists/bookworm-security/main/binary-amd64/Packages'),
      'utf8',
    );
    const stanzas = text.split('\n\n');
    expect(stanzas).toHaveLength(2);
    for (const [index, version] of ['1.0', '1.0+deb12u1'].entries()) {
      const stanza = stanzas[index] ?? '';
      expect(stanza).toContain(`Package: acme-runtime\nVersion: ${version}\nArchitecture: all\n`);
      expect(stanza).toContain('Maintainer: Acme Platform Team <platform@acme.example>\nInstalled-Size: ');
      expect(stanza).toContain('Homepage: https://acme.example/runtime\n');
      expect(stanza).toContain(`Filename: pool/main/a/acme-runtime/acme-runtime_${version}_all.deb\n`);
      expect(stanza).toContain('Description: Acme application runtime (lab example)\n');
    }
    expect(stanzas[1]).toContain('health check also requires /etc/acme/v2.conf');
  });
});
