import type { SourceRef } from '../types.js';
import type {
  CloudInitEnabledModules,
  CloudInitModuleEntry,
  CloudInitSetting,
  CloudInitStage,
  JsonObject,
  JsonValue,
} from './types.js';
import { isObject } from './yaml.js';

/** Keys whose value an audit needs, in the order they are reported. */
export const SETTING_PATHS: ReadonlyArray<readonly string[]> = [
  ['package_update'],
  ['package_upgrade'],
  ['package_reboot_if_required'],
  // Deprecated aliases, still honoured by cc_package_update_upgrade_install.
  ['apt_update'],
  ['apt_upgrade'],
  ['apt_reboot_if_required'],
  ['repo_update'],
  ['repo_upgrade'],
  ['packages'],
  ['bootcmd'],
  ['runcmd'],
  ['snap'],
  ['apt', 'preserve_sources_list'],
  ['apt', 'sources'],
  ['cloud_init_modules'],
  ['cloud_config_modules'],
  ['cloud_final_modules'],
];

export const STAGE_KEYS: ReadonlyArray<[CloudInitStage, string]> = [
  ['init', 'cloud_init_modules'],
  ['config', 'cloud_config_modules'],
  ['final', 'cloud_final_modules'],
];

/** Locates the source (file and line) of a key path of a config. */
export type Locator = (path: ReadonlyArray<string | number>) => SourceRef;

function valueAt(config: JsonObject, path: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = config;
  for (const key of path) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** The audit-relevant settings present in a config. */
export function extractSettings(config: JsonObject, locate: Locator): CloudInitSetting[] {
  const settings: CloudInitSetting[] = [];
  for (const path of SETTING_PATHS) {
    const value = valueAt(config, path);
    if (value === undefined) continue;
    settings.push({ key: path.join('.'), value, source: locate(path) });
  }
  return settings;
}

/** cloud-init's module names: `-` and `_` are the same, a `.py` suffix is dropped. */
export function canonicalModuleName(raw: string): string {
  return raw.trim().replace(/-/g, '_').replace(/\.py$/i, '');
}

/**
 * Reads a `cloud_*_modules` list the way cloudinit/config/modules.py does: an entry is a name,
 * a list `[name, frequency, args...]`, or a dict `{name, frequency, args}`.
 */
export function readModuleList(
  config: JsonObject,
  stage: CloudInitStage,
  key: string,
  locate: Locator,
): CloudInitModuleEntry[] {
  const list = config[key];
  if (!Array.isArray(list)) return [];
  const entries: CloudInitModuleEntry[] = [];
  list.forEach((item, index) => {
    let raw: JsonValue | undefined;
    let frequency: JsonValue | undefined;
    if (typeof item === 'string') raw = item;
    else if (Array.isArray(item)) [raw, frequency] = item;
    else if (isObject(item)) [raw, frequency] = [item['name'], item['frequency']];
    if (typeof raw !== 'string' || canonicalModuleName(raw) === '') return;
    entries.push({
      name: canonicalModuleName(raw),
      raw,
      stage,
      frequency: typeof frequency === 'string' ? frequency.trim() : null,
      source: locate([key, index]),
    });
  });
  return entries;
}

export function readModules(
  config: JsonObject,
  locate: Locator,
): Record<CloudInitStage, CloudInitModuleEntry[]> {
  const modules: Record<CloudInitStage, CloudInitModuleEntry[]> = { init: [], config: [], final: [] };
  for (const [stage, key] of STAGE_KEYS) modules[stage] = readModuleList(config, stage, key, locate);
  return modules;
}

const WATCHED: ReadonlyArray<keyof CloudInitEnabledModules> = [
  'package_update_upgrade_install',
  'apt_configure',
  'bootcmd',
  'runcmd',
  'scripts_user',
  'scripts_vendor',
  'scripts_per_boot',
  'scripts_per_instance',
  'scripts_per_once',
  'snap',
];

/** The first listing of each watched module across the stages (init, config, final). */
export function enabledModules(
  modules: Record<CloudInitStage, CloudInitModuleEntry[]>,
): CloudInitEnabledModules {
  const all = [...modules.init, ...modules.config, ...modules.final];
  const enabled = {} as CloudInitEnabledModules;
  for (const name of WATCHED) enabled[name] = all.find((entry) => entry.name === name) ?? null;
  return enabled;
}

// cloudinit/util.py TRUE_STRINGS, as used by translate_bool / get_cfg_option_bool.
const TRUE_STRINGS = new Set(['true', '1', 'on', 'yes']);

/** cloud-init's translate_bool: how a module reads a boolean option such as `package_upgrade`. */
export function cloudInitTrue(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value) && value.length === 0) return false;
  if (isObject(value) && Object.keys(value).length === 0) return false;
  if (value === true) return true;
  // Python's str() of a dict/list never matches; of a number gives e.g. "1" or "1.0".
  if (typeof value === 'number') return Number.isInteger(value) && value === 1;
  return typeof value === 'string' && TRUE_STRINGS.has(value.toLowerCase().trim());
}
