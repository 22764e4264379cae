import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AuditSummary } from '../audit/engine.js';
import { SEVERITIES } from '../audit/types.js';
import { EnvironmentError } from '../core/errors.js';
import { goldgateHome } from '../core/home.js';
import { mountPointsBelow, unmountBelowSync } from './mounts.js';

/** The audit of an image as baked: before and after the remediations (the same when none were applied). */
export interface ImageAudit {
  before: AuditSummary;
  after: AuditSummary;
  /** Remediation steps applied (autoUpdates: disabled), and those left to the person. */
  applied: number;
  notApplied: number;
}

/** `image.json`: written last, so a directory holding it is a complete image. */
export interface ImageRecord {
  id: string;
  name: string;
  /** The manifest digest of the image's root filesystem. */
  digest: string;
  createdAt: string;
  /** The spec the image was baked from (absolute). */
  spec: string;
  /** The base it was customised from: `<request key>@<UTC day it was bootstrapped>`. */
  base: string;
  autoUpdates: 'disabled' | 'enabled';
  audit: ImageAudit;
  /** The image this one was derived from (a spec's `base: { from }`): its id, or the path it was read from. */
  parent?: string;
  /** For an imported image (`goldgate image import`): what it was read from. */
  source?: ImageSource;
}

/** Where an imported image came from. */
export interface ImageSource {
  kind: 'directory' | 'tar' | 'raw' | 'qcow2';
  /** The path as given (absolute). */
  path: string;
  /** For a disk: the partition the root filesystem was found on (1-based, as the partition table numbers it), or null for a disk that is one filesystem. */
  partition?: number | null;
  /** For a disk: the filesystem type of the root (ext4, xfs, …). */
  filesystem?: string;
}

/** A registered image and where it lives. */
export interface StoredImage extends ImageRecord {
  /** The image directory; the root filesystem is its `rootfs/`. */
  path: string;
}

const IMAGE_ID = /^img-[0-9a-f]{12}$/;

const summarySchema = z.object({
  total: z.number().int(),
  bySeverity: z.record(z.enum(SEVERITIES), z.number().int()),
  rulesRun: z.number().int(),
  rulesWithFindings: z.array(z.string()),
});

/** `image.json` as written by registerImage; other fields (from newer versions) are kept. */
const recordSchema = z.looseObject({
  id: z.string().regex(IMAGE_ID),
  name: z.string(),
  digest: z.string(),
  createdAt: z.string(),
  spec: z.string(),
  base: z.string(),
  autoUpdates: z.enum(['disabled', 'enabled']),
  audit: z.object({
    before: summarySchema,
    after: summarySchema,
    applied: z.number().int(),
    notApplied: z.number().int(),
  }),
  parent: z.string().optional(),
  source: z
    .looseObject({
      kind: z.enum(['directory', 'tar', 'raw', 'qcow2']),
      path: z.string(),
      partition: z.number().int().nullable().optional(),
      filesystem: z.string().optional(),
    })
    .optional(),
});

/** Whether `text` has the form of a stored image's id (`img-` and 12 hex digits). */
export function isImageId(text: string): boolean {
  return IMAGE_ID.test(text);
}
const STAGING = /^\.staging-(\d+)-[0-9a-f]+$/;
const OWNER_FILE = 'owner.pid';

/** `$GOLDGATE_HOME/images` (or under `home`). */
export function imagesDir(home: string = goldgateHome()): string {
  return join(home, 'images');
}

/** Whether a process with this id is alive (a process of another user counts as alive). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A fresh staging directory `.staging-<pid>-<random>` for an image being built: the pid in
 * its name lets a later bake tell a dead build's leftovers from a running one.
 */
export function createStaging(home: string = goldgateHome()): string {
  const dir = join(imagesDir(home), `.staging-${process.pid}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

/**
 * Removes what dead builds left behind: staging directories whose pid is dead, and image
 * directories without `image.json` (moved into place, never registered) whose owner is dead.
 * Returns the removed paths.
 */
export function cleanupStore(home: string = goldgateHome()): string[] {
  const dir = imagesDir(home);
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const staging = STAGING.exec(name);
    let owner: number | undefined;
    if (staging !== null) owner = Number(staging[1]);
    else if (IMAGE_ID.test(name) && !existsSync(join(path, 'image.json'))) owner = readOwner(path);
    else continue;
    if (owner !== undefined && processAlive(owner)) continue;
    // A killed import may have left a source mounted below it (its loop device goes with the
    // mount): never remove through a mount.
    unmountBelowSync(path);
    if (mountPointsBelow(path).length > 0) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

function readOwner(imageDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(imageDir, OWNER_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The registered image with this id, if any: its `image.json` read through its schema. A
 * record that is not valid JSON of that shape, for that id, or an image without its
 * `rootfs/`, was changed outside goldgate: an IMAGE_RECORD_INVALID error naming the file.
 */
export function findImage(id: string, home: string = goldgateHome()): StoredImage | undefined {
  if (!IMAGE_ID.test(id)) return undefined;
  const path = join(imagesDir(home), id);
  const file = join(path, 'image.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalidRecord(file, (error as NodeJS.ErrnoException).code ?? String(error));
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalidRecord(file, 'not JSON');
  }
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidRecord(file, `${issue?.path.join('.') || 'the record'}: ${issue?.message ?? 'invalid'}`);
  }
  if (parsed.data.id !== id) throw invalidRecord(file, `it names ${parsed.data.id}, not ${id}`);
  if (!existsSync(join(path, 'rootfs'))) throw invalidRecord(file, 'the image has no rootfs/ beside it');
  return { ...parsed.data, path };
}

function invalidRecord(file: string, reason: string): EnvironmentError {
  return new EnvironmentError('IMAGE_RECORD_INVALID', `${file} is not a whole image record: ${reason}`, {
    hint: `the store was changed outside goldgate: remove ${join(file, '..')} and bake or import the image again`,
  });
}

/** Every registered image (a directory with `image.json`), newest first. */
export function listImages(home: string = goldgateHome()): StoredImage[] {
  const dir = imagesDir(home);
  if (!existsSync(dir)) return [];
  const images = readdirSync(dir)
    .filter((name) => IMAGE_ID.test(name))
    .map((id) => findImage(id, home))
    .filter((image): image is StoredImage => image !== undefined);
  return images.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
}

/**
 * Registers a staged image: `image.json` is written into the staging directory (holding
 * `rootfs/` and any other files), which is then renamed to `images/<id>`. That one rename
 * registers the image: `images/<id>` never exists without its `image.json`, and a crash or a
 * full disk before it leaves only a staging directory, which the caller or `cleanupStore`
 * removes.
 */
export function registerImage(
  staging: string,
  record: ImageRecord,
  home: string = goldgateHome(),
): StoredImage {
  const path = join(imagesDir(home), record.id);
  // A directory of this id without image.json is a dead registration: ours replaces it.
  if (existsSync(path) && !existsSync(join(path, 'image.json')))
    rmSync(path, { recursive: true, force: true });
  writeFileSync(join(staging, 'image.json'), `${JSON.stringify(record, null, 2)}\n`);
  rmSync(join(staging, OWNER_FILE), { force: true });
  renameSync(staging, path);
  return { ...record, path };
}
