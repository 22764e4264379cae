import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE } from '../registry/channels.js';
import { decide } from '../registry/gate.js';
import type { PromoteResult } from '../registry/gate.js';
import type { RegisteredImage } from '../registry/images.js';
import type { StoredAudit, StoredVerification } from '../registry/proofs.js';
import { auditDecision, bakeDecision, promoteOutcome, targetChannel, verifyDecision } from './plan.js';

const clean = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
const audit = (fields: Partial<StoredAudit> = {}): StoredAudit => ({
  id: 1,
  imageId: 'img-000000000001',
  digest: 'sha256:1',
  at: '2026-12-01T00:00:00.000Z',
  origin: 'bake',
  total: 0,
  bySeverity: clean,
  rules: [],
  worst: null,
  ...fields,
});
const verification = (fields: Partial<StoredVerification> = {}): StoredVerification => ({
  id: 1,
  imageId: 'img-000000000001',
  digest: 'sha256:1',
  at: '2026-12-01T00:01:00.000Z',
  verdict: 'immutable',
  classes: [],
  reasons: [],
  proof: null,
  passed: true,
  ...fields,
});
const image = { id: 'img-000000000001' };

describe('bake', () => {
  const run = { id: 7, imageId: 'img-000000000001' };

  it('is skipped only when a resumed run had recorded its image, still registered and stored', () => {
    expect(bakeDecision(run, true, { id: run.imageId, stored: true })).toEqual({
      run: false,
      why: 'img-000000000001 was baked by run #7 before it was interrupted',
    });
  });

  it('runs for a new run, even of a spec baked before: its repositories may offer other versions now', () => {
    expect(bakeDecision(run, false, { id: run.imageId, stored: true }).run).toBe(true);
    expect(bakeDecision({ id: 7, imageId: null }, false, undefined)).toEqual({
      run: true,
      why: 'baking the spec',
    });
  });

  it('runs again when the interrupted run had no image yet, or its image is gone', () => {
    expect(bakeDecision({ id: 7, imageId: null }, true, undefined).run).toBe(true);
    expect(bakeDecision(run, true, undefined)).toEqual({
      run: true,
      why: 'the image run #7 recorded (img-000000000001) is not in the registry',
    });
    expect(bakeDecision(run, true, { id: run.imageId, stored: false })).toEqual({
      run: true,
      why: 'the image run #7 recorded (img-000000000001) is gone from the store',
    });
  });
});

describe('audit and verify', () => {
  it('audit is skipped when an audit of the digest is stored, saying what it found', () => {
    expect(auditDecision(undefined)).toEqual({ run: true, why: 'no stored audit of this image' });
    expect(auditDecision(audit())).toEqual({
      run: false,
      why: 'audited 2026-12-01T00:00:00.000Z (bake): 0 findings',
    });
    expect(auditDecision(audit({ total: 3, worst: 'medium', origin: 'audit' })).why).toBe(
      'audited 2026-12-01T00:00:00.000Z (audit): 3 findings (worst medium)',
    );
  });

  it('verify is skipped when the newest verification of the digest is of this image, passing or not', () => {
    expect(verifyDecision(undefined, image)).toEqual({ run: true, why: 'no stored verify of this image' });
    expect(verifyDecision(verification(), image)).toEqual({
      run: false,
      why: 'verified 2026-12-01T00:01:00.000Z: immutable',
    });
    const broken = verification({ verdict: 'broken', classes: ['broken'], passed: false });
    expect(verifyDecision(broken, image)).toEqual({
      run: false,
      why: 'verified 2026-12-01T00:01:00.000Z: broken (broken)',
    });
  });

  it('verify runs for another image of the same digest: the manifest does not cover every file', () => {
    expect(verifyDecision(verification(), { id: 'img-000000000002' })).toEqual({
      run: true,
      why: 'the stored verify of this digest is of img-000000000001, whose files differ: proving img-000000000002',
    });
  });
});

describe('the channel', () => {
  it('is --channel, else the spec’s first, else none', () => {
    expect(targetChannel('canary', { channels: ['dev', 'prod'] })).toBe('canary');
    expect(targetChannel(undefined, { channels: ['dev', 'prod'] })).toBe('dev');
    expect(targetChannel(undefined, { channels: [] })).toBeNull();
    expect(targetChannel(undefined, {})).toBeNull();
  });

  it('--channel must be a channel name', () => {
    expect(() => targetChannel('Prod!', {})).toThrow(/"Prod!" is not a channel name/);
  });
});

describe('the outcome', () => {
  const promotion = (fields: Partial<PromoteResult>): PromoteResult => ({
    image: image as RegisteredImage,
    channel: 'prod',
    decision: decide(DEFAULT_GATE, { audit: audit(), verification: verification() }),
    assignment: null,
    already: false,
    ...fields,
  });

  it('without a channel: proven when the stored proofs pass the default gate, unproven with why when not', () => {
    const passing = decide(DEFAULT_GATE, { audit: audit(), verification: verification() });
    expect(promoteOutcome(image, { channel: null, decision: passing })).toMatchObject({
      outcome: 'proven',
      missing: [],
      skipped: true,
    });
    const noVerify = decide(DEFAULT_GATE, { audit: audit() });
    expect(promoteOutcome(image, { channel: null, decision: noVerify })).toMatchObject({
      outcome: 'unproven',
      missing: ['no stored verify of this image (run goldgate verify <image>)'],
    });
  });

  it('with a channel: promoted, refused with the gate’s reasons, or already there', () => {
    const assignment = {
      id: 1,
      channel: 'prod',
      imageId: image.id,
      at: '2026-12-01T00:02:00.000Z',
      by: 'root',
      kind: 'promote' as const,
      forced: false,
      reason: null,
    };
    expect(promoteOutcome(image, { channel: 'prod', promotion: promotion({ assignment }) })).toEqual({
      outcome: 'promoted',
      missing: [],
      skipped: false,
      message: 'prod → img-000000000001',
    });
    const refusal = decide(DEFAULT_GATE, {
      audit: audit({ total: 1, bySeverity: { ...clean, high: 1 }, rules: ['apt-unattended-upgrades'] }),
      verification: verification(),
    });
    expect(
      promoteOutcome(image, { channel: 'prod', promotion: promotion({ decision: refusal }) }),
    ).toMatchObject({ outcome: 'refused', missing: refusal.missing, skipped: false });
    expect(refusal.missing).toHaveLength(1);
    expect(promoteOutcome(image, { channel: 'prod', promotion: promotion({ already: true }) })).toMatchObject(
      {
        outcome: 'already',
        skipped: true,
        message: 'prod already points to img-000000000001',
      },
    );
  });
});
