import { posix } from 'node:path';
import type { FileInfo, RootFs } from '../../rootfs/types.js';
import type { ManifestProblem } from '../types.js';
import { byteOrder, chase } from './files.js';
import {
  dropInNames,
  instanceOf,
  isTemplateName,
  isUnitName,
  templateOf,
  unitTypeOf,
  withInstance,
} from './names.js';
import { presetFor } from './presets.js';
import { serviceInfo, unitConditions } from './services.js';
import { timerInfo, timerStamp } from './timers.js';
import type { Enablement, InstallInfo, PresetRule, Setting, Unit, UnitType, WantedByLink } from './types.js';
import { assignmentsOf, effectiveList, effectiveValue, parseUnitFile, splitWords } from './unit-file.js';
import type { Assignment, ParsedUnitFile } from './unit-file.js';

/**
 * The system manager's unit search path, highest priority first (systemd.unit(5), "System Unit
 * Search Path"). /lib/systemd/system is searched on split-/usr systems; on merged-/usr images it
 * resolves to /usr/lib/systemd/system and is read once.
 */
export const UNIT_SEARCH_PATH = [
  '/etc/systemd/system.control',
  '/run/systemd/system.control',
  '/run/systemd/transient',
  '/run/systemd/generator.early',
  '/etc/systemd/system',
  '/etc/systemd/system.attached',
  '/run/systemd/system',
  '/run/systemd/system.attached',
  '/run/systemd/generator',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
  '/run/systemd/generator.late',
];

const GENERATOR_DIRS = [
  '/run/systemd/generator.early',
  '/run/systemd/generator',
  '/run/systemd/generator.late',
];
const TRANSIENT_DIR = '/run/systemd/transient';
const DEPENDENCY_DIRS = { wants: '.wants', requires: '.requires', upholds: '.upholds' } as const;

interface ScannedDir {
  /** The search path entry (`/lib/systemd/system`). */
  path: string;
  files: Map<string, FileInfo>;
  /** `*.d`, `*.wants`, `*.requires`, `*.upholds` subdirectories: name → path to read. */
  subdirs: Map<string, string>;
}

/** How the highest-priority entry for a unit name resolves. */
type Resolution =
  | { kind: 'masked'; by: string; dir: string }
  | { kind: 'file'; path: string; dir: string }
  | { kind: 'alias'; target: string; targetPath: string; dir: string };

interface UnitState {
  name: string;
  type: UnitType;
  template: string | null;
  fragment: string | null;
  fragmentDir: string | null;
  maskedBy: string | null;
  /** A file under its own name in a search directory (what preset-all looks at). */
  ownFile: boolean;
  aliases: Set<string>;
  wantedBy: WantedByLink[];
  triggeredBy: Set<string>;
  dropIns?: string[];
  assignments?: Assignment[];
  installAssignments?: Assignment[];
}

function scan(fs: RootFs): ScannedDir[] {
  const out: ScannedDir[] = [];
  const seen = new Set<string>();
  for (const path of UNIT_SEARCH_PATH) {
    const real = fs.resolve(path);
    if (real === undefined || seen.has(real)) continue;
    seen.add(real);
    const files = new Map<string, FileInfo>();
    const subdirs = new Map<string, string>();
    for (const entry of fs.readdir(path)) {
      if (/\.(d|wants|requires|upholds)$/.test(entry.name)) {
        if (entry.kind === 'dir' || (entry.kind === 'symlink' && fs.stat(entry.path)?.kind === 'dir'))
          subdirs.set(entry.name, entry.path);
        continue;
      }
      if (isUnitName(entry.name) && entry.kind !== 'dir') files.set(entry.name, entry);
    }
    out.push({ path, files, subdirs });
  }
  return out;
}

