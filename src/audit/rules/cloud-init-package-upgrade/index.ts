import { cloudInitTrue } from '../../../manifest/cloud-init/index.js';
import { cloudInitActive, cloudSetStep, effectiveCloudSetting, moduleRuns } from '../../support/cloud-init.js';
import type { EffectiveCloudSetting } from '../../support/cloud-init.js';
import { evidenceAt } from '../../support/evidence.js';
import type { RemediationStep, Rule, RuleFinding } from '../../types.js';

const CHECKS = [
  { keys: ['package_upgrade', 'apt_upgrade'], does: 'upgrades every package at first boot', severity: undefined },
  { keys: ['package_update', 'apt_update', 'repo_update'], does: 'refreshes package lists from the network at first boot', severity: 'medium' as const },
];

function where(setting: EffectiveCloudSetting): string {
  return setting.layer === 'config' ? setting.source.path : `baked ${setting.layer} ${setting.source.path}`;
}

const rule: Rule = {
  id: 'cloud-init-package-upgrade',
  title: 'cloud-init updates packages at first boot',
  severity: 'high',
  failure:
    'cloud-init upgrades packages while the instance boots, so each instance gets the archive of its launch day (on Amazon Linux, security updates by default), and a new update can break instances that a tested image would not.',
  check(context) {
    const section = context.manifest.cloudInit;
    if (!cloudInitActive(section)) return [];
    const findings: RuleFinding[] = [];
    if (moduleRuns(section, 'package_update_upgrade_install')) {
      for (const check of CHECKS) {
        const setting = effectiveCloudSetting(section, check.keys);
        if (setting === undefined || !cloudInitTrue(setting.value)) continue;
        const step = cloudSetStep(section, setting, 'false');
        findings.push({
          severity: check.severity,
          message: `${setting.key}: ${JSON.stringify(setting.value)} in ${where(setting)}: cloud-init ${check.does}.`,
          evidence: [evidenceAt(context.fs, setting.source)],
          remediation: {
            summary:
              step === undefined
                ? `Decode the encoded user-data part of ${setting.source.path}, set ${setting.key.split('.')[0]}: false, and encode it again; launch-time user-data must not turn it back on.`
                : `Set ${setting.key.split('.')[0]}: false${setting.layer === 'config' ? ' in a cloud.cfg.d file that sorts last' : ''}; launch-time user-data must not turn it back on.`,
            steps: step === undefined ? [] : [step],
          },
        });
      }
    }
    const repo = section.repoUpgrade;
    if (repo.effective !== null && repo.effective !== 'none') {
      const steps: RemediationStep[] = [
        repo.source !== null && repo.source.path.startsWith('/etc/cloud/')
          ? { action: 'set-line', path: repo.source.path, match: 'repo_upgrade:', line: 'repo_upgrade: none' }
          : { action: 'set-line', path: '/etc/cloud/cloud.cfg.d/99-goldgate-immutable.cfg', match: 'repo_upgrade:', line: 'repo_upgrade: none' },
      ];
      findings.push({
        message:
          repo.source === null
            ? `repo_upgrade is unset on Amazon Linux, where cloud-init's default is "${repo.effective}": every instance installs updates at first boot.`
            : `repo_upgrade: ${JSON.stringify(repo.value)} (${repo.source.path}): cloud-init installs ${repo.effective} updates at first boot.`,
        evidence: [repo.source !== null ? evidenceAt(context.fs, repo.source) : { path: '/etc/os-release' }],
        remediation: { summary: 'Set repo_upgrade: none in the image’s cloud-init configuration.', steps },
      });
    }
    return findings;
  },
};

export default rule;
