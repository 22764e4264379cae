import { statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { openDirRootFs } from './dir.js';
import { openTarRootFs } from './tar.js';
import type { TarOptions } from './tar.js';
import type { RootFs } from './types.js';

export type { FileInfo, FileKind, ReadOptions, RootFs, RootFsProblem } from './types.js';
export { normalizeImagePath, openDirRootFs } from './dir.js';
export { openTarRootFs, safeEntryPath } from './tar.js';
export { openRootWriter } from './write.js';
export type { MkdirOptions, Ownership, RootWriter, RootWriterOptions, WriteOptions } from './write.js';
export { openLayerWriter } from './layer.js';
export type { LayerWriter } from './layer.js';
export { walkImagePath } from './walk.js';
export type { WalkOptions, WalkResult } from './walk.js';

/** Opens a root filesystem from a directory or a tar / tar.gz archive. Close it when done. */
export async function openRootFs(source: string, options: TarOptions = {}): Promise<RootFs> {
  const stats = statSync(source, { throwIfNoEntry: false });
  if (stats === undefined) {
    throw new UsageError('ROOTFS_NOT_FOUND', `${source} does not exist`, {
      hint: 'give a root filesystem directory or a .tar / .tar.gz of one',
    });
  }
  if (stats.isDirectory()) return openDirRootFs(source);
  if (stats.isFile()) return openTarRootFs(source, options);
  throw new UsageError('ROOTFS_UNSUPPORTED', `${source} is neither a directory nor a file`, {
    hint: 'give a root filesystem directory or a .tar / .tar.gz of one',
  });
}
