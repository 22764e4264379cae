import type {
  DnsName,
  HealthCause,
  InstanceResult,
  Reason,
  ReasonClass,
  TimelineEvent,
  TimelineKind,
  VerifyReport,
} from './types.js';
import { explainVerdict, REASON_CLASSES } from './verdict.js';

// Everything shown comes from the report (package names, paths, health output, DNS names) and
// may be hostile: each piece is escaped where it enters the page, which runs no script and loads nothing.

const escape = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** Escaped text with its `backticked` spans shown as code (cause texts quote checks that way). */
const prose = (text: string): string => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

const code = (text: string): string => `<code>${escape(text)}</code>`;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `820 ms`, `4.2 s`, `38 s`, `6 min 05 s`, `2 h 04 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  if (total < 60) return `${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min ${String(total % 60).padStart(2, '0')} s`;
}

const isoOf = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const clockOf = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

/** A time cell: HH:MM:SS (with the date when it is not the run's day), the full time on hover. */
function timeCell(at: string | null, day: string): string {
  if (at === null) return '<span class="muted">never</span>';
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return escape(at);
  const label = dayOf(t) === day ? clockOf(t) : `${dayOf(t)} ${clockOf(t)}`;
  return `<time datetime="${isoOf(t)}" title="${isoOf(t)}">${label}</time>`;
}

/** Which instances show a change: all of them said as such, a long list shortened (the full one on hover). */
function instancesCell(ids: string[], total: number): string {
  const all = escape(ids.join(', '));
  if (ids.length === total && total > 1) return `<span title="${all}">all ${total}</span>`;
  if (ids.length > 3)
    return `<span title="${all}">${ids.slice(0, 3).map(code).join(', ')} +${ids.length - 3}</span>`;
  return ids.map(code).join(', ');
}

interface Column {
  head: string;
  /** Right-aligned, tabular figures. */
  num?: boolean;
  /** Free text or paths that may wrap; every other cell keeps to one line. */
  wrap?: boolean;
}

interface Row {
  cells: string[];
  cls?: string;
  /** A heading row (already rendered) across the table, before this row. */
  group?: string;
}

/** A table of already rendered cells, or a sentence when it has no rows. */
function table(columns: Column[], rows: Row[], empty: string): string {
  if (rows.length === 0) return `<p class="none">${escape(empty)}</p>`;
  const cls = (c: Column | undefined): string => {
    const names = [c?.num === true ? 'num' : '', c?.wrap === true ? 'wrap' : ''].filter((n) => n !== '');
    return names.length > 0 ? ` class="${names.join(' ')}"` : '';
  };
  const head = columns.map((c) => `<th${cls(c)}>${escape(c.head)}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        (row.group !== undefined
          ? `<tr class="group"><th colspan="${columns.length}">${row.group}</th></tr>`
          : '') +
        `<tr${row.cls !== undefined ? ` class="${row.cls}"` : ''}>${row.cells
          .map((cell, i) => `<td${cls(columns[i])}>${cell}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

// ---------------------------------------------------------------------------------------------
// The timeline

type Track = 'lifecycle' | 'timers' | 'packages' | 'health' | 'dns' | 'units';

/** Tracks inside each instance's lane, top to bottom. Packed tracks stack their bars so none overlap. */
const TRACKS: Array<{ track: Track; label: string; kinds: TimelineKind[]; packed: boolean }> = [
  { track: 'lifecycle', label: 'boot, soak', kinds: ['boot', 'cloud-init', 'soak'], packed: true },
  { track: 'timers', label: 'timers', kinds: ['timer'], packed: true },
  { track: 'packages', label: 'packages', kinds: ['package'], packed: false },
  { track: 'health', label: 'health', kinds: ['health'], packed: false },
  { track: 'dns', label: 'dns', kinds: ['dns'], packed: false },
  { track: 'units', label: 'failed units', kinds: ['unit-failed'], packed: false },
];

const TRACK_OF = Object.fromEntries(TRACKS.flatMap((t) => t.kinds.map((k) => [k, t.track]))) as Record<
  TimelineKind,
  Track
>;

const COLOR = {
  boot: '#1d4ed8',
  cloudInit: '#7c3aed',
  soak: '#94a3b8',
  timer: '#4f46e5',
  package: '#ea580c',
  ok: '#16a34a',
  bad: '#dc2626',
  dnsAllowed: '#0891b2',
  dnsUnknown: '#64748b',
  unit: '#b91c1c',
};

const WIDTH = 1120;
const PLOT_LEFT = 118;
const PLOT_RIGHT = WIDTH - 24;
const ROW = 18;
const LANE_HEAD = 22;
const LANE_GAP = 6;
const MIN_SPAN_MS = 10_000;
/** A generous width of one character of the 11px labels, so that an estimate never overlaps. */
const CHAR_PX = 6.6;
const TICK_STEPS_S = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
];

type DnsState = 'allowed' | 'refused' | 'unknown';

/**
 * Whether a DNS event's name was allowed: from the report's DNS table (the longest name its
 * summary mentions), else the event's own `ok`, else a REFUSED in its summary.
 */
function dnsState(event: TimelineEvent, namesLongestFirst: DnsName[]): DnsState {
  const name = namesLongestFirst.find((n) => event.summary.includes(n.name));
  if (name !== undefined) return name.allowed ? 'allowed' : 'refused';
  if (event.ok !== undefined) return event.ok ? 'allowed' : 'refused';
  return /REFUSED/.test(event.summary) ? 'refused' : 'unknown';
}

