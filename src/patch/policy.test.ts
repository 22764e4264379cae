import { describe, expect, it } from 'vitest';
import type { PatchPolicy } from '../spec/schema.js';
import type { UpdateOrigin } from './offers.js';
import type { PendingUpdate } from './pending.js';
import { applyPolicy, DEFAULT_PATCH_POLICY } from './policy.js';

const HOUR = 3_600_000;
const NOW = new Date('2026-12-06T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const later = (ms: number) => new Date(NOW.getTime() + ms);

const bookworm: UpdateOrigin = {
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

function update(
  name: string,
  to: string,
  fields: { security?: boolean; seen?: number; from?: string } = {},
): PendingUpdate {
  const isSecurity = fields.security ?? false;
  return {
    name,
    architecture: 'all',
    from: fields.from ?? '1.0',
    to,
    origin: isSecurity ? security : bookworm,
    security: isSecurity,
    firstSeen: ago(fields.seen ?? 0),
  };
}

const policy = (fields: Partial<PatchPolicy> = {}): PatchPolicy => ({ ...DEFAULT_PATCH_POLICY, ...fields });

/** The decision as `name to: reason` lines, for exact comparison. */
function decide(pending: PendingUpdate[], p: PatchPolicy, now = NOW) {
  const d = applyPolicy(pending, p, now);
  const line = (x: { update: PendingUpdate; reason: string }) =>
    `${x.update.name} ${x.update.to}: ${x.reason}`;
  return { approved: d.approved.map(line), leftOut: d.leftOut.map(line) };
}

const runtimeFix = update('acme-runtime', '1.0+deb12u1', { security: true, seen: 3 * HOUR });
const toolsUpdate = update('acme-tools', '2.1', { from: '2.0', seen: 3 * HOUR });

describe('include', () => {
  it('security (the default) takes security updates only', () => {
    expect(decide([runtimeFix, toolsUpdate], DEFAULT_PATCH_POLICY)).toEqual({
      approved: ['acme-runtime 1.0+deb12u1: security update'],
      leftOut: ['acme-tools 2.1: not a security update (include: security)'],
    });
  });

  it('all takes every update', () => {
    expect(decide([runtimeFix, toolsUpdate], policy({ include: 'all' }))).toEqual({
      approved: ['acme-runtime 1.0+deb12u1: security update', 'acme-tools 2.1: update (include: all)'],
      leftOut: [],
    });
  });
});

describe('minAge', () => {
  it('leaves out a version first seen more recently, and takes it once old enough', () => {
    const fresh = update('acme-runtime', '1.0+deb12u1', { security: true, seen: 0 });
    expect(decide([fresh], policy({ minAge: '2d' }))).toEqual({
      approved: [],
      leftOut: ['acme-runtime 1.0+deb12u1: first seen 0 seconds ago, minAge 2d'],
    });
    expect(decide([runtimeFix], policy({ minAge: '2d' })).leftOut).toEqual([
      'acme-runtime 1.0+deb12u1: first seen 3 hours ago, minAge 2d',
    ]);
    expect(decide([fresh], policy({ minAge: '2d' }), later(48 * HOUR - 1)).approved).toEqual([]);
    expect(decide([fresh], policy({ minAge: '2d' }), later(48 * HOUR))).toEqual({
      approved: ['acme-runtime 1.0+deb12u1: security update'],
      leftOut: [],
    });
  });

  it('gives every reason an update fails', () => {
    const fresh = update('acme-tools', '2.1', { seen: HOUR * 5 });
    expect(decide([fresh], policy({ minAge: '12h' })).leftOut).toEqual([
      'acme-tools 2.1: not a security update (include: security); first seen 5 hours ago, minAge 12h',
    ]);
  });

  it('takes the newest version old enough when a newer one is too young', () => {
    const older = update('acme-runtime', '1.0+deb12u1', { security: true, seen: 72 * HOUR });
    const newer = update('acme-runtime', '1.0+deb12u2', { security: true, seen: HOUR });
    expect(decide([older, newer], policy({ minAge: '2d' }))).toEqual({
      approved: ['acme-runtime 1.0+deb12u1: security update'],
      leftOut: ['acme-runtime 1.0+deb12u2: first seen 60 minutes ago, minAge 2d'],
    });
  });
});

describe('hold', () => {
  it('leaves every update of the package out, a security one included', () => {
    expect(decide([runtimeFix, toolsUpdate], policy({ hold: ['acme-runtime'] }))).toEqual({
      approved: [],
      leftOut: [
        'acme-runtime 1.0+deb12u1: held',
        'acme-tools 2.1: not a security update (include: security)',
      ],
    });
  });

  it('wins over allow', () => {
    expect(decide([runtimeFix], policy({ hold: ['acme-runtime'], allow: ['acme-runtime'] }))).toEqual({
      approved: [],
      leftOut: ['acme-runtime 1.0+deb12u1: held'],
    });
  });
});

describe('allow', () => {
  it('takes the newest update whatever include and minAge say', () => {
    const fresh = update('acme-tools', '2.1', { from: '2.0', seen: 0 });
    expect(decide([runtimeFix, fresh], policy({ minAge: '2d', allow: ['acme-tools'] }))).toEqual({
      approved: ['acme-tools 2.1: allowed'],
      leftOut: ['acme-runtime 1.0+deb12u1: first seen 3 hours ago, minAge 2d'],
    });
  });

  it('takes the newest of several, leaving the others superseded', () => {
    const fix = update('acme-runtime', '1.0+deb12u1', { security: true });
    const feature = update('acme-runtime', '1.1');
    expect(decide([fix, feature], policy({ allow: ['acme-runtime'] }))).toEqual({
      approved: ['acme-runtime 1.1: allowed'],
      leftOut: ['acme-runtime 1.0+deb12u1: superseded by 1.1 from lab:acme bookworm'],
    });
  });
});

describe('one version per package', () => {
  it('security takes the security fix; all takes the newest and supersedes the fix', () => {
    const fix = update('acme-runtime', '1.0+deb12u1', { security: true });
    const feature = update('acme-runtime', '1.1');
    expect(decide([fix, feature], DEFAULT_PATCH_POLICY)).toEqual({
      approved: ['acme-runtime 1.0+deb12u1: security update'],
      leftOut: ['acme-runtime 1.1: not a security update (include: security)'],
    });
    expect(decide([fix, feature], policy({ include: 'all' }))).toEqual({
      approved: ['acme-runtime 1.1: update (include: all)'],
      leftOut: ['acme-runtime 1.0+deb12u1: superseded by 1.1 from lab:acme bookworm'],
    });
  });

  it('prefers the security suite when two suites offer the same version', () => {
    const inSecurity = update('acme-runtime', '1.0+deb12u1', { security: true });
    const inMain = update('acme-runtime', '1.0+deb12u1');
    expect(decide([inMain, inSecurity], policy({ include: 'all' }))).toEqual({
      approved: ['acme-runtime 1.0+deb12u1: security update'],
      leftOut: ['acme-runtime 1.0+deb12u1: superseded by 1.0+deb12u1 from lab:acme bookworm-security'],
    });
  });

  it('decides each architecture of a package on its own', () => {
    const amd64 = { ...update('libacme', '1.1', { security: true }), architecture: 'amd64' };
    const i386 = { ...update('libacme', '1.1'), architecture: 'i386' };
    expect(decide([amd64, i386], DEFAULT_PATCH_POLICY)).toEqual({
      approved: ['libacme 1.1: security update'],
      leftOut: ['libacme 1.1: not a security update (include: security)'],
    });
  });

  it('approves nothing when nothing is pending', () => {
    expect(decide([], policy({ include: 'all' }))).toEqual({ approved: [], leftOut: [] });
  });
});
