import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import { isAmazonLinux, readOsRelease } from '../agents/os-release.js';
import { listFiles, readImageFile, readImageText } from '../agents/read.js';
import { mergeMany, originOf } from './merge.js';
import { enabledModules, extractSettings, readModules } from './settings.js';
import type { Locator } from './settings.js';
import type {
  CloudInitRepoUpgrade,
  CloudInitSection,
  CloudInitSetting,
  CloudInitUserData,
  CloudInitUserDataKind,
  JsonObject,
} from './types.js';
import { parseBootScript, parseUserData } from './user-data.js';
import { isObject, parseYaml } from './yaml.js';
import type { ParsedYaml } from './yaml.js';

export type * from './types.js';
export { cloudInitTrue, canonicalModuleName } from './settings.js';
export {
  parseUserData,
  parseBootScript,
  typeFromStartsWith,
  includeUrls,
  MAX_GUNZIP_BYTES,
} from './user-data.js';

export const CLOUD_CFG = '/etc/cloud/cloud.cfg';
const CLOUD_INIT_BIN = '/usr/bin/cloud-init';
const DISABLED_MARKER = '/etc/cloud/cloud-init.disabled';
const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_USER_DATA_BYTES = 4 * 1024 * 1024;

interface ConfigFile {
  path: string;
  parsed: ParsedYaml;
  value: JsonObject;
}

function readConfigFile(fs: RootFs, path: string, problems: ManifestProblem[]): ConfigFile | undefined {
  const text = readImageText(fs, path, problems, MAX_CONFIG_BYTES);
  if (text === undefined) return undefined;
  const parsed = parseYaml(text);
  let value: JsonObject = {};
  // util.load_yaml: a file that does not parse, or is not a mapping, counts as {}.
  if (parsed.error !== undefined) {
    problems.push({
      path,
      line: parsed.error.line,
      reason: `not valid YAML, ignored: ${parsed.error.reason}`,
    });
  } else if (isObject(parsed.value)) {
    value = parsed.value;
  } else if (parsed.value !== null) {
    problems.push({ path, reason: 'top level is not a mapping, ignored' });
  }
  for (const key of ['merge_how', 'merge_type']) {
    if (!Object.hasOwn(value, key)) continue;
    problems.push({
      path,
      line: parsed.lineOf([key]),
      reason: `${key} is not honoured here: default merge rules assumed`,
    });
    // mergers.dict_extract_mergers pops it before merging.
    value = Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
  }
  return { path, parsed, value };
}

/** util.read_conf_with_confd: `conf_d` in cloud.cfg names the drop-in directory, else cloud.cfg.d. */
function confDirectory(
  fs: RootFs,
  base: ConfigFile | undefined,
  problems: ManifestProblem[],
): string | undefined {
  if (base !== undefined && Object.hasOwn(base.value, 'conf_d')) {
    const confd = base.value['conf_d'];
    if (!confd) return undefined;
    if (typeof confd !== 'string') {
      problems.push({
        path: base.path,
        line: base.parsed.lineOf(['conf_d']),
        reason: 'conf_d is not a string',
      });
      return undefined;
    }
    return confd.trim();
  }
  const fallback = `${CLOUD_CFG}.d`;
  return fs.stat(fallback)?.kind === 'dir' ? fallback : undefined;
}

function readConfiguration(fs: RootFs, problems: ManifestProblem[]) {
  const base = readConfigFile(fs, CLOUD_CFG, problems);
  const confd = confDirectory(fs, base, problems);
  const dropIns = confd === undefined ? [] : listFiles(fs, confd, '.cfg');
  const files: ConfigFile[] = [];
  if (base !== undefined) files.push(base);
  for (const path of dropIns) {
    const file = readConfigFile(fs, path, problems);
    if (file !== undefined) files.push(file);
  }
  // Highest priority first, as mergemanydict wants: the last drop-in, ..., the first, cloud.cfg.
  const byPriority = [...files].reverse();
  const merged = mergeMany(byPriority.map((file) => file.value));
  const locate: Locator = (path) => {
    const keys: string[] = [];
    for (const segment of path) {
      if (typeof segment !== 'string') break;
      keys.push(segment);
    }
    const file = byPriority[originOf(merged.origin, keys)];
    if (file === undefined) return { path: CLOUD_CFG };
    const line = file.parsed.lineOf(path);
    return line === undefined ? { path: file.path } : { path: file.path, line };
  };
  return { files: files.map((file) => file.path), config: merged.value, locate };
}

