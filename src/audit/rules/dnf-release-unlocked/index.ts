import { evidenceAt } from '../../support/evidence.js';
import type { Rule } from '../../types.js';

// Distributions with minor releases that releasever can pin; CentOS Stream and Fedora have none.
const RHEL_FAMILY = new Set(['rhel', 'rocky', 'almalinux', 'ol']);

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
      const inVars = dnf.releasever.varsFile?.value === 'latest';
      return [
        {
          message: `releasever is "latest" (${effective.source.path}): Amazon Linux 2023 instances from this image resolve packages against the newest release, not the one the image was built from.`,
          evidence: [evidenceAt(context.fs, effective.source)],
          remediation: {
            summary: inVars
              ? 'Remove /etc/dnf/vars/releasever so dnf stays on the release of the installed system-release package, or write a dated release (2023.x.YYYYMMDD) there.'
              : 'Remove releasever=latest from dnf.conf so dnf stays on the image’s release.',
            steps:
              inVars || effective.source.line === undefined
                ? [{ action: 'command', argv: ['rm', '-f', effective.source.path] }]
                : [{ action: 'remove-line', path: effective.source.path, line: effective.source.line, text: `releasever=${effective.value}` }],
          },
        },
      ];
    }
    const family = [osRelease?.id ?? '', ...(osRelease?.idLike ?? [])].some((id) => RHEL_FAMILY.has(id));
    const minor = osRelease?.versionId ?? '';
    if (!family || !/^\d+\.\d+/.test(minor) || (effective !== null && /^\d+\.\d+/.test(effective.value))) return [];
    return [
      {
        severity: 'low',
        message:
          effective === null
            ? `${osRelease?.prettyName ?? 'This system'} takes releasever from its release package (a major version): dnf follows every new minor release.`
            : `releasever is "${effective.value}" (${effective.source.path}): dnf follows every new minor release.`,
        evidence: [effective !== null ? evidenceAt(context.fs, effective.source) : { path: '/etc/os-release' }],
        remediation: {
          summary: `Pin releasever to the minor release the image was built and tested with (${minor}) in /etc/dnf/vars/releasever.`,
          steps: [{ action: 'write-file', path: '/etc/dnf/vars/releasever', content: `${minor}\n` }],
        },
      },
    ];
  },
};

export default rule;
