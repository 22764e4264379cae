import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findImage } from '../images/store.js';
import { plantImage } from '../test-support/stored-image.js';
import { channelHistory, configureChannel, DEFAULT_GATE, listChannels } from './channels.js';
import { checkRegistry } from './check.js';
import { openRegistry } from './db.js';
import type { Registry } from './db.js';
import { listEvents } from './events.js';
import { decide, promote, rollbackChannel } from './gate.js';
import { getImage, indexStore, recordImage, registeredImages } from './images.js';
import { SCHEMA_VERSION } from './migrations.js';
import { observeVersions } from './packages.js';
import { finishRun, recordStep, startRun } from './pipeline.js';
import { latestAudit, latestVerification, recordAudit, recordVerification } from './proofs.js';
import { descendantsOf, revocationOf, revokeImage } from './revoke.js';

const clean = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
const summary = (bySeverity: Partial<typeof clean> = {}, rules: string[] = []) => {
  const counts = { ...clean, ...bySeverity };
  return {
    total: Object.values(counts).reduce((a, b) => a + b, 0),
    bySeverity: counts,
    rulesRun: 13,
    rulesWithFindings: rules,
  };
};

let home: string;
let registry: Registry;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'goldgate-registry-'));
  registry = openRegistry(home);
});
afterEach(() => {
  registry.close();
  rmSync(home, { recursive: true, force: true });
});

/** Plants an image in the store and records it, as bake does. */
function image(
  id: string,
  fields: { digest?: string; parent?: string; name?: string; createdAt?: string } = {},
) {
  plantImage(home, id, { digest: `sha256:${id}`, ...fields });
  return recordImage(registry, findImage(id, home)!, 'bake');
}

function pass(id: string) {
  const img = getImage(registry, id)!;
  recordVerification(registry, img, {
    at: '2026-12-01T00:00:00.000Z',
    verdict: 'immutable',
    classes: [],
    reasons: [],
    proof: null,
  });
}