/** The words on a bar: the unit the summary names (`apt-daily.service`), else the kind. */
function barLabel(event: TimelineEvent): string {
  if (event.kind === 'timer') return /[\w@:.-]+\.(?:service|timer)/.exec(event.summary)?.[0] ?? 'timer';
  return event.kind;
}

function tooltip(event: TimelineEvent, t0: number, t1: number | null): string {
  const when = t1 === null ? isoOf(t0) : `${isoOf(t0)} → ${clockOf(t1)} (${formatDuration(t1 - t0)})`;
  return `<title>${escape(`${when} · ${event.instance} · ${event.kind}: ${event.summary}`)}</title>`;
}

/** The shape of a point event centred on (cx, cy). */
function pointShape(event: TimelineEvent, cx: number, cy: number, dns: DnsState): string {
  const X = cx.toFixed(1);
  switch (event.kind) {
    case 'package':
      return `<rect x="${(cx - 4.5).toFixed(1)}" y="${cy - 4.5}" width="9" height="9" fill="${COLOR.package}" stroke="#fff" stroke-width="0.8"/>`;
    case 'health':
      return event.ok === false
        ? `<circle cx="${X}" cy="${cy}" r="5.5" fill="${COLOR.bad}" stroke="#7f1d1d" stroke-width="1.5"/>`
        : `<circle cx="${X}" cy="${cy}" r="5" fill="${event.ok === true ? COLOR.ok : COLOR.dnsUnknown}" stroke="#fff" stroke-width="0.8"/>`;
    case 'dns': {
      const color = dns === 'allowed' ? COLOR.dnsAllowed : dns === 'refused' ? COLOR.bad : COLOR.dnsUnknown;
      return `<rect x="${(cx - 1).toFixed(1)}" y="${cy - 6}" width="2" height="12" fill="${color}"/>`;
    }
    case 'unit-failed':
      return `<path d="M${(cx - 4.5).toFixed(1)} ${cy - 4.5}l9 9m0-9l-9 9" stroke="${COLOR.unit}" stroke-width="2.6" stroke-linecap="round"/>`;
    default:
      return `<circle cx="${X}" cy="${cy}" r="5" fill="${barColor(event)}"/>`;
  }
}

function barColor(event: TimelineEvent): string {
  if (event.ok === false) return COLOR.bad;
  if (event.kind === 'cloud-init') return COLOR.cloudInit;
  if (event.kind === 'soak') return COLOR.soak;
  if (event.kind === 'boot') return COLOR.boot;
  return COLOR.timer;
}

interface Placed {
  event: TimelineEvent;
  t0: number;
  t1: number | null;
}

/** One mark laid out along x; drawn once its row (and so its y) is known. */
interface Item {
  x0: number;
  x1: number;
  draw: (cy: number) => string;
}

/** Greedy interval packing: each item on the first row where it clears the previous one. */
function pack(items: Item[]): Item[][] {
  const rows: Item[][] = [];
  for (const item of [...items].sort((a, b) => a.x0 - b.x0)) {
    const row = rows.find((r) => (r[r.length - 1]?.x1 ?? -Infinity) + 6 <= item.x0);
    if (row !== undefined) row.push(item);
    else rows.push([item]);
  }
  return rows;
}

/** Ticks at a round step that leaves room for each label. */
function ticks(from: number, to: number, labelPx: number): { step: number; at: number[] } {
  const fit = Math.max(2, Math.floor((PLOT_RIGHT - PLOT_LEFT) / (labelPx + 40)));
  const stepS =
    TICK_STEPS_S.find((s) => (to - from) / (s * 1000) <= fit) ?? Math.ceil((to - from) / fit / 1000);
  const step = stepS * 1000;
  const at: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) at.push(t);
  return { step, at };
}

/**
 * The SVG timeline: one time axis, one lane per instance, and in each lane one track per kind
 * of event (boot and soak, timer runs, packages, health, DNS, failed units). Every event is one
 * mark (`<g class="ev k-<kind>">`) with its summary as a tooltip; text is drawn only where it fits.
 */
