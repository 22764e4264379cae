import { posix } from 'node:path';
import type { JsonValue } from '../../manifest/cloud-init/index.js';
import { findUnit } from '../../manifest/systemd/index.js';
import type { Unit } from '../../manifest/systemd/index.js';
import { scanArgv, scanShell, scanSystemdExec, scriptPathsOf, splitSystemdExec } from '../shell/index.js';
import type { CommandCategory, CommandHit } from '../shell/index.js';
import type { AuditContext } from '../types.js';
import { cloudInitActive, effectiveCloudSetting, moduleRuns } from './cloud-init.js';

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
const CRON_DAEMONS = ['/usr/sbin/cron', '/usr/sbin/crond', '/usr/bin/crond', '/usr/sbin/busybox-cron'];

/** Every boot-time command of the image that changes the instance, computed once per audit. */
export function bootHits(context: AuditContext): BootHit[] {
  return context.memo('boot-hits', () => collect(context));
}

/** The boot-time hits of one category. */
export function bootHitsOf(context: AuditContext, category: CommandCategory): BootHit[] {
  return bootHits(context).filter((hit) => hit.category === category);
}

function collect(context: AuditContext): BootHit[] {
  const hits: BootHit[] = [];
  const scanned = new Set<string>();

  /** Scans a script the boot runs, and the scripts it runs in turn, each once. */
  const scanScript = (path: string, origin: string, depth: number): void => {
    if (depth > MAX_DEPTH || scanned.has(path)) return;
    scanned.add(path);
    const info = context.fs.stat(path);
    if (info?.kind !== 'file') return;
    const text = context.fs.readText(path, { maxBytes: 1024 * 1024 });
    if (text === undefined || !SHELLS.test(text)) return;
    add(scanShell(text), path, origin);
    for (const next of scriptPathsOf(text)) scanScript(next, `${origin} → ${path}`, depth + 1);
  };
  const add = (found: CommandHit[], path: string, origin: string) => {
    for (const hit of found) hits.push({ ...hit, path, origin });
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
        for (const script of scriptPathsOf(splitSystemdExec(setting.value))) scanScript(script, origin, 1);
      }
    }
  }

  const cloudInit = context.manifest.cloudInit;
  if (cloudInitActive(cloudInit)) {
    const commandLists = [
      { key: 'bootcmd', runs: moduleRuns(cloudInit, 'bootcmd') },
      { key: 'runcmd', runs: moduleRuns(cloudInit, 'runcmd') && moduleRuns(cloudInit, 'scripts_user') },
    ];
    for (const { key, runs } of commandLists) {
      const setting = effectiveCloudSetting(cloudInit, [key]);
      if (!runs || setting === undefined || !Array.isArray(setting.value)) continue;
      for (const entry of setting.value)
        add(scanCloudCommand(entry, setting.source.line ?? 1), setting.source.path, `cloud-init ${key}`);
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
        path: packages.source.path,
        origin: 'cloud-init packages',
      });
    }
    for (const file of cloudInit.userData) {
      if (file.kind === 'script' && file.executable !== true) continue;
      for (const part of file.parts) {
        const origin =
          file.kind === 'script'
            ? `cloud-init scripts/${file.phase ?? ''}`
            : `cloud-init ${file.kind} ${part.type}`;
        if ((part.type === 'shell' || part.type === 'boothook') && part.text !== undefined) {
          const found = scanShell(part.text, { startLine: part.startLine });
          add(part.encoded ? found.map((h) => ({ ...h, line: part.startLine })) : found, file.path, origin);
          for (const script of scriptPathsOf(part.text)) scanScript(script, origin, 1);
        }
        if (part.type === 'include') {
          for (const url of part.urls ?? []) {
            hits.push({
              category: 'network-fetch',
              tool: 'cloud-init',
              action: 'include',
              command: `#include ${url}`,
              line: part.startLine,
              target: url,
              path: file.path,
              origin,
            });
          }
        }
      }
    }
  }

  const rcLocal = context.fs.stat('/etc/rc.local');
  if (rcLocal?.kind === 'file' && (rcLocal.mode & 0o111) !== 0) scanScript(rcLocal.path, '/etc/rc.local', 1);

  if (CRON_DAEMONS.some((daemon) => context.fs.exists(daemon))) {
    const crontabs = [
      { path: '/etc/crontab', userField: true },
      ...context.fs
        .readdir('/etc/cron.d')
        .filter((e) => e.kind === 'file' && /^[A-Za-z0-9_-]+$/.test(e.name))
        .map((e) => ({ path: e.path, userField: true })),
      ...context.fs
        .readdir('/var/spool/cron/crontabs')
        .filter((e) => e.kind === 'file')
        .map((e) => ({ path: e.path, userField: false })),
    ];
    for (const { path, userField } of crontabs) {
      const lines = context.fs.readText(path)?.split('\n') ?? [];
      lines.forEach((line, index) => {
        const match = /^\s*@reboot\s+(.*)$/.exec(line);
        if (match === null) return;
        const command = userField ? (match[1] ?? '').replace(/^\S+\s+/, '') : (match[1] ?? '');
        add(scanShell(command, { startLine: index + 1 }), path, `cron @reboot (${posix.basename(path)})`);
        for (const script of scriptPathsOf(command))
          scanScript(script, `cron @reboot (${posix.basename(path)})`, 1);
      });
    }
  }
  return hits;
}

/** A runcmd/bootcmd entry: a string runs through `sh -c`, a list is an argv. */
function scanCloudCommand(entry: JsonValue, line: number): CommandHit[] {
  if (typeof entry === 'string')
    return scanShell(entry, { startLine: line }).map((hit) => ({ ...hit, line }));
  if (Array.isArray(entry))
    return scanArgv(
      entry.map((word) => (typeof word === 'string' ? word : JSON.stringify(word))),
      { line },
    );
  return [];
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
