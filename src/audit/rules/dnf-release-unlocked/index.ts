import type { DnfValue } from '../../../manifest/agents/index.js';
import { evidenceAt } from '../../support/evidence.js';
import type { AuditContext, RemediationStep, Rule } from '../../types.js';

// Distributions with minor releases that releasever can pin; CentOS Stream and Fedora have none.
const RHEL_FAMILY = new Set(['rhel', 'rocky', 'almalinux', 'ol']);

/** The step that takes a `releasever` setting away: the vars file goes, a dnf.conf line is removed as written. */
function removal(context: AuditContext, setting: DnfValue, inVars: boolean): RemediationStep {
  const text =
    setting.source.line === undefined
      ? undefined
      : context.fs.readText(setting.source.path)?.split('\n')[setting.source.line - 1]?.trim();
  if (inVars || setting.source.line === undefined || text === undefined)
    return { action: 'command', argv: ['rm', '-f', setting.source.path] };
  return { action: 'remove-line', path: setting.source.path, line: setting.source.line, text };
}

const rule: Rule = {
  id: 'dnf-release-unlocked',
  title: 'dnf follows the newest release instead of the image’s',
  severity: 'medium',
  failure:
    'With releasever unlocked, every dnf install or upgrade on an instance resolves against the newest repository snapshot, so the same image installs different packages from one week to the next.',
  check(context) {
    const { dnf, osRelease } = context.manifest.agents;
    if (!dnf.present) return [];
    const effective = dnf.releasever.effective;
    if (dnf.amazonLinux2023) {
      if (effective === null || effective.value !== 'latest') return [];
      const { varsFile, dnfConf } = dnf.releasever;
      const inVars = varsFile?.value === 'latest';
      // Removing the vars file lets dnf.conf's value through: it must go too when it is also "latest".
      const steps = [
        ...(inVars && varsFile !== null ? [removal(context, varsFile, true)] : []),
        ...(dnfConf?.value === 'latest' ? [removal(context, dnfConf, false)] : []),
      ];
      return [
        {
          message: `releasever is "latest" (${effective.source.path}): Amazon Linux 2023 instances from this image resolve packages against the newest release, not the one the image was built from.`,
          evidence: [evidenceAt(context.fs, effective.source)],
          remediation: {
            summary: inVars
              ? `Remove /etc/dnf/vars/releasever${dnfConf?.value === 'latest' ? ' and releasever=latest in dnf.conf' : ''} so dnf stays on the release of the installed system-release package, or write a dated release (2023.x.YYYYMMDD) there.`
              : 'Remove releasever=latest from dnf.conf so dnf stays on the image’s release.',
            steps,
          },
        },
      ];
    }
    const family = [osRelease?.id ?? '', ...(osRelease?.idLike ?? [])].some((id) => RHEL_FAMILY.has(id));
    const minor = osRelease?.versionId ?? '';
    if (!family || !/^\d+\.\d+/.test(minor) || (effective !== null && /^\d+\.\d+/.test(effective.value)))
      return [];
    return [
      {
        severity: 'low',
        message:
          effective === null
            ? `${osRelease?.prettyName ?? 'This system'} takes releasever from its release package (a major version): dnf follows every new minor release.`
            : `releasever is "${effective.value}" (${effective.source.path}): dnf follows every new minor release.`,
        evidence: [
          effective !== null
            ? evidenceAt(context.fs, effective.source)
            : { path: osRelease?.source.path ?? '/etc/os-release' },
        ],
        remediation: {
          summary: `Pin releasever to the minor release the image was built and tested with (${minor}) in /etc/dnf/vars/releasever.`,
          steps: [{ action: 'write-file', path: '/etc/dnf/vars/releasever', content: `${minor}\n` }],
        },
      },
    ];
  },
};

export default rule;
