import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findImage } from '../images/store.js';
import { plantImage } from '../test-support/stored-image.js';
import { tempDir } from '../test-support/tree.js';
import { channelHistory } from './channels.js';
import { checkRegistry } from './check.js';
import { openRegistry } from './db.js';
import { listEvents } from './events.js';
import { recordImage } from './images.js';
import { recordVerification } from './proofs.js';

// Two goldgate processes writing the same registry at once: each promotes, records proofs and
// observes package versions in a loop. Run from the build (dist/), as the CLI runs.
const dist = (module: string) => pathToFileURL(join(import.meta.dirname, '../../dist/registry', module)).href;
const WRITER = `
const [home, tag, rounds] = process.argv.slice(1);
const { openRegistry } = await import(${JSON.stringify(dist('db.js'))});
const { promote } = await import(${JSON.stringify(dist('gate.js'))});
const { observeVersions } = await import(${JSON.stringify(dist('packages.js'))});
const { recordVerification } = await import(${JSON.stringify(dist('proofs.js'))});
for (let n = 0; n < Number(rounds); n++) {
  const registry = openRegistry(home);
  try {
    const id = n % 2 === 0 ? 'img-0000000000c1' : 'img-0000000000c2';
    recordVerification(registry, { id, digest: 'sha256:' + id }, { at: new Date().toISOString(), verdict: 'immutable', classes: [], reasons: [], proof: null });
    promote(registry, id, 'prod-' + tag, { reason: tag + ' ' + n });
    promote(registry, id, 'shared', { reason: tag + ' ' + n });
    observeVersions(registry, [{ source: 'lab:acme', suite: 'bookworm', package: 'p' + (n % 7), version: '1.' + n, arch: 'all', origin: null, label: null }]);
  } finally {
    registry.close();
  }
}
`;

function writer(home: string, tag: string, rounds: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, home, tag, String(rounds)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => done({ code, stderr }));
  });
}

describe('two processes writing one registry', () => {
  it('both finish, every change is there once, and the registry stays consistent', async () => {
    const home = tempDir('goldgate-registry-race-');
    const registry = openRegistry(home);
    for (const id of ['img-0000000000c1', 'img-0000000000c2']) {
      plantImage(home, id, { digest: `sha256:${id}` });
      recordImage(registry, findImage(id, home)!, 'bake');
      recordVerification(
        registry,
        { id, digest: `sha256:${id}` },
        { at: '2026-12-01T00:00:00.000Z', verdict: 'immutable', classes: [], reasons: [], proof: null },
      );
    }
    registry.close();
    const rounds = 60;
    const results = await Promise.all([writer(home, 'a', rounds), writer(home, 'b', rounds)]);
    expect(results).toEqual([
      { code: 0, stderr: '' },
      { code: 0, stderr: '' },
    ]);
    const after = openRegistry(home);
    try {
      expect(checkRegistry(after)).toEqual([]);
      // Each writer alternates two images, so each of its own channel's promotions is a change.
      expect(channelHistory(after, 'prod-a')).toHaveLength(rounds);
      expect(channelHistory(after, 'prod-b')).toHaveLength(rounds);
      const verifies = listEvents(after).filter((e) => e.action === 'verify.record');
      expect(verifies).toHaveLength(2 + 2 * rounds);
      const ids = listEvents(after).map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      after.close();
    }
  }, 120_000);
});
