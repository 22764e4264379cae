import { posix } from 'node:path';
import { aptFindFile } from '../../manifest/apt/config.js';
import type { AptConfig } from '../../manifest/apt/config.js';
import type { RemediationStep } from '../types.js';

const PARTS_DIR = '/etc/apt/apt.conf.d';
const OVERRIDE_NAME = '99goldgate-immutable';

/**
 * Where a setting must be written to win: APT reads apt.conf.d in byte order, then
 * /etc/apt/apt.conf (with what it includes), and the last value wins. A value set in the main
 * file or in a file it includes can only be overridden in the main file; otherwise a part named
 * to sort after every existing part wins.
 */
export function aptOverrideFile(config: AptConfig, setIn: readonly string[]): string {
  const main = aptFindFile(config, 'Dir::Etc::main');
  const mainAt = config.files.indexOf(main);
  if (setIn.includes(main) || (mainAt >= 0 && setIn.some((path) => config.files.lastIndexOf(path) >= mainAt)))
    return main;
  let name = OVERRIDE_NAME;
  const last = config.files
    .filter((file) => posix.dirname(file) === PARTS_DIR)
    .map((file) => posix.basename(file))
    .sort()
    .at(-1);
  while (last !== undefined && last !== name && Buffer.compare(Buffer.from(name), Buffer.from(last)) < 0)
    name = `z${name}`;
  return `${PARTS_DIR}/${name}`;
}

/**
 * The steps that make APT's effective values the given ones: one `set-line` a key, so steps of
 * several findings compose. The match ends with a blank so that `Key` never replaces `Key-Time`;
 * where no line matches, the value is appended, last, where it wins.
 */
export function aptOverrideSteps(
  config: AptConfig,
  values: Record<string, string>,
  setIn: readonly string[],
): RemediationStep[] {
  const path = aptOverrideFile(config, setIn);
  return Object.entries(values).map(([key, value]) => ({
    action: 'set-line',
    path,
    match: `${key} `,
    line: `${key} "${value}";`,
  }));
}
