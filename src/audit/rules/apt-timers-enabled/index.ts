import { packageInstalled } from '../../../manifest/packages.js';
import type { Unit } from '../../../manifest/systemd/index.js';
import { activePeriodic, activeTimer } from '../../support/apt.js';
import { humanDuration } from '../../../core/duration.js';
import { evidenceAt, uniqueEvidence } from '../../support/evidence.js';
import type { AuditContext, Evidence, Rule, RuleFinding } from '../../types.js';

const TIMERS = ['apt-daily.timer', 'apt-daily-upgrade.timer'] as const;
const UPDATE = 'APT::Periodic::Update-Package-Lists';
const DOWNLOAD = 'APT::Periodic::Download-Upgradeable-Packages';
const UPGRADE = 'APT::Periodic::Unattended-Upgrade';

/**
 * The jobs a timer's service runs with the image's configuration, as apt.systemd.daily does them:
 * apt-daily (`update`) refreshes the lists, downloads upgradeable packages only right after a
 * refresh it made, and has unattended-upgrade download what it will install; apt-daily-upgrade
 * (`install`) runs unattended-upgrade.
 */
function activeJobs(context: AuditContext, timer: (typeof TIMERS)[number]): string[] {
  const on = (key: string): boolean => activePeriodic(context, key) !== undefined;
  const upgrades =
    packageInstalled(context.manifest.packages, 'unattended-upgrades') !== undefined && on(UPGRADE);
  if (timer === 'apt-daily-upgrade.timer') return upgrades ? [UPGRADE] : [];
  const update = on(UPDATE);
  return [
    ...(update ? [UPDATE] : []),
    ...(update && on(DOWNLOAD) ? [DOWNLOAD] : []),
    ...(upgrades ? [`${UPGRADE} (download only)`] : []),
  ];
}

function listed(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

function schedule(unit: Unit, now: Date): { text: string; evidence: Evidence[] } {
  const timer = unit.timer;
  if (timer === undefined) return { text: '', evidence: [] };
  const parts: string[] = [];
  const sources = [];
  if (timer.onCalendar.length > 0) {
    parts.push(`OnCalendar=${timer.onCalendar.map((s) => s.value).join(', ')}`);
    sources.push(timer.onCalendar[0]?.source);
  }
  parts.push(`Persistent=${timer.persistent ? 'true' : 'false'}`);
  if (timer.persistentSource !== null) sources.push(timer.persistentSource);
  const delay = timer.randomizedDelaySec;
  if (delay !== null) {
    parts.push(`RandomizedDelaySec=${delay.text}`);
    sources.push(delay.source);
  }
  let stampText: string;
  if (timer.stamp === null) {
    stampText = 'no stamp yet, so it first fires at its next calendar time';
  } else {
    const ageSeconds = Math.max(0, (now.getTime() - Date.parse(timer.stamp.mtime)) / 1000);
    stampText =
      timer.catchUpAtBoot && ageSeconds >= 86400
        ? `its stamp is ${humanDuration(ageSeconds)} old, so it catches up right after boot${delay !== null ? ` (within ${delay.text})` : ''}`
        : `its stamp is ${humanDuration(ageSeconds)} old`;
  }
  return {
    text: `${parts.join(', ')}; ${stampText}`,
    evidence: [
      ...sources.filter((s) => s !== undefined),
      ...(timer.stamp !== null ? [{ path: timer.stamp.path }] : []),
    ] as Evidence[],
  };
}

const rule: Rule = {
  id: 'apt-timers-enabled',
  title: 'apt-daily timers run apt on their own after boot',
  severity: 'high',
  failure:
    'apt-daily and apt-daily-upgrade fire on every instance at random times (and right after boot when their stamps are old), refreshing lists, upgrading packages and holding the dpkg lock while boot-time installs fail.',
  check(context) {
    const findings: RuleFinding[] = [];
    for (const name of TIMERS) {
      const unit = activeTimer(context, name);
      if (unit === undefined) continue;
      const acting = activeJobs(context, name);
      const { text, evidence } = schedule(unit, context.now);
      const links = unit.wantedBy.map((link) => ({ path: link.via }));
      const what =
        acting.length > 0
          ? `it runs ${listed(acting)}`
          : 'today the APT::Periodic values make it do nothing, but one configuration change wakes it on every instance';
      findings.push({
        severity: acting.length > 0 ? undefined : 'low',
        message: `${name} is ${unit.enablement} (${unit.wantedBy.map((l) => l.unit).join(', ') || 'linked'}): ${text}; ${what}.`,
        evidence: uniqueEvidence([
          ...links,
          ...(unit.fragment !== null ? [evidenceAt(context.fs, unit.fragment)] : []),
          ...evidence.map((e) => (e.line !== undefined ? evidenceAt(context.fs, e) : e)),
        ]),
        remediation: {
          summary: `Mask ${name} in the image so no instance runs it.`,
          steps: [{ action: 'mask-units', units: [name] }],
        },
      });
    }
    return findings;
  },
};

export default rule;
