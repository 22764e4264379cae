import { packageInstalled } from '../../../manifest/packages.js';
import { evidenceAt, sourceLine } from '../../support/evidence.js';
import type { AuditContext, Rule } from '../../types.js';

/** dpkg knows needrestart but not as installed (removed, its conffiles left behind) and its program is gone. */
function removed(context: AuditContext): boolean {
  const packages = context.manifest.packages;
  return (
    packages.some((p) => p.name === 'needrestart') &&
    packageInstalled(packages, 'needrestart') === undefined &&
    !context.fs.exists('/usr/sbin/needrestart')
  );
}

const rule: Rule = {
  id: 'needrestart-auto',
  title: 'needrestart restarts services on its own after upgrades',
  severity: 'medium',
  failure:
    'After any package upgrade needrestart restarts every service using an old library, without asking: an upgrade of libc or openssl on a running instance restarts the application and its network daemons mid-traffic.',
  check(context) {
    const needrestart = context.manifest.agents.needrestart;
    if (!needrestart.present || removed(context)) return [];
    const findings = [];
    const conf = needrestart.restart;
    if (conf !== null && conf.value === 'a') {
      findings.push({
        message: `$nrconf{restart} is 'a' (${conf.source.path}): needrestart restarts services automatically after every upgrade.`,
        evidence: [evidenceAt(context.fs, conf.source)],
        remediation: {
          summary: "Set $nrconf{restart} = 'l'; (list only): restarts belong to a rollout of a new image.",
          // The assignment that wins, not the first line that starts alike (an earlier one loses).
          steps: [
            {
              action: 'set-line' as const,
              path: conf.source.path,
              match: sourceLine(context.fs, conf.source) ?? '$nrconf{restart}',
              line: "$nrconf{restart} = 'l';",
            },
          ],
        },
      });
    }
    const env = needrestart.environmentMode;
    if (env !== null && env.value === 'a') {
      findings.push({
        message: `NEEDRESTART_MODE=a (${env.source.path}) makes needrestart restart services automatically wherever that environment reaches.`,
        evidence: [evidenceAt(context.fs, env.source)],
        remediation: {
          summary: 'Remove NEEDRESTART_MODE=a from /etc/environment.',
          steps:
            env.source.line !== undefined
              ? [
                  {
                    action: 'remove-line' as const,
                    path: env.source.path,
                    line: env.source.line,
                    text: evidenceAt(context.fs, env.source).text ?? '',
                  },
                ]
              : [],
        },
      });
    }
    return findings;
  },
};

export default rule;
