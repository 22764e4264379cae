import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { TEST_NOW, dpkgStatus } from '../test-support/audit.js';
import { makeTree } from '../test-support/tree.js';
import { auditSource } from './report.js';
import { RULES } from './rules/api.js';
import { SEVERITIES } from './types.js';

const docs = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

/** The lines of a markdown page outside fenced code blocks, with their index. */
function prose(markdown: string): Array<{ index: number; text: string }> {
  const result: Array<{ index: number; text: string }> = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return;
    }
    if (fence === undefined) result.push({ index, text });
  });
  return result;
}

/** The `## ` sections of a page: heading text and body (up to the next `## ` heading). */
function sections(markdown: string): Array<{ heading: string; body: string }> {
  const lines = markdown.split('\n');
  const headings = prose(markdown).filter((line) => /^## /.test(line.text));
  return headings.map((heading, i) => ({
    heading: heading.text.slice(3).trim(),
    body: lines.slice(heading.index + 1, headings[i + 1]?.index ?? lines.length).join('\n'),
  }));
}

const RULE_HEADING = /^`?([a-z0-9]+(?:-[a-z0-9]+)*)`?$/;

describe('docs/rules.md', () => {
  const all = sections(docs('rules.md'));
  const first = all.findIndex((section) => RULE_HEADING.test(section.heading));
  const ruleSections = all.slice(first);

  it('has one section per registered rule, in registry order, and no other', () => {
    expect(first).toBeGreaterThanOrEqual(0);
    // After the introduction, every `## ` section is a rule's.
    expect(ruleSections.map((section) => section.heading).filter((h) => !RULE_HEADING.test(h))).toEqual([]);
    expect(ruleSections.map((section) => RULE_HEADING.exec(section.heading)?.[1])).toEqual([...RULES.keys()]);
  });

  it.each([...RULES.values()].map((rule) => [rule.id, rule.severity] as const))(
    '%s states its default severity (%s)',
    (id, severity) => {
      const section = ruleSections.find((s) => RULE_HEADING.exec(s.heading)?.[1] === id);
      const stated = /default severity:?\W*(critical|high|medium|low|info)\b/i.exec(section?.body ?? '')?.[1];
      expect(stated?.toLowerCase()).toBe(severity);
    },
  );
});

/** The first ```json block after the first heading that names the schema. */
function schemaBlock(markdown: string): unknown {
  const lines = markdown.split('\n');
  const heading = prose(markdown).find((line) => /^#{1,6} .*Schema/.test(line.text));
  expect(heading).toBeDefined();
  const start = lines.findIndex((line, index) => index > (heading?.index ?? 0) && /^```json\s*$/.test(line));
  const end = lines.findIndex((line, index) => index > start && /^```\s*$/.test(line));
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return JSON.parse(lines.slice(start + 1, end).join('\n')) as unknown;
}

const ROCKY = `NAME="Rocky Linux"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
`;
const TIMER = `[Timer]
OnCalendar=*-*-* 6:00
RandomizedDelaySec=60m
Persistent=true

[Install]
WantedBy=timers.target
`;

describe('the JSON Schema of docs/audit-json.md', () => {
  // Findings whose remediations use every kind of step, and a problem.
  const root = makeTree({
    '/etc/os-release': ROCKY,
    '/usr/bin/dnf': '#!/usr/bin/python3\n',
    '/etc/dnf/automatic.conf': '[commands]\napply_updates = yes\nreboot = when-needed\n',
    '/usr/lib/systemd/system/dnf-automatic.timer': TIMER,
    '/usr/lib/systemd/system/dnf-automatic.service':
      '[Service]\nType=oneshot\nExecStart=/usr/bin/dnf-automatic /etc/dnf/automatic.conf --timer\n',
    '/etc/systemd/system/timers.target.wants/dnf-automatic.timer': {
      link: '/usr/lib/systemd/system/dnf-automatic.timer',
    },
    '/usr/bin/snap': '\u007fELF',
    '/usr/lib/systemd/system/snapd.service':
      '[Service]\nExecStart=/usr/lib/snapd/snapd\n\n[Install]\nWantedBy=multi-user.target\n',
    '/etc/systemd/system/multi-user.target.wants/snapd.service': {
      link: '/usr/lib/systemd/system/snapd.service',
    },
    '/etc/rc.local': { content: '#!/bin/sh -e\npip3 install --upgrade awscli\nexit 0\n', mode: 0o755 },
    '/var/lib/dpkg/status': dpkgStatus({ 'unattended-upgrades': '2.9.1+nmu3' }),
    '/etc/apt/apt.conf.d/20auto-upgrades': 'APT::Periodic::Unattended-Upgrade "1";\n',
    '/etc/apt/apt.conf.d/99-no-auto-upgrades.cfg': 'APT::Periodic::Unattended-Upgrade "0";\n',
  });
  const schema = schemaBlock(docs('audit-json.md')) as object;
  const ajv = new Ajv2020.default({ allErrors: true });
  const validate = ajv.compile(schema);

  it('validates the report of a real audit', async () => {
    const report = JSON.parse(JSON.stringify(await auditSource(root, { now: TEST_NOW }))) as {
      findings: Array<{ remediation: { steps: Array<{ action: string }> } }>;
      problems: unknown[];
    };
    expect(report.findings.length).toBeGreaterThan(0);
    expect(report.problems.length).toBeGreaterThan(0);
    // The tree is built so that every kind of step is checked against its branch of the schema.
    const actions = new Set(report.findings.flatMap((f) => f.remediation.steps.map((s) => s.action)));
    expect([...actions].sort()).toEqual(['command', 'mask-units', 'remove-line', 'set-line', 'write-file']);
    expect(validate(report), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('rejects what the report never holds', async () => {
    const report = JSON.parse(JSON.stringify(await auditSource(root, { now: TEST_NOW }))) as {
      findings: Array<{ severity: string; remediation: { steps: unknown[] } }>;
    };
    const finding = report.findings[0];
    expect(finding).toBeDefined();
    if (finding === undefined) return;
    finding.severity = 'urgent';
    expect(validate(report)).toBe(false);
    finding.severity = SEVERITIES[0];
    finding.remediation.steps.push({ action: 'reboot' });
    expect(validate(report)).toBe(false);
  });
});
