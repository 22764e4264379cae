import { describe, expect, it } from 'vitest';
import { makeTree } from '../test-support/tree.js';
import { initProblem } from './init-check.js';

const mergedUsr = { '/lib': { link: 'usr/lib' }, '/sbin': { link: 'usr/sbin' } } as const;

describe('which images the lab boots', () => {
  it('boots an image whose init is systemd, through merged /usr links or without /sbin/init', () => {
    const debian = makeTree({
      ...mergedUsr,
      '/usr/lib/systemd/systemd': '\u007fELF',
      '/usr/sbin/init': { link: '../lib/systemd/systemd' },
    });
    expect(initProblem(debian)).toBeUndefined();
    expect(initProblem(makeTree({ '/lib/systemd/systemd': '\u007fELF' }))).toBeUndefined();
  });

  it('refuses an image without systemd, or whose init is another, saying which', () => {
    expect(initProblem(makeTree({ '/etc/os-release': 'ID=alpine\n' }))).toMatch(/it has no systemd/);
    const busybox = makeTree({
      '/lib/systemd/systemd': '\u007fELF',
      '/sbin/init': { link: '/bin/busybox' },
      '/bin/busybox': '\u007fELF',
    });
    expect(initProblem(busybox)).toMatch(
      /its init is not systemd \(\/sbin\/init is a link to \/bin\/busybox\)/,
    );
    const sysvinit = makeTree({ '/lib/systemd/systemd': '\u007fELF', '/sbin/init': '\u007fELF' });
    expect(initProblem(sysvinit)).toMatch(/\/sbin\/init is a program of its own/);
    // A link out of the image resolves inside it: the host's systemd is never taken for the image's.
    const escaping = makeTree({ '/lib/systemd/systemd': { link: '/../../../../lib/systemd/systemd' } });
    expect(initProblem(escaping)).toMatch(/it has no systemd/);
  });
});
