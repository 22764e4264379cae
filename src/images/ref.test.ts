import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plantImage } from '../test-support/stored-image.js';
import { tempDir } from '../test-support/tree.js';
import { resolveImageRef } from './ref.js';

/** A home whose store holds one image, as bake or import leaves it. */
function homeWith(id: string): string {
  const home = tempDir('goldgate-home-');
  plantImage(home, id, { name: 'web' });
  return home;
}

describe('resolveImageRef', () => {
  const id = 'img-0123456789ab';
  const home = homeWith(id);

  it('reads a stored id as the stored image', () => {
    const resolved = resolveImageRef(id, { tarball: true, home });
    expect(resolved).toMatchObject({ kind: 'stored', source: join(home, 'images', id, 'rootfs') });
    expect(resolved.stored?.id).toBe(id);
  });

  it('reads a directory, and a file only where the command reads tarballs', () => {
    const dir = tempDir();
    expect(resolveImageRef(dir, { tarball: false, home })).toEqual({ kind: 'directory', source: dir });
    const tar = join(dir, 'image.tar.gz');
    writeFileSync(tar, 'x');
    expect(resolveImageRef(tar, { tarball: true, home })).toEqual({ kind: 'tarball', source: tar });
    expect(() => resolveImageRef(tar, { tarball: false, home })).toThrow(
      expect.objectContaining({ code: 'IMAGE_NOT_DIRECTORY', fault: 'user' }),
    );
  });

  it('says "no stored image" for an id, "does not exist" for a path, and refuses a device', () => {
    expect(() => resolveImageRef('img-000000000000', { tarball: true, home })).toThrow(
      expect.objectContaining({
        code: 'IMAGE_NOT_STORED',
        message: 'no stored image img-000000000000 (goldgate images lists them)',
      }),
    );
    const missing = join(tempDir(), 'rootfs');
    expect(() => resolveImageRef(missing, { tarball: false, home })).toThrow(
      expect.objectContaining({ code: 'IMAGE_NOT_FOUND', message: `${missing} does not exist` }),
    );
    expect(() => resolveImageRef('/dev/null', { tarball: true, home })).toThrow(
      expect.objectContaining({ code: 'IMAGE_NOT_FILE' }),
    );
  });
});
