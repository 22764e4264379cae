import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { recordingTerminal } from '../cli/terminal.js';
import { tempDir } from '../test-support/tree.js';

async function run(...args: string[]) {
  const terminal = recordingTerminal();
  const code = await main(['node', 'goldgate', ...args], terminal);
  return { code, stdout: terminal.stdout, stderr: terminal.stderr };
}

describe('goldgate bake and images', () => {
  let saved: string | undefined;
  let home: string;
  beforeEach(() => {
    saved = process.env.GOLDGATE_HOME;
    home = tempDir();
    process.env.GOLDGATE_HOME = home;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.GOLDGATE_HOME;
    else process.env.GOLDGATE_HOME = saved;
  });

  it('lists no images in an empty home, as text and JSON', async () => {
    expect(await run('images')).toEqual({
      code: 0,
      stdout: 'no images (bake one with: goldgate bake <spec>)\n',
      stderr: '',
    });
    expect(JSON.parse((await run('images', '--json')).stdout)).toEqual({ images: [] });
  });

  it('refuses an invalid spec with exit 2 before building anything', async () => {
    const spec = join(home, 'bad.yaml');
    writeFileSync(spec, 'name: acme-web\nbase: { suite: bookworm }\npakages: [busybox]\n');
    const { code, stderr } = await run('bake', spec);
    expect(code).toBe(2);
    expect(stderr).toContain('pakages: unknown key (did you mean packages?)');
  });

  it('refuses a spec that does not exist with exit 2', async () => {
    expect((await run('bake', join(home, 'missing.yaml'))).code).toBe(2);
  });
});