export function timelineSvg(report: VerifyReport): string {
  const placed: Placed[] = [];
  let undated = 0;
  for (const event of report.timeline) {
    const t0 = Date.parse(event.at);
    if (!Number.isFinite(t0)) {
      undated += 1;
      continue;
    }
    const t1 = event.end === undefined ? NaN : Date.parse(event.end);
    placed.push({ event, t0, t1: Number.isFinite(t1) && t1 >= t0 ? t1 : null });
  }
  if (placed.length === 0) {
    return `<p class="none">No events recorded${undated > 0 ? ` (${plural(undated, 'event')} without a valid time)` : ''}.</p>`;
  }

  const lanes = report.instances.map((i) => i.id);
  for (const { event } of placed) if (!lanes.includes(event.instance)) lanes.push(event.instance);
  const tracks = TRACKS.filter((t) => placed.some((p) => TRACK_OF[p.event.kind] === t.track));

  let start = Infinity;
  let end = -Infinity;
  for (const p of placed) {
    start = Math.min(start, p.t0);
    end = Math.max(end, p.t1 ?? p.t0);
  }
  // The whole run, from launch to terminate, when that is not much longer than its events (an
  // instance clock far from the host's would squash them against one edge).
  const runStart = Date.parse(report.startedAt);
  const runEnd = Date.parse(report.finishedAt);
  if (Number.isFinite(runStart) && Number.isFinite(runEnd) && runEnd >= runStart) {
    const wider = Math.max(end, runEnd) - Math.min(start, runStart);
    if (wider <= 2 * Math.max(end - start, MIN_SPAN_MS)) {
      start = Math.min(start, runStart);
      end = Math.max(end, runEnd);
    }
  }
  if (end - start < MIN_SPAN_MS) {
    const middle = (start + end) / 2;
    start = middle - MIN_SPAN_MS / 2;
    end = middle + MIN_SPAN_MS / 2;
  }
  const pad = (end - start) * 0.015;
  const from = start - pad;
  const to = end + pad;
  const x = (t: number): number => PLOT_LEFT + ((t - from) / (to - from)) * (PLOT_RIGHT - PLOT_LEFT);
  const multiDay = dayOf(from) !== dayOf(to);
  const dnsNames = [...report.dns].sort((a, b) => b.name.length - a.name.length);

  const bar = (p: Placed): Item => {
    const x0 = x(p.t0);
    const w = Math.max(p.t1 === null ? 0 : x(p.t1) - x0, 3);
    const label = barLabel(p.event);
    const labelPx = label.length * CHAR_PX;
    // The label goes inside the bar if it fits, else after it, else before it.
    const where =
      labelPx + 10 <= w
        ? 'inside'
        : x0 + w + 5 + labelPx <= PLOT_RIGHT
          ? 'after'
          : x0 - 5 - labelPx >= PLOT_LEFT
            ? 'before'
            : 'none';
    const fill = barColor(p.event);
    return {
      x0: where === 'before' ? x0 - 5 - labelPx : x0,
      x1: where === 'after' ? x0 + w + 5 + labelPx : x0 + w,
      draw: (cy) => {
        const text =
          where === 'inside'
            ? `<text x="${(x0 + 5).toFixed(1)}" y="${cy + 4}" class="${p.event.kind === 'soak' ? 'bar-out' : 'bar-in'}">${escape(label)}</text>`
            : where === 'after'
              ? `<text x="${(x0 + w + 5).toFixed(1)}" y="${cy + 4}" class="bar-out">${escape(label)}</text>`
              : where === 'before'
                ? `<text x="${(x0 - 5).toFixed(1)}" y="${cy + 4}" text-anchor="end" class="bar-out">${escape(label)}</text>`
                : '';
        return `<g class="ev k-${escape(p.event.kind)}">${tooltip(p.event, p.t0, p.t1)}<rect x="${x0.toFixed(1)}" y="${cy - 6}" width="${w.toFixed(1)}" height="12" rx="2" fill="${fill}"${p.event.kind === 'soak' ? ' fill-opacity="0.55"' : ''}/>${text}</g>`;
      },
    };
  };
  const point = (p: Placed): Item => {
    const cx = x(p.t0);
    const state = p.event.kind === 'dns' ? dnsState(p.event, dnsNames) : 'unknown';
    return {
      x0: cx - 6,
      x1: cx + 6,
      draw: (cy) =>
        `<g class="ev k-${escape(p.event.kind)}">${tooltip(p.event, p.t0, null)}${pointShape(p.event, cx, cy, state)}</g>`,
    };
  };
  // Within a track the marks that matter most are drawn last, on top: failures, refused names.
  const weight = (p: Placed): number =>
    p.event.ok === false || (p.event.kind === 'dns' && dnsState(p.event, dnsNames) === 'refused') ? 1 : 0;

  const out: string[] = [];
  const header = `${dayOf(start)} ${clockOf(start)} → ${multiDay ? `${dayOf(end)} ` : ''}${clockOf(end)} UTC · ${formatDuration(end - start)} · ${plural(placed.length, 'event')}${undated > 0 ? ` (${undated} without a valid time, not drawn)` : ''}`;
  out.push(`<text x="${PLOT_LEFT}" y="13" class="tl-head">${escape(header)}</text>`);
  let y = 22;

  // The run's phases, laid end to end from its start: where in the run each event happened.
  const phaseStart = Date.parse(report.startedAt);
  if (report.phases.length > 0 && Number.isFinite(phaseStart)) {
    const segments: string[] = [];
    let t = phaseStart;
    report.phases.forEach((phase, i) => {
      const a = Math.max(x(t), PLOT_LEFT);
      const b = Math.min(x(t + phase.ms), PLOT_RIGHT);
      t += phase.ms;
      if (b - a < 1) return;
      const long = `${phase.phase} ${formatDuration(phase.ms)}`;
      const text =
        long.length * CHAR_PX + 8 <= b - a
          ? long
          : phase.phase.length * CHAR_PX + 8 <= b - a
            ? phase.phase
            : '';
      segments.push(
        `<g class="phase">${`<title>${escape(`${phase.phase}: ${formatDuration(phase.ms)} (phases placed end to end from the start of the run)`)}</title>`}<rect x="${a.toFixed(1)}" y="${y}" width="${(b - a).toFixed(1)}" height="16" fill="${i % 2 === 0 ? '#e2e8f0' : '#cbd5e1'}"/>${
          text !== ''
            ? `<text x="${((a + b) / 2).toFixed(1)}" y="${y + 12}" text-anchor="middle" class="phase-label">${escape(text)}</text>`
            : ''
        }</g>`,
      );
    });
    if (segments.length > 0) {
      out.push(`<text x="${PLOT_LEFT - 10}" y="${y + 12}" text-anchor="end" class="track">phases</text>`);
      out.push(...segments);
      y += 22;
    }
  }

  const tickLabel = (t: number, first: boolean): string =>
    multiDay && (first || clockOf(t) === '00:00:00') ? `${dayOf(t).slice(5)} ${clockOf(t)}` : clockOf(t);
  const axis = ticks(from, to, (multiDay ? 15 : 8) * CHAR_PX);
  const axisLabels = (labelY: number): string[] =>
    axis.at.map(
      (t, i) =>
        `<text x="${x(t).toFixed(1)}" y="${labelY}" text-anchor="middle" class="tick">${tickLabel(t, i === 0)}</text>`,
    );
  const tallLanes = lanes.length > 2;
  if (tallLanes) {
    out.push(...axisLabels(y + 11));
    y += 16;
  }
  const lanesTop = y;

  const lanesSvg: string[] = [];
  lanes.forEach((lane, laneIndex) => {
    const info = report.instances.find((i) => i.id === lane);
    const mine = placed.filter((p) => p.event.instance === lane);
    const laneTop = y;
    const marks: string[] = [];
    let rowY = laneTop + LANE_HEAD;
    for (const track of tracks) {
      const events = mine
        .filter((p) => TRACK_OF[p.event.kind] === track.track)
        .sort((a, b) => weight(a) - weight(b) || a.t0 - b.t0);
      const rows = track.packed ? pack(events.map(bar)) : [events.map(point)];
      if (rows.length === 0) rows.push([]);
      const label = events.length > 1 ? `${track.label} (${events.length})` : track.label;
      marks.push(
        `<text x="${PLOT_LEFT - 10}" y="${rowY + 13}" text-anchor="end" class="track">${escape(label)}</text>`,
      );
      rows.forEach((row, r) => {
        for (const item of row) marks.push(item.draw(rowY + r * ROW + ROW / 2));
      });
      rowY += rows.length * ROW;
    }
    const height = rowY - laneTop + 6;
    lanesSvg.push(
      `<g class="lane" data-instance="${escape(lane)}"><rect x="0" y="${laneTop}" width="${WIDTH}" height="${height}" fill="${laneIndex % 2 === 0 ? '#f1f5f9' : '#f8fafc'}"/>` +
        `<text x="8" y="${laneTop + 15}" class="lane-id">${escape(lane)}</text>` +
        (info !== undefined
          ? `<text x="${PLOT_LEFT}" y="${laneTop + 15}" class="lane-facts">${escape(laneFacts(info))}</text>`
          : '') +
        `</g>`,
    );
    lanesSvg.push(...marks);
    y = laneTop + height + LANE_GAP;
  });
  const lanesBottom = y - LANE_GAP;

  // Grid lines go under the lanes' marks but over their backgrounds: lanes first, then grid, then marks.
  const grid = axis.at.map(
    (t) =>
      `<line x1="${x(t).toFixed(1)}" y1="${lanesTop}" x2="${x(t).toFixed(1)}" y2="${lanesBottom}" class="grid"/>`,
  );
  const backgrounds = lanesSvg.filter((s) => s.startsWith('<g class="lane"'));
  const rest = lanesSvg.filter((s) => !s.startsWith('<g class="lane"'));
  out.push(...backgrounds, ...grid, ...rest);
  out.push(...axisLabels(lanesBottom + 14));
  const height = lanesBottom + 22;
  return `<svg class="timeline" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Timeline of the verification, one lane per instance">\n${out.join('\n')}\n</svg>`;
}

