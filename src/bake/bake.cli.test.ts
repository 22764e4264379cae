import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../images/store.js';
import { runCli, useTempHome } from '../test-support/cli.js';
import { plantImage } from '../test-support/stored-image.js';

describe('goldgate bake and images', () => {
  const homeOf = useTempHome();

  it('lists no images in an empty home, as text and JSON', async () => {
    expect(await runCli('images')).toEqual({
      code: 0,
      stdout: 'no images (bake one with: goldgate bake <spec>)\n',
      stderr: '',
    });
    expect(JSON.parse((await runCli('images', '--json')).stdout)).toEqual({ images: [] });
  });

  it('shows lineage: the parent of a derived image, the source of an imported one', async () => {
    const record = (id: string, createdAt: string, extra: Partial<ImageRecord>) =>
      plantImage(homeOf(), id, { name: 'acme', digest: `sha256:${'a'.repeat(64)}`, createdAt, ...extra });
    const source = { kind: 'tar' as const, path: '/srv/exports/acme.tar' };
    record('img-000000000001', '2026-01-01T00:00:00.000Z', {
      spec: '',
      base: 'import',
      autoUpdates: 'enabled',
      source,
    });
    record('img-000000000002', '2026-01-02T00:00:00.000Z', {
      spec: '/srv/specs/lab.yaml',
      base: 'from:img-000000000001',
      autoUpdates: 'disabled',
      parent: 'img-000000000001',
    });
    const { stdout } = await runCli('images');
    const [derived, imported] = stdout.trimEnd().split('\n');
    expect(derived).toMatch(/^img-000000000002 .* {2}autoUpdates disabled {2}parent img-000000000001$/);
    expect(imported).toMatch(
      /^img-000000000001 .* {2}autoUpdates enabled {2}source tar \/srv\/exports\/acme.tar$/,
    );
    const json = JSON.parse((await runCli('images', '--json')).stdout) as {
      images: Record<string, unknown>[];
    };
    expect(json.images[0]).toMatchObject({ id: 'img-000000000002', parent: 'img-000000000001' });
    expect(json.images[0]).not.toHaveProperty('source');
    expect(json.images[1]).toMatchObject({ id: 'img-000000000001', source });
    expect(json.images[1]).not.toHaveProperty('parent');
  });

  it('refuses an invalid spec with exit 2 before building anything', async () => {
    const spec = join(homeOf(), 'bad.yaml');
    writeFileSync(spec, 'name: acme-web\nbase: { suite: bookworm }\npakages: [busybox]\n');
    const { code, stderr } = await runCli('bake', spec);
    expect(code).toBe(2);
    expect(stderr).toContain('pakages: unknown key (did you mean packages?)');
  });

  it('refuses a spec that does not exist with exit 2', async () => {
    expect((await runCli('bake', join(homeOf(), 'missing.yaml'))).code).toBe(2);
  });
});
