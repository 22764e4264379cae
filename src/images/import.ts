import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { auditSource } from '../audit/report.js';
import { diskFullError } from '../core/disk-full.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { goldgateHome } from '../core/home.js';
import { manifestOf } from '../manifest/manifest.js';
import { recordInRegistry } from '../registry/images.js';
import { openDirRootFs } from '../rootfs/dir.js';
import { freeBytes } from '../rootfs/limits.js';
import { openRootWriter } from '../rootfs/write.js';
import { startReaper } from './reaper.js';
import { dieWithParent, runTool } from './tools.js';
import { openImageSource, unmountBelow } from './sources.js';
import { cleanupStore, createStaging, findImage, imagesDir, registerImage } from './store.js';
import type { StoredImage } from './store.js';

export interface ImportOptions {
  /** The image's name (as a spec's `name`: lower-case letters, digits, `.`, `_`, `-`). */
  name: string;
  home?: string;
  events?: EventSink;
  now?: () => Date;
}

export interface ImportResult {
  image: StoredImage;
  /** True when the same image (same content, same name) was already in the store. */
  existing: boolean;
}

const IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Room kept free beyond the image's own size, for the manifest, the audit and the file system's own needs. */
const SPACE_MARGIN = 1.1;

/** Bytes a tree takes on its file system, without crossing into other mounts. */
async function treeBytes(root: string): Promise<number> {
  const du = await runTool(['du', '-s', '-x', '-B1', root]);
  return Number(/^(\d+)/.exec(du.stdout)?.[1] ?? 0);
}

/** `img-` and 12 hex digits of sha256 over the manifest digest and the name: the same import twice is one image. */
export function importedImageId(digest: string, name: string): string {
  return `img-${createHash('sha256').update(`${digest}\n${name}\nimport\n`).digest('hex').slice(0, 12)}`;
}

/**
 * Imports an image built elsewhere: a root filesystem directory, a tar / tar.gz / tar.zst,
 * a raw disk image or a qcow2 disk (the root partition found by its content). Read-only
 * towards the source. The root filesystem is copied into a staging directory of the store
 * (owners, modes, set-id bits, xattrs and hard links kept), its manifest and audit written,
 * and the image registered under an id derived from its manifest digest and name. A crash
 * leaves a staging directory that the next bake or import removes (unmounting what it had
 * mounted first).
 */
export async function importImage(source: string, options: ImportOptions): Promise<ImportResult> {
  const events = options.events ?? silent;
  const home = options.home ?? goldgateHome();
  const now = options.now ?? (() => new Date());
  const record = (image: StoredImage): void => {
    const failure = recordInRegistry(home, image, 'import');
    if (failure !== null)
      events.emit({
        type: 'warning',
        message: `the registry did not record ${image.id} (${failure.message}): it is indexed the next time the registry is read`,
      });
  };
  if (!IMAGE_NAME.test(options.name))
    throw new UsageError('IMPORT_BAD_NAME', `"${options.name}" is not a valid image name`, {
      hint: 'lower-case letters, digits, ".", "_" or "-", at most 63, starting with a letter or digit',
    });
  if (process.getuid?.() !== 0)
    throw new EnvironmentError('IMPORT_NOT_ROOT', 'image import must run as root', {
      hint: "an image's files keep their owners and set-id bits only when copied as root; disks are mounted as root",
    });
  for (const removed of cleanupStore(home))
    events.emit({
      type: 'warning',
      message: 'removed what an interrupted bake or import left behind',
      path: removed,
    });

  let staging: string;
  try {
    staging = createStaging(home);
  } catch (error) {
    throw diskFullError(error, imagesDir(home), `import of ${source}`) ?? error;
  }
  // If this process dies (even by SIGKILL) while a disk is mounted, the reaper unmounts it.
  const reaper = startReaper(staging);
  try {
    const workDir = join(staging, 'work');
    mkdirSync(workDir);
    const opened = await openImageSource(resolve(source), { workDir, events });
    const rootfs = join(staging, 'rootfs');
    try {
      events.emit({
        type: 'progress',
        step: 'import.copy',
        message: `copying the root filesystem (${opened.kind})`,
      });
      const started = Date.now();
      const needed = (await treeBytes(opened.root)) * SPACE_MARGIN;
      const available = freeBytes(staging);
      if (needed > available)
        throw new EnvironmentError(
          'IMPORT_NO_SPACE',
          `not enough space to import: the image needs about ${Math.ceil(needed / 2 ** 20)} MiB, ${Math.floor(available / 2 ** 20)} MiB are free`,
          { hint: `free space where $GOLDGATE_HOME/images lives (${resolve(home, 'images')})` },
        );
      mkdirSync(rootfs);
      // cp -a keeps owners, modes, set-id bits, links, hard links, device nodes and xattrs.
      const copy = await runTool(
        dieWithParent(['cp', '-a', '--one-file-system', `${opened.root}/.`, `${rootfs}/`]),
      );
      if (copy.code !== 0)
        throw new EnvironmentError(
          'IMPORT_COPY_FAILED',
          `copying the root filesystem failed: ${copy.stderr.trim()}`,
        );
      // A file system's own lost+found is not part of the image.
      if (opened.kind === 'raw' || opened.kind === 'qcow2') removeIfEmptyDir(rootfs, '/lost+found');
      events.emit({
        type: 'progress',
        step: 'import.copy',
        message: 'copied',
        done: true,
        elapsedMs: Date.now() - started,
      });
    } finally {
      await opened.close();
    }
    rmSync(workDir, { recursive: true, force: true });

    const manifest = await manifestOf(rootfs);
    const report = await auditSource(rootfs);
    const id = importedImageId(manifest.digest, options.name);
    const present = findImage(id, home);
    if (present !== undefined) {
      rmSync(staging, { recursive: true, force: true });
      record(present);
      return { image: present, existing: true };
    }
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(staging, 'audit.json'), `${JSON.stringify(report, null, 2)}\n`);
    const image = registerImage(
      staging,
      {
        id,
        name: options.name,
        digest: manifest.digest,
        createdAt: now().toISOString(),
        spec: '',
        base: `import:${opened.kind}`,
        // goldgate changed nothing: the image keeps its own update settings, which the audit reports.
        autoUpdates: 'enabled',
        audit: { before: report.summary, after: report.summary, applied: 0, notApplied: 0 },
        source: {
          kind: opened.kind,
          path: resolve(source),
          ...(opened.partition === undefined ? {} : { partition: opened.partition }),
          ...(opened.filesystem === undefined ? {} : { filesystem: opened.filesystem }),
        },
      },
      home,
    );
    record(image);
    return { image, existing: false };
  } catch (error) {
    // Never remove through a mount: whatever is still mounted below is unmounted first.
    await unmountBelow(staging);
    // Asked before the staging directory goes: its removal frees the space that tells.
    const full = diskFullError(error, imagesDir(home), `import of ${source}`);
    rmSync(staging, { recursive: true, force: true });
    throw full ?? error;
  } finally {
    reaper.stop();
  }
}

function removeIfEmptyDir(rootfs: string, imagePath: string): void {
  // lstat, not stat: a link of the image by that name is the image's own, and stays.
  const entry = openDirRootFs(rootfs).lstat(imagePath);
  if (entry?.kind === 'dir' && openDirRootFs(rootfs).readdir(imagePath).length === 0)
    openRootWriter(rootfs, { label: 'import' }).remove(imagePath);
}