function laneFacts(info: InstanceResult): string {
  const parts = [info.address ?? 'no address', info.bootState];
  if (info.bootMs !== null) parts.push(`booted in ${formatDuration(info.bootMs)}`);
  if (info.cloudInit !== null) parts.push(`cloud-init ${info.cloudInit.status}`);
  if (info.failedUnits.length > 0) parts.push(plural(info.failedUnits.length, 'failed unit'));
  return parts.join(' · ');
}

/** The legend, drawn with the timeline's own shapes. */
function legend(): string {
  const item = (shape: string, label: string): string =>
    `<span><svg width="18" height="14" viewBox="0 0 18 14" aria-hidden="true">${shape}</svg>${escape(label)}</span>`;
  const barShape = (fill: string, opacity = ''): string =>
    `<rect x="1" y="3" width="16" height="8" rx="2" fill="${fill}"${opacity}/>`;
  return [
    item(barShape(COLOR.boot), 'boot'),
    item(barShape(COLOR.cloudInit), 'cloud-init'),
    item(barShape(COLOR.soak, ' fill-opacity="0.55"'), 'soak'),
    item(barShape(COLOR.timer), 'timer run'),
    item(barShape(COLOR.bad), 'failed run or boot'),
    item(`<rect x="4.5" y="2.5" width="9" height="9" fill="${COLOR.package}"/>`, 'package change'),
    item(`<circle cx="9" cy="7" r="5" fill="${COLOR.ok}"/>`, 'health ok'),
    item(
      `<circle cx="9" cy="7" r="5" fill="${COLOR.bad}" stroke="#7f1d1d" stroke-width="1.5"/>`,
      'health failed',
    ),
    item(`<rect x="8" y="1" width="2" height="12" fill="${COLOR.dnsAllowed}"/>`, 'DNS allowed'),
    item(`<rect x="8" y="1" width="2" height="12" fill="${COLOR.bad}"/>`, 'DNS not allowed'),
    item(
      `<path d="M4.5 2.5l9 9m0-9l-9 9" stroke="${COLOR.unit}" stroke-width="2.6" stroke-linecap="round"/>`,
      'unit failed',
    ),
  ].join('');
}

// ---------------------------------------------------------------------------------------------
// The page

const REASON_LABEL: Record<Reason['kind'], string> = {
  package: 'package',
  config: 'config',
  binary: 'binary',
  dns: 'dns',
  'failed-unit': 'unit',
  health: 'health',
  boot: 'boot',
};

