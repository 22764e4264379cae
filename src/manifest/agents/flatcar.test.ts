import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import type { ManifestProblem } from '../types.js';
import { readFlatcar } from './flatcar.js';

describe('readFlatcar', () => {
  it('lets /etc/flatcar/update.conf override /usr/share/flatcar/update.conf key by key', () => {
    const problems: ManifestProblem[] = [];
    const info = readFlatcar(
      treeFs({
        '/usr/share/flatcar/update.conf':
          'SERVER=https://public.update.flatcar-linux.net/v1/update/\nGROUP=stable\n',
        '/etc/flatcar/update.conf': '# managed by ignition\nGROUP=beta\nREBOOT_STRATEGY="off"\n',
        // The compatibility link must not make /etc/flatcar/update.conf count twice.
        '/etc/coreos': { link: 'flatcar' },
      }),
      null,
      problems,
    );
    expect(info).toEqual({
      present: true,
      files: ['/usr/share/flatcar/update.conf', '/etc/flatcar/update.conf'],
      group: { key: 'GROUP', value: 'beta', source: { path: '/etc/flatcar/update.conf', line: 2 } },
      server: {
        key: 'SERVER',
        value: 'https://public.update.flatcar-linux.net/v1/update/',
        source: { path: '/usr/share/flatcar/update.conf', line: 1 },
      },
      rebootStrategy: {
        key: 'REBOOT_STRATEGY',
        value: 'off',
        source: { path: '/etc/flatcar/update.conf', line: 3 },
      },
      settings: [
        { key: 'GROUP', value: 'beta', source: { path: '/etc/flatcar/update.conf', line: 2 } },
        { key: 'REBOOT_STRATEGY', value: 'off', source: { path: '/etc/flatcar/update.conf', line: 3 } },
        {
          key: 'SERVER',
          value: 'https://public.update.flatcar-linux.net/v1/update/',
          source: { path: '/usr/share/flatcar/update.conf', line: 1 },
        },
      ],
    });
    expect(problems).toEqual([]);
  });

  it('reads a CoreOS Container Linux /etc/coreos/update.conf and reports bad lines', () => {
    const problems: ManifestProblem[] = [];
    const info = readFlatcar(
      treeFs({
        '/etc/coreos/update.conf':
          'REBOOT_STRATEGY=etcd-lock\nLOCKSMITHD_REBOOT_WINDOW_START=Thu 04:00\nGROUP stable\n',
      }),
      {
        id: 'coreos',
        idLike: [],
        versionId: '2512.3.0',
        codename: null,
        prettyName: null,
        source: { path: '/etc/os-release' },
      },
      problems,
    );
    expect(info.present).toBe(true);
    expect(info.files).toEqual(['/etc/coreos/update.conf']);
    expect(info.rebootStrategy?.value).toBe('etcd-lock');
    expect(info.group).toBeNull();
    expect(problems).toEqual([
      {
        path: '/etc/coreos/update.conf',
        line: 2,
        reason:
          'LOCKSMITHD_REBOOT_WINDOW_START: unquoted space in the value; the rest of the line is ignored',
      },
      { path: '/etc/coreos/update.conf', line: 3, reason: 'not a KEY=value assignment' },
    ]);
  });

  it('is absent elsewhere', () => {
    expect(readFlatcar(treeFs({ '/etc/hostname': 'x\n' }), null, [])).toEqual({
      present: false,
      files: [],
      group: null,
      server: null,
      rebootStrategy: null,
      settings: [],
    });
  });
});
