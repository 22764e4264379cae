import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { installedPackages, readStoredManifest } from './stored.js';

describe('a stored manifest', () => {
  it('is read through its schema; installed packages are those dpkg counts installed', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        schema: 'goldgate.manifest/v1',
        digest: 'sha256:ab',
        os: {
          id: 'debian',
          idLike: [],
          versionId: '12',
          codename: 'bookworm',
          prettyName: null,
          source: { path: '/etc/os-release' },
        },
        packages: [
          {
            name: 'bash',
            version: '5.2.15-2+b8',
            architecture: 'amd64',
            status: 'install ok installed',
            state: 'installed',
            source: { path: '/var/lib/dpkg/status', line: 1 },
          },
          {
            name: 'old',
            version: '1.0',
            architecture: 'all',
            status: 'deinstall ok config-files',
            state: 'config-files',
            source: { path: '/var/lib/dpkg/status', line: 9 },
          },
        ],
        systemd: {},
        problems: [],
      }),
    );
    const manifest = readStoredManifest(dir);
    expect(manifest.digest).toBe('sha256:ab');
    expect(manifest.os).toEqual({ id: 'debian', codename: 'bookworm' });
    expect(installedPackages(manifest)).toEqual([
      { name: 'bash', version: '5.2.15-2+b8', architecture: 'amd64', state: 'installed' },
    ]);
  });

  it('missing or damaged is an environment error naming the file', () => {
    const dir = tempDir();
    expect(() => readStoredManifest(dir)).toThrow(
      expect.objectContaining({
        code: 'MANIFEST_UNREADABLE',
        fault: 'environment',
        message: `${dir}/manifest.json: no such file`,
      }),
    );
    writeFileSync(join(dir, 'manifest.json'), '{"digest": "sha256:ab", "os": null}');
    expect(() => readStoredManifest(dir)).toThrow(/manifest\.json: is not a goldgate manifest \(packages: /);
    writeFileSync(join(dir, 'manifest.json'), '{');
    expect(() => readStoredManifest(dir)).toThrow(/manifest\.json: is not JSON/);
  });
});