function digestShort(digest: string): string {
  const [algo, hex] = digest.includes(':') ? digest.split(':', 2) : ['', digest];
  return `${algo !== '' && algo !== undefined ? `${algo}:` : ''}${(hex ?? '').slice(0, 12)}`;
}

function modeText(report: VerifyReport): string {
  const o = report.options;
  const parts: string[] = [];
  if (o.fastForward) parts.push('timers fast-forwarded');
  if (o.imageAgeDays !== null) parts.push(`image aged ${plural(o.imageAgeDays, 'day')}`);
  if (o.soakSeconds !== null) parts.push(`soak ${formatDuration(o.soakSeconds * 1000)}`);
  return parts.length > 0 ? parts.join(' + ') : 'boot only';
}

const CLASS_LABEL: Record<ReasonClass, string> = {
  'changes-itself': 'changes itself',
  broken: 'broken',
  'reaches-outside': 'reaches outside',
};

const CLASS_HEADING: Record<ReasonClass, string> = {
  'changes-itself': 'It changes itself',
  broken: 'It is broken',
  'reaches-outside': 'It reaches outside',
};

function header(report: VerifyReport): string {
  const passed = report.verdict === 'immutable';
  const img = report.image;
  const instances = report.instances.length;
  const failedChecks = new Set(report.health.filter((h) => !h.ok).map((h) => h.name)).size;
  const failedUnits = new Set(report.instances.flatMap((i) => i.failedUnits.map((u) => u.unit))).size;
  const counted = report.drift.files.filter((f) => f.class !== 'data').length;
  const outside = report.dns.filter((d) => !d.allowed).length;
  const tally = [
    report.drift.packages.length > 0 ? `${plural(report.drift.packages.length, 'package')} changed` : '',
    counted > 0 ? `${plural(counted, 'configuration or binary file')} changed` : '',
    failedChecks > 0 ? `${plural(failedChecks, 'health check')} failed` : '',
    failedUnits > 0 ? `${plural(failedUnits, 'unit')} failed` : '',
    outside > 0 ? `${plural(outside, 'DNS name')} outside the allowlist` : '',
  ].filter((t) => t !== '');
  const fact = (name: string, value: string): string => `<dt>${escape(name)}</dt><dd>${value}</dd>`;
  const totalMs = Math.max(1, ...report.phases.map((p) => p.ms));
  const phases = report.phases
    .map(
      (p) =>
        `<tr><td>${escape(p.phase)}</td><td class="num">${escape(formatDuration(p.ms))}</td><td class="barcell"><span class="pbar" style="width:${Math.max(1, Math.round((p.ms / totalMs) * 100))}%"></span></td></tr>`,
    )
    .join('');
  const classes = report.classes
    .map((c) => `<span class="chip cl-${escape(c)}">${escape(CLASS_LABEL[c] ?? c)}</span>`)
    .join(' ');
  return `<header class="verdict ${escape(report.verdict)}">
<div class="word">${escape(report.verdict)}</div>
<div class="what"><h1>${escape(img.name ?? img.id ?? img.rootfs)}${img.id !== null && img.name !== null ? ` <span class="id">${escape(img.id)}</span>` : ''}</h1>
<p class="meaning">${escape(explainVerdict(report))}.</p>
<p>${
    passed
      ? `No instance changed anything that matters: only expected runtime noise (${plural(report.drift.noise.length, 'path')}).`
      : `${escape(tally.length > 0 ? tally.join(' · ') : plural(report.reasons.length, 'reason'))}.`
  }</p>${classes !== '' ? `\n<p class="classes">${classes}</p>` : ''}</div>
</header>
<section class="facts">
<dl>
${fact('image', img.id !== null ? code(img.id) : '<span class="muted">a root filesystem by path</span>')}
${fact('digest', img.digest !== null ? `<code title="${escape(img.digest)}">${escape(digestShort(img.digest))}</code>` : '<span class="muted">none</span>')}
${fact('spec', img.spec !== null ? code(img.spec) : '<span class="muted">unknown</span>')}
${fact('root filesystem', code(img.rootfs))}
${fact('instances', String(instances))}
${fact('options', escape(modeText(report)))}
${fact('DNS allowed', report.options.dnsAllow.length > 0 ? report.options.dnsAllow.map(code).join(' ') : '<span class="muted">nothing</span>')}
${report.options.userData !== null ? fact('user data', code(report.options.userData)) : ''}
${report.options.agedStamps.length > 0 ? fact('aged stamps', `<details><summary>${plural(report.options.agedStamps.length, 'stamp')} aged by ${escape(plural(report.options.imageAgeDays ?? 0, 'day'))}</summary>${report.options.agedStamps.map(code).join('<br>')}</details>`) : ''}
${fact('run', `${timeCell(report.startedAt, '')} → ${timeCell(report.finishedAt, dayOf(Date.parse(report.startedAt) || 0))} UTC, ${escape(formatDuration(report.durationMs))}`)}
${report.storedAt !== null ? fact('stored at', code(report.storedAt)) : ''}
</dl>
${phases !== '' ? `<table class="phases"><thead><tr><th>phase</th><th class="num">time</th><th></th></tr></thead><tbody>${phases}</tbody></table>` : ''}
</section>`;
}

