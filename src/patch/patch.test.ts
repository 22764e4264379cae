import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectingSink } from '../core/events.js';
import { findImage } from '../images/store.js';
import { promote } from '../registry/gate.js';
import { openRegistry } from '../registry/db.js';
import { recordImage } from '../registry/images.js';
import { revokeImage } from '../registry/revoke.js';
import { loadSpec } from '../spec/load.js';
import {
  PATCH_IMAGE,
  patchDebs,
  patchHome,
  patchSpec,
  plantManifest,
  INSTALLED,
} from '../test-support/patch-lab.js';
import type { PatchDebs } from '../test-support/patch-lab.js';
import { plantImage } from '../test-support/stored-image.js';
import { tempDir } from '../test-support/tree.js';
import { PLAN_ONLY_REASON, planPatch, preparePatch, splitBakeable } from './patch.js';
import type { PatchPlan } from './patch.js';

const DAY = 86_400_000;
const T0 = new Date('2026-12-06T12:00:00.000Z');

let debs: PatchDebs;
beforeAll(async () => {
  debs = await patchDebs();
});

const lines = (list: PatchPlan['approved']) =>
  list.map((d) => `${d.update.name} ${d.update.from} -> ${d.update.to}: ${d.reason}`);

describe('planPatch', () => {
  it('under include: security, lists both pending updates and plans only the security one', async () => {
    const home = await patchHome(debs);
    const plan = await planPatch(patchSpec(), { home, now: T0 });
    expect(plan.image).toMatchObject({ id: PATCH_IMAGE, chosenBy: 'newest', channel: null, note: null });
    expect(
      plan.pending.map((u) => [
        u.name,
        u.from,
        u.to,
        u.origin.repository,
        u.origin.suite,
        u.security,
        u.firstSeen,
      ]),
    ).toEqual([
      ['acme-runtime', '1.0', '1.0+deb12u1', 'lab:acme', 'bookworm-security', true, T0.toISOString()],
      ['acme-tools', '2.0', '2.1', 'lab:acme', 'bookworm', false, T0.toISOString()],
    ]);
    expect(plan.pending[0]?.origin).toEqual({
      repository: 'lab:acme',
      suite: 'bookworm-security',
      origin: 'Debian',
      label: 'Debian-Security',
      codename: 'bookworm-security',
    });
    expect(lines(plan.approved)).toEqual(['acme-runtime 1.0 -> 1.0+deb12u1: security update']);
    expect(lines(plan.leftOut)).toEqual(['acme-tools 2.0 -> 2.1: not a security update (include: security)']);
    expect(plan.planOnly).toEqual([]);
    expect(plan.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(plan.sources.map((s) => [s.from.suite, s.offered, s.problems])).toEqual([
      ['bookworm', 4, []],
      ['bookworm-security', 1, []],
    ]);
    expect(plan.debianSuite).toBeNull();
  });

  it('with the security update held, plans nothing', async () => {
    const home = await patchHome(debs);
    const plan = await planPatch(patchSpec(['patch: { hold: [acme-runtime] }']), { home, now: T0 });
    expect(plan.approved).toEqual([]);
    expect(lines(plan.leftOut)).toEqual([
      'acme-runtime 1.0 -> 1.0+deb12u1: held',
      'acme-tools 2.0 -> 2.1: not a security update (include: security)',
    ]);
    expect(plan.digest).toBeNull();
  });

  it('with minAge: 2d, plans nothing for a version first seen today, and plans it two days later', async () => {
    const home = await patchHome(debs);
    const spec = patchSpec(['patch: { minAge: 2d }']);
    const today = await planPatch(spec, { home, now: T0 });
    expect(today.approved).toEqual([]);
    expect(lines(today.leftOut)[0]).toBe(
      'acme-runtime 1.0 -> 1.0+deb12u1: first seen 0 seconds ago, minAge 2d',
    );

    const tomorrow = await planPatch(spec, { home, now: new Date(T0.getTime() + DAY) });
    expect(lines(tomorrow.leftOut)[0]).toBe(
      'acme-runtime 1.0 -> 1.0+deb12u1: first seen 24 hours ago, minAge 2d',
    );

    const later = await planPatch(spec, { home, now: new Date(T0.getTime() + 2 * DAY) });
    expect(lines(later.approved)).toEqual(['acme-runtime 1.0 -> 1.0+deb12u1: security update']);
    // goldgate's own record: first seen when first listed, not when last listed.
    expect(later.pending[0]?.firstSeen).toBe(T0.toISOString());
  });

  it('allow takes a package’s update whatever include and minAge say', async () => {
    const home = await patchHome(debs);
    const plan = await planPatch(patchSpec(['patch: { minAge: 1w, allow: [acme-tools] }']), {
      home,
      now: T0,
    });
    expect(lines(plan.approved)).toEqual(['acme-tools 2.0 -> 2.1: allowed']);
    expect(lines(plan.leftOut)).toEqual([
      'acme-runtime 1.0 -> 1.0+deb12u1: first seen 0 seconds ago, minAge 1w',
    ]);
  });

  it('include: all takes both; a version not newer than the installed one is never pending', async () => {
    const home = await patchHome(debs);
    const plan = await planPatch(patchSpec(['patch: { include: all }']), { home, now: T0 });
    expect(lines(plan.approved)).toEqual([
      'acme-runtime 1.0 -> 1.0+deb12u1: security update',
      'acme-tools 2.0 -> 2.1: update (include: all)',
    ]);
    expect(plan.pending.some((u) => u.name === 'acme-old' || u.name === 'acme-gone')).toBe(false);
  });

  it('records every offered version of an installed package, with when it was first seen', async () => {
    const home = await patchHome(debs);
    await planPatch(patchSpec(), { home, now: T0 });
    const registry = openRegistry(home);
    try {
      const rows = registry.db
        .prepare(
          'SELECT source, suite, package, version, first_seen FROM package_versions ORDER BY package, version',
        )
        .all();
      expect(rows).toEqual([
        {
          source: 'lab:acme',
          suite: 'bookworm',
          package: 'acme-old',
          version: '1.4',
          first_seen: T0.toISOString(),
        },
        {
          source: 'lab:acme',
          suite: 'bookworm',
          package: 'acme-old',
          version: '1.5',
          first_seen: T0.toISOString(),
        },
        {
          source: 'lab:acme',
          suite: 'bookworm',
          package: 'acme-runtime',
          version: '1.0',
          first_seen: T0.toISOString(),
        },
        {
          source: 'lab:acme',
          suite: 'bookworm-security',
          package: 'acme-runtime',
          version: '1.0+deb12u1',
          first_seen: T0.toISOString(),
        },
        {
          source: 'lab:acme',
          suite: 'bookworm',
          package: 'acme-tools',
          version: '2.1',
          first_seen: T0.toISOString(),
        },
      ]);
    } finally {
      registry.close();
    }
  });

  it('patches the image on the channel, else the newest one not revoked', async () => {
    const home = await patchHome(debs);
    const newer = 'img-00000000a002';
    plantManifest(
      plantImage(home, newer, {
        name: 'acme-web',
        digest: 'sha256:a002',
        createdAt: '2026-11-28T10:00:00.000Z',
        parent: PATCH_IMAGE,
      }),
      INSTALLED.map((p) => (p.name === 'acme-tools' ? { ...p, version: '2.1' } : p)),
      'sha256:a002',
    );
    const spec = patchSpec(['patch: { include: all }']);
    const newest = await planPatch(spec, { home, now: T0 });
    expect(newest.image.id).toBe(newer);
    expect(newest.pending.map((u) => u.name)).toEqual(['acme-runtime']);

    const registry = openRegistry(home);
    try {
      promote(registry, PATCH_IMAGE, 'prod', { force: true, reason: 'the test’s last good image' });
    } finally {
      registry.close();
    }
    const onProd = await planPatch(spec, { home, now: T0, channel: 'prod' });
    expect(onProd.image).toMatchObject({ id: PATCH_IMAGE, chosenBy: 'channel', channel: 'prod' });
    const noChannel = await planPatch(spec, { home, now: T0, channel: 'dev' });
    expect(noChannel.image).toMatchObject({ id: newer, chosenBy: 'newest', note: 'no channel dev yet' });

    const again = openRegistry(home);
    try {
      revokeImage(again, newer, 'breaks the app');
    } finally {
      again.close();
    }
    expect((await planPatch(spec, { home, now: T0 })).image.id).toBe(PATCH_IMAGE);
  });

  it('is a usage error when the spec has no image yet', async () => {
    const home = tempDir('goldgate-patch-empty-');
    const spec = join(tempDir('goldgate-patch-spec-'), 'spec.yaml');
    writeFileSync(spec, 'name: other-web\nbase: { suite: bookworm }\n');
    await expect(planPatch(spec, { home, now: T0 })).rejects.toMatchObject({
      code: 'PATCH_NO_IMAGE',
      message: 'no image of other-web to patch',
    });
  });

  it('for a spec of a Debian suite, reads the archive through the host’s sources, and says which suites none lists', async () => {
    const home = await patchHome(debs);
    const spec = join(tempDir('goldgate-patch-spec-'), 'spec.yaml');
    writeFileSync(
      spec,
      [
        'name: acme-web',
        'base: { suite: bookworm }',
        'repositories: [{ lab: acme, suites: [bookworm-security] }]',
        '',
      ].join('\n'),
    );
    const plan = await planPatch(spec, { home, now: T0, hostRoot: tempDir('goldgate-host-') });
    expect(plan.debianSuite).toBe('bookworm');
    expect(
      plan.sources.map((s) => [s.from.repository, s.from.suite, s.problems.map((p) => p.reason)]),
    ).toEqual([
      ['lab:acme', 'bookworm-security', []],
      [
        'debian',
        'bookworm',
        [
          "the host's apt sources list no suite bookworm",
          "the host's apt sources list no suite bookworm-updates",
          "the host's apt sources list no suite bookworm-security",
        ],
      ],
    ]);
    expect(lines(plan.approved)).toEqual(['acme-runtime 1.0 -> 1.0+deb12u1: security update']);
  });
});

describe('preparePatch', () => {
  it('writes the candidate spec: the image, exactly the approved updates, the spec’s repositories and checks', async () => {
    const home = await patchHome(debs);
    const sink = collectingSink();
    const result = await preparePatch(patchSpec(), { home, now: T0, sink });
    expect(result.outcome).toBe('candidate');
    const path = result.candidate?.path ?? '';
    expect(path).toBe(
      join(home, 'patch', 'acme-web', `${PATCH_IMAGE}-${result.plan.digest?.slice(7, 19)}.yaml`),
    );
    expect(result.candidate?.digest).toBe(result.plan.digest);
    expect(readFileSync(path, 'utf8')).toBe(
      [
        `# The patch candidate of acme-web, written by goldgate patch: ${PATCH_IMAGE} with`,
        '#   acme-runtime 1.0 -> 1.0+deb12u1 (lab:acme bookworm-security)',
        `# plan ${result.plan.digest}`,
        'name: acme-web',
        'base:',
        `  from: ${PATCH_IMAGE}`,
        'packages:',
        '  - acme-runtime=1.0+deb12u1',
        'repositories:',
        '  - lab: acme',
        '    suites:',
        '      - bookworm',
        '      - bookworm-security',
        '    components:',
        '      - main',
        '    trusted: true',
        'autoUpdates: disabled',
        'health:',
        '  - name: command /usr/lib/acme/health',
        '    command:',
        '      argv:',
        '        - /usr/lib/acme/health',
        '      expectExit: 0',
        'dnsAllow:',
        '  - api.acme.example',
        '',
      ].join('\n'),
    );
    const { spec } = await loadSpec(path, { home });
    expect(spec.base).toEqual({
      from: {
        declared: PATCH_IMAGE,
        path: join(findImage(PATCH_IMAGE, home)?.path ?? '', 'rootfs'),
        image: PATCH_IMAGE,
      },
    });
    expect(spec.packages).toEqual(['acme-runtime=1.0+deb12u1']);
    expect(
      sink.events.filter((e) => e.type === 'progress').map((e) => e.type === 'progress' && e.step),
    ).toEqual(['image', 'sources']);

    // The same plan gives the same candidate.
    const again = await preparePatch(patchSpec(), { home, now: T0 });
    expect(again.candidate).toEqual(result.candidate);
  });

  it('writes nothing for a dry run, nor when nothing is approved', async () => {
    const home = await patchHome(debs);
    expect((await preparePatch(patchSpec(), { home, now: T0, dryRun: true })).outcome).toBe('dry-run');
    const held = await preparePatch(patchSpec(['patch: { hold: [acme-runtime] }']), { home, now: T0 });
    expect(held).toMatchObject({ outcome: 'nothing-to-patch', candidate: null });
    expect(existsSync(join(home, 'patch', 'acme-web'))).toBe(false);
    expect(readdirSync(home)).not.toContain('patch');
  });
});

describe('the registry', () => {
  it('indexes an image stored before the registry knew it', async () => {
    const home = await patchHome(debs);
    const registry = openRegistry(home);
    try {
      expect(recordImage(registry, findImage(PATCH_IMAGE, home)!, 'index').id).toBe(PATCH_IMAGE);
    } finally {
      registry.close();
    }
    expect((await planPatch(patchSpec(), { home, now: T0 })).image.id).toBe(PATCH_IMAGE);
  });
});

describe('what a derived bake can install', () => {
  it('is an update from a lab repository; one from Debian’s archive stays in the plan only', () => {
    const update = (repository: string) => ({
      name: 'curl',
      architecture: 'amd64',
      from: '7.88.1-10+deb12u12',
      to: '7.88.1-10+deb12u14',
      origin: {
        repository,
        suite: 'bookworm-security',
        origin: 'Debian',
        label: 'Debian-Security',
        codename: 'bookworm-security',
      },
      security: true,
      firstSeen: T0.toISOString(),
    });
    const lab = { update: update('lab:acme'), reason: 'security update' };
    const archive = {
      update: update('http://deb.distro-mirror.example/debian-security'),
      reason: 'security update',
    };
    expect(splitBakeable([lab, archive])).toEqual({
      approved: [lab],
      planOnly: [{ update: archive.update, reason: PLAN_ONLY_REASON }],
    });
  });
});
