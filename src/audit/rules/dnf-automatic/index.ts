import type { AutomaticUpdates } from '../../../manifest/agents/index.js';
import { activeTimer } from '../../support/apt.js';
import { evidenceAt, uniqueEvidence } from '../../support/evidence.js';
import type { AuditContext, Evidence, Rule, RuleFinding } from '../../types.js';

/** Each automatic-update unit, the configuration it reads, and whether it installs regardless of apply_updates. */
const SOURCES = [
  { unit: 'dnf-automatic.timer', config: 'automatic', forcesInstall: false },
  { unit: 'dnf-automatic-install.timer', config: 'automatic', forcesInstall: true },
  { unit: 'dnf5-automatic.timer', config: 'automatic5', forcesInstall: false },
  { unit: 'yum-cron.service', config: 'yumCron', forcesInstall: false },
  // yum-cron.service turns on both cron jobs: the hourly one reads its own file.
  { unit: 'yum-cron.service', config: 'yumCronHourly', forcesInstall: false },
] as const;

function applies(config: AutomaticUpdates | null): boolean {
  return config?.applyUpdates?.value === true;
}

function timerEvidence(context: AuditContext, unitName: string): Evidence[] {
  const unit = activeTimer(context, unitName);
  if (unit === undefined) return [];
  return [
    ...unit.wantedBy.map((link) => ({ path: link.via })),
    ...(unit.fragment !== null ? [{ path: unit.fragment.path }] : []),
  ];
}

const rule: Rule = {
  id: 'dnf-automatic',
  title: 'dnf-automatic or yum-cron installs updates on running instances',
  severity: 'high',
  failure:
    'Instances install whatever the repositories hold when the timer fires, so a fleet from one image runs different packages and a bad update lands everywhere without a test.',
  check(context) {
    const dnf = context.manifest.agents.dnf;
    const findings: RuleFinding[] = [];
    for (const source of SOURCES) {
      const unitEvidence = timerEvidence(context, source.unit);
      if (unitEvidence.length === 0) continue;
      const config = dnf[source.config];
      if (!source.forcesInstall && !applies(config)) continue;
      const apply = config?.applyUpdates ?? null;
      const evidence = uniqueEvidence([
        ...unitEvidence,
        ...(apply !== null && !source.forcesInstall ? [evidenceAt(context.fs, apply.source)] : []),
      ]);
      const why = source.forcesInstall
        ? 'it runs dnf-automatic --installupdates, whatever apply_updates says'
        : `apply_updates = ${apply?.raw ?? 'yes'} (${apply?.source.path ?? ''})`;
      const steps: RuleFinding['remediation']['steps'] = [{ action: 'mask-units', units: [source.unit] }];
      if (apply !== null && !source.forcesInstall)
        steps.push({
          action: 'set-line',
          path: apply.source.path,
          match: 'apply_updates',
          line: 'apply_updates = no',
        });
      findings.push({
        message: `${source.unit} starts at boot and installs updates: ${why}.`,
        evidence,
        remediation: {
          summary: `Mask ${source.unit}${apply !== null && !source.forcesInstall ? ' and set apply_updates = no' : ''}; ship updates by baking a new image.`,
          steps,
        },
      });
    }
    return findings;
  },
};

export default rule;