function causesSection(report: VerifyReport): string {
  if (report.causes.length === 0) return '';
  // The same sentence on several instances is said once, with the instances that show it.
  const groups = new Map<string, HealthCause[]>();
  for (const c of report.causes) groups.set(c.text, [...(groups.get(c.text) ?? []), c]);
  const when = (at: string) => timeCell(at, dayOf(Date.parse(at) || 0));
  const items = [...groups.values()]
    .map((group) => {
      const c = group[0] as HealthCause;
      const on = instancesCell([...new Set(group.map((g) => g.instance))], report.instances.length);
      const change =
        c.cause !== null
          ? `change at ${when(c.cause.at)}${c.cause.service !== null ? ` during ${code(c.cause.service)}` : ''}${c.cause.by !== null ? ` by ${code(c.cause.by)}` : ''}`
          : 'nothing in the logs preceded it';
      return `<li><p class="cause-text">${prose(c.text)}</p><p class="cause-meta">on ${on} · ${change} · failed at ${when(c.failedAt)}</p></li>`;
    })
    .join('\n');
  return `<section class="causes"><h2>Why it failed</h2><ol>${items}</ol></section>`;
}

function reasonItem(r: Reason, total: number): string {
  const cause =
    r.kind === 'health' && r.cause !== undefined && r.cause !== ''
      ? `<div class="reason-cause">cause: ${prose(r.cause)}</div>`
      : '';
  const more =
    r.paths !== undefined && r.paths.length > 3
      ? `<details class="reason-more"><summary>all ${r.paths.length} paths</summary>${r.paths.map(code).join('<br>')}</details>`
      : '';
  // The summary says how many instances; which ones matters only when it is some of them.
  const which = r.instances.length > 1 && r.instances.length < total ? instancesCell(r.instances, total) : '';
  return `<li><span class="chip k-${escape(r.kind)}">${escape(REASON_LABEL[r.kind] ?? r.kind)}</span><span class="reason-text">${prose(r.summary)}</span><span class="reason-on">${which}</span>${cause}${more}</li>`;
}

/** The reasons under their class: what changed, what broke, what it looked up outside. */
function reasonsSection(report: VerifyReport): string {
  const total = report.instances.length;
  const groups = REASON_CLASSES.map((cls) => {
    const items = report.reasons
      .filter((r) => r.class === cls)
      .map((r) => reasonItem(r, total))
      .join('\n');
    return items === ''
      ? ''
      : `<p class="class-head cl-${escape(cls)}">${escape(CLASS_HEADING[cls])}</p><ul class="reasons">${items}</ul>`;
  }).join('\n');
  return `<section><h2>Reasons</h2>${groups !== '' ? groups : '<p class="none">None: nothing counts against the image.</p>'}</section>`;
}

function driftSection(report: VerifyReport): string {
  const total = report.instances.length;
  const packages = table(
    [
      { head: 'package', wrap: true },
      { head: 'arch' },
      { head: 'from → to', wrap: true },
      { head: 'action' },
      { head: 'instances' },
    ],
    report.drift.packages.map((p) => ({
      cells: [
        code(p.name),
        p.arch !== null ? escape(p.arch) : '<span class="muted">–</span>',
        `${p.from !== null ? code(p.from) : '<span class="muted">not installed</span>'} → ${p.to !== null ? code(p.to) : '<span class="muted">removed</span>'}`,
        `<span class="chip a-${escape(p.action)}">${escape(p.action)}</span>`,
        instancesCell(p.instances, total),
      ],
    })),
    'No package changed.',
  );
  const files = table(
    [
      { head: 'path', wrap: true },
      { head: 'class' },
      { head: 'change' },
      { head: 'package' },
      { head: 'instances' },
    ],
    report.drift.files.map((f) => ({
      cells: [
        code(f.path),
        `<span class="chip c-${escape(f.class)}">${escape(f.class)}</span>`,
        escape(f.change),
        f.package !== null ? code(f.package) : '<span class="muted">no package</span>',
        instancesCell(f.instances, total),
      ],
    })),
    'No file changed outside the expected noise.',
  );
  const noise = report.drift.noise.length;
  const noiseTable = table(
    [{ head: 'path', wrap: true }, { head: 'change' }, { head: 'rule' }, { head: 'instances' }],
    report.drift.noise.map((n) => ({
      cells: [code(n.path), escape(n.change), escape(n.rule), instancesCell(n.instances, total)],
    })),
    'No noise.',
  );
  return `<section><h2>Packages</h2>${packages}</section>
<section><h2>Files</h2>${files}
<details class="noise"><summary>Noise: ${plural(noise, 'path')} changed as expected at runtime (not counted)</summary>${noiseTable}</details></section>`;
}

function dnsSection(report: VerifyReport): string {
  const total = report.instances.length;
  const rows = report.dns.map((d) => ({
    cls: d.allowed ? undefined : 'bad-row',
    cells: [
      code(d.name),
      escape(d.types.join(', ')),
      escape(String(d.queries)),
      Object.entries(d.rcodes)
        .map(
          ([rcode, n]) =>
            `<span class="chip ${rcode === 'NOERROR' ? 'r-ok' : 'r-bad'}">${escape(rcode)} ${escape(String(n))}</span>`,
        )
        .join(' '),
      d.answered ? 'yes' : 'no',
      d.allowed ? '<span class="good">yes</span>' : '<span class="bad">no</span>',
      instancesCell(d.instances, total),
    ],
  }));
  return `<section><h2>DNS names looked up</h2>${table(
    [
      { head: 'name', wrap: true },
      { head: 'types' },
      { head: 'queries', num: true },
      { head: 'rcodes' },
      { head: 'answered' },
      { head: 'allowed' },
      { head: 'instances' },
    ],
    rows,
    'No DNS query.',
  )}</section>`;
}

