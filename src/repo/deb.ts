import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { findExecutable } from '../core/which.js';
import { parseDeb822 } from '../debian/deb822.js';
import { isValidDebianVersion } from '../debian/version.js';
import type { ControlField } from './index-files.js';
import { isValidArchitecture, isValidPackageName } from './names.js';

const run = promisify(execFile);

/** A .deb read for publishing: its control data and the checksums of its bytes. */
export interface DebFile {
  path: string;
  package: string;
  version: string;
  architecture: string;
  /** The source package name (without a version), or the package name when there is none. */
  source: string;
  control: ControlField[];
  size: number;
  md5: string;
  sha256: string;
}

const REQUIRED = ['Package', 'Version', 'Architecture', 'Maintainer', 'Description'] as const;

/** The text of a .deb's control file, from `dpkg-deb --field <deb>` (argument array, no shell). */
export async function debControlText(path: string): Promise<string> {
  const dpkgDeb = findExecutable('dpkg-deb');
  if (dpkgDeb === undefined)
    throw new EnvironmentError('NO_DPKG_DEB', 'dpkg-deb not found', { hint: 'apt-get install dpkg' });
  try {
    const { stdout } = await run(dpkgDeb, ['--field', '--', path], { maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new UsageError(
      'BAD_DEB',
      `${path} is not a readable Debian package${stderr ? `: ${stderr}` : ''}`,
      {
        hint: 'pass .deb files built by dpkg-deb --build (check with: dpkg-deb --info FILE)',
        cause: error,
      },
    );
  }
}

/** Parses control text into ordered fields and checks what an archive needs. */
export function parseControl(text: string, path: string): Omit<DebFile, 'path' | 'size' | 'md5' | 'sha256'> {
  const doc = parseDeb822(text);
  const paragraph = doc.paragraphs[0];
  const problem = doc.problems[0];
  if (paragraph === undefined || doc.paragraphs.length !== 1 || problem !== undefined)
    throw new UsageError(
      'BAD_DEB_CONTROL',
      `${path}: malformed control file${problem !== undefined ? ` (line ${problem.line}: ${problem.reason})` : ''}`,
      { hint: 'fix DEBIAN/control and rebuild the package' },
    );
  const get = (name: string) => paragraph.fields.get(name.toLowerCase())?.value;
  for (const name of REQUIRED) {
    if (get(name) === undefined || get(name) === '')
      throw new UsageError('BAD_DEB_CONTROL', `${path}: the control file has no ${name} field`, {
        hint: `add ${name}: to DEBIAN/control and rebuild the package`,
      });
  }
  const pkg = get('Package') ?? '';
  const version = get('Version') ?? '';
  const architecture = get('Architecture') ?? '';
  if (!isValidPackageName(pkg))
    throw new UsageError('BAD_DEB_CONTROL', `${path}: "${pkg}" is not a valid package name`, {
      hint: 'package names are lower-case letters, digits, +, - and . (Debian policy 5.6.1)',
    });
  if (!isValidDebianVersion(version))
    throw new UsageError('BAD_DEB_CONTROL', `${path}: "${version}" is not a valid Debian version`, {
      hint: 'use [epoch:]upstream[-revision], e.g. 1.0+deb12u1',
    });
  if (!isValidArchitecture(architecture))
    throw new UsageError('BAD_DEB_CONTROL', `${path}: "${architecture}" is not a single architecture`, {
      hint: 'a binary package has one architecture: amd64, arm64, all, …',
    });
  // "Source: name (version)" when the binary's version differs from the source's.
  const source = (get('Source') ?? pkg).split(/\s+/)[0] ?? pkg;
  if (!isValidPackageName(source))
    throw new UsageError('BAD_DEB_CONTROL', `${path}: "${source}" is not a valid source package name`, {
      hint: 'fix the Source: field of DEBIAN/control',
    });
  const control = [...paragraph.fields.values()].map((f) => ({ name: f.name, value: f.value }));
  return { package: pkg, version, architecture, source, control };
}

/** Reads a .deb: control fields through dpkg-deb, size and checksums of its bytes. */
export async function readDeb(path: string): Promise<DebFile> {
  // stat first: /dev/zero would be read forever, a FIFO would wait for a writer.
  const stats = await stat(path).catch(() => undefined);
  if (stats === undefined)
    throw new UsageError('NO_DEB', `${path} does not exist`, { hint: 'check the path of the .deb file' });
  if (!stats.isFile())
    throw new UsageError('NO_DEB', `${path} is not a regular file`, {
      hint: 'pass .deb files built by dpkg-deb --build, or package source tree directories',
    });
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(
      'NO_DEB',
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        hint: 'check the path of the .deb file',
        cause: error,
      },
    );
  }
  const control = parseControl(await debControlText(path), path);
  return {
    path,
    ...control,
    size: bytes.length,
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
