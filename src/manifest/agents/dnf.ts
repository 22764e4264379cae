import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import { dnfBool, parseDnfIni } from './ini.js';
import type { OsRelease } from './os-release.js';
import { readImageText, splitLines } from './read.js';

/** One effective `key = value` of an INI configuration, with the file and line that set it. */
export interface IniSetting {
  section: string;
  key: string;
  value: string;
  source: SourceRef;
}

/** A boolean option as dnf/yum reads it; `value` is null when dnf would refuse the text. */
export interface DnfBoolSetting {
  raw: string;
  value: boolean | null;
  source: SourceRef;
}

export interface DnfValue {
  value: string;
  source: SourceRef;
}

/** The effective configuration of one automatic-update tool (dnf-automatic, dnf5 automatic, yum-cron). */
export interface AutomaticUpdates {
  /** Files read, lowest priority first; a later file overrides an earlier one key by key. */
  files: string[];
  /** Every effective setting, sorted by section then key. */
  settings: IniSetting[];
  /** `[commands] apply_updates`; unset means no (the default of dnf4, dnf5 and yum-cron). */
  applyUpdates: DnfBoolSetting | null;
  downloadUpdates: DnfBoolSetting | null;
  /** `[commands] upgrade_type` (`default`, `security`); yum-cron: `update_cmd`. */
  upgradeType: DnfValue | null;
  /** `[commands] reboot`: `never` (default), `when-changed`, `when-needed`. Not in yum-cron. */
  reboot: DnfValue | null;
  /** `[emitters] emit_via`. */
  emitVia: DnfValue | null;
}

export interface DnfInfo {
  /** dnf (4 or 5) is installed: `/usr/bin/dnf`, `/usr/bin/dnf-3` or `/usr/bin/dnf5`. */
  present: boolean;
  dnf5: boolean;
  /** os-release ID=amzn, VERSION_ID=2023: releases are locked to the image's version unless told otherwise. */
  amazonLinux2023: boolean;
  /** `[main]` of `/etc/dnf/dnf.conf`, or null when it is missing. */
  dnfConf: IniSetting[] | null;
  /** `[main]` of `/etc/yum.conf`, or null when it is missing. */
  yumConf: IniSetting[] | null;
  releasever: {
    /** `releasever=` in `[main]` of dnf.conf. */
    dnfConf: DnfValue | null;
    /** First line of `/etc/dnf/vars/releasever`, trimmed. */
    varsFile: DnfValue | null;
    /** The one dnf substitutes in repository URLs: the vars file, else dnf.conf, else null (detected from the release package). */
    effective: DnfValue | null;
  };
  /** dnf4 dnf-automatic: `/etc/dnf/automatic.conf`; null when missing. */
  automatic: AutomaticUpdates | null;
  /** dnf5 automatic: defaults in /usr/share/dnf5/dnf5-plugins, then /etc/dnf/dnf5-plugins, then /etc/dnf/automatic.conf. */
  automatic5: AutomaticUpdates | null;
  /** yum-cron: `/etc/yum/yum-cron.conf`. */
  yumCron: AutomaticUpdates | null;
  /** yum-cron hourly run: `/etc/yum/yum-cron-hourly.conf`. */
  yumCronHourly: AutomaticUpdates | null;
}

export const DNF_CONF = '/etc/dnf/dnf.conf';
export const DNF_AUTOMATIC_CONF = '/etc/dnf/automatic.conf';
const DNF5_AUTOMATIC = [
  '/usr/share/dnf5/dnf5-plugins/automatic.conf',
  '/etc/dnf/dnf5-plugins/automatic.conf',
  DNF_AUTOMATIC_CONF,
];
const RELEASEVER_VAR = '/etc/dnf/vars/releasever';
const MAX_CONF_BYTES = 1024 * 1024;