function healthSection(report: VerifyReport, day: string): string {
  const rows = report.health.map((h) => ({
    cls: h.ok ? undefined : 'bad-row',
    cells: [
      code(h.instance),
      escape(h.phase),
      // Checks named from flags already start with their kind (`command /usr/lib/acme/health`).
      h.name.startsWith(`${h.kind} `)
        ? escape(h.name)
        : `${escape(h.name)} <span class="muted">${escape(h.kind)}</span>`,
      h.ok ? '<span class="good">ok</span>' : '<span class="bad">failed</span>',
      escape(h.detail),
      timeCell(h.at, day),
      escape(formatDuration(h.durationMs)),
    ],
  }));
  return `<section><h2>Health checks</h2>${table(
    [
      { head: 'instance' },
      { head: 'phase' },
      { head: 'check', wrap: true },
      { head: 'ok' },
      { head: 'detail', wrap: true },
      { head: 'at (UTC)' },
      { head: 'took', num: true },
    ],
    rows,
    'No health check ran.',
  )}</section>`;
}

function unitsSection(report: VerifyReport): string {
  const rows = report.instances.flatMap((i) =>
    i.failedUnits.map((u) => ({ cells: [code(i.id), code(u.unit), escape(u.detail)] })),
  );
  return `<section><h2>Failed units</h2>${table(
    [{ head: 'instance' }, { head: 'unit' }, { head: 'detail', wrap: true }],
    rows,
    'No unit failed.',
  )}</section>`;
}

function timersSection(report: VerifyReport, day: string): string {
  const rows: Row[] = report.instances.flatMap((i) =>
    i.timers.map((t, n) => {
      const a = t.startedAt === null ? NaN : Date.parse(t.startedAt);
      const b = t.finishedAt === null ? NaN : Date.parse(t.finishedAt);
      const ran = t.startedAt !== null;
      const failed = ran && (t.result !== 'success' || (t.exitStatus !== null && t.exitStatus !== 0));
      return {
        ...(n === 0
          ? { group: `${code(i.id)} <span class="muted">${plural(i.timers.length, 'timer')}</span>` }
          : {}),
        ...(failed ? { cls: 'bad-row' } : {}),
        cells: [
          code(t.timer),
          code(t.service),
          ran ? escape(t.triggered) : '<span class="muted">–</span>',
          timeCell(t.startedAt, day),
          ran ? timeCell(t.finishedAt, day) : '',
          Number.isFinite(a) && Number.isFinite(b) ? escape(formatDuration(b - a)) : '',
          !ran
            ? '<span class="muted">did not run</span>'
            : `<span class="${failed ? 'bad' : 'good'}">${escape(t.result)}</span>`,
          t.exitStatus !== null ? escape(String(t.exitStatus)) : '',
          timeCell(t.nextAt, day),
        ],
      };
    }),
  );
  return `<section><h2>Timer runs</h2>${table(
    [
      { head: 'timer' },
      { head: 'service' },
      { head: 'started by' },
      { head: 'started (UTC)' },
      { head: 'finished' },
      { head: 'took', num: true },
      { head: 'result' },
      { head: 'exit', num: true },
      { head: 'next on its own' },
    ],
    rows,
    'No timer ran.',
  )}</section>`;
}

function instancesSection(report: VerifyReport, day: string): string {
  const rows = report.instances.map((i) => ({
    cls: i.bootState === 'running' ? undefined : 'bad-row',
    cells: [
      code(i.id),
      i.address !== null ? code(i.address) : '<span class="muted">none</span>',
      timeCell(i.bootedAt, day),
      i.bootMs !== null ? escape(formatDuration(i.bootMs)) : '',
      escape(i.bootState),
      i.cloudInit !== null
        ? `${escape(i.cloudInit.status)}${i.cloudInit.detail !== '' ? ` <span class="muted">${escape(i.cloudInit.detail)}</span>` : ''}`
        : '<span class="muted">no cloud-init</span>',
      String(i.drift.packages.length),
      String(i.drift.files.length),
      String(i.drift.noise.length),
    ],
  }));
  return `<section><h2>Instances</h2>${table(
    [
      { head: 'instance' },
      { head: 'address' },
      { head: 'booted (UTC)' },
      { head: 'boot', num: true },
      { head: 'state' },
      { head: 'cloud-init', wrap: true },
      { head: 'packages', num: true },
      { head: 'files', num: true },
      { head: 'noise', num: true },
    ],
    rows,
    'No instance.',
  )}</section>`;
}

const CSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;padding:24px 28px 48px;color:#0f172a;background:#fff;font-size:14px;line-height:1.45}
main{max-width:1122px;margin:0 auto}
code{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,monospace;font-size:12.5px;background:#f1f5f9;border-radius:3px;padding:0 4px;overflow-wrap:anywhere}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #e2e8f0}
.verdict{display:flex;align-items:center;gap:24px;padding:18px 24px;border-radius:10px;color:#fff}
.verdict.mutable{background:#b91c1c} .verdict.immutable{background:#15803d}
.verdict.broken{background:#7f1d1d} .verdict.reaches-outside{background:#b45309}
.verdict .word{font-size:40px;font-weight:800;letter-spacing:.02em;text-transform:uppercase;line-height:1}
.verdict.reaches-outside .word{font-size:30px;max-width:220px}
.verdict h1{color:#fff} .verdict p{margin:0;opacity:.95} .verdict p.meaning{font-weight:600;margin-bottom:2px}
.verdict p.classes{margin-top:6px} .verdict .chip{background:#fff;color:#0f172a}
.class-head{font-weight:600;margin:10px 0 2px;color:#334155}
.verdict .id{font-weight:400;font-size:15px;opacity:.85;font-family:ui-monospace,"DejaVu Sans Mono",monospace;margin-left:6px}
.facts{display:flex;gap:40px;align-items:flex-start;flex-wrap:wrap;margin-top:16px}
.facts dl{display:grid;grid-template-columns:max-content minmax(0,620px);gap:4px 14px;margin:0}
.facts dt{color:#64748b} .facts dd{margin:0}
table{border-collapse:collapse;font-size:13px;width:100%}
th{text-align:left;font-weight:600;color:#475569;border-bottom:2px solid #e2e8f0;padding:5px 10px;white-space:nowrap}
td{border-bottom:1px solid #e2e8f0;padding:5px 10px;vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal} td.wrap code{overflow-wrap:anywhere} td:not(.wrap) code{overflow-wrap:normal}
tr.group th{background:#f1f5f9;border-bottom:1px solid #e2e8f0;padding:6px 10px;color:#0f172a}
.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#f8fafc}
tr.bad-row td{background:#fef2f2}
table.phases{width:auto;font-size:12.5px} table.phases td{padding:2px 8px;border:0} table.phases th{padding:2px 8px}
.barcell{width:140px} .pbar{display:block;height:8px;border-radius:2px;background:#94a3b8;min-width:2px}
.causes{margin-top:22px;border:2px solid #fca5a5;background:#fef2f2;border-radius:10px;padding:4px 20px 10px}
.causes h2{border:0;color:#991b1b;margin:12px 0 4px}
.causes ol{padding-left:20px;margin:0} .causes li{margin:8px 0}
.cause-text{font-size:16px;font-weight:600;margin:0 0 2px}
.cause-meta{margin:0;color:#475569;font-size:13px}
ul.reasons{list-style:none;padding:0;margin:0}
ul.reasons li{display:grid;grid-template-columns:70px minmax(0,1fr) auto;gap:4px 10px;padding:6px 0;border-bottom:1px solid #f1f5f9;align-items:baseline}
.reason-on{color:#475569;font-size:12.5px;white-space:nowrap}
.reason-cause,.reason-more{grid-column:2 / 4;color:#7f1d1d;font-size:13px} .reason-more{color:#475569}
.chip{display:inline-block;font-size:11.5px;font-weight:600;border-radius:10px;padding:0 8px;background:#e2e8f0;color:#334155;white-space:nowrap}
.chip.k-package,.chip.a-upgraded,.chip.a-downgraded,.chip.a-installed,.chip.a-removed{background:#ffedd5;color:#9a3412}
.chip.k-config,.chip.c-config{background:#fef3c7;color:#92400e}
.chip.k-binary,.chip.c-binary{background:#ede9fe;color:#5b21b6}
.chip.k-dns,.chip.r-bad{background:#fee2e2;color:#991b1b} .chip.r-ok{background:#dcfce7;color:#166534}
.chip.k-health,.chip.k-failed-unit,.chip.k-boot{background:#fee2e2;color:#991b1b}
.good{color:#15803d;font-weight:600} .bad{color:#b91c1c;font-weight:600} .muted{color:#94a3b8}
.none{color:#64748b;margin:4px 0}
.legend{display:flex;flex-wrap:wrap;gap:4px 13px;font-size:12px;color:#334155;margin:0 0 8px}
.legend span{display:inline-flex;align-items:center;gap:4px}
.tl-wrap{overflow-x:auto;border:1px solid #e2e8f0;border-radius:8px;padding:8px 0 4px}
svg.timeline{display:block}
svg.timeline text{font-family:system-ui,"DejaVu Sans",sans-serif;font-size:11px;fill:#334155}
svg.timeline .tl-head{font-size:12px;fill:#0f172a;font-weight:600}
svg.timeline .lane-id{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;font-weight:700;fill:#0f172a}
svg.timeline .lane-facts{fill:#64748b}
svg.timeline .track{fill:#64748b}
svg.timeline .tick{fill:#475569;font-variant-numeric:tabular-nums}
svg.timeline .phase-label{fill:#334155;font-size:10.5px}
svg.timeline .bar-in{fill:#fff;font-size:10.5px}
svg.timeline .bar-out{fill:#1e293b;font-size:10.5px}
svg.timeline .grid{stroke:#cbd5e1;stroke-dasharray:2 3}
details.noise{margin-top:12px} details.noise summary{cursor:pointer;color:#475569}
footer{margin-top:36px;color:#94a3b8;font-size:12px}
`;

/**
 * The verification as a self-contained HTML page: the verdict, why, an SVG timeline of every
 * instance, and the drift, DNS, health and timer tables. No script, no external resource.
 */
export function renderVerifyHtml(report: VerifyReport): string {
  const day = dayOf(Date.parse(report.startedAt) || 0);
  const title = `goldgate verify: ${report.verdict} · ${report.image.name ?? report.image.id ?? report.image.rootfs}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>${CSS}</style></head><body><main>
${header(report)}
${causesSection(report)}
${reasonsSection(report)}
<section><h2>Timeline</h2>
<p class="legend">${legend()}</p>
<div class="tl-wrap">${timelineSvg(report)}</div></section>
${driftSection(report)}
${dnsSection(report)}
${healthSection(report, day)}
${unitsSection(report)}
${timersSection(report, day)}
${instancesSection(report, day)}
<footer>goldgate verify · report schema ${report.schemaVersion} · times in UTC</footer>
</main></body></html>
`;
}
