import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PatchReportSchema } from '../../patch/report.js';
import { runCli, useTempHome } from '../../test-support/cli.js';
import { PATCH_IMAGE, patchDebs, patchHome, patchSpec } from '../../test-support/patch-lab.js';
import type { PatchDebs } from '../../test-support/patch-lab.js';

let debs: PatchDebs;
beforeAll(async () => {
  debs = await patchDebs();
});

/** The text with the times it prints (first seen: when the test ran) replaced. */
const timeless = (text: string) =>
  text.replace(/first seen \d{4}-\d\d-\d\d \d\d:\d\d UTC, \d+ seconds ago/g, 'first seen <now>');

describe('goldgate patch', () => {
  const homeOf = useTempHome();

  it('--dry-run prints the pending updates and the plan, and writes nothing', async () => {
    await patchHome(debs, homeOf());
    const spec = patchSpec();
    const { code, stdout, stderr } = await runCli('patch', spec, '--dry-run');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(timeless(stdout)).toBe(
      [
        `patch acme-web: ${PATCH_IMAGE} (the newest acme-web image not revoked)`,
        'sources:',
        '  lab:acme bookworm (goldgate, goldgate lab): 4 versions of installed packages',
        '  lab:acme bookworm-security (Debian, Debian-Security): 1 version of installed packages',
        'pending updates (2):',
        '  acme-runtime  1.0 → 1.0+deb12u1  lab:acme bookworm-security (Debian, Debian-Security)  security      first seen <now>',
        '  acme-tools    2.0 → 2.1          lab:acme bookworm (goldgate, goldgate lab)            not security  first seen <now>',
        'policy: include security, minAge 0, hold none, allow none',
        'approved (1):',
        '  acme-runtime 1.0 → 1.0+deb12u1 from lab:acme bookworm-security: security update',
        'left out (1):',
        '  acme-tools 2.0 → 2.1 from lab:acme bookworm: not a security update (include: security)',
        'dry run: nothing written, nothing baked',
        '',
      ].join('\n'),
    );
    expect(existsSync(`${homeOf()}/patch/acme-web`)).toBe(false);
  });

  it('--json prints one document of the documented shape', async () => {
    await patchHome(debs, homeOf());
    const { code, stdout } = await runCli(
      'patch',
      patchSpec(['patch: { hold: [acme-runtime] }']),
      '--dry-run',
      '--json',
    );
    expect(code).toBe(0);
    const report = PatchReportSchema.parse(JSON.parse(stdout));
    expect(report.outcome).toBe('dry-run');
    expect(report.image).toEqual({
      id: PATCH_IMAGE,
      name: 'acme-web',
      digest: 'sha256:a001',
      createdAt: '2026-11-27T10:00:00.000Z',
      chosenBy: 'newest',
      channel: null,
      note: null,
    });
    expect(report.policy).toEqual({ include: 'security', minAge: '0', hold: ['acme-runtime'], allow: [] });
    expect(report.pending.map((u) => `${u.name} ${u.from} ${u.to} ${u.security}`)).toEqual([
      'acme-runtime 1.0 1.0+deb12u1 true',
      'acme-tools 2.0 2.1 false',
    ]);
    expect(report.approved).toEqual([]);
    expect(report.leftOut.map((d) => `${d.name}: ${d.reason}`)).toEqual([
      'acme-runtime: held',
      'acme-tools: not a security update (include: security)',
    ]);
    expect(report.digest).toBeNull();
    expect(report.candidate).toBeNull();
  });

  it('says there is nothing to patch, and bakes nothing, when nothing is approved', async () => {
    await patchHome(debs, homeOf());
    const { code, stdout } = await runCli('patch', patchSpec(['patch: { minAge: 2d }']));
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /\nleft out \(2\):\n {2}acme-runtime 1\.0 → 1\.0\+deb12u1 from lab:acme bookworm-security: first seen \d+ seconds ago, minAge 2d\n/,
    );
    expect(
      stdout.endsWith(
        'nothing to patch: no pending update is approved by the policy (2 left out); nothing baked\n',
      ),
    ).toBe(true);
    expect(existsSync(`${homeOf()}/patch`)).toBe(false);
  });

  it('is a usage error without an image to patch, or with a bad channel name', async () => {
    const spec = patchSpec();
    const noImage = await runCli('patch', spec, '--dry-run');
    expect(noImage.code).toBe(2);
    expect(noImage.stderr).toMatch(/base\.from: no stored image img-00000000a001/);

    await patchHome(debs, homeOf());
    const badChannel = await runCli('patch', spec, '--channel', 'Prod!', '--dry-run');
    expect(badChannel).toMatchObject({ code: 2, stdout: '' });
    expect(badChannel.stderr).toMatch(/^goldgate: "Prod!" is not a channel name\n/);
  });
});
