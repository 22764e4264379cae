import { describe, expect, it } from 'vitest';
import { makeTree } from '../test-support/tree.js';
import { initProblem } from './init-check.js';

const mergedUsr = { '/lib': { link: 'usr/lib' }, '/sbin': { link: 'usr/sbin' } } as const;
/** Where the lab's init mounts proc, sysfs and tmpfs. */
const apiDirs = {
  '/proc': { dir: true },
  '/sys': { dir: true },
  '/dev': { dir: true },
  '/run': { dir: true },
  '/tmp': { dir: true },
} as const;

describe('which images the lab boots', () => {
  it('boots an image whose init is systemd, through merged /usr links or without /sbin/init', () => {
    const debian = makeTree({
      ...apiDirs,
      ...mergedUsr,
      '/usr/lib/systemd/systemd': '\u007fELF',
      '/usr/sbin/init': { link: '../lib/systemd/systemd' },
    });
    expect(initProblem(debian)).toBeUndefined();
    expect(initProblem(makeTree({ ...apiDirs, '/lib/systemd/systemd': '\u007fELF' }))).toBeUndefined();
  });

  it('refuses an image without systemd, or whose init is another, saying which', () => {
    expect(initProblem(makeTree({ '/etc/os-release': 'ID=alpine\n' }))).toMatch(/it has no systemd/);
    const busybox = makeTree({
      ...apiDirs,
      '/lib/systemd/systemd': '\u007fELF',
      '/sbin/init': { link: '/bin/busybox' },
      '/bin/busybox': '\u007fELF',
    });
    expect(initProblem(busybox)).toMatch(
      /its init is not systemd \(\/sbin\/init is a link to \/bin\/busybox\)/,
    );
    const sysvinit = makeTree({ ...apiDirs, '/lib/systemd/systemd': '\u007fELF', '/sbin/init': '\u007fELF' });
    expect(initProblem(sysvinit)).toMatch(/\/sbin\/init is a program of its own/);
    // A link out of the image resolves inside it: the host's systemd is never taken for the image's.
    const escaping = makeTree({ '/lib/systemd/systemd': { link: '/../../../../lib/systemd/systemd' } });
    expect(initProblem(escaping)).toMatch(/it has no systemd/);
  });

  it('refuses an image whose /proc, /sys, /dev, /run or /tmp is a link, a file or missing, naming it', () => {
    const systemd = { '/lib/systemd/systemd': '\u007fELF' };
    const mounts = "the lab mounts the kernel's file systems on /proc, /sys, /dev, /run and /tmp";
    // The init mounts before it chroots: a link there would lead the mount to the host's path.
    expect(initProblem(makeTree({ ...apiDirs, ...systemd, '/proc': { link: '/tmp/elsewhere' } }))).toBe(
      `its /proc is a symbolic link (to /tmp/elsewhere): ${mounts}, which must be directories of the image`,
    );
    expect(initProblem(makeTree({ ...apiDirs, ...systemd, '/tmp': { link: 'var/tmp' } }))).toMatch(
      /^its \/tmp is a symbolic link \(to var\/tmp\)/,
    );
    expect(initProblem(makeTree({ ...apiDirs, ...systemd, '/dev': 'a file' }))).toMatch(
      /^its \/dev is not a directory/,
    );
    const withoutRun = Object.fromEntries(Object.entries(apiDirs).filter(([path]) => path !== '/run'));
    expect(initProblem(makeTree({ ...withoutRun, ...systemd }))).toMatch(/^its \/run is missing/);
  });
});