describe('the registry database', () => {
  it('is created in WAL mode at the current schema version, and opening it again migrates nothing', () => {
    expect(registry.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(registry.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    registry.close();
    registry = openRegistry(home);
    expect(registry.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it('refuses a registry written by a newer goldgate', () => {
    registry.close();
    const db = new Database(join(home, 'registry.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openRegistry(home)).toThrow(expect.objectContaining({ code: 'REGISTRY_TOO_NEW' }));
    registry = openRegistry(mkdtempSync(join(tmpdir(), 'goldgate-registry-')));
  });

  it('keeps its event log append-only', () => {
    image('img-000000000001');
    expect(() => registry.db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    expect(() => registry.db.prepare("UPDATE events SET user = 'mallory'").run()).toThrow(/append-only/);
    const events = listEvents(registry);
    expect(events.map((e) => e.action)).toEqual(['audit.record', 'image.bake']);
    expect(events[0]?.user).toBe(registry.user);
  });
});

describe('images', () => {
  it('records an image once with the audit it was baked with', () => {
    image('img-000000000001');
    recordImage(registry, findImage('img-000000000001', home)!, 'bake');
    expect(registeredImages(registry).map((i) => i.id)).toEqual(['img-000000000001']);
    expect(latestAudit(registry, 'sha256:img-000000000001')?.origin).toBe('bake');
  });

  it('indexes images of the store it does not know, such as one registered by a killed process', () => {
    plantImage(home, 'img-00000000000a', { digest: 'sha256:a' });
    plantImage(home, 'img-00000000000b', { digest: 'sha256:b', createdAt: '2026-11-28T00:00:00.000Z' });
    expect(indexStore(registry).sort()).toEqual(['img-00000000000a', 'img-00000000000b']);
    expect(indexStore(registry)).toEqual([]);
    expect(registeredImages(registry).map((i) => i.id)).toEqual(['img-00000000000b', 'img-00000000000a']);
    expect(checkRegistry(registry)).toEqual([]);
  });

  it('finds descendants at any depth', () => {
    image('img-000000000001');
    image('img-000000000002', { parent: 'img-000000000001' });
    image('img-000000000003', { parent: 'img-000000000002' });
    image('img-000000000004');
    expect(descendantsOf(registry, 'img-000000000001').sort()).toEqual([
      'img-000000000002',
      'img-000000000003',
    ]);
  });
});

describe('the gate', () => {
  it('refuses without a stored verify, naming what is missing, and records the refusal', () => {
    image('img-000000000001');
    const result = promote(registry, 'img-000000000001', 'prod');
    expect(result.assignment).toBeNull();
    expect(result.decision.missing).toEqual([expect.stringContaining('no stored verify')]);
    expect(listEvents(registry).at(-1)).toMatchObject({ action: 'promote.refused', subject: 'prod' });
    expect(listChannels(registry)[0]).toMatchObject({ name: 'prod', current: null, ...DEFAULT_GATE });
  });

  it('refuses an audit with findings at or above the threshold, and allows one below it', () => {
    image('img-000000000001');
    pass('img-000000000001');
    recordAudit(
      registry,
      getImage(registry, 'img-000000000001')!,
      summary({ medium: 2 }, ['apt-periodic-update']),
      'audit',
    );
    configureChannel(registry, 'strict', { auditThreshold: 'medium' });
    const refused = promote(registry, 'img-000000000001', 'strict');
    expect(refused.assignment).toBeNull();
    expect(refused.decision.missing[0]).toMatch(/2 medium .*apt-periodic-update/);
    expect(promote(registry, 'img-000000000001', 'prod').assignment).not.toBeNull();
  });

  it('decides on the classes a channel blocks', () => {
    const verification = {
      id: 1,
      imageId: 'img-000000000001',
      digest: 'sha256:x',
      at: 'now',
      verdict: 'reaches-outside',
      classes: ['reaches-outside' as const],
      reasons: [{ kind: 'dns', class: 'reaches-outside', summary: 'looked up pool.ntp.example' }],
      proof: null,
      passed: false,
    };
    const audit = {
      id: 1,
      imageId: 'img-000000000001',
      digest: 'sha256:x',
      at: 'now',
      origin: 'bake' as const,
      total: 0,
      bySeverity: clean,
      rules: [],
      worst: null,
    };
    expect(decide(DEFAULT_GATE, { audit, verification }).allowed).toBe(false);
    expect(
      decide({ auditThreshold: 'high', blocks: ['broken', 'changes-itself'] }, { audit, verification })
        .allowed,
    ).toBe(true);
  });

  it('records a forced promotion as forced, and needs a reason for it', () => {
    image('img-000000000001');
    expect(() => promote(registry, 'img-000000000001', 'prod', { force: true })).toThrow(/--reason/);
    const forced = promote(registry, 'img-000000000001', 'prod', { force: true, reason: 'hotfix' });
    expect(forced.assignment).toMatchObject({ forced: true, reason: 'hotfix', kind: 'promote' });
  });

  it('never promotes a revoked image, even forced, and a channel on it says so', () => {
    image('img-000000000001');
    pass('img-000000000001');
    promote(registry, 'img-000000000001', 'prod');
    revokeImage(registry, 'img-000000000001', 'CVE in the app');
    expect(listChannels(registry)[0]?.revoked?.reason).toBe('CVE in the app');
    const again = promote(registry, 'img-000000000001', 'dev', { force: true, reason: 'try' });
    expect(again.assignment).toBeNull();
    expect(again.decision.missing[0]).toMatch(/revoked/);
  });

  it('rolls a channel back step by step, and refuses a revoked previous image', () => {
    for (const id of ['img-000000000001', 'img-000000000002', 'img-000000000003']) {
      image(id);
      pass(id);
      promote(registry, id, 'prod');
    }
    expect(rollbackChannel(registry, 'prod').to).toBe('img-000000000002');
    expect(rollbackChannel(registry, 'prod').to).toBe('img-000000000001');
    expect(rollbackChannel(registry, 'prod').refused).toMatch(/no previous assignment/);
    promote(registry, 'img-000000000003', 'prod');
    revokeImage(registry, 'img-000000000001', 'bad');
    expect(rollbackChannel(registry, 'prod').refused).toMatch(/img-000000000001 was revoked/);
    expect(channelHistory(registry, 'prod').map((a) => `${a.kind}:${a.imageId.slice(-1)}`)).toEqual([
      'promote:1',
      'promote:2',
      'promote:3',
      'rollback:2',
      'rollback:1',
      'promote:3',
    ]);
    expect(checkRegistry(registry)).toEqual([]);
  });

  it('revokes descendants with --descendants, naming the ancestor', () => {
    image('img-000000000001');
    image('img-000000000002', { parent: 'img-000000000001' });
    revokeImage(registry, 'img-000000000001', 'bad base', { descendants: true });
    expect(revocationOf(registry, 'img-000000000002')).toMatchObject({
      inheritedFrom: 'img-000000000001',
      reason: 'bad base',
    });
  });

  it('judges each image on its own proofs, not on another image of the same digest', () => {
    image('img-000000000001', { digest: 'sha256:same' });
    image('img-000000000002', { digest: 'sha256:same' });
    pass('img-000000000001');
    const sibling = promote(registry, 'img-000000000002', 'prod');
    expect(sibling.assignment).toBeNull();
    expect(sibling.decision.missing).toEqual([expect.stringContaining('no stored verify of this image')]);
    expect(promote(registry, 'img-000000000001', 'prod').assignment).not.toBeNull();
  });

  it('uses the newest verification of the digest', () => {
    image('img-000000000001');
    pass('img-000000000001');
    recordVerification(registry, getImage(registry, 'img-000000000001')!, {
      at: '2026-12-02T00:00:00.000Z',
      verdict: 'broken',
      classes: ['broken'],
      reasons: [{ kind: 'health', class: 'broken', summary: 'health check "app" failed after boot' }],
      proof: '/proofs/x',
    });
    expect(latestVerification(registry, 'sha256:img-000000000001')?.verdict).toBe('broken');
    expect(promote(registry, 'img-000000000001', 'prod').decision.missing[0]).toMatch(
      /broken.*health check "app"/,
    );
  });
});

describe('package versions', () => {
  it('remembers when each version was first seen', () => {
    const v = {
      source: 'lab:acme',
      suite: 'bookworm-security',
      package: 'acme-runtime',
      version: '1.1',
      arch: 'all',
      origin: 'Debian',
      label: 'Debian-Security',
    };
    const [first] = observeVersions(registry, [v], new Date('2026-12-01T00:00:00Z'));
    const [again] = observeVersions(registry, [v], new Date('2026-12-05T00:00:00Z'));
    expect(first?.firstSeen).toBe('2026-12-01T00:00:00.000Z');
    expect(again?.firstSeen).toBe('2026-12-01T00:00:00.000Z');
  });
});

describe('pipeline runs', () => {
  it('resumes an interrupted run of the same spec text, and starts afresh after a change', () => {
    const first = startRun(registry, '/specs/a.yaml', 'sha256:1', 'pipeline', 'prod');
    image('img-000000000001');
    recordStep(registry, first.run.id, 'audit', 'img-000000000001');
    // The process that ran it is gone: a pid that cannot be alive.
    registry.db.prepare('UPDATE pipeline_runs SET pid = 2147483647 WHERE id = ?').run(first.run.id);
    const resumed = startRun(registry, '/specs/a.yaml', 'sha256:1', 'pipeline', 'prod');
    expect(resumed).toMatchObject({
      resumed: true,
      run: { id: first.run.id, step: 'audit', imageId: 'img-000000000001' },
    });
    registry.db.prepare('UPDATE pipeline_runs SET pid = 2147483647 WHERE id = ?').run(first.run.id);
    const changed = startRun(registry, '/specs/a.yaml', 'sha256:2', 'pipeline', 'prod');
    expect(changed.resumed).toBe(false);
    finishRun(registry, changed.run.id, 'done', 'nothing-to-do');
    expect(checkRegistry(registry)).toEqual([]);
  });

  it('says a live run of the same spec is busy', () => {
    const first = startRun(registry, '/specs/a.yaml', 'sha256:1', 'pipeline', null);
    registry.db.prepare('UPDATE pipeline_runs SET pid = ? WHERE id = ?').run(process.ppid, first.run.id);
    expect(startRun(registry, '/specs/a.yaml', 'sha256:1', 'pipeline', null).busy).toBe(true);
  });
});

describe('the consistency check', () => {
  it('reports an image gone from the store and a proof of another digest', () => {
    image('img-000000000001');
    recordAudit(registry, { id: 'img-000000000001', digest: 'sha256:other' }, summary(), 'audit');
    rmSync(join(home, 'images', 'img-000000000001'), { recursive: true });
    expect(
      checkRegistry(registry)
        .map((p) => p.kind)
        .sort(),
    ).toEqual(['image-missing', 'proof-digest']);
  });
});