/** Reads INI files in order; a later file's key replaces an earlier one's. Null when none exists. */
function readLayered(
  fs: RootFs,
  paths: readonly string[],
  problems: ManifestProblem[],
): { files: string[]; settings: IniSetting[] } | null {
  const files: string[] = [];
  const effective = new Map<string, IniSetting>();
  for (const path of paths) {
    const text = readImageText(fs, path, problems, MAX_CONF_BYTES);
    if (text === undefined) continue;
    files.push(path);
    const parsed = parseDnfIni(text);
    for (const problem of parsed.problems) problems.push({ path, ...problem });
    for (const entry of parsed.entries) {
      effective.set(`${entry.section}\u0000${entry.key}`, {
        section: entry.section,
        key: entry.key,
        value: entry.value,
        source: { path, line: entry.line },
      });
    }
  }
  if (files.length === 0) return null;
  const settings = [...effective.values()].sort(
    (a, b) => compare(a.section, b.section) || compare(a.key, b.key),
  );
  return { files, settings };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function find(settings: IniSetting[], section: string, key: string): IniSetting | undefined {
  return settings.find((s) => s.section === section && s.key === key);
}

function asValue(setting: IniSetting | undefined): DnfValue | null {
  return setting === undefined ? null : { value: setting.value, source: setting.source };
}

function asBool(setting: IniSetting | undefined, problems: ManifestProblem[]): DnfBoolSetting | null {
  if (setting === undefined) return null;
  const value = dnfBool(setting.value);
  if (value === null) {
    problems.push({
      path: setting.source.path,
      line: setting.source.line,
      reason: `${setting.key} = ${setting.value} is not a boolean`,
    });
  }
  return { raw: setting.value, value, source: setting.source };
}

function automaticUpdates(
  fs: RootFs,
  paths: readonly string[],
  problems: ManifestProblem[],
  upgradeKey = 'upgrade_type',
): AutomaticUpdates | null {
  const layered = readLayered(fs, paths, problems);
  if (layered === null) return null;
  const { settings } = layered;
  return {
    ...layered,
    applyUpdates: asBool(find(settings, 'commands', 'apply_updates'), problems),
    downloadUpdates: asBool(find(settings, 'commands', 'download_updates'), problems),
    upgradeType: asValue(find(settings, 'commands', upgradeKey)),
    reboot: asValue(find(settings, 'commands', 'reboot')),
    emitVia: asValue(find(settings, 'emitters', 'emit_via')),
  };
}

function mainSection(fs: RootFs, path: string, problems: ManifestProblem[]): IniSetting[] | null {
  const layered = readLayered(fs, [path], problems);
  return layered === null ? null : layered.settings.filter((s) => s.section === 'main');
}

function readVar(fs: RootFs, path: string, problems: ManifestProblem[]): DnfValue | null {
  const text = readImageText(fs, path, problems, 64 * 1024);
  if (text === undefined) return null;
  const value = (splitLines(text)[0] ?? '').trim();
  return value === '' ? null : { value, source: { path, line: 1 } };
}

/**
 * Reads what makes dnf/yum change an image by itself: dnf.conf and yum.conf `[main]`, the
 * pinned `releasever` (Amazon Linux 2023 locks it to the image's release unless set to
 * `latest`), and the configuration of dnf-automatic (dnf4 and dnf5) and yum-cron.
 * Whether their timers are enabled is the systemd collector's business.
 */
export function readDnf(fs: RootFs, os: OsRelease | null, problems: ManifestProblem[]): DnfInfo {
  const dnfConf = mainSection(fs, DNF_CONF, problems);
  const confRelease = asValue(dnfConf === null ? undefined : dnfConf.find((s) => s.key === 'releasever'));
  const varsFile = readVar(fs, RELEASEVER_VAR, problems);
  const dnf5 = fs.exists('/usr/bin/dnf5');
  return {
    present: dnf5 || fs.exists('/usr/bin/dnf') || fs.exists('/usr/bin/dnf-3'),
    dnf5,
    amazonLinux2023: os?.id === 'amzn' && os.versionId === '2023',
    dnfConf,
    yumConf: mainSection(fs, '/etc/yum.conf', problems),
    releasever: { dnfConf: confRelease, varsFile, effective: varsFile ?? confRelease },
    automatic: automaticUpdates(fs, [DNF_AUTOMATIC_CONF], problems),
    automatic5:
      fs.exists(DNF5_AUTOMATIC[0]!) || fs.exists(DNF5_AUTOMATIC[1]!)
        ? automaticUpdates(fs, DNF5_AUTOMATIC, problems)
        : null,
    yumCron: automaticUpdates(fs, ['/etc/yum/yum-cron.conf'], problems, 'update_cmd'),
    yumCronHourly: automaticUpdates(fs, ['/etc/yum/yum-cron-hourly.conf'], problems, 'update_cmd'),
  };
}
