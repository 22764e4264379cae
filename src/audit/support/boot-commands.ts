import { posix } from 'node:path';
import type {
  CloudInitPart,
  CloudInitSection,
  CloudInitUserData,
  JsonValue,
} from '../../manifest/cloud-init/index.js';
import { isObject, parseYaml } from '../../manifest/cloud-init/yaml.js';
import { findUnit } from '../../manifest/systemd/index.js';
import type { Unit } from '../../manifest/systemd/index.js';
import { scanArgv, scanShell, scanSystemdExec, scriptPathsOf, splitSystemdExec } from '../shell/index.js';
import type { CommandCategory, CommandHit } from '../shell/index.js';
import type { AuditContext } from '../types.js';
import { cloudInitActive, effectiveCloudSetting, moduleRuns } from './cloud-init.js';
import type { EffectiveCloudSetting } from './cloud-init.js';

/** A command that runs at boot and changes the instance, with the file it is written in. */
export interface BootHit extends CommandHit {
  path: string;
  /** What runs it: `systemd web-bootstrap.service ExecStartPre`, `cloud-init runcmd`, `/etc/rc.local`, ... */
  origin: string;
}

/**
 * Units whose boot-time work a dedicated rule already judges with the configuration that
 * governs it (apt-daily runs apt.systemd.daily, which reads APT::Periodic): not scanned again.
 */
const COVERED_UNITS = new Set([
  'apt-daily.service',
  'apt-daily-upgrade.service',
  'unattended-upgrades.service',
  'dnf-automatic.service',
  'dnf-automatic-install.service',
  'dnf-automatic-download.service',
  'dnf-automatic-notifyonly.service',
  'dnf5-automatic.service',
  'dnf-makecache.service',
  'yum-cron.service',
  'snapd.service',
  'snapd.seeded.service',
  'update-engine.service',
  'locksmithd.service',
  'zincati.service',
  'rpm-ostreed-automatic.service',
  'transactional-update.service',
  'swupd-update.service',
  'packagekit-offline-update.service',
]);

const SHELLS = /^#!\s*(?:\/usr)?\/bin\/(?:env\s+)?(?:sh|bash|dash|ksh|zsh|busybox\s+sh)\b/;
const MAX_DEPTH = 3;
/** A boot script is small; anything larger is a program, not read (and not reported as oversized). */
const MAX_SCRIPT_BYTES = 1024 * 1024;
/** Debian's cron (and busybox crond) read /etc/cron.d names of run-parts' alphabet only. */
const DEBIAN_CRON = ['/usr/sbin/cron', '/usr/sbin/busybox-cron'];
/** cronie reads every /etc/cron.d name but dotfiles, `#…`, `…~` and rpm leftovers, and /var/spool/cron/<user>. */
const CRONIE = ['/usr/sbin/crond', '/usr/bin/crond'];

/**
 * How a script is started: `exec` by the kernel (it needs a shell `#!` line to be shell),
 * `shell` from a shell (as an argument, or by path: a shell runs a text file without `#!`
 * itself when the kernel refuses it).
 */
type Launch = 'exec' | 'shell';

/** Every boot-time command of the image that changes the instance, computed once per audit. */
export function bootHits(context: AuditContext): BootHit[] {
  return context.memo('boot-hits', () => collect(context));
}

/** The boot-time hits of one category. */
export function bootHitsOf(context: AuditContext, category: CommandCategory): BootHit[] {
  return bootHits(context).filter((hit) => hit.category === category);
}

function runsAsShell(text: string, launch: Launch): boolean {
  if (SHELLS.test(text)) return true;
  return launch === 'shell' && !text.startsWith('#!') && !text.includes('\u0000');
}

