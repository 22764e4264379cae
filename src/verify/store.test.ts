import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistry } from '../registry/db.js';
import { latestVerification } from '../registry/proofs.js';
import { plantImage } from '../test-support/stored-image.js';
import { tempDir } from '../test-support/tree.js';
import { storeReport } from './store.js';
import type { VerifyReport } from './types.js';

const fixture = (name: string): VerifyReport =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, '__fixtures__', `report-${name}.json`), 'utf8'),
  ) as VerifyReport;

describe('storeReport', () => {
  it('records the stored proof in the registry for the image digest, with its classes', () => {
    const home = tempDir('goldgate-proof-');
    plantImage(home, 'img-0000000000b1', { digest: 'sha256:b1' });
    const evidence = join(home, 'evidence');
    mkdirSync(evidence);
    const proof = storeReport(home, 'img-0000000000b1', fixture('broken'), evidence);
    expect(proof).not.toBeNull();
    const registry = openRegistry(home);
    try {
      expect(latestVerification(registry, 'sha256:b1')).toMatchObject({
        imageId: 'img-0000000000b1',
        verdict: 'broken',
        classes: ['broken'],
        proof,
        passed: false,
      });
    } finally {
      registry.close();
    }
  });

  it('stores nothing for an image that is not in the store', () => {
    const home = tempDir('goldgate-proof-');
    expect(storeReport(home, 'img-0000000000b2', fixture('immutable'), join(home, 'none'))).toBeNull();
  });
});
