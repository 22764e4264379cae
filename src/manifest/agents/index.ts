import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem } from '../types.js';
import { readDnf } from './dnf.js';
import type { DnfInfo } from './dnf.js';
import { readFlatcar } from './flatcar.js';
import type { FlatcarInfo } from './flatcar.js';
import { readNeedrestart } from './needrestart.js';
import type { NeedrestartInfo } from './needrestart.js';
import { readOsRelease } from './os-release.js';
import type { OsRelease } from './os-release.js';
import { readSnap } from './snap.js';
import type { SnapInfo } from './snap.js';

export type { AutomaticUpdates, DnfBoolSetting, DnfInfo, DnfValue, IniSetting } from './dnf.js';
export type { FlatcarInfo, FlatcarSetting } from './flatcar.js';
export type { NeedrestartInfo, NeedrestartValue } from './needrestart.js';
export type { OsRelease } from './os-release.js';
export type { SnapHold, SnapInfo, SnapPerSnapHold, SnapValue } from './snap.js';
export { readDnf } from './dnf.js';
export { readFlatcar } from './flatcar.js';
export { readNeedrestart, restartAssignments } from './needrestart.js';
export { isAmazonLinux, readOsRelease } from './os-release.js';
export { readSnap } from './snap.js';
export { dnfBool, parseDnfIni } from './ini.js';
export { parseShellAssignments } from './shell.js';

/** The OS self-update agents an image carries, and how each is configured. */
export interface AgentsSection {
  osRelease: OsRelease | null;
  snap: SnapInfo;
  dnf: DnfInfo;
  needrestart: NeedrestartInfo;
  flatcar: FlatcarInfo;
  /** Lines and files that could not be understood, in the order met, each once. */
  problems: ManifestProblem[];
}

/**
 * Collects the OS identity (os-release) and the configuration of the update agents that are
 * not apt's: snapd, dnf/dnf-automatic/yum-cron, needrestart, Flatcar update_engine/locksmithd.
 * Never throws on image content.
 */
export function collectAgents(fs: RootFs): AgentsSection {
  const problems: ManifestProblem[] = [];
  const osRelease = readOsRelease(fs, problems);
  const section: AgentsSection = {
    osRelease,
    snap: readSnap(fs, problems),
    dnf: readDnf(fs, osRelease, problems),
    needrestart: readNeedrestart(fs, problems),
    flatcar: readFlatcar(fs, osRelease, problems),
    problems: [],
  };
  // dnf4 and dnf5 automatic both read /etc/dnf/automatic.conf: report its problems once.
  const seen = new Set<string>();
  for (const problem of problems) {
    const key = JSON.stringify([problem.path, problem.line, problem.reason]);
    if (seen.has(key)) continue;
    seen.add(key);
    section.problems.push(problem);
  }
  return section;
}
