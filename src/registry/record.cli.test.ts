import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, useTempHome } from '../test-support/cli.js';
import { plantImage } from '../test-support/stored-image.js';
import { makeTree } from '../test-support/tree.js';
import { openRegistry } from './db.js';
import { listEvents } from './events.js';
import { getImage } from './images.js';
import { latestAudit } from './proofs.js';

const home = useTempHome();

/** A stored image whose root holds the incident's apt setting (a medium finding). */
function storedImage(id: string): void {
  const dir = plantImage(home(), id, { digest: `sha256:${id}` });
  const tree = makeTree({
    '/etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
    '/etc/apt/apt.conf.d/20auto-upgrades': 'APT::Periodic::Update-Package-Lists "1";\n',
  });
  cpSync(tree, join(dir, 'rootfs'), { recursive: true });
}

describe('goldgate audit of a stored image', () => {
  it('records the audit for the image digest, indexing the image first', async () => {
    storedImage('img-0000000000a1');
    const { stdout } = await runCli('audit', 'img-0000000000a1', '--json');
    const report = JSON.parse(stdout) as { summary: { rulesWithFindings: string[] } };
    const registry = openRegistry(home());
    try {
      expect(getImage(registry, 'img-0000000000a1')?.digest).toBe('sha256:img-0000000000a1');
      const audit = latestAudit(registry, 'sha256:img-0000000000a1');
      expect(report.summary.rulesWithFindings).toEqual(['apt-periodic-update']);
      expect(audit).toMatchObject({ origin: 'audit', rules: ['apt-periodic-update'] });
      expect(audit?.worst).not.toBeNull();
      expect(listEvents(registry).map((e) => e.action)).toEqual([
        'audit.record',
        'image.index',
        'audit.record',
      ]);
    } finally {
      registry.close();
    }
  });

  it('records nothing for a partial audit (--rule) or a path outside the store', async () => {
    storedImage('img-0000000000a2');
    await runCli('audit', 'img-0000000000a2', '--rule', 'apt-periodic-update');
    await runCli('audit', join(home(), 'images', 'img-0000000000a2', 'rootfs'));
    const registry = openRegistry(home());
    try {
      expect(latestAudit(registry, 'sha256:img-0000000000a2')).toBeUndefined();
    } finally {
      registry.close();
    }
  });
});
