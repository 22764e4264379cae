import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findImage } from '../../images/store.js';
import { openRegistry } from '../../registry/db.js';
import type { Registry } from '../../registry/db.js';
import { recordImage } from '../../registry/images.js';
import { recordAudit, recordVerification } from '../../registry/proofs.js';
import type { VerifyClass } from '../../registry/proofs.js';
import { runCli, useTempHome } from '../../test-support/cli.js';
import { gateSchemaErrors, gateSchemas } from '../../test-support/gate-schema.js';
import { plantImage, plantManifest } from '../../test-support/stored-image.js';

const home = useTempHome();

function withRegistry<T>(work: (registry: Registry) => T): T {
  const registry = openRegistry(home());
  try {
    return work(registry);
  } finally {
    registry.close();
  }
}

const A = 'img-00000000000a';
const B = 'img-00000000000b';
const C = 'img-00000000000c';

/** An image as bake leaves it (image.json, manifest.json) and records it. */
function baked(
  id: string,
  packages: Record<string, string> = { 'acme-runtime': '1.0' },
  fields: { parent?: string; createdAt?: string; spec?: string; name?: string } = {},
): void {
  plantImage(home(), id, { digest: `sha256:${id}`, ...fields });
  plantManifest(home(), id, packages);
  withRegistry((registry) => recordImage(registry, findImage(id, home())!, 'bake'));
}

function verified(id: string, verdict = 'immutable', classes: VerifyClass[] = []): void {
  withRegistry((registry) =>
    recordVerification(
      registry,
      { id, digest: `sha256:${id}` },
      {
        at: '2026-12-01T08:00:00.000Z',
        verdict,
        classes,
        reasons: classes.map((c) => ({
          kind: 'health',
          class: c,
          summary: `health check "app" failed (${c})`,
        })),
        proof: join(home(), 'images', id, 'verify', 'proof-1'),
      },
    ),
  );
}

function audited(id: string, bySeverity: Record<string, number>, rules: string[]): void {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0, ...bySeverity };
  withRegistry((registry) =>
    recordAudit(
      registry,
      { id, digest: `sha256:${id}` },
      {
        total: Object.values(counts).reduce((a, b) => a + b, 0),
        bySeverity: counts,
        rulesRun: 13,
        rulesWithFindings: rules,
      },
      'audit',
    ),
  );
}

async function json<T>(...args: string[]): Promise<T> {
  const { code, stdout, stderr } = await runCli(...args, '--json');
  expect(stderr).toBe('');
  expect([0, 1]).toContain(code);
  return JSON.parse(stdout) as T;
}

interface ChannelsJson {
  channels: Array<{
    name: string;
    gate: { auditThreshold: string; blocks: string[] };
    current: { image: { id: string }; forced: boolean; reason: string | null; kind: string } | null;
    revoked: { reason: string } | null;
  }>;
}

