import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useTempHome } from '../test-support/cli.js';

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
