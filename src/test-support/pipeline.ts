import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../core/digest.js';
import { findImage } from '../images/store.js';
import { openRegistry } from '../registry/db.js';
import type { Registry } from '../registry/db.js';
import { recordImage } from '../registry/images.js';
import { recordStep, startRun } from '../registry/pipeline.js';
import { recordVerification } from '../registry/proofs.js';
import type { VerifyClass } from '../registry/proofs.js';
import { plantImage } from './stored-image.js';
import { tempDir } from './tree.js';

/** The image an interrupted run had baked. */
export const INTERRUPTED_IMAGE = 'img-0000000000c1';

/** A spec with a health check, promoted to dev then prod. */
export const PIPE_SPEC = `name: pipe
base: { suite: bookworm }
health:
  - unit: { name: systemd-journald }
channels: [dev, prod]
`;

/**
 * A home with a spec and a `pipeline run` of it that was killed after its bake: its image
 * stored and recorded (with the bake's clean audit), a verification with the classes given
 * (none: it passed; `verified: false`: none stored), the run at its audit step, its process gone,
 * its channel the one given or the spec's first. Without root, the next run of the same spec
 * and channel resumes it to its promote step.
 */
export function interruptedRun(
  options: { classes?: VerifyClass[]; verified?: boolean; spec?: string; channel?: string } = {},
): {
  home: string;
  spec: string;
  runId: number;
} {
  const home = tempDir('goldgate-pipeline-');
  const spec = join(home, 'pipe.yaml');
  const text = options.spec ?? PIPE_SPEC;
  writeFileSync(spec, text);
  const dir = plantImage(home, INTERRUPTED_IMAGE, { name: 'pipe', digest: 'sha256:c1', spec });
  mkdirSync(join(dir, 'rootfs', 'etc'));
  return withRegistry(home, (registry) => {
    const image = recordImage(registry, findImage(INTERRUPTED_IMAGE, home)!, 'bake');
    const classes = options.classes ?? [];
    if (options.verified !== false)
      recordVerification(registry, image, {
        at: '2026-12-01T00:00:00.000Z',
        verdict: classes.length === 0 ? 'immutable' : 'mutable',
        classes,
        reasons: classes.map((c) => ({ kind: 'config', class: c, summary: `/etc/x: ${c}` })),
        proof: null,
      });
    const channel = options.channel ?? /^channels: \[(\w+)/m.exec(text)?.[1] ?? null;
    const { run } = startRun(registry, spec, sha256(text), 'pipeline', channel);
    recordStep(registry, run.id, 'bake', INTERRUPTED_IMAGE);
    recordStep(registry, run.id, 'audit');
    // Its process is gone: a pid that cannot be alive.
    registry.db.prepare('UPDATE pipeline_runs SET pid = 2147483647 WHERE id = ?').run(run.id);
    return { home, spec, runId: run.id };
  });
}

/** Opens the registry of `home` for `read`, and closes it. */
export function withRegistry<T>(home: string, read: (registry: Registry) => T): T {
  const registry = openRegistry(home);
  try {
    return read(registry);
  } finally {
    registry.close();
  }
}