describe('goldgate promote', () => {
  it('refuses an image without a stored verify (exit 1), naming it and the command that provides it', async () => {
    baked(A);
    const refused = await runCli('promote', A, '--channel', 'prod');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('');
    expect(refused.stdout).toContain(
      `refused: ${A} (acme-web, sha256:img-00000000) was not promoted to prod`,
    );
    expect(refused.stdout).toContain('✗ no stored verify of this image\n');
    expect(refused.stdout).toContain(`→ goldgate verify ${A}\n`);
    expect(refused.stdout).not.toContain('no stored audit');
    const channels = await json<ChannelsJson>('channels');
    expect(channels.channels).toEqual([
      expect.objectContaining({ name: 'prod', current: null, revoked: null }),
    ]);
    const events = await json<{ events: Array<{ action: string; subject: string }> }>(
      'events',
      '--subject',
      'prod',
    );
    expect(events.events.map((e) => e.action)).toEqual(['channel.create', 'promote.refused']);
  });

  it("refuses an audit at or above the channel's threshold, and promotes under a looser one", async () => {
    baked(A);
    verified(A);
    audited(A, { high: 1, medium: 2 }, ['apt-unattended-upgrades', 'apt-periodic-update']);
    const refused = await json<{ promoted: boolean; missing: Array<{ reason: string; remedy: string }> }>(
      'promote',
      A,
      '--channel',
      'prod',
    );
    expect(refused.promoted).toBe(false);
    expect(refused.missing).toEqual([
      {
        reason:
          "its audit has 1 high finding(s), at or above the channel's threshold (high): apt-unattended-upgrades, apt-periodic-update",
        remedy: `fix what goldgate audit ${A} finds and bake again, or let the channel take it: goldgate channel create prod --audit-threshold critical`,
      },
    ]);
    expect((await runCli('channel', 'create', 'prod', '--audit-threshold', 'critical')).code).toBe(0);
    const promoted = await runCli('promote', A, '--channel', 'prod');
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toContain('audit   worst high (1 high, 2 medium), audit ');
  });

  it('promotes after a passing verification, printing the evidence, and says when it is already there', async () => {
    baked(A);
    verified(A);
    const promoted = await runCli('promote', 'acme-web', '--channel', 'prod', '--reason', 'first release');
    expect(promoted).toMatchObject({ code: 0, stderr: '' });
    expect(promoted.stdout).toContain(`promoted ${A} (acme-web, sha256:img-00000000) to prod\n`);
    expect(promoted.stdout).toContain('  audit   no finding, bake 2026-11-27T10:00:00.000Z\n');
    expect(promoted.stdout).toContain(
      `  verify  immutable, 2026-12-01T08:00:00.000Z, proof ${join(home(), 'images', A, 'verify', 'proof-1')}\n`,
    );
    const again = await runCli('promote', A, '--channel', 'prod');
    expect(again).toMatchObject({
      code: 0,
      stdout: `prod already points to ${A} (acme-web, sha256:img-00000000): nothing changed\n`,
    });
    const history = await json<{ history: Array<{ reason: string | null; kind: string; current: boolean }> }>(
      'channel',
      'history',
      'prod',
    );
    expect(history.history).toEqual([
      expect.objectContaining({ kind: 'promote', reason: 'first release', current: true }),
    ]);
  });

  it('refuses a verify of a class the channel blocks, and a channel that does not block it takes it', async () => {
    baked(A);
    verified(A, 'reaches-outside', ['reaches-outside']);
    const refused = await runCli('promote', A, '--channel', 'prod');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/its newest verify \(2026-12-01T08:00:00.000Z\) is reaches-outside/);
    await runCli('channel', 'create', 'dev', '--block', 'changes-itself,broken');
    expect((await runCli('promote', A, '--channel', 'dev')).code).toBe(0);
  });

  it('needs --reason for --force, and records a forced promotion as forced', async () => {
    baked(A);
    const noReason = await runCli('promote', A, '--channel', 'prod', '--force');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--force needs --reason');
    const forced = await runCli('promote', A, '--channel', 'prod', '--force', '--reason', 'INC-4711 hotfix');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(
      `promoted (forced) ${A} (acme-web, sha256:img-00000000) to prod past its gate: INC-4711 hotfix`,
    );
    expect(forced.stdout).toContain('✗ no stored verify of this image');
    const channels = await json<ChannelsJson>('channels');
    expect(channels.channels[0]?.current).toMatchObject({
      image: { id: A },
      forced: true,
      reason: 'INC-4711 hotfix',
    });
    expect((await runCli('channels')).stdout).toContain('FORCED: INC-4711 hotfix');
    const events = await json<{ events: Array<{ action: string }> }>('events', '--limit', '1');
    expect(events.events.map((e) => e.action)).toEqual(['promote.forced']);
  });

  it('exits 2 for an unknown image, an ambiguous prefix and a bad channel name', async () => {
    baked(A);
    baked(B);
    expect(await runCli('promote', 'img-000000000099', '--channel', 'prod')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'goldgate: no stored image img-000000000099 (goldgate images lists them)',
      ),
    });
    expect((await runCli('promote', 'img-0000000000', '--channel', 'prod')).stderr).toContain(
      'is the start of several images',
    );
    expect((await runCli('promote', A, '--channel', 'Prod!')).code).toBe(2);
    expect((await runCli('promote', A)).code).toBe(2);
  });
});

