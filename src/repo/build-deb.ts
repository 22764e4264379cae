import { execFile } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { findExecutable } from '../core/which.js';
import { parseControl } from './deb.js';
import { debFileName } from './repo.js';

const run = promisify(execFile);

/** 2023-06-10T00:00:00Z: file times in built packages are clamped to it, so a rebuild gives the same bytes. */
export const DEFAULT_SOURCE_DATE_EPOCH = 1_686_355_200;

/**
 * Builds a .deb from a source tree (`DEBIAN/control` plus the files, at their in-image
 * paths) with `dpkg-deb --root-owner-group --build`, into `outDir` under its canonical
 * name; returns the path. The tree is staged with normalised modes (directories 0755,
 * files 0644, or 0755 when executable) and times clamped, so the same tree always gives
 * the same bytes whatever the checkout's umask and times: re-publishing it is a no-op.
 * `Installed-Size` is added when the control file lacks it (dpkg-deb does not compute it).
 */
export async function buildDeb(
  sourceDir: string,
  outDir: string,
  options: { sourceDateEpoch?: number } = {},
): Promise<string> {
  const dpkgDeb = findExecutable('dpkg-deb');
  if (dpkgDeb === undefined)
    throw new EnvironmentError('NO_DPKG_DEB', 'dpkg-deb not found', { hint: 'apt-get install dpkg' });
  const controlPath = join(sourceDir, 'DEBIAN', 'control');
  let controlText: string;
  try {
    controlText = await readFile(controlPath, 'utf8');
  } catch (error) {
    throw new UsageError('NO_CONTROL', `${sourceDir} has no DEBIAN/control`, {
      hint: 'a package source tree holds DEBIAN/control and the files at their in-image paths',
      cause: error,
    });
  }
  const control = parseControl(controlText, controlPath);
  const stage = await mkdtemp(join(tmpdir(), 'goldgate-deb-'));
  try {
    const root = join(stage, 'root');
    await cp(sourceDir, root, { recursive: true, verbatimSymlinks: true });
    await normaliseModes(root);
    if (!control.control.some((f) => f.name.toLowerCase() === 'installed-size'))
      await writeFile(
        join(root, 'DEBIAN', 'control'),
        withInstalledSize(controlText, await installedSize(root)),
      );
    await mkdir(outDir, { recursive: true });
    const out = join(outDir, debFileName(control.package, control.version, control.architecture));
    try {
      await run(dpkgDeb, ['--root-owner-group', '--build', root, out], {
        env: {
          ...process.env,
          SOURCE_DATE_EPOCH: String(options.sourceDateEpoch ?? DEFAULT_SOURCE_DATE_EPOCH),
        },
      });
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
      throw new UsageError('DEB_BUILD_FAILED', `dpkg-deb could not build ${sourceDir}: ${stderr}`, {
        hint: 'fix the source tree (DEBIAN/control fields, maintainer script modes) and build again',
        cause: error,
      });
    }
    return out;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function normaliseModes(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const stat = await lstat(path);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) await normaliseModes(path);
    else await chmod(path, (stat.mode & 0o111) !== 0 ? 0o755 : 0o644);
  }
}

/** Installed-Size in KiB as dpkg-gencontrol counts it: each file rounded up to 1 KiB, 1 per other entry. */
async function installedSize(root: string): Promise<number> {
  let kib = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      if (dir === root && name === 'DEBIAN') continue;
      const stat = await lstat(path);
      if (stat.isFile()) kib += Math.ceil(stat.size / 1024);
      else kib += 1;
      if (stat.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return kib;
}

/** Inserts `Installed-Size` after Maintainer (where dpkg-gencontrol writes it), or at the end. */
function withInstalledSize(controlText: string, kib: number): string {
  const lines = controlText.replace(/\n+$/, '').split('\n');
  let at = lines.length;
  const maintainer = lines.findIndex((l) => /^maintainer:/i.test(l));
  if (maintainer >= 0) {
    at = maintainer + 1;
    while (at < lines.length && /^[ \t]/.test(lines[at] ?? '')) at += 1;
  }
  lines.splice(at, 0, `Installed-Size: ${kib}`);
  return `${lines.join('\n')}\n`;
}
