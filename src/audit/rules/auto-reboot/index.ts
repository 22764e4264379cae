import { aptBool, aptValue } from '../../../manifest/apt/config.js';
import { cloudInitTrue } from '../../../manifest/cloud-init/index.js';
import { packageInstalled } from '../../../manifest/packages.js';
import { activePeriodic, activeTimer } from '../../support/apt.js';
import { aptOverrideSteps } from '../../support/apt-override.js';
import {
  cloudInitActive,
  cloudSetStep,
  effectiveCloudSetting,
  moduleRuns,
} from '../../support/cloud-init.js';
import type { EffectiveCloudSetting } from '../../support/cloud-init.js';
import { evidenceAt, sourceLine } from '../../support/evidence.js';
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
        evidence: [
          evidenceAt(context.fs, reboot.source),
          ...(time !== undefined ? [evidenceAt(context.fs, time.source)] : []),
        ],
        remediation: {
          summary: `Set ${APT_KEY} "false".`,
          steps: aptOverrideSteps(config, { [APT_KEY]: 'false' }, [
            ...new Set(reboot.history.map((e) => e.path)),
          ]),
        },
      });
    }
    const dnf = context.manifest.agents.dnf;
    for (const source of DNF_TIMERS) {
      const settings = dnf[source.config];
      const value = settings?.reboot;
      if (value === null || value === undefined || !['when-needed', 'when-changed'].includes(value.value))
        continue;
      if (activeTimer(context, source.unit) === undefined) continue;
      if (source.unit !== 'dnf-automatic-install.timer' && settings?.applyUpdates?.value !== true) continue;
      findings.push({
        message: `reboot = ${value.value} (${value.source.path}) and ${source.unit} starts at boot: dnf-automatic reboots the instance after installing updates.`,
        evidence: [evidenceAt(context.fs, value.source)],
        remediation: {
          summary: 'Set reboot = never in the dnf-automatic configuration.',
          // The line itself: the prefix `reboot` would also match a `reboot_command` line before it.
          steps: [
            {
              action: 'set-line',
              path: value.source.path,
              match: sourceLine(context.fs, value.source) ?? 'reboot =',
              line: 'reboot = never',
            },
          ],
        },
      });
    }
    const cloudInit = context.manifest.cloudInit;
    if (
      cloudInitActive(cloudInit, context.manifest.systemd) &&
      moduleRuns(cloudInit, 'package_update_upgrade_install')
    ) {
      // cc_package_update_upgrade_install reads each option under its old and new names (either
      // true is true) and reboots after an upgrade or after installing the `packages` list.
      const trueOnes = (keys: readonly string[]): EffectiveCloudSetting[] =>
        keys
          .flatMap((key) => effectiveCloudSetting(cloudInit, [key]) ?? [])
          .filter((s) => cloudInitTrue(s.value));
      const reboots = trueOnes(['package_reboot_if_required', 'apt_reboot_if_required']);
      const upgrade = trueOnes(['package_upgrade', 'apt_upgrade']).length > 0;
      const packages = effectiveCloudSetting(cloudInit, ['packages'])?.value;
      const installs = Array.isArray(packages) && packages.length > 0;
      const first = reboots[0];
      if (first !== undefined && (upgrade || installs)) {
        findings.push({
          message: `${first.key}: ${JSON.stringify(first.value)} (${first.source.path}): cloud-init reboots the instance during first boot when ${upgrade ? 'an upgrade' : 'a package it installs'} needs it.`,
          evidence: reboots.map((s) => evidenceAt(context.fs, s.source)),
          remediation: {
            summary: `Set ${reboots.map((s) => `${s.key}: false`).join(' and ')}.`,
            steps: reboots.flatMap((s) => cloudSetStep(cloudInit, s, 'false') ?? []),
          },
        });
      }
    }
    return findings;
  },
};

export default rule;
