import { activeTimer } from '../../support/apt.js';
import { evidenceAt } from '../../support/evidence.js';
import type { Evidence, Rule, RuleFinding } from '../../types.js';

/** Agents that update the whole OS image in place, by unit, and what they do. */
const AGENTS = [
  { unit: 'update-engine.service', what: 'Flatcar/CoreOS update_engine downloads and stages new OS versions' },
  { unit: 'locksmithd.service', what: 'locksmithd reboots into staged OS updates' },
  { unit: 'zincati.service', what: 'Fedora CoreOS zincati updates and reboots the OS' },
  { unit: 'rpm-ostreed-automatic.timer', what: 'rpm-ostree stages OS updates automatically' },
  { unit: 'transactional-update.timer', what: 'openSUSE transactional-update installs updates into a new snapshot' },
  { unit: 'swupd-update.timer', what: 'Clear Linux swupd updates the OS' },
  { unit: 'packagekit-offline-update.service', what: 'PackageKit applies prepared offline updates at boot' },
] as const;

const rule: Rule = {
  id: 'os-update-agent',
  title: 'An OS update agent replaces the OS on running instances',
  severity: 'high',
  failure:
    'The OS updates and reboots itself from its vendor’s channel, so instances of one image run different OS versions and a bad release reaches the fleet on the vendor’s schedule, not yours.',
  check(context) {
    const flatcar = context.manifest.agents.flatcar;
    const findings: RuleFinding[] = [];
    for (const agent of AGENTS) {
      const unit = activeTimer(context, agent.unit);
      if (unit === undefined) continue;
      const evidence: Evidence[] = unit.wantedBy.map((link) => ({ path: link.via }));
      let detail = '';
      if (agent.unit === 'update-engine.service') {
        // SERVER=disabled turns update_engine's checks off: the agent runs but changes nothing.
        if (flatcar.server?.value === 'disabled') continue;
        if (flatcar.group !== null) evidence.push(evidenceAt(context.fs, flatcar.group.source));
        detail = flatcar.group !== null ? ` from the ${flatcar.group.value} channel` : '';
      }
      if (agent.unit === 'locksmithd.service') {
        if (flatcar.rebootStrategy?.value === 'off') continue;
        if (flatcar.rebootStrategy !== null) evidence.push(evidenceAt(context.fs, flatcar.rebootStrategy.source));
        detail = flatcar.rebootStrategy !== null ? ` (REBOOT_STRATEGY=${flatcar.rebootStrategy.value})` : ' (default strategy reboots)';
      }
      const steps: RuleFinding['remediation']['steps'] = [{ action: 'mask-units', units: [agent.unit] }];
      if (agent.unit === 'update-engine.service') steps.push({ action: 'set-line', path: '/etc/flatcar/update.conf', match: 'SERVER=', line: 'SERVER=disabled' });
      if (agent.unit === 'locksmithd.service') steps.push({ action: 'set-line', path: '/etc/flatcar/update.conf', match: 'REBOOT_STRATEGY=', line: 'REBOOT_STRATEGY=off' });
      findings.push({
        message: `${agent.unit} starts at boot: ${agent.what}${detail}.`,
        evidence: evidence.length > 0 ? evidence : unit.fragment !== null ? [unit.fragment] : [],
        remediation: { summary: `Mask ${agent.unit}; roll out new OS versions as new images.`, steps },
      });
    }
    return findings;
  },
};

export default rule;