describe('goldgate revoke and channels', () => {
  it('shows a channel on a revoked image loudly, and never promotes a revoked image', async () => {
    baked(A);
    verified(A);
    baked(B, { 'acme-runtime': '1.1' }, { parent: A, createdAt: '2026-11-28T10:00:00.000Z' });
    await runCli('promote', A, '--channel', 'prod');
    expect((await runCli('revoke', A)).code).toBe(2);
    const revoked = await runCli('revoke', A, '--reason', 'CVE-2026-1234 in acme-runtime', '--descendants');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(
      [
        `revoked ${A} (acme-web): CVE-2026-1234 in acme-runtime`,
        `revoked ${B} (acme-web), inherited from ${A}: CVE-2026-1234 in acme-runtime`,
        'channels now pointing to a revoked image:',
        `  prod → ${A}: roll it back (goldgate channel rollback prod) or promote another image`,
        '',
      ].join('\n'),
    );
    const text = await runCli('channels');
    expect(text.stdout).toMatch(
      /✗ REVOKED: the channel points to an image revoked .* CVE-2026-1234 in acme-runtime/,
    );
    const channels = await json<ChannelsJson>('channels');
    expect(channels.channels[0]?.revoked).toMatchObject({ reason: 'CVE-2026-1234 in acme-runtime' });
    const again = await json<{ revoked: unknown[]; alreadyRevoked: Array<{ image: { id: string } }> }>(
      'revoke',
      A,
      '--reason',
      'twice',
    );
    expect(again.revoked).toEqual([]);
    expect(again.alreadyRevoked.map((r) => r.image.id)).toEqual([A]);
    const forced = await runCli('promote', B, '--channel', 'dev', '--force', '--reason', 'try');
    expect(forced.code).toBe(1);
    expect(forced.stdout).toMatch(/✗ the image was revoked/);
    expect(forced.stdout).not.toContain('to promote it anyway');
  });

  it('revokes by name only when the name has a single image', async () => {
    baked(A);
    baked(B, undefined, { createdAt: '2026-11-28T10:00:00.000Z' });
    const ambiguous = await runCli('revoke', 'acme-web', '--reason', 'x');
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`2 images are named acme-web: ${B}`);
  });
});

describe('goldgate channel', () => {
  it('creates a channel, changes its gate (recorded), and refuses a bad class or severity', async () => {
    expect((await runCli('channel', 'create', 'canary', '--block', 'none')).stdout).toBe(
      'created channel canary: no audit finding at or above high; a stored verify, whatever its verdict\n',
    );
    const changed = await json<{ created: boolean; changed: boolean; channel: { gate: unknown } }>(
      'channel',
      'create',
      'canary',
      '--audit-threshold',
      'medium',
    );
    expect(changed).toMatchObject({
      created: false,
      changed: true,
      channel: { gate: { auditThreshold: 'medium', blocks: [] } },
    });
    expect((await runCli('channel', 'create', 'canary')).stdout).toContain(
      'channel canary exists, gate unchanged',
    );
    const events = await json<{ events: Array<{ action: string }> }>('events', '--subject', 'canary');
    expect(events.events.map((e) => e.action)).toEqual(['channel.create', 'channel.configure']);
    expect((await runCli('channel', 'create', 'canary', '--block', 'flaky')).code).toBe(2);
    expect((await runCli('channel', 'create', 'canary', '--audit-threshold', 'severe')).code).toBe(2);
    expect((await runCli('channel', 'history', 'nope')).code).toBe(2);
  });

  it('rolls back to the previous image, then refuses: no previous assignment, or a revoked one', async () => {
    for (const [id, day] of [
      [A, '27'],
      [B, '28'],
    ] as const) {
      baked(id, undefined, { createdAt: `2026-11-${day}T10:00:00.000Z` });
      verified(id);
      await runCli('promote', id, '--channel', 'prod');
    }
    const back = await runCli('channel', 'rollback', 'prod', '--reason', 'app errors');
    expect(back).toMatchObject({ code: 0, stdout: `rolled prod back from ${B} to ${A}\n` });
    const none = await runCli('channel', 'rollback', 'prod');
    expect(none.code).toBe(1);
    expect(none.stdout).toBe(
      `refused: prod stays on ${A}: channel prod has no previous assignment before ${A}\n`,
    );
    await runCli('promote', B, '--channel', 'prod');
    await runCli('revoke', A, '--reason', 'bad');
    const revoked = await json<{ rolledBack: boolean; refused: string; to: { id: string } }>(
      'channel',
      'rollback',
      'prod',
    );
    expect(revoked).toMatchObject({ rolledBack: false, to: { id: A } });
    expect(revoked.refused).toMatch(new RegExp(`the previous image ${A} was revoked .*: bad`));
    const history = await runCli('channel', 'history', 'prod');
    expect(
      history.stdout
        .split('\n')
        .filter((l) => l.startsWith('  2'))
        .map((l) => l.split(/\s+/)[3]),
    ).toEqual(['promote', 'promote', 'rollback', 'promote']);
    expect(history.stdout).toMatch(/"app errors"/);
    const empty = await runCli('channel', 'create', 'dev');
    expect(empty.code).toBe(0);
    expect((await runCli('channel', 'rollback', 'dev')).code).toBe(2);
  });
});

