import { describe, expect, it } from 'vitest';
import type { UpdateOrigin } from './offers.js';
import { isSecurityOrigin, pendingUpdates } from './pending.js';
import type { SeenOffer } from './pending.js';

const SEEN = '2026-12-01T00:00:00.000Z';
const main: UpdateOrigin = {
  repository: 'lab:acme',
  suite: 'bookworm',
  origin: 'goldgate',
  label: 'goldgate lab',
  codename: 'bookworm',
};
const security: UpdateOrigin = {
  repository: 'lab:acme',
  suite: 'bookworm-security',
  origin: 'Debian',
  label: 'Debian-Security',
  codename: 'bookworm-security',
};
const offer = (pkg: string, version: string, from: UpdateOrigin, architecture = 'all'): SeenOffer => ({
  package: pkg,
  version,
  architecture,
  from,
  firstSeen: SEEN,
});

describe('pending updates', () => {
  it('takes, per suite, the newest version greater than the installed one', () => {
    const pending = pendingUpdates(
      [{ name: 'acme-runtime', version: '1.0', architecture: 'all' }],
      [
        offer('acme-runtime', '1.0', main),
        offer('acme-runtime', '1.1', main),
        offer('acme-runtime', '1.2~rc1', main),
        offer('acme-runtime', '1.0+deb12u1', security),
      ],
    );
    expect(pending).toEqual([
      {
        name: 'acme-runtime',
        architecture: 'all',
        from: '1.0',
        to: '1.2~rc1',
        origin: main,
        security: false,
        firstSeen: SEEN,
      },
      {
        name: 'acme-runtime',
        architecture: 'all',
        from: '1.0',
        to: '1.0+deb12u1',
        origin: security,
        security: true,
        firstSeen: SEEN,
      },
    ]);
  });

  it('ignores versions not newer than the installed one, in dpkg order (epochs, tildes)', () => {
    expect(
      pendingUpdates(
        [
          { name: 'acme-runtime', version: '1:1.0', architecture: 'all' },
          { name: 'acme-tools', version: '2.0', architecture: 'amd64' },
        ],
        [
          offer('acme-runtime', '9.9', main),
          offer('acme-runtime', '1:1.0', main),
          offer('acme-tools', '2.0~beta', main, 'amd64'),
          offer('acme-tools', '1.9', security, 'amd64'),
        ],
      ),
    ).toEqual([]);
  });

  it('matches architectures as apt does: the same one, or all', () => {
    const pending = pendingUpdates(
      [{ name: 'libacme', version: '1.0', architecture: 'amd64' }],
      [
        offer('libacme', '2.0', main, 'arm64'),
        offer('libacme', '1.5', security, 'all'),
        offer('other', '9', main),
      ],
    );
    expect(pending.map((u) => [u.to, u.origin.suite])).toEqual([['1.5', 'bookworm-security']]);
  });
});

describe('security origins', () => {
  const origin = (fields: Partial<UpdateOrigin>): UpdateOrigin => ({ ...main, ...fields });
  it('are told by Label, by a suite or codename ending in -security, or by an origin naming security', () => {
    expect(isSecurityOrigin(origin({ label: 'Debian-Security' }))).toBe(true);
    expect(isSecurityOrigin(origin({ suite: 'jammy-security', label: 'Ubuntu' }))).toBe(true);
    expect(isSecurityOrigin(origin({ suite: 'oldstable-security' }))).toBe(true);
    expect(isSecurityOrigin(origin({ suite: 'lab', codename: 'bookworm-security' }))).toBe(true);
    expect(isSecurityOrigin(origin({ origin: 'Acme Security Team' }))).toBe(true);
    expect(isSecurityOrigin(main)).toBe(false);
    expect(isSecurityOrigin(origin({ suite: 'bookworm-updates', label: 'Debian' }))).toBe(false);
    expect(isSecurityOrigin(origin({ suite: 'securityish', label: 'insecurity' }))).toBe(false);
  });
});
