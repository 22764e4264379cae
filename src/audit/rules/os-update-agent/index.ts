import type { SourceRef } from '../../../manifest/types.js';
import { parseUnitFile } from '../../../manifest/systemd/index.js';
import { activeTimer } from '../../support/apt.js';
import { evidenceAt } from '../../support/evidence.js';
import type { AuditContext, Evidence, Rule, RuleFinding } from '../../types.js';

/** Agents that update the whole OS image in place, by unit, and what they do. */
const AGENTS = [
  {
    unit: 'update-engine.service',
    what: 'Flatcar/CoreOS update_engine downloads and stages new OS versions',
  },
  { unit: 'locksmithd.service', what: 'locksmithd reboots into staged OS updates' },
  { unit: 'zincati.service', what: 'Fedora CoreOS zincati updates and reboots the OS' },
  { unit: 'rpm-ostreed-automatic.timer', what: 'rpm-ostree stages OS updates automatically' },
  {
    unit: 'transactional-update.timer',
    what: 'openSUSE transactional-update installs updates into a new snapshot',
  },
  { unit: 'swupd-update.timer', what: 'Clear Linux swupd updates the OS' },
  { unit: 'packagekit-offline-update.service', what: 'PackageKit applies prepared offline updates at boot' },
] as const;

/** zincati's configuration fragments, lowest priority first; a name in a later directory hides the same name in an earlier one. */
const ZINCATI_DIRS = ['/usr/lib/zincati/config.d', '/run/zincati/config.d', '/etc/zincati/config.d'];
const RPM_OSTREED_CONF = '/etc/rpm-ostreed.conf';
/** The link that makes the next boot apply a prepared offline update (systemd.offline-updates(7)). */
const SYSTEM_UPDATE = '/system-update';

/** zincati's `[updates] enabled` after merging its fragments in name order, with the line that set it. */
function zincatiEnabled(context: AuditContext): { value: boolean; source: SourceRef } | undefined {
  const byName = new Map<string, string>();
  for (const dir of ZINCATI_DIRS) {
    for (const entry of context.fs.readdir(dir))
      if (entry.name.endsWith('.toml')) byName.set(entry.name, entry.path);
  }
  let result: { value: boolean; source: SourceRef } | undefined;
  for (const name of [...byName.keys()].sort()) {
    const path = byName.get(name) ?? '';
    let table = '';
    (context.fs.readText(path) ?? '').split('\n').forEach((raw, index) => {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
      if (header !== null) table = header[1] ?? '';
      const key = /^([A-Za-z0-9_.-]+)\s*=\s*(true|false)$/.exec(line);
      if (key === null) return;
      const full = table === '' ? key[1] : `${table}.${key[1] ?? ''}`;
      if (full === 'updates.enabled')
        result = { value: key[2] === 'true', source: { path, line: index + 1 } };
    });
  }
  return result;
}

/** rpm-ostreed's `[Daemon] AutomaticUpdatePolicy` (`none` when unset), with the line that set it. */
function rpmOstreePolicy(context: AuditContext): { value: string; source: SourceRef } | undefined {
  const text = context.fs.readText(RPM_OSTREED_CONF);
  if (text === undefined) return undefined;
  const entry = parseUnitFile(text, RPM_OSTREED_CONF).entries.findLast(
    (e) => e.section === 'Daemon' && e.key === 'AutomaticUpdatePolicy',
  );
  return entry === undefined
    ? undefined
    : { value: entry.value.trim(), source: { path: RPM_OSTREED_CONF, line: entry.line } };
}

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
        if (flatcar.rebootStrategy !== null)
          evidence.push(evidenceAt(context.fs, flatcar.rebootStrategy.source));
        detail =
          flatcar.rebootStrategy !== null
            ? ` (REBOOT_STRATEGY=${flatcar.rebootStrategy.value})`
            : ' (default strategy reboots)';
      }
      if (agent.unit === 'zincati.service') {
        // Fedora CoreOS documents `[updates] enabled = false` as the way to turn zincati off.
        const enabled = zincatiEnabled(context);
        if (enabled?.value === false) continue;
        if (enabled !== undefined) evidence.push(evidenceAt(context.fs, enabled.source));
      }
      if (agent.unit === 'rpm-ostreed-automatic.timer') {
        // The timer runs `rpm-ostree upgrade --trigger-automatic-update-policy`: with policy none
        // (the default) or check, nothing is downloaded into the OS.
        const policy = rpmOstreePolicy(context);
        if (policy === undefined || !['stage', 'apply'].includes(policy.value)) continue;
        evidence.push(evidenceAt(context.fs, policy.source));
        detail = ` (AutomaticUpdatePolicy=${policy.value})`;
      }
      if (agent.unit === 'packagekit-offline-update.service') {
        // It is wanted by system-update.target, which a boot only reaches when /system-update exists.
        if (context.fs.lstat(SYSTEM_UPDATE) === undefined) continue;
        evidence.push({ path: SYSTEM_UPDATE });
      }
      const steps: RuleFinding['remediation']['steps'] = [{ action: 'mask-units', units: [agent.unit] }];
      if (agent.unit === 'update-engine.service')
        steps.push({
          action: 'set-line',
          path: '/etc/flatcar/update.conf',
          match: 'SERVER=',
          line: 'SERVER=disabled',
        });
      if (agent.unit === 'locksmithd.service')
        steps.push({
          action: 'set-line',
          path: '/etc/flatcar/update.conf',
          match: 'REBOOT_STRATEGY=',
          line: 'REBOOT_STRATEGY=off',
        });
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