/** Classifies one entry of a unit directory the way unit_file_build_name_map() does. */
function resolveEntry(
  fs: RootFs,
  name: string,
  entry: FileInfo,
  dir: string,
  problems: ManifestProblem[],
): Resolution | undefined {
  if (entry.kind !== 'symlink') {
    if (entry.kind === 'file' && entry.size > 0) return { kind: 'file', path: entry.path, dir };
    if (entry.kind === 'file' || entry.kind === 'char-device' || entry.kind === 'block-device')
      return { kind: 'masked', by: entry.path, dir };
    return undefined;
  }
  const chased = chase(fs, entry.path);
  if (chased.kind === 'masked') return { kind: 'masked', by: entry.path, dir };
  if (chased.kind === 'missing' || chased.info.kind !== 'file') return undefined;
  const targetPath = chased.info.path;
  const base = posix.basename(targetPath);
  const instance = instanceOf(name);
  // Same name (a linked unit file), or an instance linked to its template file.
  if (base === name || (instance !== null && instance !== '' && base === templateOf(name)))
    return { kind: 'file', path: targetPath, dir };
  if (!isUnitName(base) || unitTypeOf(base) !== unitTypeOf(name)) {
    problems.push({
      path: entry.path,
      reason: `alias of ${base}, which is not a ${unitTypeOf(name)} unit; ignored`,
    });
    return undefined;
  }
  const baseInstance = instanceOf(base);
  if (instance === '' && baseInstance === '') return { kind: 'alias', target: base, targetPath, dir };
  if (instance === null && baseInstance === null) return { kind: 'alias', target: base, targetPath, dir };
  if (instance !== null && instance !== '' && baseInstance !== null) {
    const target = baseInstance === '' ? withInstance(base, instance) : base;
    return { kind: 'alias', target, targetPath, dir };
  }
  problems.push({
    path: entry.path,
    reason: `alias ${name} and its target ${base} differ in being templates; ignored`,
  });
  return undefined;
}

/**
 * Resolves every unit of the image like the system manager: fragment, masks, aliases, drop-ins,
 * `.wants/`/`.requires/`/`.upholds/` links, triggers and enablement. See types.ts for the words.
 */
export function collectUnits(
  fs: RootFs,
  presets: readonly PresetRule[],
  problems: ManifestProblem[],
): Unit[] {
  const dirs = scan(fs);
  const names = new Map<string, Resolution>();
  for (const dir of dirs) {
    for (const [name, entry] of dir.files) {
      if (names.has(name)) continue;
      const r = resolveEntry(fs, name, entry, dir.path, problems);
      if (r !== undefined) names.set(name, r);
    }
  }

  const units = new Map<string, UnitState>();
  const newState = (name: string, init: Partial<UnitState>): UnitState => {
    const state: UnitState = {
      name,
      type: unitTypeOf(name),
      template: instanceOf(name) ? templateOf(name) : null,
      fragment: null,
      fragmentDir: null,
      maskedBy: null,
      ownFile: false,
      aliases: new Set(),
      wantedBy: [],
      triggeredBy: new Set(),
      ...init,
    };
    units.set(name, state);
    return state;
  };

  for (const [name, r] of names) {
    if (r.kind === 'masked') newState(name, { maskedBy: r.by, fragmentDir: r.dir, ownFile: true });
    else if (r.kind === 'file') newState(name, { fragment: r.path, fragmentDir: r.dir, ownFile: true });
  }
  // Aliases whose target is not itself in a unit directory: the target file provides the unit.
  for (const r of names.values()) {
    if (r.kind === 'alias' && !names.has(r.target) && !units.has(r.target) && instanceOf(r.target) === null)
      newState(r.target, { fragment: r.targetPath, fragmentDir: r.dir });
  }

  /** The unit a name refers to (following aliases, instantiating templates), created on demand. */
  const lookup = (start: string): UnitState | undefined => {
    let name = start;
    for (let hop = 0; hop < 64; hop++) {
      const existing = units.get(name);
      if (existing !== undefined) return existing;
      const r = names.get(name);
      if (r?.kind === 'alias') {
        name = r.target;
        continue;
      }
      const instance = instanceOf(name);
      if (instance === null || instance === '') return undefined;
      const template = templateOf(name) as string;
      const t = names.get(template);
      if (t?.kind === 'alias') {
        name = withInstance(t.target, instance);
        continue;
      }
      const base = units.get(template);
      if (base === undefined) return undefined;
      return newState(name, {
        fragment: base.fragment,
        fragmentDir: base.fragmentDir,
        maskedBy: base.maskedBy,
      });
    }
    return undefined;
  };

  for (const [name, r] of names) {
    if (r.kind !== 'alias') continue;
    lookup(name)?.aliases.add(name);
  }

  collectLinks(fs, dirs, lookup, problems);

  const parsed = new Map<string, ParsedUnitFile>();
  const parse = (path: string): ParsedUnitFile | undefined => {
    const cached = parsed.get(path);
    if (cached !== undefined) return cached;
    const text = fs.readText(path);
    if (text === undefined) {
      problems.push({ path, reason: 'cannot read unit file' });
      return undefined;
    }
    const file = parseUnitFile(text, path);
    problems.push(...file.problems);
    parsed.set(path, file);
    return file;
  };
  const load = (u: UnitState): Assignment[] => {
    if (u.assignments !== undefined) return u.assignments;
    if (u.fragment === null || u.maskedBy !== null) {
      u.dropIns = [];
      u.assignments = [];
      u.installAssignments = [];
      return u.assignments;
    }
    u.dropIns = dropInsOf(fs, dirs, u);
    const own = new Set([`${u.name}.d`, ...(u.template === null ? [] : [`${u.template}.d`])]);
    const fragment = parse(u.fragment);
    const files = [fragment, ...u.dropIns.map(parse)].filter((f): f is ParsedUnitFile => f !== undefined);
    u.assignments = assignmentsOf(files);
    // systemctl reads [Install] from the fragment and the unit's own (and template's) drop-ins only.
    const installFiles = files.filter(
      (f) => f === fragment || own.has(posix.basename(posix.dirname(f.path))),
    );
    u.installAssignments = assignmentsOf(installFiles).filter((a) => a.section === 'Install');
    return u.assignments;
  };

  // Triggers may instantiate units (foo@bar.timer → foo@bar.service): iterate to a fixed point.
  const done = new Set<string>();
  for (let progress = true; progress;) {
    progress = false;
    for (const u of [...units.values()]) {
      if (done.has(u.name)) continue;
      done.add(u.name);
      progress = true;
      const list = load(u);
      if (u.maskedBy !== null || instanceOf(u.name) === '') continue;
      const target = triggerTarget(u, list);
      if (target !== null) lookup(target)?.triggeredBy.add(u.name);
    }
  }

  const templatesInUse = new Set(
    [...units.values()].filter((u) => u.template !== null && u.wantedBy.length > 0).map((u) => u.template),
  );
  return [...units.values()]
    .sort((a, b) => byteOrder(a.name, b.name))
    .map((u) => toUnit(fs, u, presets, templatesInUse.has(u.name), problems));
}

