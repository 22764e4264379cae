import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import { isObject, parseYaml } from '../cloud-init/yaml.js';
import type { JsonValue } from '../cloud-init/types.js';
import { readImageText } from './read.js';

export interface SnapValue {
  value: string;
  source: SourceRef;
}

/** `snap refresh --hold` / `snap set system refresh.hold=...`. */
export interface SnapHold extends SnapValue {
  /** `forever`, an RFC 3339 time (`until`), or something snapd would not accept. */
  kind: 'forever' | 'until' | 'invalid';
}

/** A per-snap hold from `snaps-hold` in state.json (held snap, and who holds it until when). */
export interface SnapPerSnapHold {
  snap: string;
  holder: string;
  holdUntil: string | null;
}

export interface SnapInfo {
  /** snapd is installed: `/usr/lib/snapd/snapd` or `/usr/bin/snap`. */
  present: boolean;
  presence: SourceRef[];
  /** `data.config.core.refresh.hold` of `/var/lib/snapd/state.json`. */
  hold: SnapHold | null;
  /** `refresh.timer`, and the legacy `refresh.schedule`. */
  timer: SnapValue | null;
  schedule: SnapValue | null;
  /** `refresh.metered` (`hold` stops refreshes on metered connections only). */
  metered: SnapValue | null;
  snapHolds: SnapPerSnapHold[];
  /** state.json when it was read. */
  stateSource: SourceRef | null;
  /** Names of the snaps in `/var/lib/snapd/seed/seed.yaml`, sorted: installed at first boot. */
  seededSnaps: string[];
  seedSource: SourceRef | null;
}

export const SNAP_STATE = '/var/lib/snapd/state.json';
export const SNAP_SEED = '/var/lib/snapd/seed/seed.yaml';
/** state.json also holds changes and tasks; an image whose state is bigger than this is reported, not read. */
export const MAX_STATE_BYTES = 16 * 1024 * 1024;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function objectAt(value: unknown, path: readonly string[]): Record<string, unknown> | undefined {
  let current = asRecord(value);
  for (const key of path)
    current = current !== undefined && Object.hasOwn(current, key) ? asRecord(current[key]) : undefined;
  return current;
}

function holdKind(value: string): SnapHold['kind'] {
  if (value === 'forever') return 'forever';
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/.test(value) &&
    !Number.isNaN(Date.parse(value))
    ? 'until'
    : 'invalid';
}

function readState(fs: RootFs, problems: ManifestProblem[]) {
  const empty = { hold: null, timer: null, schedule: null, metered: null, snapHolds: [], stateSource: null };
  const text = readImageText(fs, SNAP_STATE, problems, MAX_STATE_BYTES);
  if (text === undefined) return empty;
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (error) {
    problems.push({ path: SNAP_STATE, reason: `not valid JSON: ${(error as Error).message}` });
    return empty;
  }
  // Only the refresh configuration is kept; the rest of the state is dropped here.
  const source = { path: SNAP_STATE };
  const refresh = objectAt(state, ['data', 'config', 'core', 'refresh']) ?? {};
  const valueOf = (key: string): SnapValue | null => {
    const value = refresh[key];
    if (value === undefined || value === null) return null;
    return { value: typeof value === 'string' ? value : JSON.stringify(value), source };
  };
  const hold = valueOf('hold');
  const snapHolds: SnapPerSnapHold[] = [];
  for (const [snap, holders] of Object.entries(objectAt(state, ['data', 'snaps-hold']) ?? {})) {
    for (const [holder, info] of Object.entries(asRecord(holders) ?? {})) {
      const until = asRecord(info)?.['hold-until'];
      snapHolds.push({ snap, holder, holdUntil: typeof until === 'string' ? until : null });
    }
  }
  snapHolds.sort((a, b) => (a.snap + '\u0000' + a.holder < b.snap + '\u0000' + b.holder ? -1 : 1));
  return {
    hold: hold === null ? null : { ...hold, kind: holdKind(hold.value) },
    timer: valueOf('timer'),
    schedule: valueOf('schedule'),
    metered: valueOf('metered'),
    snapHolds,
    stateSource: source,
  };
}

function readSeed(
  fs: RootFs,
  problems: ManifestProblem[],
): { seededSnaps: string[]; seedSource: SourceRef | null } {
  const text = readImageText(fs, SNAP_SEED, problems, 1024 * 1024);
  if (text === undefined) return { seededSnaps: [], seedSource: null };
  const parsed = parseYaml(text);
  if (parsed.error !== undefined) {
    problems.push({
      path: SNAP_SEED,
      line: parsed.error.line,
      reason: `not valid YAML: ${parsed.error.reason}`,
    });
    return { seededSnaps: [], seedSource: { path: SNAP_SEED } };
  }
  const snaps: JsonValue | undefined = isObject(parsed.value) ? parsed.value['snaps'] : undefined;
  const names = (Array.isArray(snaps) ? snaps : [])
    .map((snap) => (isObject(snap) ? snap['name'] : undefined))
    .filter((name): name is string => typeof name === 'string');
  return { seededSnaps: [...new Set(names)].sort(), seedSource: { path: SNAP_SEED } };
}

/**
 * Reads snapd's refresh controls from the image: whether snapd is installed, the refresh hold,
 * timer and schedule kept in state.json (only those are kept), per-snap holds, and the snaps
 * seeded for first boot. Whether snapd.service is enabled is the systemd collector's business.
 */
export function readSnap(fs: RootFs, problems: ManifestProblem[]): SnapInfo {
  const presence = ['/usr/lib/snapd/snapd', '/usr/bin/snap']
    .filter((p) => fs.exists(p))
    .map((path) => ({ path }));
  return {
    present: presence.length > 0,
    presence,
    ...readState(fs, problems),
    ...readSeed(fs, problems),
  };
}