const USER_DATA_FILES: ReadonlyArray<[string, CloudInitUserDataKind]> = [
  ['user-data.txt', 'user-data'],
  ['vendor-data.txt', 'vendor-data'],
  ['vendor-data2.txt', 'vendor-data'],
];

/** Where baked user-data and vendor-data can wait for the first boot, in reporting order. */
function userDataCandidates(fs: RootFs): Array<[string, CloudInitUserDataKind]> {
  const candidates: Array<[string, CloudInitUserDataKind]> = [];
  for (const seed of ['/var/lib/cloud/seed/nocloud', '/var/lib/cloud/seed/nocloud-net']) {
    candidates.push([`${seed}/user-data`, 'user-data'], [`${seed}/vendor-data`, 'vendor-data']);
  }
  const instanceDirs = [
    '/var/lib/cloud/instance',
    ...fs
      .readdir('/var/lib/cloud/instances')
      .filter((entry) => fs.stat(entry.path)?.kind === 'dir')
      .map((entry) => entry.path),
  ];
  for (const dir of instanceDirs) {
    for (const [name, kind] of USER_DATA_FILES) candidates.push([`${dir}/${name}`, kind]);
  }
  return candidates;
}

function collectUserData(fs: RootFs, problems: ManifestProblem[]): CloudInitUserData[] {
  const result: CloudInitUserData[] = [];
  const seen = new Set<string>();
  for (const [path, kind] of userDataCandidates(fs)) {
    // /var/lib/cloud/instance is a symlink to one of instances/*: report each file once.
    const resolved = fs.resolve(path);
    if (resolved === undefined || seen.has(resolved) || fs.stat(path)?.kind !== 'file') continue;
    seen.add(resolved);
    const data = readImageFile(fs, path, problems, MAX_USER_DATA_BYTES);
    if (data === undefined || data.length === 0) continue;
    const { gzip, parts } = parseUserData(data, path, problems);
    result.push({ path, kind, phase: null, executable: null, gzip, parts });
  }
  for (const phase of ['per-boot', 'per-instance', 'per-once'] as const) {
    for (const entry of fs.readdir(`/var/lib/cloud/scripts/${phase}`)) {
      const info = fs.stat(entry.path);
      if (info?.kind !== 'file') continue;
      const data = readImageFile(fs, entry.path, problems, MAX_USER_DATA_BYTES);
      if (data === undefined) continue;
      result.push({
        path: entry.path,
        kind: 'script',
        phase,
        executable: (info.mode & 0o111) !== 0,
        gzip: false,
        parts: [parseBootScript(data)],
      });
    }
  }
  return result;
}

function repoUpgradeOf(fs: RootFs, settings: CloudInitSetting[]): CloudInitRepoUpgrade {
  const setting = settings.find((s) => s.key === 'repo_upgrade');
  // os-release problems are the agents collector's to report.
  const amazonLinux = isAmazonLinux(readOsRelease(fs, []));
  const value = setting?.value ?? null;
  let effective: string | null = null;
  if (value !== null) effective = typeof value === 'string' ? value : JSON.stringify(value);
  else if (amazonLinux) effective = 'security';
  return { value, source: setting?.source ?? null, amazonLinux, effective };
}

function existing(fs: RootFs, path: string): SourceRef | null {
  return fs.exists(path) ? { path } : null;
}

/**
 * Collects what cloud-init will do at the image's first boot: whether it is installed, its
 * merged configuration (cloud.cfg and cloud.cfg.d, merged as cloud-init merges them) with the
 * winning file and line of each audit-relevant key, the modules each stage runs, and every
 * baked user-data, vendor-data and boot script split into parts. Never throws on image content.
 */
export function collectCloudInit(fs: RootFs): CloudInitSection {
  const problems: ManifestProblem[] = [];
  const presence = [existing(fs, CLOUD_CFG), existing(fs, CLOUD_INIT_BIN)].filter(
    (ref): ref is SourceRef => ref !== null,
  );
  const { files, config, locate } = readConfiguration(fs, problems);
  const settings = extractSettings(config, locate);
  const modules = readModules(config, locate);
  return {
    present: presence.length > 0,
    presence,
    disabled: existing(fs, DISABLED_MARKER),
    files,
    config,
    settings,
    modules,
    enabled: enabledModules(modules),
    repoUpgrade: repoUpgradeOf(fs, settings),
    userData: collectUserData(fs, problems),
    problems,
  };
}
