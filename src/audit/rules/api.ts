import type { Rule } from '../types.js';
import aptPeriodicUpdate from './apt-periodic-update/index.js';
import aptTimersEnabled from './apt-timers-enabled/index.js';
import aptUnattendedUpgrades from './apt-unattended-upgrades/index.js';
import autoReboot from './auto-reboot/index.js';
import bootNetworkFetch from './boot-network-fetch/index.js';
import bootScriptPackageInstall from './boot-script-package-install/index.js';
import cloudInitPackageUpgrade from './cloud-init-package-upgrade/index.js';
import containerMutableTag from './container-mutable-tag/index.js';
import dnfAutomatic from './dnf-automatic/index.js';
import dnfReleaseUnlocked from './dnf-release-unlocked/index.js';
import needrestartAuto from './needrestart-auto/index.js';
import osUpdateAgent from './os-update-agent/index.js';
import snapAutoRefresh from './snap-auto-refresh/index.js';

/** Every audit rule, by id, in the order of the rule catalog. A rule is a folder here plus one line in this list. */
export const RULES: ReadonlyMap<string, Rule> = new Map(
  [
    aptUnattendedUpgrades,
    aptPeriodicUpdate,
    aptTimersEnabled,
    cloudInitPackageUpgrade,
    bootScriptPackageInstall,
    bootNetworkFetch,
    containerMutableTag,
    dnfAutomatic,
    dnfReleaseUnlocked,
    snapAutoRefresh,
    needrestartAuto,
    autoReboot,
    osUpdateAgent,
  ].map((rule) => [rule.id, rule]),
);
