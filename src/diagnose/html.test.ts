import { describe, expect, it } from 'vitest';
import { renderDiagnoseHtml, timelineSvg } from './html.js';
import type { DiagnoseReport } from './report.js';

const report: DiagnoseReport = {
  bundle: 'bundle<script>.tar.gz',
  causes: [
    {
      kind: 'package-change',
      summary: 'acme-runtime upgraded 1.0 → 1.0+deb12u1 by unattended-upgrade after boot on 2 instances.',
      confidence: 0.95,
      instances: ['i-0001', 'i-0002'],
      at: '2026-11-27T07:47:13.000Z',
      evidence: [{ file: 'i-0001/var/log/apt/history.log', line: 7, text: '<b>x</b>' }],
      actions: ['Hold the package.'],
      package: 'acme-runtime',
      from: '1.0',
      to: '1.0+deb12u1',
      by: 'unattended-upgrade',
    },
  ],
  externalDomains: [],
  instances: [],
  timeline: [
    {
      at: '2026-11-27T07:40:00.000Z',
      instance: 'i-0001',
      kind: 'health',
      summary: 'health x: ok',
      file: 'h',
      line: 1,
    },
    {
      at: '2026-11-27T07:47:13.000Z',
      instance: 'i-0001',
      kind: 'package',
      summary: 'upgrade acme-runtime',
      file: 'h',
      line: 2,
    },
    {
      at: '2026-11-27T07:53:00.000Z',
      instance: 'i-0002',
      kind: 'health',
      summary: 'health x: FAILED',
      file: 'h',
      line: 3,
    },
    {
      at: '2026-11-27T07:48:30.000Z',
      instance: null,
      kind: 'out-of-service',
      summary: 'taken out',
      file: 'a',
      line: 4,
    },
  ],
  files: [],
  problems: [],
  problemsTotal: 0,
};

describe('the HTML report', () => {
  const html = renderDiagnoseHtml(report);

  it('is self-contained: no script, no external resource', () => {
    expect(html).not.toMatch(/<script|src=|href=|@import|url\(/i);
  });

  it('escapes what comes from the bundle', () => {
    expect(html).toContain('bundle&lt;script&gt;.tar.gz');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('draws one lane per instance, a group lane last, and one mark per event', () => {
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    const lanes = [...svg.matchAll(/font-family="monospace">([^<]+)</g)].map((m) => m[1]);
    expect(lanes).toEqual(['i-0001', 'i-0002', 'group']);
    expect(
      (svg.match(/<circle /g) ?? []).length +
        (svg.match(/<rect x="[\d.]+" y="[\d.]+" width="10"/g) ?? []).length,
    ).toBe(4);
    expect(svg).toContain('fill="#dc2626"');
  });
});

describe('the HTML timeline of a baked image', () => {
  it('draws the instances’ lives, not a week of nothing since the bake', () => {
    const baked: DiagnoseReport = {
      ...report,
      instances: [
        {
          id: 'i-0001',
          bootAt: '2026-11-27T07:38:00.000Z',
          bootFrom: 'scaling activity',
          firstFailureAt: '2026-11-27T07:53:00.000Z',
          failure: 'health x failed',
          packageChangesAfterBoot: 1,
          timezone: 'UTC',
          timezoneFrom: 'default',
        },
      ],
      timeline: [
        {
          at: '2026-11-20T14:02:11.000Z',
          instance: 'i-0001',
          kind: 'package',
          summary: 'bake',
          file: 'h',
          line: 1,
        },
        ...report.timeline,
      ],
    };
    const svg = timelineSvg(baked);
    // The lane starts at the boot, and the earlier (bake) event is said, not squeezed in.
    expect(svg).not.toContain('2026-11-20T14:02:11.000Z —');
    expect(svg).toMatch(/1 earlier event/);
    const failed = /<circle cx="([\d.]+)"[^>]*fill="#dc2626"/.exec(svg);
    expect(Number(failed?.[1])).toBeLessThan(1081);
    const upgrade =
      /<rect x="([\d.]+)" y="[\d.]+" width="10" height="10" fill="#ea580c"><title>2026-11-27/.exec(svg);
    // 07:47:13 sits well inside a window from 07:38 to 07:53, not squeezed against the right edge.
    expect(Number(upgrade?.[1])).toBeLessThan(900);
  });
});
