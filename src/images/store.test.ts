import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { cleanupStore, createStaging, findImage, listImages, registerImage } from './store.js';
import type { ImageRecord } from './store.js';

// Above Linux's pid_max (2^22): never a live process.
const DEAD_PID = 4_194_305;

const summary = {
  total: 0,
  bySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 },
  rulesRun: 13,
  rulesWithFindings: [],
};

function record(id: string, createdAt = '2026-11-27T10:00:00.000Z'): ImageRecord {
  return {
    id,
    name: 'acme-web',
    digest: 'sha256:00',
    createdAt,
    spec: '/specs/acme.yaml',
    base: '0123456789abcdef@2026-11-27',
    autoUpdates: 'disabled',
    audit: { before: summary, after: summary, applied: 0, notApplied: 0 },
  };
}

describe('the image store', () => {
  it('registers a staged image by rename, image.json last, and lists only registered images', () => {
    const home = tempDir();
    const staging = createStaging(home);
    mkdirSync(join(staging, 'rootfs'));
    const image = registerImage(staging, record('img-aaaaaaaaaaaa'), home);
    expect(image.path).toBe(join(home, 'images', 'img-aaaaaaaaaaaa'));
    expect(existsSync(staging)).toBe(false);
    expect(readdirSync(image.path).sort()).toEqual(['image.json', 'rootfs']);
    // A directory without image.json is not an image.
    mkdirSync(join(home, 'images', 'img-bbbbbbbbbbbb', 'rootfs'), { recursive: true });
    expect(listImages(home).map((i) => i.id)).toEqual(['img-aaaaaaaaaaaa']);
    expect(findImage('img-bbbbbbbbbbbb', home)).toBeUndefined();
    expect(findImage('../etc', home)).toBeUndefined();
  });

  it('never leaves images/<id> without its image.json: a registration that cannot write it leaves only the staging directory', () => {
    const home = tempDir();
    const staging = createStaging(home);
    mkdirSync(join(staging, 'rootfs'));
    // image.json cannot be written (as when the disk is full): here a directory stands in its way.
    mkdirSync(join(staging, 'image.json', 'in-the-way'), { recursive: true });
    expect(() => registerImage(staging, record('img-eeeeeeeeeeee'), home)).toThrow();
    expect(existsSync(join(home, 'images', 'img-eeeeeeeeeeee'))).toBe(false);
    expect(existsSync(staging)).toBe(true);
  });

  it('lists the newest first', () => {
    const home = tempDir();
    for (const [id, at] of [
      ['img-111111111111', '2026-11-01T00:00:00.000Z'],
      ['img-222222222222', '2026-11-02T00:00:00.000Z'],
    ] as const)
      registerImage(createStaging(home), record(id, at), home);
    expect(listImages(home).map((i) => i.id)).toEqual(['img-222222222222', 'img-111111111111']);
  });

  it("removes a dead build's staging and unregistered image directories, and keeps a live one's", () => {
    const home = tempDir();
    const images = join(home, 'images');
    const live = createStaging(home);
    const dead = join(images, `.staging-${DEAD_PID}-0a0b0c`);
    mkdirSync(join(dead, 'rootfs'), { recursive: true });
    const halfRegistered = join(images, 'img-cccccccccccc');
    mkdirSync(join(halfRegistered, 'rootfs'), { recursive: true });
    writeFileSync(join(halfRegistered, 'owner.pid'), `${DEAD_PID}\n`);
    const registered = registerImage(createStaging(home), record('img-dddddddddddd'), home);
    expect(cleanupStore(home).sort()).toEqual([dead, halfRegistered].sort());
    expect(existsSync(live)).toBe(true);
    expect(existsSync(registered.path)).toBe(true);
  });

  it('has nothing to clean in a home without images', () => {
    expect(cleanupStore(tempDir())).toEqual([]);
    expect(listImages(tempDir())).toEqual([]);
  });
});