describe('goldgate images', () => {
  it('indexes images on disk the registry does not know, and lists channels, revocation and verify verdict', async () => {
    baked(A);
    verified(A);
    await runCli('promote', A, '--channel', 'prod');
    plantImage(home(), B, { digest: `sha256:${B}`, parent: A, createdAt: '2026-11-28T10:00:00.000Z' });
    const text = await runCli('images');
    expect(text.stdout).toBe(
      [
        `${B}  acme-web  2026-11-28T10:00:00.000Z  sha256:img-00000000  not verified  findings 0  autoUpdates disabled  parent ${A}`,
        `${A}  acme-web  2026-11-27T10:00:00.000Z  sha256:img-00000000  verify immutable  on prod  findings 0  autoUpdates disabled`,
        '',
      ].join('\n'),
    );
    await runCli('revoke', B, '--reason', 'never verified');
    expect((await runCli('images')).stdout.split('\n')[0]).toBe(
      `${B}  acme-web  2026-11-28T10:00:00.000Z  sha256:img-00000000  REVOKED  not verified  findings 0  autoUpdates disabled  parent ${A}`,
    );
    const listed = await json<{ images: Array<{ id: string; revoked: unknown; channels: string[] }> }>(
      'images',
    );
    expect(listed.images.map((i) => [i.id, i.channels, i.revoked === null])).toEqual([
      [B, [], false],
      [A, ['prod'], true],
    ]);
    expect(listed.images[0]).toMatchObject({ parent: A });
    expect(listed.images[1]).not.toHaveProperty('parent');
    expect(listed.images[1]).not.toHaveProperty('source');
  });

  it('shows a lineage with the package upgrade and the files declared between parent and child', async () => {
    const spec = join(home(), 'acme-web.yaml');
    writeFileSync(
      spec,
      'name: acme-web\nbase: { from: img-00000000000a }\nfiles:\n  - path: /etc/acme/v2.conf\n    content: "v2"\n',
    );
    baked(A, { 'acme-runtime': '1.0', libc6: '2.36-9' }, { name: 'debian-base' });
    baked(
      B,
      { 'acme-runtime': '1.0+deb12u1', libc6: '2.36-9' },
      { parent: A, spec, createdAt: '2026-11-28T10:00:00.000Z' },
    );
    baked(
      C,
      { 'acme-runtime': '1.0+deb12u2', libc6: '2.36-9' },
      { parent: B, spec, createdAt: '2026-11-29T10:00:00.000Z' },
    );
    verified(B, 'broken', ['broken']);
    verified(C);
    await runCli('promote', C, '--channel', 'prod');
    const text = await runCli('images', '--lineage', 'acme-web');
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      [
        'lineage of acme-web: 3 images, each after its parent',
        `${A}  debian-base  2026-11-27T10:00:00.000Z  sha256:img-00000000  not verified`,
        `  └─ ${B}  acme-web  2026-11-28T10:00:00.000Z  sha256:img-00000000  verify broken`,
        '       package acme-runtime:amd64  1.0 → 1.0+deb12u1  (upgraded)',
        '       files declared by its spec: /etc/acme/v2.conf',
        `    └─ ${C}  acme-web  2026-11-29T10:00:00.000Z  sha256:img-00000000  on prod  verify immutable`,
        '         package acme-runtime:amd64  1.0+deb12u1 → 1.0+deb12u2  (upgraded)',
        '         files declared by its spec: /etc/acme/v2.conf',
        '',
      ].join('\n'),
    );
    const lineage = await json<{ images: Array<{ id: string; changes: { packages: unknown[] } | null }> }>(
      'images',
      '--lineage',
      'acme-web',
    );
    expect(lineage.images[1]?.changes?.packages).toEqual([
      { name: 'acme-runtime', architecture: 'amd64', from: '1.0', to: '1.0+deb12u1', change: 'upgraded' },
    ]);
    rmSync(spec);
    expect((await runCli('images', '--lineage', 'acme-web')).stdout).toContain(`(the spec ${spec} is gone)`);
    expect((await runCli('images', '--lineage', 'nope')).code).toBe(2);
  });
});

