import { lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { UsageError } from '../core/errors.js';
import { extractTar } from '../rootfs/tar.js';

/** One file of an evidence bundle, and the instance it belongs to (when the layout says). */
export interface BundleFile {
  /** Host path to read. */
  path: string;
  /** Path inside the bundle, for messages and evidence (`i-0abc/var/log/apt/history.log`). */
  name: string;
  /** The instance the file is about: from a per-instance folder or the file's name; null for shared files. */
  instance: string | null;
  size: number;
}

export interface Bundle {
  label: string;
  files: BundleFile[];
  /** Per instance: the time zone its files say (`etc/timezone` in its folder), when they say. */
  timezones: Map<string, string>;
  /** What was skipped while listing (links, special files). */
  skipped: Array<{ name: string; reason: string }>;
  close(): Promise<void>;
}

/**
 * Instance ids as EC2 writes them (`i-0abc…`) and as the lab names instances; a folder or
 * a file name carrying one attributes its logs to that instance.
 */
const INSTANCE_ID = /(?:^|[^a-z0-9])(i-[0-9a-f]{8,17}|lab-i-[0-9a-z]+|i-[0-9]{4,})(?=$|[^a-z0-9])/i;

/** The instance id in a name, if there is one. */
export function instanceIn(name: string): string | null {
  return INSTANCE_ID.exec(name)?.[1] ?? null;
}

function walk(root: string, dir: string, out: BundleFile[], skipped: Bundle['skipped'], depth: number): void {
  if (depth > 32) {
    skipped.push({ name: relative(root, dir), reason: 'nested too deep' });
    return;
  }
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    const name = relative(root, path).split(sep).join('/');
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (stats === undefined) continue;
    if (stats.isDirectory()) walk(root, path, out, skipped, depth + 1);
    else if (stats.isFile()) {
      // The nearest folder (or the file itself) naming an instance attributes it.
      const parts = name.split('/');
      let instance: string | null = null;
      for (let i = parts.length - 1; i >= 0 && instance === null; i -= 1)
        instance = instanceIn(parts[i] ?? '');
      out.push({ path, name, instance, size: stats.size });
    } else
      skipped.push({
        name,
        reason: stats.isSymbolicLink()
          ? 'a link (bundles are read without following links)'
          : 'not a regular file',
      });
  }
}

/**
 * Opens an evidence bundle: a directory, or a tar / tar.gz (streamed into a private
 * directory with unsafe entries refused, removed by `close`, at most GOLDGATE_MAX_EXTRACT_BYTES
 * written: see rootfs/limits.ts). Links are never followed.
 */
export async function openBundle(source: string, options: { workDir?: string } = {}): Promise<Bundle> {
  const stats = statSync(source, { throwIfNoEntry: false });
  if (stats === undefined) {
    throw new UsageError('BUNDLE_NOT_FOUND', `${source} does not exist`, {
      hint: 'give a bundle directory or a .tar.gz of one',
    });
  }
  let root = source;
  let close = async (): Promise<void> => undefined;
  if (stats.isFile()) {
    // Every log is read: all of them are written, within the caps on bytes and entries (and
    // the free space) the tar reader checks before each write; it still refuses unsafe entries.
    const extraction = await extractTar(source, {
      maxFileBytes: Number.MAX_SAFE_INTEGER,
      content: 'all',
      ...(options.workDir === undefined ? {} : { workDir: options.workDir }),
    });
    root = extraction.root;
    close = extraction.cleanup;
  } else if (!stats.isDirectory()) {
    throw new UsageError('BUNDLE_UNSUPPORTED', `${source} is neither a directory nor a file`, {
      hint: 'give an evidence bundle: a directory or a .tar.gz of one (docs/diagnose.md)',
    });
  }
  const files: BundleFile[] = [];
  const skipped: Bundle['skipped'] = [];
  walk(root, root, files, skipped, 0);
  const timezones = new Map<string, string>();
  for (const file of files) {
    if (file.instance !== null && /(^|\/)etc\/timezone$/.test(file.name)) {
      const zone = readFileSync(file.path, 'utf8').trim().split('\n')[0]?.trim();
      if (zone !== undefined && zone !== '') timezones.set(file.instance, zone);
    }
  }
  return { label: source, files, timezones, skipped, close };
}
