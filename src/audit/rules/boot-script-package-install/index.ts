import { bootFindings } from '../../support/boot-findings.js';
import type { Rule } from '../../types.js';

const rule: Rule = {
  id: 'boot-script-package-install',
  title: 'A boot script installs or upgrades packages',
  severity: 'high',
  failure:
    'Packages installed while the instance boots come from whatever the repositories hold that day, so instances of one image differ, and a boot fails when the repository is down or the dpkg lock is held by apt-daily.',
  check(context) {
    return bootFindings(
      context,
      'package-install',
      (hit) =>
        `${hit.tool} ${hit.action} (line ${hit.line})${hit.detail !== undefined ? ` ${hit.detail}` : ''}`,
      () =>
        'Install these packages when the image is baked (the spec’s packages), and remove the install from the boot path.',
    );
  },
};

export default rule;
