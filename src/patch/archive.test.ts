import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../core/which.js';
import { runCommand } from '../core/run.js';
import {
  aptOptions,
  archiveEntries,
  archiveOffers,
  archiveTargets,
  hostAptSources,
  parseIndexTargets,
  sourcesText,
} from './archive.js';

const FIXTURES = join(import.meta.dirname, '__fixtures__');
const MIRROR = 'http://deb.distro-mirror.example/debian';
const SECURITY = 'http://deb.distro-mirror.example/debian-security';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

const hostArch = async (): Promise<string | undefined> => {
  const dpkg = findExecutable('dpkg');
  if (dpkg === undefined) return undefined;
  return (await runCommand([dpkg, '--print-architecture'])).stdout.trim();
};
// apt lists the host's architecture: the fixture lists are amd64 ones.
const aptHere = findExecutable('apt-get') !== undefined && (await hostArch()) === 'amd64';

describe("the host's sources for Debian's archive", () => {
  const host = hostAptSources(join(FIXTURES, 'host'));

  it('takes the sources that list the suite, its -updates and its -security, with their keyrings', () => {
    expect(archiveEntries(host, 'bookworm')).toEqual({
      entries: [
        { uris: [MIRROR], suites: ['bookworm', 'bookworm-updates'], components: ['main'], signedBy: KEYRING },
        { uris: [SECURITY], suites: ['bookworm-security'], components: ['main'], signedBy: KEYRING },
      ],
      missing: [],
    });
  });

  it('says which suites no source lists, and adds the spec’s own mirror', () => {
    expect(archiveEntries(host, 'trixie')).toEqual({
      entries: [],
      missing: ['trixie', 'trixie-updates', 'trixie-security'],
    });
    const withMirror = archiveEntries(host, 'trixie', 'file:///srv/mirror/debian');
    expect(withMirror.entries).toEqual([
      { uris: ['file:///srv/mirror/debian'], suites: ['trixie', 'trixie-updates'], components: ['main'] },
    ]);
    expect(withMirror.missing).toEqual(['trixie-security']);
  });

  it('writes them as a deb822 sources file', () => {
    expect(sourcesText(archiveEntries(host, 'bookworm').entries)).toBe(
      [
        'Types: deb',
        `URIs: ${MIRROR}`,
        'Suites: bookworm bookworm-updates',
        'Components: main',
        `Signed-By: ${KEYRING}`,
        '',
        'Types: deb',
        `URIs: ${SECURITY}`,
        'Suites: bookworm-security',
        'Components: main',
        `Signed-By: ${KEYRING}`,
        '',
      ].join('\n'),
    );
  });

  it('points apt at goldgate’s own state directory only', () => {
    expect(aptOptions('/state')).toEqual([
      '-o',
      'Dir::State::Lists=/state/lists',
      '-o',
      'Dir::Cache=/state/cache',
      '-o',
      'Dir::Cache::pkgcache=',
      '-o',
      'Dir::Cache::srcpkgcache=',
      '-o',
      'Dir::Etc::SourceList=/state/goldgate.sources',
      '-o',
      'Dir::Etc::SourceParts=-',
      '-o',
      'Acquire::Languages=none',
      '-o',
      'Acquire::GzipIndexes=false',
    ]);
  });
});

describe('index targets', () => {
  it('reads the Packages targets of apt-get indextargets and leaves the others', () => {
    const output = [
      'MetaKey: main/binary-amd64/Packages',
      'Filename: /state/lists/x_Packages',
      'Site: http://deb.distro-mirror.example/debian-security',
      'Release: bookworm-security',
      'Component: main',
      'Architecture: amd64',
      'Created-By: Packages',
      'Origin: Debian',
      'Label: Debian-Security',
      'Codename: bookworm-security',
      '',
      'MetaKey: main/i18n/Translation-en',
      'Filename: /state/lists/x_Translation-en',
      'Site: http://deb.distro-mirror.example/debian-security',
      'Release: bookworm-security',
      'Component: main',
      'Architecture: amd64',
      'Created-By: Translations',
      '',
      'MetaKey: broken',
      '',
    ].join('\n');
    expect(parseIndexTargets(output)).toEqual({
      targets: [
        {
          filename: '/state/lists/x_Packages',
          site: SECURITY,
          release: 'bookworm-security',
          component: 'main',
          architecture: 'amd64',
          origin: 'Debian',
          label: 'Debian-Security',
          codename: 'bookworm-security',
        },
      ],
      problems: [
        { file: 'apt-get indextargets', line: 20, reason: 'an index target without its file, site or suite' },
      ],
    });
  });

  it.skipIf(!aptHere)('reads fetched lists the way the host’s apt names them', async () => {
    const state = mkdtempSync(join(tmpdir(), 'goldgate-apt-'));
    cpSync(join(FIXTURES, 'lists'), join(state, 'lists'), { recursive: true });
    const { entries } = archiveEntries(hostAptSources(join(FIXTURES, 'host')), 'bookworm');
    writeFileSync(join(state, 'goldgate.sources'), sourcesText(entries));

    const listed = await archiveTargets(state);
    expect(listed.problems).toEqual([]);
    expect(
      listed.targets.map((t) => [t.site, t.release, t.component, t.architecture, t.origin, t.label]),
    ).toEqual([
      [MIRROR, 'bookworm', 'main', 'amd64', 'Debian', 'Debian'],
      [SECURITY, 'bookworm-security', 'main', 'amd64', 'Debian', 'Debian-Security'],
    ]);

    const read = await archiveOffers(listed.targets, {
      names: new Set(['bash', 'curl', 'openssl', 'tzdata']),
      architectures: ['amd64'],
    });
    const bookworm = {
      repository: MIRROR,
      suite: 'bookworm',
      origin: 'Debian',
      label: 'Debian',
      codename: 'bookworm',
    };
    const security = {
      repository: SECURITY,
      suite: 'bookworm-security',
      origin: 'Debian',
      label: 'Debian-Security',
      codename: 'bookworm-security',
    };
    expect(read.offers).toEqual([
      { package: 'bash', version: '5.2.15-2+b8', architecture: 'amd64', from: bookworm },
      { package: 'curl', version: '7.88.1-10+deb12u12', architecture: 'amd64', from: bookworm },
      { package: 'tzdata', version: '2025b-0+deb12u1', architecture: 'all', from: bookworm },
      { package: 'curl', version: '7.88.1-10+deb12u14', architecture: 'amd64', from: security },
      { package: 'openssl', version: '3.0.17-1~deb12u3', architecture: 'amd64', from: security },
    ]);
    expect(read.reads.map((r) => [r.from.suite, r.offered, r.problems.length])).toEqual([
      ['bookworm', 3, 0],
      ['bookworm-security', 2, 1],
    ]);
  });
});
