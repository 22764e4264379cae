import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { IndexProblem } from './indexes.js';
import { MAX_STANZA_BYTES, readPackagesIndex, readRelease, unsignedText } from './indexes.js';

const LISTS = join(import.meta.dirname, '__fixtures__', 'lists');
const MAIN = join(LISTS, 'deb.distro-mirror.example_debian_dists_bookworm_main_binary-amd64_Packages');
const SECURITY = join(
  LISTS,
  'deb.distro-mirror.example_debian-security_dists_bookworm-security_main_binary-amd64_Packages',
);

describe('Release files', () => {
  it('reads a clearsigned InRelease through its signed text', () => {
    const problems: IndexProblem[] = [];
    expect(
      readRelease(join(LISTS, 'deb.distro-mirror.example_debian_dists_bookworm_InRelease'), problems),
    ).toEqual({
      origin: 'Debian',
      label: 'Debian',
      suite: 'oldstable',
      codename: 'bookworm',
      architectures: ['all', 'amd64', 'arm64'],
      components: ['main', 'contrib', 'non-free-firmware', 'non-free'],
    });
    expect(problems).toEqual([]);
  });

  it('reads a plain Release, and says when there is none', () => {
    const problems: IndexProblem[] = [];
    expect(
      readRelease(
        join(LISTS, 'deb.distro-mirror.example_debian-security_dists_bookworm-security_Release'),
        problems,
      ),
    ).toMatchObject({ origin: 'Debian', label: 'Debian-Security', codename: 'bookworm-security' });
    expect(readRelease(join(LISTS, 'nothing_Release'), problems)).toBeUndefined();
    expect(problems).toEqual([{ file: join(LISTS, 'nothing_Release'), reason: 'no Release file' }]);
  });

  it('undoes dash-escaping in signed text', () => {
    expect(
      unsignedText(
        '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: x\n- -dashed\n-----BEGIN PGP SIGNATURE-----\nabc\n',
      ),
    ).toBe('Origin: x\n-dashed');
    expect(unsignedText('Origin: plain\n')).toBe('Origin: plain\n');
  });
});

describe('Packages indexes', () => {
  it('keeps the wanted packages, with their exact versions and architectures', async () => {
    const read = await readPackagesIndex(MAIN, new Set(['bash', 'curl', 'tzdata']));
    expect(read).toEqual({
      packages: [
        { package: 'bash', version: '5.2.15-2+b8', architecture: 'amd64' },
        { package: 'curl', version: '7.88.1-10+deb12u12', architecture: 'amd64' },
        { package: 'tzdata', version: '2025b-0+deb12u1', architecture: 'all' },
      ],
      problems: [],
    });
    expect((await readPackagesIndex(MAIN)).packages.map((p) => p.package)).toEqual([
      'bash',
      'curl',
      'tzdata',
      'zsh',
    ]);
  });

  it('reports a stanza that is not a package, and reads on', async () => {
    const read = await readPackagesIndex(SECURITY, new Set(['openssl', 'curl']));
    expect(read.packages).toEqual([
      { package: 'curl', version: '7.88.1-10+deb12u14', architecture: 'amd64' },
      { package: 'openssl', version: '3.0.17-1~deb12u3', architecture: 'amd64' },
    ]);
    expect(read.problems).toEqual([
      { file: SECURITY, line: 17, reason: 'openssl: Version is not a Debian version' },
    ]);
  });

  it('reads a gzip index, and skips a stanza too large to be a package', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldgate-index-'));
    const gz = join(dir, 'Packages.gz');
    writeFileSync(gz, gzipSync(readFileSync(MAIN)));
    expect((await readPackagesIndex(gz, new Set(['zsh']))).packages).toEqual([
      { package: 'zsh', version: '5.9-4+b6', architecture: 'amd64' },
    ]);
    const big = join(dir, 'Packages');
    const long = Array.from({ length: 20 }, () => ` ${'x'.repeat(MAX_STANZA_BYTES / 16)}`).join('\n');
    writeFileSync(
      big,
      `Package: huge\nVersion: 1\nArchitecture: all\nDescription: big\n${long}\n\nPackage: small\nVersion: 2\nArchitecture: all\n`,
    );
    const read = await readPackagesIndex(big);
    expect(read.packages).toEqual([{ package: 'small', version: '2', architecture: 'all' }]);
    expect(read.problems).toEqual([
      { file: big, line: 1, reason: `a stanza larger than ${MAX_STANZA_BYTES} bytes, skipped` },
    ]);
  });

  it('says when the index cannot be read', async () => {
    const read = await readPackagesIndex(join(LISTS, 'missing_Packages'));
    expect(read.packages).toEqual([]);
    expect(read.problems).toEqual([
      { file: join(LISTS, 'missing_Packages'), reason: 'cannot read the index (ENOENT)' },
    ]);
  });
});