/** Reads every `.wants/`, `.requires/`, `.upholds/` directory (a name in a higher directory hides the same name below). */
function collectLinks(
  fs: RootFs,
  dirs: readonly ScannedDir[],
  lookup: (name: string) => UnitState | undefined,
  problems: ManifestProblem[],
): void {
  const seen = new Set<string>();
  for (const dir of dirs) {
    for (const [subdir, path] of dir.subdirs) {
      const dependency = (Object.keys(DEPENDENCY_DIRS) as Array<keyof typeof DEPENDENCY_DIRS>).find((d) =>
        subdir.endsWith(DEPENDENCY_DIRS[d]),
      );
      if (dependency === undefined) continue;
      const wanting = subdir.slice(0, -DEPENDENCY_DIRS[dependency].length);
      for (const entry of fs.readdir(path)) {
        const key = `${subdir}/${entry.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // src/core/load-dropin.c: only valid-named symlinks count; a link to /dev/null masks the dependency.
        if (entry.kind !== 'symlink') {
          problems.push({
            path: entry.path,
            reason: `not a symlink; systemd ignores this ${dependency} entry`,
          });
          continue;
        }
        if (!isUnitName(entry.name)) {
          problems.push({
            path: entry.path,
            reason: `'${entry.name}' is not a unit name; systemd ignores it`,
          });
          continue;
        }
        if (isTemplateName(entry.name) || chase(fs, entry.path).kind === 'masked') continue;
        lookup(entry.name)?.wantedBy.push({ unit: wanting, dependency, via: entry.path });
      }
    }
  }
}

/** Drop-ins in systemd's order: per name (and aliases), per search dir, the name, template and dash-prefix dirs; then `<type>.d`. */
function dropInsOf(fs: RootFs, dirs: readonly ScannedDir[], u: UnitState): string[] {
  const candidates: string[] = [];
  for (const name of [u.name, ...[...u.aliases].sort(byteOrder)]) {
    for (const dir of dirs) {
      for (const dn of dropInNames(name)) {
        const path = dir.subdirs.get(`${dn}.d`);
        if (path !== undefined) candidates.push(path);
      }
    }
  }
  for (const dir of dirs) {
    const path = dir.subdirs.get(`${u.type}.d`);
    if (path !== undefined) candidates.push(path);
  }
  const byName = new Map<string, string>();
  for (const dirPath of new Set(candidates)) {
    for (const entry of fs.readdir(dirPath)) {
      if (!entry.name.endsWith('.conf') || entry.kind === 'dir' || byName.has(entry.name)) continue;
      byName.set(entry.name, entry.path);
    }
  }
  return [...byName.keys()]
    .sort(byteOrder)
    .map((name) => byName.get(name) as string)
    .filter((path) => chase(fs, path).kind === 'found');
}

/** The unit a timer, socket or path unit starts. */
function triggerTarget(u: UnitState, list: readonly Assignment[]): string | null {
  const base = u.name.slice(0, u.name.lastIndexOf('.'));
  const first = (section: string, key: string): string | undefined =>
    list.find((a) => a.section === section && a.key === key && a.value !== '')?.value;
  if (u.type === 'timer') return first('Timer', 'Unit') ?? `${base}.service`;
  if (u.type === 'path') return first('Path', 'Unit') ?? `${base}.service`;
  if (u.type === 'socket') {
    // config_parse_socket_service replaces the reference: the last Service= wins.
    const service = effectiveValue(list, 'Socket', 'Service')?.value;
    if (service !== undefined) return service;
    const accept = effectiveValue(list, 'Socket', 'Accept')?.value;
    return accept !== undefined && /^(1|yes|y|true|t|on)$/i.test(accept)
      ? `${base}@.service`
      : `${base}.service`;
  }
  return null;
}

function installInfo(list: readonly Assignment[]): InstallInfo {
  const words = (key: string): Setting[] =>
    effectiveList(list, 'Install', [key]).flatMap((a) =>
      splitWords(a.value).map((value) => ({ value, source: a.source })),
    );
  const defaultInstance = effectiveValue(list, 'Install', 'DefaultInstance');
  return {
    wantedBy: words('WantedBy'),
    requiredBy: words('RequiredBy'),
    upheldBy: words('UpheldBy'),
    alias: words('Alias'),
    also: words('Also'),
    defaultInstance:
      defaultInstance === null ? null : { value: defaultInstance.value, source: defaultInstance.source },
  };
}

function enablementOf(u: UnitState, install: InstallInfo, instancesLinked: boolean): Enablement {
  if (u.maskedBy !== null) return 'masked';
  if (u.fragmentDir !== null && GENERATOR_DIRS.includes(u.fragmentDir)) return 'generated';
  if (u.fragmentDir === TRANSIENT_DIR) return 'transient';
  if (u.wantedBy.some((l) => l.via.startsWith('/etc/') || l.via.startsWith('/run/'))) return 'enabled';
  if (u.wantedBy.length > 0) return 'vendor-enabled';
  if (instancesLinked) return 'indirect';
  const rules =
    install.wantedBy.length + install.requiredBy.length + install.upheldBy.length + install.alias.length;
  if (rules > 0) return 'disabled';
  return install.also.length > 0 ? 'indirect' : 'static';
}

function toUnit(
  fs: RootFs,
  u: UnitState,
  presets: readonly PresetRule[],
  instancesLinked: boolean,
  problems: ManifestProblem[],
): Unit {
  const masked = u.maskedBy !== null;
  const list = u.assignments ?? [];
  const install = installInfo(u.installAssignments ?? []);
  const enablement = enablementOf(u, install, instancesLinked);
  const isTemplate = instanceOf(u.name) === '';
  const activeAtBoot = !masked && !isTemplate && u.wantedBy.length > 0;
  const hasInstall =
    install.wantedBy.length + install.requiredBy.length + install.upheldBy.length + install.alias.length >
      0 || install.also.length > 0;

  const preset =
    u.ownFile && !masked && enablement !== 'generated' && enablement !== 'transient'
      ? presetFor(u.name, presets)
      : undefined;
  return {
    name: u.name,
    type: u.type,
    template: u.template,
    fragment: u.fragment === null || masked ? null : { path: u.fragment },
    masked,
    ...(u.maskedBy === null ? {} : { maskedBy: { path: u.maskedBy } }),
    aliases: [...u.aliases].sort(byteOrder),
    dropIns: u.dropIns ?? [],
    hasInstall,
    install,
    enablement,
    wantedBy: [...u.wantedBy].sort((a, b) => byteOrder(a.via, b.via)),
    triggeredBy: [...u.triggeredBy].sort(byteOrder),
    activeAtBoot,
    ...(preset === undefined ? {} : { preset }),
    conditions: unitConditions(list),
    ...(!masked && u.type === 'timer'
      ? { timer: timerInfo(u.name, list, timerStamp(fs, u.name), activeAtBoot, problems) }
      : {}),
    ...(!masked && u.type === 'service' ? { service: serviceInfo(list) } : {}),
  };
}
