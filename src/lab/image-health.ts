import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { loadSpec } from '../spec/load.js';
import type { HealthCheck } from '../spec/schema.js';

// Kept apart from health.ts and out of index.ts: the lab runtime itself does not depend on the spec loader.

const FLAGS_HINT =
  'give the checks with --health-http PORT/PATH, --health-command "ARGV" or --health-unit NAME';

/**
 * The health checks of the image an instance boots: a baked image's rootfs has `image.json`
 * beside it, naming the spec it was baked from, whose `health` list is read again.
 */
export async function imageHealthChecks(rootfs: string): Promise<HealthCheck[]> {
  const recordPath = join(dirname(resolve(rootfs)), 'image.json');
  let record: { spec?: unknown };
  try {
    record = JSON.parse(readFileSync(recordPath, 'utf8')) as { spec?: unknown };
  } catch {
    throw new UsageError(
      'LAB_NO_HEALTH_CHECKS',
      `the image ${rootfs} was not baked from a spec (no ${recordPath})`,
      {
        hint: FLAGS_HINT,
      },
    );
  }
  if (typeof record.spec !== 'string' || record.spec === '')
    throw new UsageError('LAB_NO_HEALTH_CHECKS', `${recordPath} names no spec the image was baked from`, {
      hint: FLAGS_HINT,
    });
  let checks: HealthCheck[];
  try {
    checks = (await loadSpec(record.spec)).spec.health;
  } catch (error) {
    throw new UsageError(
      'LAB_NO_HEALTH_CHECKS',
      `cannot read the health checks of the spec ${record.spec} the image was baked from: ${error instanceof Error ? error.message : String(error)}`,
      { hint: FLAGS_HINT, cause: error },
    );
  }
  if (checks.length === 0)
    throw new UsageError('LAB_NO_HEALTH_CHECKS', `the spec ${record.spec} has no health checks`, {
      hint: FLAGS_HINT,
    });
  return checks;
}
