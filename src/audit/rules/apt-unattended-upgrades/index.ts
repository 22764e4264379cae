import { packageInstalled } from '../../../manifest/packages.js';
import { activePeriodic, activeTimer } from '../../support/apt.js';
import { aptOverrideSteps } from '../../support/apt-override.js';
import { evidenceAt } from '../../support/evidence.js';
import type { Rule } from '../../types.js';

const KEY = 'APT::Periodic::Unattended-Upgrade';

const rule: Rule = {
  id: 'apt-unattended-upgrades',
  title: 'unattended-upgrades installs updates on running instances',
  severity: 'high',
  failure:
    'Each instance installs whatever updates the archive has on the day it runs, so instances of one image drift apart and a single bad update breaks every new instance at once.',
  check(context) {
    const pkg = packageInstalled(context.manifest.packages, 'unattended-upgrades');
    if (pkg === undefined) return [];
    const periodic = activePeriodic(context, KEY);
    if (periodic === undefined) return [];
    const timer = activeTimer(context, 'apt-daily-upgrade.timer');
    const value = periodic.value.value ?? '';
    const trigger =
      timer !== undefined
        ? 'apt-daily-upgrade.timer starts it on every instance'
        : 'apt-daily-upgrade.timer is not active, but anything that starts apt-daily-upgrade.service or runs apt.systemd.daily will upgrade';
    return [
      {
        severity: timer === undefined ? 'medium' : undefined,
        message: `unattended-upgrades ${pkg.version} is installed and ${periodic.value.key} is "${value}" (set in ${periodic.value.source.path}): ${trigger}.`,
        evidence: [...periodic.evidence, evidenceAt(context.fs, pkg.source)],
        remediation: {
          summary: `Set ${KEY} "0" (or purge unattended-upgrades) and ship updates by baking a new image.`,
          steps: aptOverrideSteps(context.manifest.apt.config, { [KEY]: '0' }, periodic.setIn),
        },
      },
    ];
  },
};

export default rule;
