import { lstatSync, realpathSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { openDirRootFs } from './dir.js';
import type { RootFs } from './types.js';
import { openRootWriter } from './write.js';
import type { Ownership, RootWriter, WriteOptions } from './write.js';

/**
 * Writes into an overlay's (empty) upper layer what the merged tree is to show: paths are
 * resolved in the image (the lower layer) as the reader does, so that a file lands where the
 * instance will look for it, and created in the upper layer through the confined writer,
 * directories taking the image's mode and owner (overlay shows the upper's). Nothing is
 * written to the image or outside the upper layer.
 */
export interface LayerWriter {
  /** The image, read as if chrooted. */
  readonly image: RootFs;
  /** The confined writer of the upper layer. */
  readonly upper: RootWriter;
  /**
   * Where a directory is in the image, links followed inside it (missing directories kept as
   * named); undefined when a link on the way leads nowhere in the image or to a non-directory.
   */
  imageDir(dir: string): string | undefined;
  /** lstat of a resolved (link-free) path in the image. */
  imageStats(path: string): Stats | undefined;
  /** Makes a resolved directory in the upper layer, each new directory like the image's. */
  mkdir(resolvedDir: string): string;
  /** Writes a file at a resolved path of the upper layer (its directories made like the image's). */
  writeFile(resolvedPath: string, data: string | Buffer, options?: WriteOptions): void;
}

/** Opens a writer of `upper` over the image at `lower`. */
export function openLayerWriter(lower: string, upper: string, label?: string): LayerWriter {
  const image = openDirRootFs(lower);
  const lowerRoot = realpathSync(lower);
  const writer = openRootWriter(upper, label === undefined ? {} : { label });
  // Resolved paths have no link in them: a plain lstat under the lower root stays inside it.
  const imageStats = (path: string): Stats | undefined =>
    lstatSync(path === '/' ? lowerRoot : lowerRoot + path, { throwIfNoEntry: false });
  const like = (path: string): Ownership | undefined => {
    const stats = imageStats(path);
    return stats?.isDirectory() === true
      ? { mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid }
      : undefined;
  };
  const layer: LayerWriter = {
    image,
    upper: writer,
    imageDir(dir) {
      let base = '/';
      const parts = dir.split('/').filter((p) => p !== '' && p !== '.');
      for (const [index, part] of parts.entries()) {
        if (part === '..') {
          base = posix.dirname(base);
          continue;
        }
        const here = base === '/' ? `/${part}` : `${base}/${part}`;
        if (image.lstat(here) === undefined)
          return posix.normalize([here, ...parts.slice(index + 1)].join('/'));
        const resolved = image.resolve(here);
        if (resolved === undefined || image.stat(resolved)?.kind !== 'dir') return undefined;
        base = resolved;
      }
      return base;
    },
    imageStats,
    mkdir: (resolvedDir) => writer.mkdirp(resolvedDir, { like }),
    writeFile(resolvedPath, data, options = {}) {
      writer.mkdirp(posix.dirname(resolvedPath), { like });
      writer.writeFile(resolvedPath, data, options);
    },
  };
  return layer;
}
