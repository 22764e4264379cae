import { cloudInitTrue } from '../../../manifest/cloud-init/index.js';
import type { OsRelease } from '../../../manifest/agents/index.js';
import {
  cloudCfgOverrideFile,
  cloudInitActive,
  cloudSetStep,
  effectiveCloudSetting,
  moduleRuns,
} from '../../support/cloud-init.js';
import type { EffectiveCloudSetting } from '../../support/cloud-init.js';
import { evidenceAt, uniqueEvidence } from '../../support/evidence.js';
import type { AuditContext, Evidence, RemediationStep, Rule, RuleFinding } from '../../types.js';

/**
 * cc_package_update_upgrade_install reads each group of names with `_multi_cfg_bool_get`:
 * any one of them true is enough. `repo_update` is Amazon Linux's own name.
 */
const CHECKS = [
  {
    keys: ['package_upgrade', 'apt_upgrade'],
    does: 'upgrades every package at first boot',
    severity: undefined,
  },
  {
    keys: ['package_update', 'apt_update', 'repo_update'],
    does: 'refreshes package lists from the network at first boot',
    severity: 'medium' as const,
  },
];

/** The line that proves a setting; an encoded (gzip, base64) part has no line worth quoting. */
function evidenceOf(context: AuditContext, setting: EffectiveCloudSetting): Evidence {
  if (setting.encoded)
    return setting.source.line === undefined ? { path: setting.source.path } : { ...setting.source };
  return evidenceAt(context.fs, setting.source);
}

function where(setting: EffectiveCloudSetting): string {
  return setting.layer === 'config' ? setting.source.path : `baked ${setting.layer} ${setting.source.path}`;
}

/**
 * Amazon Linux 1 and 2 install security updates at first boot unless told otherwise;
 * AL2023 does not (its repositories are locked to the image's release instead).
 */
function upgradesByDefault(os: OsRelease | null): boolean {
  const major = /^(\d+)/.exec(os?.versionId ?? '')?.[1];
  return major === undefined || Number(major) < 2023;
}

const rule: Rule = {
  id: 'cloud-init-package-upgrade',
  title: 'cloud-init updates packages at first boot',
  severity: 'high',
  failure:
    'cloud-init upgrades packages while the instance boots, so each instance gets the archive of its launch day (on Amazon Linux, security updates by default), and a new update can break instances that a tested image would not.',
  check(context) {
    const section = context.manifest.cloudInit;
    if (!cloudInitActive(section, context.manifest.systemd)) return [];
    const amazonLinux = section.repoUpgrade.amazonLinux;
    const findings: RuleFinding[] = [];
    if (moduleRuns(section, 'package_update_upgrade_install')) {
      for (const check of CHECKS) {
        const settings = check.keys
          .filter((key) => key !== 'repo_update' || amazonLinux)
          .map((key) => effectiveCloudSetting(section, [key]))
          .filter(
            (setting) => setting !== undefined && cloudInitTrue(setting.value),
          ) as EffectiveCloudSetting[];
        if (settings.length === 0) continue;
        const steps = settings.map((setting) => cloudSetStep(section, setting, 'false'));
        const encoded = settings.filter((_, index) => steps[index] === undefined);
        const names = settings.map((setting) => `${setting.key}: false`).join(' and ');
        const inConfig = settings.every((setting) => setting.layer === 'config');
        findings.push({
          severity: check.severity,
          message: `${settings.map((s) => `${s.key}: ${JSON.stringify(s.value)} in ${where(s)}`).join('; ')}: cloud-init ${check.does}.`,
          evidence: uniqueEvidence(settings.map((setting) => evidenceOf(context, setting))),
          remediation: {
            summary:
              encoded.length > 0
                ? `Decode the encoded user-data part of ${encoded.map((s) => s.source.path).join(', ')}, set ${encoded.map((s) => `${s.key}: false`).join(' and ')}, and encode it again; launch-time user-data must not turn it back on.`
                : `Set ${names}${inConfig ? ' in a cloud.cfg.d file that sorts last' : ''}; launch-time user-data must not turn it back on.`,
            steps: steps.filter((step): step is RemediationStep => step !== undefined),
          },
        });
      }
    }
    // repo_upgrade is Amazon Linux's own key: upstream cloud-init ignores it.
    if (!amazonLinux) return findings;
    const os = context.manifest.agents.osRelease;
    const repo = effectiveCloudSetting(section, ['repo_upgrade']);
    const setting = repo !== undefined && repo.value !== null ? repo : undefined;
    const effective =
      setting !== undefined
        ? typeof setting.value === 'string'
          ? setting.value
          : JSON.stringify(setting.value)
        : upgradesByDefault(os)
          ? 'security'
          : null;
    if (effective === null || effective === 'none') return findings;
    const step =
      setting !== undefined
        ? cloudSetStep(section, setting, 'none')
        : {
            action: 'set-line' as const,
            path: cloudCfgOverrideFile(section),
            match: 'repo_upgrade:',
            line: 'repo_upgrade: none',
          };
    findings.push({
      message:
        setting === undefined
          ? `repo_upgrade is unset on Amazon Linux, where cloud-init's default is "${effective}": every instance installs updates at first boot.`
          : `repo_upgrade: ${JSON.stringify(setting.value)} in ${where(setting)}: cloud-init installs ${effective} updates at first boot.`,
      evidence: [
        setting !== undefined ? evidenceOf(context, setting) : { path: os?.source.path ?? '/etc/os-release' },
      ],
      remediation: {
        summary:
          step === undefined
            ? `Decode the encoded user-data part of ${setting?.source.path ?? ''}, set repo_upgrade: none, and encode it again.`
            : 'Set repo_upgrade: none in the image’s cloud-init configuration.',
        steps: step === undefined ? [] : [step],
      },
    });
    return findings;
  },
};

export default rule;
