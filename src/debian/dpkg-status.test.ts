import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DpkgPackage } from './dpkg-status.js';
import { isInstalled, isPresent, parseDpkgStatus } from './dpkg-status.js';

const fixture = readFileSync(new URL('./__fixtures__/status', import.meta.url), 'utf8');

const STATUS_FILE = '/var/lib/dpkg/status';
const noRealDb =
  !existsSync(STATUS_FILE) || spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).error !== undefined;
const skipNote = noRealDb ? ` (skipped: no ${STATUS_FILE} or no dpkg-query on PATH)` : '';

describe('parseDpkgStatus on a fixture', () => {
  const { packages, problems } = parseDpkgStatus(fixture);
  const get = (name: string, arch?: string): DpkgPackage => {
    const found = packages.find((p) => p.name === name && (arch === undefined || p.architecture === arch));
    if (found === undefined) throw new Error(`${name} not parsed`);
    return found;
  };

  it('reads every entry without problems, sorted by name then architecture', () => {
    expect(problems).toEqual([]);
    expect(packages.map((p) => `${p.name}:${p.architecture}`)).toEqual([
      'bash:amd64',
      'broken-agent:amd64',
      'half-done:amd64',
      'libc6:amd64',
      'libc6:i386',
      'man-db:amd64',
      'nginx-common:all',
      'old-kernel-tools:',
      'openssh-server:amd64',
      'telnet:all',
    ]);
  });

  it('keeps both architectures of a Multi-Arch: same package', () => {
    const libc = packages.filter((p) => p.name === 'libc6');
    expect(libc).toEqual([
      {
        name: 'libc6',
        version: '2.36-9+deb12u14',
        architecture: 'amd64',
        status: 'install ok installed',
        state: 'installed',
        want: 'install',
        source: 'glibc',
        multiArch: 'same',
        line: 32,
      },
      {
        name: 'libc6',
        version: '2.36-9+deb12u14',
        architecture: 'i386',
        status: 'install ok installed',
        state: 'installed',
        want: 'install',
        source: 'glibc',
        multiArch: 'same',
        line: 20,
      },
    ]);
  });

  it('keeps epochs and splits a versioned Source', () => {
    expect(get('openssh-server').version).toBe('1:9.2p1-2+deb12u7');
    expect(get('telnet').version).toBe('2:2.4-2+deb12u1');
    expect(get('bash')).toMatchObject({ source: 'bash', sourceVersion: '5.2.15-2', version: '5.2.15-2+b8' });
    expect(get('broken-agent')).not.toHaveProperty('source');
  });

  it('tells installed, present and gone apart', () => {
    const table = packages.map((p) => [p.name, p.want, p.state, isInstalled(p), isPresent(p)]);
    expect(table).toEqual([
      ['bash', 'hold', 'installed', true, true],
      ['broken-agent', 'install', 'half-installed', false, true],
      ['half-done', 'install', 'half-configured', false, true],
      ['libc6', 'install', 'installed', true, true],
      ['libc6', 'install', 'installed', true, true],
      ['man-db', 'install', 'triggers-pending', true, true],
      ['nginx-common', 'deinstall', 'config-files', false, false],
      ['old-kernel-tools', 'purge', 'not-installed', false, false],
      ['openssh-server', 'install', 'installed', true, true],
      ['telnet', 'deinstall', 'installed', true, true],
    ]);
  });
});

describe('parseDpkgStatus on bad input', () => {
  it('reports unusable entries and keeps the usable ones', () => {
    const text = [
      'Package: ok',
      'Status: install ok installed',
      'Architecture: amd64',
      'Version: 1.0',
      '',
      'Status: install ok installed',
      'Version: 1.0',
      '',
      'Package: bad-status',
      'Status: install installed',
      '',
      'Package: no-version',
      'Status: install ok unpacked',
      'Architecture: amd64',
      '',
      'Package: bad-version',
      'Status: install ok installed',
      'Architecture: amd64',
      'Version: 1.0-',
      'Source: a b',
      'oops',
      '',
      'Package: ok',
      'Status: install ok installed',
      'Architecture: amd64',
      'Version: 2.0',
    ].join('\n');
    const { packages, problems } = parseDpkgStatus(text);
    expect(problems).toEqual([
      { line: 6, reason: 'entry without a Package field' },
      { line: 9, reason: 'bad-status: unreadable Status "install installed"' },
      { line: 12, reason: 'no-version: missing Version' },
      { line: 16, reason: 'bad-version: invalid Version "1.0-"' },
      { line: 16, reason: 'bad-version: unreadable Source "a b"' },
      { line: 21, reason: 'not a field, continuation or comment: "oops"' },
      { line: 23, reason: 'duplicate entry for ok:amd64 (first at line 1)' },
    ]);
    expect(packages.map((p) => [p.name, p.version])).toEqual([
      ['bad-version', '1.0-'],
      ['no-version', ''],
      ['ok', '1.0'],
    ]);
  });
});

describe.skipIf(noRealDb)(`parseDpkgStatus on this machine's ${STATUS_FILE}${skipNote}`, () => {
  const query = (format: string): string[] =>
    execFileSync('dpkg-query', ['-W', '-f', format], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\n')
      .filter((l) => l !== '');

  it('reads it without problems and finds essential packages installed', () => {
    const { packages, problems } = parseDpkgStatus(readFileSync(STATUS_FILE, 'utf8'));
    expect(problems).toEqual([]);
    for (const name of ['dpkg', 'base-files']) {
      const pkg = packages.find((p) => p.name === name);
      expect(pkg && isInstalled(pkg), name).toBe(true);
    }
  });

  it('agrees with dpkg-query', () => {
    const { packages } = parseDpkgStatus(readFileSync(STATUS_FILE, 'utf8'));
    const ii = query('${db:Status-Abbrev}\n').filter((l) => l.startsWith('ii'));
    expect(packages.filter((p) => p.want === 'install' && p.state === 'installed')).toHaveLength(ii.length);

    // dpkg-query -W lists every entry that is not "not-installed".
    const ours = packages
      .filter((p) => p.state !== 'not-installed')
      .map((p) => [p.name, p.architecture, p.version, p.status].join('\t'));
    const theirs = query('${Package}\t${Architecture}\t${Version}\t${Status}\n');
    expect(ours.sort()).toEqual(theirs.sort());
  });
});
