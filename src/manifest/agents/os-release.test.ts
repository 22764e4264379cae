import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import type { ManifestProblem } from '../types.js';
import { readOsRelease } from './os-release.js';
import { parseShellAssignments } from './shell.js';

const DEBIAN = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

const AMAZON_2023 = `NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023.6.20241010"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"
`;

describe('readOsRelease', () => {
  it('reads Debian 12 through the /etc/os-release symlink', () => {
    const problems: ManifestProblem[] = [];
    const fs = treeFs({
      '/usr/lib/os-release': DEBIAN,
      '/etc/os-release': { link: '../usr/lib/os-release' },
    });
    expect(readOsRelease(fs, problems)).toEqual({
      id: 'debian',
      idLike: [],
      versionId: '12',
      codename: 'bookworm',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
      source: { path: '/etc/os-release' },
    });
    expect(problems).toEqual([]);
  });

  it('reads Amazon Linux 2023 and falls back to /usr/lib/os-release', () => {
    const problems: ManifestProblem[] = [];
    expect(readOsRelease(treeFs({ '/usr/lib/os-release': AMAZON_2023 }), problems)).toEqual({
      id: 'amzn',
      idLike: ['fedora'],
      versionId: '2023',
      codename: null,
      prettyName: 'Amazon Linux 2023.6.20241010',
      source: { path: '/usr/lib/os-release' },
    });
  });

  it('splits ID_LIKE, honours shell quoting and reports malformed lines', () => {
    const problems: ManifestProblem[] = [];
    const text =
      'ID=ubuntu\nID_LIKE="debian  linux"\nPRETTY_NAME=\'It\'\\\'\'s "fine"\'\nVERSION_CODENAME="noble\nthis is not an assignment\n';
    expect(readOsRelease(treeFs({ '/etc/os-release': text }), problems)).toEqual({
      id: 'ubuntu',
      idLike: ['debian', 'linux'],
      versionId: null,
      codename: null,
      prettyName: 'It\'s "fine"',
      source: { path: '/etc/os-release' },
    });
    expect(problems).toEqual([
      { path: '/etc/os-release', line: 4, reason: 'VERSION_CODENAME: unterminated double quote' },
      { path: '/etc/os-release', line: 5, reason: 'not a KEY=value assignment' },
    ]);
  });

  it('is null when neither file exists', () => {
    expect(readOsRelease(treeFs({ '/etc/hostname': 'x\n' }), [])).toBeNull();
  });
});

describe('parseShellAssignments', () => {
  it('unquotes double-quoted escapes, keeps $ literal, ignores trailing comments', () => {
    expect(parseShellAssignments('export A="say \\"hi\\" \\$HOME"\nB=$HOME # note\n# C=1\n')).toEqual({
      assignments: [
        { key: 'A', value: 'say "hi" $HOME', line: 1 },
        { key: 'B', value: '$HOME', line: 2 },
      ],
      problems: [],
    });
  });
});
