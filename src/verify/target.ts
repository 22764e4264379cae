import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { resolveImageRef } from '../images/ref.js';
import { findImage } from '../images/store.js';
import { initProblem } from '../lab/init-check.js';
import type { ImageRecord } from '../images/store.js';
import { loadSpec } from '../spec/load.js';
import type { ImageSpec } from '../spec/schema.js';
import type { VerifyImage } from './types.js';

export interface VerifyTarget {
  rootfs: string;
  image: VerifyImage;
  /** The spec the image was baked from, read again (its health checks and dnsAllow); undefined when there is none. */
  spec: ImageSpec | undefined;
  /** Why there is no spec, for the error a missing health check gets. */
  noSpec?: string;
}

function readRecord(path: string): ImageRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ImageRecord;
  } catch {
    return undefined;
  }
}

/**
 * What `goldgate verify <image>` boots: a stored image by id, or a root filesystem directory
 * (`resolveImageRef`; a baked image's `rootfs/` is recognised by the `image.json` beside it).
 */
export async function resolveTarget(image: string, home: string): Promise<VerifyTarget> {
  let rootfs: string;
  let record: ImageRecord | undefined;
  let id: string | null = null;
  const resolved = resolveImageRef(image, { tarball: false, home });
  if (resolved.stored !== undefined) {
    rootfs = resolved.source;
    record = resolved.stored;
    id = resolved.stored.id;
  } else {
    rootfs = resolve(resolved.source);
    record = readRecord(join(dirname(rootfs), 'image.json'));
    // A stored image's rootfs given by path is still that image: its proof is stored with it.
    if (
      record !== undefined &&
      findImage(record.id, home)?.path === dirname(rootfs) &&
      basename(rootfs) === 'rootfs'
    )
      id = record.id;
  }
  const initIssue = initProblem(rootfs);
  if (initIssue !== undefined)
    throw new UsageError('VERIFY_NO_SYSTEMD', `${rootfs} cannot be verified: ${initIssue}`, {
      hint: 'goldgate audit still reads an image that cannot boot here',
    });
  let spec: ImageSpec | undefined;
  let noSpec: string | undefined;
  if (record === undefined) noSpec = `${image} was not baked by goldgate (no image.json beside it)`;
  else if (typeof record.spec !== 'string' || record.spec === '') noSpec = `image ${record.id} names no spec`;
  else {
    try {
      spec = (await loadSpec(record.spec)).spec;
    } catch (error) {
      noSpec = `cannot read the spec ${record.spec} the image was baked from: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return {
    rootfs,
    image: {
      id,
      name: record?.name ?? null,
      digest: record?.digest ?? null,
      rootfs,
      spec: record?.spec === undefined || record.spec === '' ? null : record.spec,
    },
    spec,
    ...(noSpec === undefined ? {} : { noSpec }),
  };
}