describe('goldgate registry check and events', () => {
  it('is consistent, then lists an image gone from the store (exit 1)', async () => {
    baked(A);
    const ok = await runCli('registry', 'check');
    expect(ok).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(': consistent (integrity_check ok'),
    });
    rmSync(join(home(), 'images', A), { recursive: true });
    const bad = await json<{
      consistent: boolean;
      integrity: string;
      problems: Array<{ kind: string; subject: string }>;
    }>('registry', 'check');
    expect(bad).toMatchObject({
      consistent: false,
      integrity: 'ok',
      problems: [{ kind: 'image-missing', subject: A }],
    });
    expect((await runCli('registry', 'check')).code).toBe(1);
  });

  it('prints the event log, by subject and the last n', async () => {
    baked(A);
    const all = await runCli('events');
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('  ')[2]),
    ).toEqual(['audit.record', 'image.bake']);
    expect((await runCli('events', '--limit', '0')).code).toBe(2);
    const one = await json<{ events: Array<{ action: string; subject: string; user: string }> }>(
      'events',
      '--subject',
      A,
      '--limit',
      '1',
    );
    expect(one.events).toEqual([expect.objectContaining({ action: 'image.bake', subject: A })]);
  });
});

describe('the JSON schemas of docs/gate.md', () => {
  /** A home with every kind of state: forced, revoked, rolled back, a lineage, an imported image. */
  async function populated(): Promise<void> {
    baked(A);
    verified(A);
    baked(B, { 'acme-runtime': '1.1' }, { parent: A, createdAt: '2026-11-28T10:00:00.000Z' });
    audited(B, { medium: 1 }, ['apt-periodic-update']);
    verified(B, 'broken', ['broken']);
    plantImage(home(), C, {
      digest: `sha256:${C}`,
      name: 'imported',
      spec: '',
      source: { kind: 'qcow2', path: '/srv/web.qcow2', partition: 1, filesystem: 'ext4' },
    });
    await runCli('promote', A, '--channel', 'prod');
    await runCli('promote', B, '--channel', 'prod', '--force', '--reason', 'hotfix');
    await runCli('channel', 'rollback', 'prod');
    await runCli('promote', B, '--channel', 'dev', '--force', '--reason', 'try');
    await runCli('revoke', B, '--reason', 'broken at boot');
    await runCli('channel', 'create', 'empty', '--block', 'none');
  }

  it('are the shapes the commands print', async () => {
    await populated();
    expect(gateSchemas().length).toBeGreaterThanOrEqual(5);
    const outputs: Array<[string, string[]]> = [
      ['channels.json', ['channels']],
      ['channel-history.json', ['channel', 'history', 'prod']],
      ['images.json', ['images']],
      ['lineage.json', ['images', '--lineage', 'acme-web']],
    ];
    for (const [schema, args] of outputs) {
      const document = await json<Record<string, unknown>>(...args);
      expect(gateSchemaErrors(schema, document), `${args.join(' ')} --json`).toBe('');
    }
  });

  it('reject what the commands never print', async () => {
    await populated();
    const channels = await json<ChannelsJson>('channels');
    const broken = structuredClone(channels);
    (broken.channels[0] as { gate: { blocks: string[] } }).gate.blocks = ['flaky'];
    expect(gateSchemaErrors('channels.json', broken)).toMatch(/blocks/);
    const images = await json<{ images: Array<Record<string, unknown>> }>('images');
    expect(gateSchemaErrors('images.json', { images: [{ ...images.images[0], channels: 'prod' }] })).toMatch(
      /channels/,
    );
    const lineage = await json<{ images: Array<Record<string, unknown>> }>('images', '--lineage', 'acme-web');
    expect(
      gateSchemaErrors('lineage.json', { ...lineage, images: [{ ...lineage.images[1], depth: -1 }] }),
    ).toMatch(/depth/);
  });
});

const bin = new URL('../../../bin/goldgate.js', import.meta.url).pathname;
const built = existsSync(new URL('../../../dist/cli/main.js', import.meta.url));

describe.runIf(built)('the built goldgate executable', () => {
  it('refuses, then promotes once the proof is stored, with the exit statuses a script reads', () => {
    baked(A);
    const env = { ...process.env, GOLDGATE_HOME: home() };
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
    const refused = run('promote', A, '--channel', 'prod');
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(`→ goldgate verify ${A}`);
    verified(A);
    expect(run('promote', A, '--channel', 'prod').status).toBe(0);
    const channels = JSON.parse(run('channels', '--json').stdout) as ChannelsJson;
    expect(channels.channels[0]?.current?.image.id).toBe(A);
  });
});
