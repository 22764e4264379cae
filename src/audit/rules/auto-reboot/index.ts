import { aptBool, aptValue } from '../../../manifest/apt/config.js';
import { cloudInitTrue } from '../../../manifest/cloud-init/index.js';
import { packageInstalled } from '../../../manifest/packages.js';
import { activePeriodic, activeTimer } from '../../support/apt.js';
import { aptOverrideSteps } from '../../support/apt-override.js';
import { cloudInitActive, cloudSetStep, effectiveCloudSetting, moduleRuns } from '../../support/cloud-init.js';
import { evidenceAt } from '../../support/evidence.js';
import type { Rule, RuleFinding } from '../../types.js';

const APT_KEY = 'Unattended-Upgrade::Automatic-Reboot';
const DNF_TIMERS = [
  { unit: 'dnf-automatic.timer', config: 'automatic' },
  { unit: 'dnf-automatic-install.timer', config: 'automatic' },
  { unit: 'dnf5-automatic.timer', config: 'automatic5' },
] as const;

const rule: Rule = {
  id: 'auto-reboot',
  title: 'Updates reboot instances on their own',
  severity: 'high',
  failure:
    'An update that needs a reboot restarts the instance by itself, on every instance around the same time, taking capacity out of the group with no rollout to stop it.',
  check(context) {
    const findings: RuleFinding[] = [];
    const config = context.manifest.apt.config;
    const reboot = aptValue(config, APT_KEY);
    if (
      reboot !== undefined &&
      aptBool(reboot.value) === true &&
      packageInstalled(context.manifest.packages, 'unattended-upgrades') !== undefined &&
      activePeriodic(context, 'APT::Periodic::Unattended-Upgrade') !== undefined
    ) {
      const time = aptValue(config, 'Unattended-Upgrade::Automatic-Reboot-Time');
      findings.push({
        message: `${reboot.key} is "${reboot.value ?? ''}" (${reboot.source.path}): unattended-upgrades reboots the instance when an update asks for it${time?.value ? `, at ${time.value}` : ' (right after the upgrade)'}.`,
        evidence: [evidenceAt(context.fs, reboot.source), ...(time !== undefined ? [evidenceAt(context.fs, time.source)] : [])],
        remediation: {
          summary: `Set ${APT_KEY} "false".`,
          steps: aptOverrideSteps(config, { [APT_KEY]: 'false' }, [...new Set(reboot.history.map((e) => e.path))]),
        },
      });
    }
    const dnf = context.manifest.agents.dnf;
    for (const source of DNF_TIMERS) {
      const settings = dnf[source.config];
      const value = settings?.reboot;
      if (value === null || value === undefined || !['when-needed', 'when-changed'].includes(value.value)) continue;
      if (activeTimer(context, source.unit) === undefined) continue;
      if (source.unit !== 'dnf-automatic-install.timer' && settings?.applyUpdates?.value !== true) continue;
      findings.push({
        message: `reboot = ${value.value} (${value.source.path}) and ${source.unit} starts at boot: dnf-automatic reboots the instance after installing updates.`,
        evidence: [evidenceAt(context.fs, value.source)],
        remediation: {
          summary: 'Set reboot = never in the dnf-automatic configuration.',
          steps: [{ action: 'set-line', path: value.source.path, match: 'reboot', line: 'reboot = never' }],
        },
      });
    }
    const cloudInit = context.manifest.cloudInit;
    if (cloudInitActive(cloudInit) && moduleRuns(cloudInit, 'package_update_upgrade_install')) {
      const rebootSetting = effectiveCloudSetting(cloudInit, ['package_reboot_if_required', 'apt_reboot_if_required']);
      const upgrade = effectiveCloudSetting(cloudInit, ['package_upgrade', 'apt_upgrade']);
      if (rebootSetting !== undefined && cloudInitTrue(rebootSetting.value) && upgrade !== undefined && cloudInitTrue(upgrade.value)) {
        const step = cloudSetStep(cloudInit, rebootSetting, 'false');
        findings.push({
          message: `${rebootSetting.key}: ${JSON.stringify(rebootSetting.value)} (${rebootSetting.source.path}): cloud-init reboots the instance during first boot when an upgrade needs it.`,
          evidence: [evidenceAt(context.fs, rebootSetting.source)],
          remediation: { summary: `Set ${rebootSetting.key}: false.`, steps: step === undefined ? [] : [step] },
        });
      }
    }
    return findings;
  },
};

export default rule;
