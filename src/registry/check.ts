import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findImage } from '../images/store.js';
import { channelHistory, channelStack, listChannels } from './channels.js';
import type { Registry } from './db.js';
import { registeredImages } from './images.js';

/** One inconsistency between the registry and itself or the image store. */
export interface RegistryProblem {
  kind:
    'sqlite' | 'foreign-key' | 'image-missing' | 'image-mismatch' | 'proof-digest' | 'channel' | 'pipeline';
  subject: string;
  message: string;
}

/**
 * Checks the registry: SQLite's own integrity and foreign keys, every recorded image present
 * in the store with the same digest, every audit and verification of its image's digest,
 * every channel's history replayable, every finished pipeline run naming a recorded image.
 * An empty list means consistent.
 */
export function checkRegistry(registry: Registry): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const integrity = registry.db.pragma('integrity_check') as Array<{ integrity_check: string }>;
  for (const row of integrity)
    if (row.integrity_check !== 'ok')
      problems.push({ kind: 'sqlite', subject: registry.path, message: row.integrity_check });
  const foreign = registry.db.pragma('foreign_key_check') as Array<{
    table: string;
    rowid: number;
    parent: string;
  }>;
  for (const row of foreign)
    problems.push({
      kind: 'foreign-key',
      subject: `${row.table}#${row.rowid}`,
      message: `refers to a missing row of ${row.parent}`,
    });
  for (const image of registeredImages(registry)) {
    if (!existsSync(join(image.path, 'image.json'))) {
      problems.push({
        kind: 'image-missing',
        subject: image.id,
        message: `${image.path} is gone from the store`,
      });
      continue;
    }
    let stored;
    try {
      stored = findImage(image.id, registry.home);
    } catch (error) {
      problems.push({ kind: 'image-mismatch', subject: image.id, message: (error as Error).message });
      continue;
    }
    if (stored !== undefined && stored.digest !== image.digest)
      problems.push({
        kind: 'image-mismatch',
        subject: image.id,
        message: `the store says digest ${stored.digest}, the registry ${image.digest}`,
      });
  }
  const proofs = registry.db
    .prepare(
      `SELECT 'audit' AS what, a.id, a.image_id FROM audits a JOIN images i ON i.id = a.image_id WHERE a.digest <> i.digest
       UNION ALL
       SELECT 'verification', v.id, v.image_id FROM verifications v JOIN images i ON i.id = v.image_id WHERE v.digest <> i.digest`,
    )
    .all() as Array<{ what: string; id: number; image_id: string }>;
  for (const row of proofs)
    problems.push({
      kind: 'proof-digest',
      subject: row.image_id,
      message: `${row.what} #${row.id} is of another digest than its image`,
    });
  for (const channel of listChannels(registry)) {
    const stack = channelStack(channelHistory(registry, channel.name));
    if (channel.current !== null && stack[stack.length - 1]?.imageId !== channel.current.imageId)
      problems.push({
        kind: 'channel',
        subject: channel.name,
        message: 'its history does not replay to its current image',
      });
  }
  const runs = registry.db
    .prepare(
      "SELECT id, spec FROM pipeline_runs WHERE status = 'done' AND image_id IS NULL AND outcome <> 'nothing-to-do'",
    )
    .all() as Array<{ id: number; spec: string }>;
  for (const run of runs)
    problems.push({
      kind: 'pipeline',
      subject: `run #${run.id}`,
      message: `finished without an image (${run.spec})`,
    });
  return problems;
}
