import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../test-support/tree.js';
import { buildDeb } from './build-deb.js';

/** Builds a tiny real .deb (one file under /usr/share/<package>) for tests; returns its path. */
export async function testDeb(
  pkg: string,
  version: string,
  architecture: string,
  extra: Record<string, string> = {},
  content = `${pkg} ${version}\n`,
): Promise<string> {
  const src = tempDir('goldgate-debsrc-');
  mkdirSync(join(src, 'DEBIAN'));
  mkdirSync(join(src, 'usr', 'share', pkg), { recursive: true });
  writeFileSync(join(src, 'usr', 'share', pkg, 'VERSION'), content);
  const fields = [
    `Package: ${pkg}`,
    `Version: ${version}`,
    `Architecture: ${architecture}`,
    'Maintainer: Lab <lab@example.org>',
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
    `Description: ${pkg} for tests`,
    ' A package goldgate builds in its tests.',
  ];
  writeFileSync(join(src, 'DEBIAN', 'control'), `${fields.join('\n')}\n`);
  return buildDeb(src, tempDir('goldgate-debs-'));
}
