import { describe, expect, it } from 'vitest';
import { openDirRootFs } from '../../rootfs/dir.js';
import { baseRootfs, itWithBase } from '../../test-support/base-image.js';
import { treeFs } from '../../test-support/tree.js';
import { collectCloudInit } from '../cloud-init/index.js';
import { collectAgents } from './index.js';

describe('collectAgents', () => {
  it('reports every agent absent on an image without them', () => {
    const section = collectAgents(treeFs({ '/etc/hostname': 'x\n' }));
    expect(section).toEqual({
      osRelease: null,
      snap: {
        present: false,
        presence: [],
        hold: null,
        timer: null,
        schedule: null,
        metered: null,
        snapHolds: [],
        stateSource: null,
        seededSnaps: [],
        seedSource: null,
      },
      dnf: {
        present: false,
        dnf5: false,
        amazonLinux2023: false,
        dnfConf: null,
        yumConf: null,
        releasever: { dnfConf: null, varsFile: null, effective: null },
        automatic: null,
        automatic5: null,
        yumCron: null,
        yumCronHourly: null,
      },
      needrestart: { present: false, files: [], restart: null, environmentMode: null },
      flatcar: { present: false, files: [], group: null, server: null, rebootStrategy: null, settings: [] },
      problems: [],
    });
  });

  it('detects Amazon Linux 2023 and reports a problem of a file read twice only once', () => {
    const section = collectAgents(
      treeFs({
        '/etc/os-release': 'ID="amzn"\nVERSION_ID="2023"\n',
        '/usr/bin/dnf5': 'ELF',
        '/usr/share/dnf5/dnf5-plugins/automatic.conf': '[commands]\napply_updates = no\n',
        '/etc/dnf/automatic.conf': '[commands]\napply_updates\n',
      }),
    );
    expect(section.osRelease?.id).toBe('amzn');
    expect(section.dnf.amazonLinux2023).toBe(true);
    expect(section.problems).toEqual([
      { path: '/etc/dnf/automatic.conf', line: 2, reason: "missing '='; dnf rejects the whole file" },
    ]);
  });

  it('is plain JSON data', () => {
    const section = collectAgents(treeFs({ '/etc/os-release': 'ID=debian\n', '/usr/bin/snap': 'ELF' }));
    expect(JSON.parse(JSON.stringify(section))).toEqual(section);
  });

  itWithBase('reads the real Debian 12 base image: no agent but os-release, and no cloud-init', () => {
    const fs = openDirRootFs(baseRootfs()!);
    const section = collectAgents(fs);
    expect(section.osRelease).toEqual({
      id: 'debian',
      idLike: [],
      versionId: '12',
      codename: 'bookworm',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
      source: { path: '/etc/os-release' },
    });
    expect([
      section.snap.present,
      section.dnf.present,
      section.needrestart.present,
      section.flatcar.present,
    ]).toEqual([false, false, false, false]);
    expect(section.problems).toEqual([]);
    const cloudInit = collectCloudInit(fs);
    expect([cloudInit.present, cloudInit.userData, cloudInit.problems]).toEqual([false, [], []]);
    expect(fs.problems).toEqual([]);
  });
});
