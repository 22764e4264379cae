import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem } from '../types.js';
import { byteOrder } from './files.js';
import { readMachineId, readPresets } from './presets.js';
import type { SystemdSection, Unit } from './types.js';
import { collectUnits } from './units.js';

export type * from './types.js';
export { parseUnitFile } from './unit-file.js';
export type { ParsedUnitFile, UnitFileEntry } from './unit-file.js';
export { parseTimeSpan } from './timers.js';
export { UNIT_SEARCH_PATH } from './units.js';
export { PRESET_DIRS } from './presets.js';

/**
 * The systemd part of an image's manifest, computed from files only: every unit the system manager
 * would see, whether it starts at boot, timers and the code services run, presets and first boot.
 * Stable for a given image: nothing depends on the current time or the host.
 */
export function collectSystemd(fs: RootFs): SystemdSection {
  const problems: ManifestProblem[] = [];
  const presets = readPresets(fs, problems);
  const { state, firstBoot } = readMachineId(fs);
  const units = collectUnits(fs, presets, problems);
  return { units, presets, firstBoot, machineId: state, problems: uniqueProblems(problems) };
}

/** A unit by name or by one of its aliases. */
export function findUnit(section: SystemdSection, name: string): Unit | undefined {
  return section.units.find((u) => u.name === name) ?? section.units.find((u) => u.aliases.includes(name));
}

function uniqueProblems(problems: readonly ManifestProblem[]): ManifestProblem[] {
  const byKey = new Map<string, ManifestProblem>();
  for (const p of problems) byKey.set(JSON.stringify([p.path, p.line ?? 0, p.reason]), p);
  return [...byKey.values()].sort(
    (a, b) => byteOrder(a.path, b.path) || (a.line ?? 0) - (b.line ?? 0) || byteOrder(a.reason, b.reason),
  );
}