function collect(context: AuditContext): BootHit[] {
  const hits: BootHit[] = [];
  const scanned = new Set<string>();

  // Cite the file itself, not a symlink to it: a fix written to a link would replace the
  // link and leave the script the boot runs unchanged.
  const realPath = (path: string) => context.fs.resolve(path) ?? path;
  const add = (found: CommandHit[], path: string, origin: string) => {
    for (const hit of found) hits.push({ ...hit, path: realPath(path), origin });
  };

  /** Scans a script the boot runs, and the scripts it runs in turn, each once. */
  const scanScript = (path: string, origin: string, depth: number, launch: Launch): void => {
    const real = context.fs.resolve(path);
    if (real === undefined || depth > MAX_DEPTH || scanned.has(real)) return;
    const info = context.fs.stat(real);
    if (info?.kind !== 'file' || info.size > MAX_SCRIPT_BYTES) return;
    const text = context.fs.readText(real, { maxBytes: MAX_SCRIPT_BYTES });
    if (text === undefined || !runsAsShell(text, launch)) return;
    scanned.add(real);
    add(scanShell(text), real, origin);
    const via = origin === real ? origin : `${origin} → ${real}`;
    for (const next of scriptPathsOf(text)) scanScript(next, via, depth + 1, 'shell');
  };

  for (const unit of bootServices(context)) {
    const service = unit.service;
    if (service === undefined) continue;
    const directives = [
      ['ExecCondition', service.execCondition],
      ['ExecStartPre', service.execStartPre],
      ['ExecStart', service.execStart],
      ['ExecStartPost', service.execStartPost],
    ] as const;
    for (const [directive, settings] of directives) {
      for (const setting of settings) {
        const origin = `systemd ${unit.name} ${directive}`;
        add(scanSystemdExec(setting.value, { line: setting.source.line }), setting.source.path, origin);
        const argv = splitSystemdExec(setting.value);
        // systemd execs argv[0] itself; a script given to an interpreter is read by it.
        for (const script of scriptPathsOf(argv))
          scanScript(script, origin, 1, script === argv[0] ? 'exec' : 'shell');
      }
    }
  }

  const cloudInit = context.manifest.cloudInit;
  if (cloudInitActive(cloudInit, context.manifest.systemd)) {
    // cc_bootcmd and cc_runcmd write the list into a shell script that /bin/sh runs.
    const commandLists = [
      { key: 'bootcmd', runs: moduleRuns(cloudInit, 'bootcmd') },
      { key: 'runcmd', runs: moduleRuns(cloudInit, 'runcmd') && moduleRuns(cloudInit, 'scripts_user') },
    ];
    for (const { key, runs } of commandLists) {
      const setting = effectiveCloudSetting(cloudInit, [key]);
      if (!runs || setting === undefined || !Array.isArray(setting.value)) continue;
      const sites = entrySites(context, setting, setting.value);
      setting.value.forEach((entry, index) => {
        const site = sites[index] ?? { line: setting.source.line ?? 1, literal: false };
        add(scanCloudCommand(entry, site), setting.source.path, `cloud-init ${key}`);
        for (const script of scriptPathsOf(commandWords(entry)))
          scanScript(script, `cloud-init ${key}`, 1, 'shell');
      });
    }
    const packages = effectiveCloudSetting(cloudInit, ['packages']);
    if (
      moduleRuns(cloudInit, 'package_update_upgrade_install') &&
      packages !== undefined &&
      Array.isArray(packages.value) &&
      packages.value.length > 0
    ) {
      hits.push({
        category: 'package-install',
        tool: 'cloud-init',
        action: 'install',
        command: `packages: ${JSON.stringify(packages.value)}`,
        line: packages.source.line ?? 1,
        path: realPath(packages.source.path),
        origin: 'cloud-init packages',
      });
    }
    for (const file of cloudInit.userData) {
      if (file.kind === 'script' && file.executable !== true) continue;
      const lines = file.gzip ? [] : (context.fs.readText(file.path)?.split('\n') ?? []);
      for (const part of file.parts) {
        const origin =
          file.kind === 'script'
            ? `cloud-init scripts/${file.phase ?? ''}`
            : `cloud-init ${file.kind} ${part.type}`;
        if (
          (part.type === 'shell' || part.type === 'boothook') &&
          part.text !== undefined &&
          scriptRuns(cloudInit, file, part) &&
          // cloud-init writes the part to a file and executes it: its `#!` line picks the interpreter
          // (a boothook's after its `#cloud-boothook` line, which cloud-init strips).
          runsAsShell(
            part.type === 'boothook' ? part.text.replace(/^#cloud-boothook/i, '').trimStart() : part.text,
            'exec',
          )
        ) {
          const found = scanShell(part.text, { startLine: part.startLine });
          add(part.encoded ? found.map((h) => ({ ...h, line: part.startLine })) : found, file.path, origin);
          for (const script of scriptPathsOf(part.text)) scanScript(script, origin, 1, 'shell');
        }
        if (part.type === 'include') {
          for (const url of part.urls ?? []) {
            hits.push({
              category: 'network-fetch',
              tool: 'cloud-init',
              action: 'include',
              command: `#include ${url}`,
              line: part.encoded ? part.startLine : includeLine(lines, part.startLine, url),
              target: url,
              path: realPath(file.path),
              origin,
            });
          }
        }
      }
    }
  }

  const rcLocal = context.fs.stat('/etc/rc.local');
  if (rcLocal?.kind === 'file' && (rcLocal.mode & 0o111) !== 0)
    scanScript('/etc/rc.local', '/etc/rc.local', 1, 'exec');

  const debianCron = DEBIAN_CRON.some((daemon) => context.fs.exists(daemon));
  const cronie = CRONIE.some((daemon) => context.fs.exists(daemon));
  if (debianCron || cronie) {
    const cronDName = (name: string): boolean =>
      (debianCron && /^[A-Za-z0-9_-]+$/.test(name)) ||
      (cronie && !/^[.#]/.test(name) && !/(?:~|\.rpmsave|\.rpmorig|\.rpmnew)$/.test(name));
    const crontabs = [
      { path: '/etc/crontab', userField: true },
      ...context.fs
        .readdir('/etc/cron.d')
        .filter((e) => e.kind === 'file' && cronDName(e.name))
        .map((e) => ({ path: e.path, userField: true })),
      ...context.fs
        .readdir('/var/spool/cron/crontabs')
        .filter((e) => e.kind === 'file')
        .map((e) => ({ path: e.path, userField: false })),
      ...(cronie
        ? context.fs
            .readdir('/var/spool/cron')
            .filter((e) => e.kind === 'file' && !e.name.startsWith('.'))
            .map((e) => ({ path: e.path, userField: false }))
        : []),
    ];
    for (const { path, userField } of crontabs) {
      const lines = context.fs.readText(path)?.split('\n') ?? [];
      lines.forEach((line, index) => {
        const match = /^\s*@reboot\s+(.*)$/.exec(line);
        if (match === null) return;
        const command = userField ? (match[1] ?? '').replace(/^\S+\s+/, '') : (match[1] ?? '');
        const origin = `cron @reboot (${posix.basename(path)})`;
        add(scanShell(command, { startLine: index + 1 }), path, origin);
        for (const script of scriptPathsOf(command)) scanScript(script, origin, 1, 'shell');
      });
    }
  }
  return hits;
}

/** Where a runcmd/bootcmd entry is written: its line, and whether it is a `- |` block whose lines are the file's. */
interface EntrySite {
  line: number;
  literal: boolean;
}

/**
 * The line of each entry of a cloud-config command list. The settings cite the key's line
 * only, so the key's block is read again from the file; an encoded part, or a block that
 * does not read back as the same list, cites the key's line for every entry.
 */
function entrySites(
  context: AuditContext,
  setting: EffectiveCloudSetting,
  entries: JsonValue[],
): EntrySite[] {
  const keyLine = setting.source.line ?? 1;
  const fallback = entries.map(() => ({ line: keyLine, literal: false }));
  if (setting.encoded || setting.source.line === undefined) return fallback;
  const lines = context.fs.readText(setting.source.path)?.split('\n');
  const first = lines?.[keyLine - 1];
  if (lines === undefined || first === undefined) return fallback;
  const indentOf = (line: string) => line.length - line.trimStart().length;
  const indent = indentOf(first);
  let end = keyLine;
  for (; end < lines.length; end++) {
    const line = lines[end] ?? '';
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    // A block sequence may sit at its key's indentation (`runcmd:\n- cmd`).
    if (indentOf(line) > indent || (indentOf(line) === indent && /^-(?:\s|$)/.test(trimmed))) continue;
    break;
  }
  const block = lines
    .slice(keyLine - 1, end)
    .map((line) => line.slice(Math.min(indent, indentOf(line))))
    .join('\n');
  const parsed = parseYaml(block);
  const list = isObject(parsed.value) ? parsed.value[setting.key] : undefined;
  if (JSON.stringify(list) !== JSON.stringify(entries)) return fallback;
  return entries.map((_, index) => {
    const at = parsed.lineOf([setting.key, index]);
    if (at === undefined) return { line: keyLine, literal: false };
    const line = keyLine + at - 1;
    return { line, literal: /^\s*-\s+\|[1-9+-]*\s*(?:#.*)?$/.test(lines[line - 1] ?? '') };
  });
}

/** A runcmd/bootcmd entry: a string runs through `sh -c`, a list is an argv. */
function scanCloudCommand(entry: JsonValue, site: EntrySite): CommandHit[] {
  // The text of a `- |` block starts on the next line, each of its lines one of the file's.
  if (typeof entry === 'string' && site.literal) return scanShell(entry, { startLine: site.line + 1 });
  if (typeof entry === 'string')
    return scanShell(entry, { startLine: site.line }).map((hit) => ({ ...hit, line: site.line }));
  if (Array.isArray(entry)) return scanArgv(commandWords(entry) as string[], { line: site.line });
  return [];
}

function commandWords(entry: JsonValue): string | string[] {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry))
    return entry.map((word) => (typeof word === 'string' ? word : JSON.stringify(word)));
  return [];
}

/** Whether the cloud-init module that runs a user-data, vendor-data or scripts/ part is in the image's stages. */
function scriptRuns(section: CloudInitSection, file: CloudInitUserData, part: CloudInitPart): boolean {
  // Boothooks run while user-data is processed, before any module.
  if (part.type === 'boothook') return true;
  if (file.kind === 'user-data') return moduleRuns(section, 'scripts_user');
  if (file.kind === 'vendor-data') return moduleRuns(section, 'scripts_vendor');
  if (file.phase === 'per-boot') return moduleRuns(section, 'scripts_per_boot');
  if (file.phase === 'per-instance') return moduleRuns(section, 'scripts_per_instance');
  return moduleRuns(section, 'scripts_per_once');
}

/** The line of an `#include` part that names the URL (the part's first line when none does). */
function includeLine(lines: readonly string[], startLine: number, url: string): number {
  for (let index = startLine - 1; index < lines.length; index++) {
    const text = (lines[index] ?? '').replace(/^#include(?:-once)?/i, '').trim();
    if (text === url) return index + 1;
  }
  return startLine;
}

/** Services that run at boot: started by a link, or triggered by a timer, socket or path that is. */
function bootServices(context: AuditContext): Unit[] {
  const section = context.manifest.systemd;
  return section.units.filter((unit) => {
    if (unit.type !== 'service' || unit.masked || COVERED_UNITS.has(unit.name)) return false;
    if (unit.template !== null && COVERED_UNITS.has(unit.template)) return false;
    if (unit.activeAtBoot) return true;
    return unit.triggeredBy.some((name) => {
      const trigger = findUnit(section, name);
      return trigger !== undefined && trigger.activeAtBoot && !trigger.masked;
    });
  });
}
