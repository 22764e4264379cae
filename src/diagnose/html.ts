import type { DiagnoseReport, TimelineEntry } from './report.js';

const escape = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

const COLORS: Record<TimelineEntry['kind'], string> = {
  boot: '#2563eb',
  launch: '#1d4ed8',
  package: '#ea580c',
  health: '#16a34a',
  'unit-failed': '#dc2626',
  'service-restart': '#9333ea',
  reboot: '#0f766e',
  'dpkg-lock': '#ca8a04',
  'out-of-service': '#991b1b',
  'package-error': '#b91c1c',
};

const LANE_HEIGHT = 34;
const LEFT = 190;
const WIDTH = 1100;

function markerColor(entry: TimelineEntry): string {
  if (entry.kind === 'health' && entry.summary.includes('FAILED')) return '#dc2626';
  return COLORS[entry.kind];
}

/** The SVG timeline: one lane per instance (and one for the group), one mark per event. */
export function timelineSvg(report: DiagnoseReport): string {
  const entries = report.timeline;
  const lanes = [...new Set(entries.map((e) => e.instance ?? 'group'))].sort((a, b) =>
    a === 'group' ? 1 : b === 'group' ? -1 : a.localeCompare(b),
  );
  if (entries.length === 0) return '<p>No events with a time.</p>';
  const times = entries.map((e) => Date.parse(e.at));
  const end = Math.max(...times);
  // An image baked by booting carries the bake's records, days earlier: the lanes start at the
  // instances' first boot, and what came before is counted, not squeezed against the left edge.
  const boots = report.instances.map((i) => (i.bootAt === null ? NaN : Date.parse(i.bootAt)));
  const firstBoot = boots.every(Number.isFinite) && boots.length > 0 ? Math.min(...boots) : -Infinity;
  const start = Math.max(Math.min(...times), Math.min(firstBoot, end));
  const earlier = times.filter((t) => t < start).length;
  const drawn = entries.filter((e) => Date.parse(e.at) >= start);
  const span = Math.max(end - start, 1000);
  const x = (at: string) => LEFT + ((Date.parse(at) - start) / span) * (WIDTH - LEFT - 20);
  const height = lanes.length * LANE_HEIGHT + 50;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Timeline of events per instance">`,
  );
  lanes.forEach((lane, i) => {
    const y = 20 + i * LANE_HEIGHT;
    parts.push(
      `<rect x="0" y="${y}" width="${WIDTH}" height="${LANE_HEIGHT}" fill="${i % 2 === 0 ? '#f8fafc' : '#ffffff'}"/>`,
    );
    parts.push(`<text x="8" y="${y + 21}" font-size="12" font-family="monospace">${escape(lane)}</text>`);
  });
  for (let t = 0; t <= 4; t += 1) {
    const at = new Date(start + (span * t) / 4).toISOString();
    const tx = x(at);
    const label = span > 86_400_000 ? `${at.slice(5, 10)} ${at.slice(11, 16)}` : at.slice(11, 19);
    parts.push(
      `<line x1="${tx}" y1="16" x2="${tx}" y2="${height - 24}" stroke="#cbd5e1" stroke-dasharray="3 3"/>`,
    );
    const anchor = t === 0 ? 'start' : t === 4 ? 'end' : 'middle';
    parts.push(
      `<text x="${tx}" y="${height - 8}" font-size="11" text-anchor="${anchor}" font-family="sans-serif">${escape(label)}Z</text>`,
    );
  }
  for (const entry of drawn) {
    const lane = lanes.indexOf(entry.instance ?? 'group');
    const cy = 20 + lane * LANE_HEIGHT + LANE_HEIGHT / 2;
    const cx = x(entry.at);
    const title = `${entry.at} ${entry.kind}: ${entry.summary} (${entry.file}:${entry.line})`;
    const shape =
      entry.kind === 'package'
        ? `<rect x="${cx - 5}" y="${cy - 5}" width="10" height="10" fill="${markerColor(entry)}"><title>${escape(title)}</title></rect>`
        : `<circle cx="${cx}" cy="${cy}" r="5" fill="${markerColor(entry)}"><title>${escape(title)}</title></circle>`;
    parts.push(shape);
  }
  parts.push(
    `<text x="${LEFT}" y="12" font-size="11" font-family="sans-serif">${escape(new Date(start).toISOString())} — ${escape(new Date(end).toISOString())}${
      earlier > 0
        ? ` (${earlier} earlier event${earlier === 1 ? '' : 's'}, before the instances booted, not drawn)`
        : ''
    }</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/** A self-contained HTML page: causes, the timeline, instances, external names. No external resources. */
export function renderDiagnoseHtml(report: DiagnoseReport): string {
  const causes = report.causes
    .map(
      (c, i) =>
        `<li><strong>${i + 1}. ${escape(c.kind)}</strong> <span class="conf">${Math.round(c.confidence * 100)}%</span> ${escape(c.summary)}<ul>${c.evidence
          .slice(0, 5)
          .map(
            (r) =>
              `<li><code>${escape(r.file)}:${r.line}</code>${r.text !== undefined ? ` ${escape(r.text)}` : ''}</li>`,
          )
          .join('')}</ul></li>`,
    )
    .join('\n');
  const instances = report.instances
    .map(
      (i) =>
        `<tr><td><code>${escape(i.id)}</code></td><td>${escape(i.bootAt ?? '?')}</td><td class="${i.firstFailureAt !== null ? 'bad' : 'good'}">${escape(
          i.firstFailureAt !== null ? `${i.firstFailureAt}: ${i.failure ?? ''}` : 'no failure seen',
        )}</td><td>${i.packageChangesAfterBoot}</td><td>${escape(i.timezone)}</td></tr>`,
    )
    .join('\n');
  const domains = report.externalDomains
    .slice(0, 100)
    .map(
      (d) =>
        `<tr><td><code>${escape(d.name)}</code></td><td>${d.queries}</td><td>${d.instances.length}</td><td>${escape(
          Object.entries(d.rcodes)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        )}</td></tr>`,
    )
    .join('\n');
  const legend = Object.entries(COLORS)
    .map(([kind, color]) => `<span><i style="background:${color}"></i>${escape(kind)}</span>`)
    .join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>goldgate diagnose: ${escape(report.bundle)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#0f172a;max-width:1160px}
h1{font-size:20px} h2{font-size:16px;margin-top:28px}
.conf{background:#fef3c7;border-radius:4px;padding:0 6px;font-size:12px}
table{border-collapse:collapse;font-size:13px} td,th{border-bottom:1px solid #e2e8f0;padding:4px 10px;text-align:left}
.bad{color:#b91c1c}.good{color:#15803d} .legend span{margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
</style></head><body>
<h1>goldgate diagnose: ${escape(report.bundle)}</h1>
<p>${report.instances.length} instance${report.instances.length === 1 ? '' : 's'}, ${report.files.filter((f) => f.format !== null).length} of ${report.files.length} files read, ${report.timeline.length} events${report.problemsTotal > 0 ? `, ${report.problemsTotal} unreadable lines` : ''}.</p>
<h2>Probable causes</h2>
<ol style="list-style:none;padding-left:0">${causes || '<li>No probable cause found.</li>'}</ol>
${report.causes[0] !== undefined ? `<h2>What to do now</h2><ul>${report.causes[0].actions.map((a) => `<li>${escape(a)}</li>`).join('')}</ul>` : ''}
<h2>Timeline</h2>
<p class="legend">${legend}</p>
${timelineSvg(report)}
<h2>Instances</h2>
<table><tr><th>instance</th><th>boot</th><th>first failure</th><th>package changes after boot</th><th>clock</th></tr>
${instances}</table>
${domains !== '' ? `<h2>External DNS names</h2><table><tr><th>name</th><th>queries</th><th>instances</th><th>answers</th></tr>${domains}</table>` : ''}
</body></html>
`;
}
