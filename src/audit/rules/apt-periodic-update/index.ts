import { activePeriodic, activeTimer } from '../../support/apt.js';
import { aptOverrideSteps } from '../../support/apt-override.js';
import type { Rule } from '../../types.js';

const KEYS = ['APT::Periodic::Update-Package-Lists', 'APT::Periodic::Download-Upgradeable-Packages'];

const rule: Rule = {
  id: 'apt-periodic-update',
  title: 'apt refreshes package lists from the network on its own',
  severity: 'medium',
  failure:
    'Instances fetch new package lists (and with Download-Upgradeable-Packages, the packages themselves) at boot, so what the next apt-get or unattended-upgrade installs depends on the day, and boot depends on the mirror being reachable.',
  check(context) {
    const active = KEYS.map((key) => ({ key, periodic: activePeriodic(context, key) })).filter(
      (entry): entry is { key: string; periodic: NonNullable<ReturnType<typeof activePeriodic>> } =>
        entry.periodic !== undefined,
    );
    // apt.systemd.daily downloads upgradeable packages only right after a list update it made.
    if (active[0]?.key !== KEYS[0]) return [];
    const timer = activeTimer(context, 'apt-daily.timer');
    const described = active
      .map(({ periodic }) => `${periodic.value.key} "${periodic.value.value ?? ''}"`)
      .join(' and ');
    return [
      {
        severity: timer === undefined ? 'low' : undefined,
        message: `${described}: apt.systemd.daily refreshes from the image's apt sources ${timer !== undefined ? 'whenever apt-daily.timer fires' : 'whenever apt-daily.service runs (its timer is not active)'}.`,
        evidence: active.flatMap(({ periodic }) => periodic.evidence),
        remediation: {
          summary: `Set ${active.map(({ key }) => `${key} "0"`).join(' and ')}.`,
          steps: aptOverrideSteps(
            context.manifest.apt.config,
            Object.fromEntries(active.map(({ key }) => [key, '0'])),
            active.flatMap(({ periodic }) => periodic.setIn),
          ),
        },
      },
    ];
  },
};

export default rule;
