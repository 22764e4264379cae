import type { AuditReport } from './report.js';
import type { Rule, Severity } from './types.js';

/** SARIF levels and GitHub's `security-severity` scores for our severities. */
const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

const RULE_DOCS = 'docs/rules.md';

/** The report as a SARIF 2.1.0 log that GitHub code scanning can load. Paths are relative to the image root. */
export function toSarif(report: AuditReport, rules: readonly Rule[], toolVersion: string): object {
  const index = new Map(rules.map((rule, i) => [rule.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'goldgate',
            version: toolVersion,
            semanticVersion: toolVersion,
            rules: rules.map((rule) => ({
              id: rule.id,
              name: rule.id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
              shortDescription: { text: rule.title },
              fullDescription: { text: rule.failure },
              help: {
                text: `${rule.failure} See ${RULE_DOCS}#${rule.id}.`,
                markdown: `${rule.failure}\n\nSee [${rule.id}](${RULE_DOCS}#${rule.id}).`,
              },
              defaultConfiguration: { level: LEVEL[rule.severity] },
              properties: {
                tags: ['immutability', 'golden-image'],
                'security-severity': SECURITY_SEVERITY[rule.severity],
              },
            })),
          },
        },
        originalUriBaseIds: {
          IMAGEROOT: { description: { text: `Root of the audited image (${report.image.source})` } },
        },
        results: report.findings.map((finding) => ({
          ruleId: finding.rule,
          ...(index.has(finding.rule) ? { ruleIndex: index.get(finding.rule) } : {}),
          level: LEVEL[finding.severity],
          message: { text: `${finding.message} Fix: ${finding.remediation.summary}` },
          locations: finding.evidence.map((evidence) => ({
            physicalLocation: {
              artifactLocation: { uri: evidence.path.replace(/^\/+/, ''), uriBaseId: 'IMAGEROOT' },
              ...(evidence.line !== undefined ? { region: { startLine: evidence.line } } : {}),
            },
          })),
          partialFingerprints: {
            goldgateFinding: `${finding.rule}:${finding.evidence.map((e) => e.path).join(',')}`,
          },
          properties: { severity: finding.severity },
        })),
      },
    ],
  };
}
