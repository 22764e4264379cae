import { packageInstalled } from '../../../manifest/packages.js';
import { evidenceAt, sourceLine } from '../../support/evidence.js';
import type { SourceRef } from '../../../manifest/types.js';
import type { AuditContext, Rule } from '../../types.js';

/** The APT hook the needrestart package installs (a conffile). */
const APT_HOOK = '/etc/apt/apt.conf.d/99needrestart';
/** Where goldgate writes `$nrconf{restart}` when no file sets it. */
const OVERRIDE = '/etc/needrestart/conf.d/99goldgate-immutable.conf';

/**
 * The line of needrestart's APT hook that runs it in Ubuntu mode (`apt-pinvoke -m u`), if any.
 * Ubuntu's needrestart (3.6-7ubuntu*, Ubuntu 24.04 and later) restarts services automatically in
 * that mode when the configuration does not set `$nrconf{restart}`; Debian's hook has no `-m u`.
 * This is distribution-specific behaviour, recognised by the hook rather than by os-release, so an
 * image whose hook was edited to drop `-m u` is judged by what it runs.
 */
function ubuntuModeHook(context: AuditContext): SourceRef | undefined {
  const text = context.fs.readText(APT_HOOK);
  if (text === undefined) return undefined;
  const index = text.split('\n').findIndex((raw) => {
    const line = raw.replace(/^\s*(?:#|\/\/).*$/, '');
    return /apt-pinvoke\b[^"]*?\s-m\s*u\b/.test(line);
  });
  return index < 0 ? undefined : { path: APT_HOOK, line: index + 1 };
}

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
    const hook = conf === null ? ubuntuModeHook(context) : undefined;
    if (hook !== undefined) {
      findings.push({
        message: `$nrconf{restart} is not set and needrestart's APT hook runs it in Ubuntu mode (-m u, ${hook.path}): Ubuntu's needrestart then restarts services automatically after every upgrade.`,
        evidence: [evidenceAt(context.fs, hook)],
        remediation: {
          summary: "Set $nrconf{restart} = 'l'; (list only): restarts belong to a rollout of a new image.",
          steps: [
            {
              action: 'set-line' as const,
              path: OVERRIDE,
              match: '$nrconf{restart}',
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
