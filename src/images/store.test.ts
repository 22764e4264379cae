import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageRecord } from '../test-support/stored-image.js';
import { tempDir } from '../test-support/tree.js';
import { cleanupStore, createStaging, findImage, listImages, registerImage } from './store.js';
import type { ImageRecord } from './store.js';

// Above Linux's pid_max (2^22): never a live process.
const DEAD_PID = 4_194_305;

const record = (id: string, createdAt?: string): ImageRecord =>
  imageRecord(id, createdAt === undefined ? {} : { createdAt });

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

  it('reads image.json through its schema: a record changed outside goldgate is an error naming the file', () => {
    const home = tempDir();
    const id = 'img-bbbbbbbbbbbb';
    const dir = join(home, 'images', id);
    mkdirSync(join(dir, 'rootfs'), { recursive: true });
    const file = join(dir, 'image.json');
    for (const [text, reason] of [
      ['{"id":5}', 'id: '],
      ['not json', 'not JSON'],
      [JSON.stringify({ ...record(id), audit: { before: {} } }), 'audit.'],
      [JSON.stringify(record('img-cccccccccccc')), 'it names img-cccccccccccc, not img-bbbbbbbbbbbb'],
    ] as const) {
      writeFileSync(file, text);
      for (const read of [() => findImage(id, home), () => listImages(home)])
        expect(read).toThrow(
          expect.objectContaining({
            code: 'IMAGE_RECORD_INVALID',
            fault: 'environment',
            message: expect.stringContaining(`${file} is not a whole image record: ${reason}`),
          }),
        );
    }
    writeFileSync(file, JSON.stringify(record(id)));
    expect(findImage(id, home)?.id).toBe(id);
    rmSync(join(dir, 'rootfs'), { recursive: true });
    expect(() => findImage(id, home)).toThrow('the image has no rootfs/ beside it');
  });

  it('lists the newest first', () => {
    const home = tempDir();
    for (const [id, at] of [
      ['img-111111111111', '2026-11-01T00:00:00.000Z'],
      ['img-222222222222', '2026-11-02T00:00:00.000Z'],
    ] as const) {
      const staging = createStaging(home);
      mkdirSync(join(staging, 'rootfs'));
      registerImage(staging, record(id, at), home);
    }
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
