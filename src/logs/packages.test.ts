import { describe, expect, it } from 'vitest';
import { normalizePackageName, samePackage } from './packages.js';

describe('normalizePackageName', () => {
  it('splits name and architecture', () => {
    expect(normalizePackageName('libc6:i386')).toEqual({ name: 'libc6', arch: 'i386' });
    expect(normalizePackageName('acme-runtime:all')).toEqual({ name: 'acme-runtime', arch: 'all' });
    expect(normalizePackageName('g++-12:amd64')).toEqual({ name: 'g++-12', arch: 'amd64' });
  });

  it('gives a null architecture when none is written', () => {
    expect(normalizePackageName('acme-runtime')).toEqual({ name: 'acme-runtime', arch: null });
    expect(normalizePackageName(' acme-runtime ')).toEqual({ name: 'acme-runtime', arch: null });
    expect(normalizePackageName('acme-runtime:')).toEqual({ name: 'acme-runtime', arch: null });
  });
});

describe('samePackage', () => {
  it('matches the sample trap: history says amd64, dpkg.log says all', () => {
    expect(samePackage('acme-runtime:amd64', 'acme-runtime:all')).toBe(true);
    expect(
      samePackage({ package: 'acme-runtime', arch: 'amd64' }, { package: 'acme-runtime', arch: 'all' }),
    ).toBe(true);
  });

  it('treats a missing architecture as any (unattended-upgrades names packages without one)', () => {
    expect(samePackage('acme-runtime', 'acme-runtime:all')).toBe(true);
    expect(samePackage('acme-runtime', { package: 'acme-runtime', arch: 'amd64' })).toBe(true);
    expect(samePackage({ package: 'acme-runtime' }, { package: 'acme-runtime', arch: null })).toBe(true);
    expect(samePackage('libc6', 'libc6:i386')).toBe(true);
  });

  it('keeps the architectures of a multi-arch package apart', () => {
    expect(samePackage('libc6:i386', 'libc6:amd64')).toBe(false);
    expect(samePackage({ package: 'libc6', arch: 'i386' }, { package: 'libc6', arch: 'amd64' })).toBe(false);
    expect(samePackage('libc6:i386', 'libc6:i386')).toBe(true);
  });

  it('compares names exactly', () => {
    expect(samePackage('acme-runtime:all', 'acme-web:all')).toBe(false);
    expect(samePackage('libc6', 'libc6-dev')).toBe(false);
  });

  it('reads `name:arch` kept in a record’s package field', () => {
    expect(samePackage({ package: 'libc6:i386', arch: null }, 'libc6:amd64')).toBe(false);
    expect(samePackage({ package: 'libc6:i386' }, { package: 'libc6', arch: 'i386' })).toBe(true);
  });
});
