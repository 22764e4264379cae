import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import type { OsRelease } from './os-release.js';
import { readImageText } from './read.js';
import { parseShellAssignments } from './shell.js';

export interface FlatcarSetting {
  key: string;
  value: string;
  source: SourceRef;
}

export interface FlatcarInfo {
  /** Flatcar or CoreOS Container Linux: os-release ID `flatcar`/`coreos`, or `/usr/share/flatcar` exists. */
  present: boolean;
  /** update.conf files read, lowest priority first. */
  files: string[];
  /** `GROUP=`: the channel update_engine follows (`stable`, `beta`, `alpha`, `lts`, or a Nebraska group). */
  group: FlatcarSetting | null;
  /** `SERVER=`: the update server; `disabled` turns updates off. */
  server: FlatcarSetting | null;
  /** `REBOOT_STRATEGY=` for locksmithd: `reboot`, `etcd-lock`, `best-effort`, `off`. */
  rebootStrategy: FlatcarSetting | null;
  /** Every effective key, sorted by key (`LOCKSMITHD_REBOOT_WINDOW_START`, ...). */
  settings: FlatcarSetting[];
}

/*
 * Lowest priority first. Flatcar documents /etc/flatcar/update.conf, then the image's
 * /usr/share/flatcar/update.conf; /etc/coreos is a compatibility symlink to /etc/flatcar on
 * Flatcar and the real directory on CoreOS Container Linux (with /usr/share/coreos).
 */
export const UPDATE_CONF_PATHS = [
  '/usr/share/coreos/update.conf',
  '/usr/share/flatcar/update.conf',
  '/etc/coreos/update.conf',
  '/etc/flatcar/update.conf',
] as const;

/** Reads the update_engine/locksmithd configuration of Flatcar (and CoreOS): /etc overrides /usr/share key by key. */
export function readFlatcar(fs: RootFs, os: OsRelease | null, problems: ManifestProblem[]): FlatcarInfo {
  const files: string[] = [];
  const effective = new Map<string, FlatcarSetting>();
  const resolved = UPDATE_CONF_PATHS.map((path) => fs.resolve(path));
  for (const [index, path] of UPDATE_CONF_PATHS.entries()) {
    // Through the /etc/coreos -> flatcar link both names lead to one file: cite the later, Flatcar's.
    if (resolved[index] === undefined || resolved.indexOf(resolved[index], index + 1) >= 0) continue;
    const text = readImageText(fs, path, problems, 64 * 1024);
    if (text === undefined) continue;
    files.push(path);
    const parsed = parseShellAssignments(text);
    for (const problem of parsed.problems) problems.push({ path, ...problem });
    for (const { key, value, line } of parsed.assignments)
      effective.set(key, { key, value, source: { path, line } });
  }
  const settings = [...effective.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    present: os?.id === 'flatcar' || os?.id === 'coreos' || fs.exists('/usr/share/flatcar'),
    files,
    group: effective.get('GROUP') ?? null,
    server: effective.get('SERVER') ?? null,
    rebootStrategy: effective.get('REBOOT_STRATEGY') ?? null,
    settings,
  };
}
