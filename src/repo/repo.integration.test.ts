import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { copyOfBase, itWithBase } from '../test-support/base-image.js';
import { tempDir } from '../test-support/tree.js';
import { buildDeb } from './build-deb.js';
import { createRepo, publish } from './repo.js';

const EXAMPLES = join(import.meta.dirname, '../../examples/acme/packages');

/** Runs a command chrooted into `root` and returns its combined output (it must succeed). */
function inImage(root: string, ...args: string[]): string {
  const run = spawnSync('chroot', [root, ...args], {
    encoding: 'utf8',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', DEBIAN_FRONTEND: 'noninteractive' },
  });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`chroot ${args.join(' ')} exited ${run.status}:\n${output}`);
  return output;
}

describe('a lab security suite, seen by real apt and unattended-upgrades', () => {
  itWithBase(
    'stock unattended-upgrades takes the suite as a Debian security origin and upgrades from it',
    async () => {
      const home = tempDir();
      const debs = tempDir();
      const v1 = await buildDeb(join(EXAMPLES, 'acme-runtime-1.0'), debs);
      const v2 = await buildDeb(join(EXAMPLES, 'acme-runtime-1.0+deb12u1'), debs);
      await createRepo('lab', { home });
      const security = {
        suite: 'bookworm-security',
        origin: 'Debian',
        label: 'Debian-Security',
        codename: 'bookworm-security',
        home,
      };
      await publish('lab', [v1], security);
      await publish('lab', [v2], security);

      const root = copyOfBase();
      mkdirSync(join(root, 'srv'), { recursive: true });
      // cp -a keeps dists/<suite> a relative symlink to its snapshot, which apt follows.
      execFileSync('cp', ['-a', join(home, 'repos', 'lab'), join(root, 'srv', 'repo')]);
      writeFileSync(
        join(root, 'etc/apt/sources.list.d/lab.list'),
        'deb [trusted=yes] file:///srv/repo bookworm-security main\n',
      );
      // Only the lab source: the image's Debian mirror must never be contacted. Written as
      // apt configuration so that unattended-upgrade (which reads it) sees the same sources.
      writeFileSync(
        join(root, 'etc/apt/apt.conf.d/99goldgate-lab'),
        'Dir::Etc::sourcelist "/etc/apt/sources.list.d/lab.list";\nDir::Etc::sourceparts "-";\n',
      );

      const update = inImage(root, 'apt-get', 'update');
      expect(update).toMatch(/^Get:\d+ file:\/srv\/repo bookworm-security Release/m);
      expect(update).toMatch(/^Get:\d+ file:\/srv\/repo bookworm-security\/main amd64 Packages/m);
      expect(update).not.toMatch(/deb\.debian\.org|^Err:|^W:|^E:/m);

      // The image runs the old version, as the golden image did.
      const poolFile = '/srv/repo/pool/main/a/acme-runtime/acme-runtime_1.0_all.deb';
      expect(inImage(root, 'dpkg', '-i', poolFile)).toContain('Setting up acme-runtime (1.0) ...');
      expect(inImage(root, '/usr/lib/acme/health')).toBe('ok\n');

      const policy = inImage(root, 'apt-cache', 'policy', 'acme-runtime');
      expect(policy).toContain('Installed: 1.0\n');
      expect(policy).toContain('Candidate: 1.0+deb12u1\n');
      expect(policy).toMatch(
        /^ {5}1\.0\+deb12u1 500\n {8}500 file:\/srv\/repo bookworm-security\/main amd64 Packages$/m,
      );
      expect(policy).toMatch(
        /^ \*\*\* 1\.0 500\n {8}500 file:\/srv\/repo bookworm-security\/main amd64 Packages$/m,
      );
      const sources = inImage(root, 'apt-cache', 'policy');
      expect(sources).toContain(
        'release o=Debian,a=bookworm-security,n=bookworm-security,l=Debian-Security,c=main,b=amd64',
      );

      const dryRun = inImage(root, 'unattended-upgrade', '--dry-run', '-d');
      expect(dryRun).toContain('origin=Debian,codename=bookworm-security,label=Debian-Security');
      expect(dryRun).toContain(
        "Checking: acme-runtime ([<Origin component:'main' archive:'bookworm-security' origin:'Debian' label:'Debian-Security'",
      );
      expect(dryRun).toContain('pkgs that look like they should be upgraded: acme-runtime');
      expect(dryRun).toContain('Packages that will be upgraded: acme-runtime');
      expect(inImage(root, 'dpkg-query', '-W', 'acme-runtime')).toBe('acme-runtime\t1.0\n');

      // For real now: the instance upgrades itself, and the new health check fails.
      inImage(root, 'unattended-upgrade', '-d');
      expect(inImage(root, 'dpkg-query', '-W', 'acme-runtime')).toBe('acme-runtime\t1.0+deb12u1\n');
      const health = spawnSync('chroot', [root, '/usr/lib/acme/health'], { encoding: 'utf8' });
      expect({ status: health.status, stdout: health.stdout }).toEqual({
        status: 1,
        stdout: 'missing /etc/acme/v2.conf\n',
      });
    },
    300_000,
  );
});
