import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/tree.js';
import { renderVerifyHtml, timelineSvg } from './html.js';
import type {
  Across,
  DnsName,
  FileDrift,
  HealthCause,
  HealthRecord,
  InstanceResult,
  NoiseDrift,
  PackageDrift,
  Reason,
  TimelineEvent,
  TimelineKind,
  TimerRun,
  VerifyReport,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: JSON as `goldgate verify --json` writes it, checked against the type's keys on load
// (tsc fails here when the type gains or loses a required key, so the fixtures follow the type).

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
const keys = <T>(required: Record<RequiredKeys<T>, true>): string[] => Object.keys(required);

const SHAPES = {
  report: keys<VerifyReport>({
    schemaVersion: true,
    verdict: true,
    classes: true,
    image: true,
    startedAt: true,
    finishedAt: true,
    durationMs: true,
    options: true,
    instances: true,
    reasons: true,
    drift: true,
    dns: true,
    health: true,
    causes: true,
    timeline: true,
    phases: true,
    storedAt: true,
  }),
  image: keys<VerifyReport['image']>({ id: true, name: true, digest: true, rootfs: true, spec: true }),
  options: keys<VerifyReport['options']>({
    instances: true,
    userData: true,
    fastForward: true,
    imageAgeDays: true,
    soakSeconds: true,
    dnsAllow: true,
    agedStamps: true,
  }),
  instance: keys<InstanceResult>({
    id: true,
    address: true,
    bootMs: true,
    bootState: true,
    bootedAt: true,
    cloudInit: true,
    timers: true,
    failedUnits: true,
    drift: true,
  }),
  timer: keys<TimerRun>({
    timer: true,
    service: true,
    triggered: true,
    startedAt: true,
    finishedAt: true,
    result: true,
    exitStatus: true,
    nextAt: true,
  }),
  package: keys<Across<PackageDrift>>({
    name: true,
    arch: true,
    from: true,
    to: true,
    action: true,
    instances: true,
  }),
  file: keys<Across<FileDrift>>({ path: true, class: true, change: true, package: true, instances: true }),
  noise: keys<Across<NoiseDrift>>({ path: true, change: true, rule: true, instances: true }),
  dns: keys<DnsName>({
    name: true,
    types: true,
    queries: true,
    rcodes: true,
    answered: true,
    allowed: true,
    instances: true,
    firstAt: true,
  }),
  health: keys<HealthRecord>({
    instance: true,
    phase: true,
    name: true,
    kind: true,
    ok: true,
    detail: true,
    at: true,
    durationMs: true,
  }),
  cause: keys<HealthCause>({
    instance: true,
    check: true,
    failedAt: true,
    detail: true,
    cause: true,
    text: true,
  }),
  reason: keys<Reason>({ kind: true, class: true, summary: true, instances: true }),
  event: keys<TimelineEvent>({ at: true, instance: true, kind: true, summary: true }),
};

const KINDS: Record<TimelineKind, true> = {
  boot: true,
  'cloud-init': true,
  timer: true,
  package: true,
  health: true,
  dns: true,
  'unit-failed': true,
  soak: true,
};
const ALL_KINDS = Object.keys(KINDS) as TimelineKind[];

function expectKeys(value: unknown, required: string[], where: string): void {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: not an object`);
  const missing = required.filter((k) => !(k in value));
  if (missing.length > 0) throw new Error(`${where}: missing ${missing.join(', ')}`);
}

/** A fixture as a VerifyReport, after checking that every object in it has its type's required keys. */
function loadFixture(name: string): VerifyReport {
  const value: unknown = JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
  expectKeys(value, SHAPES.report, name);
  const r = value as VerifyReport;
  if (r.schemaVersion !== 2 || !['mutable', 'immutable', 'broken', 'reaches-outside'].includes(r.verdict))
    throw new Error(`${name}: schemaVersion or verdict`);
  expectKeys(r.image, SHAPES.image, `${name} image`);
  expectKeys(r.options, SHAPES.options, `${name} options`);
  const each = (list: unknown[], shape: string[], what: string) =>
    list.forEach((item, i) => expectKeys(item, shape, `${name} ${what}[${i}]`));
  each(r.instances, SHAPES.instance, 'instances');
  r.instances.forEach((i) => {
    each(i.timers, SHAPES.timer, `${i.id} timers`);
    each(
      i.drift.packages,
      SHAPES.package.filter((k) => k !== 'instances'),
      `${i.id} packages`,
    );
    each(
      i.drift.files,
      SHAPES.file.filter((k) => k !== 'instances'),
      `${i.id} files`,
    );
    each(
      i.drift.noise,
      SHAPES.noise.filter((k) => k !== 'instances'),
      `${i.id} noise`,
    );
  });
  each(r.drift.packages, SHAPES.package, 'drift.packages');
  each(r.drift.files, SHAPES.file, 'drift.files');
  each(r.drift.noise, SHAPES.noise, 'drift.noise');
  each(r.dns, SHAPES.dns, 'dns');
  each(r.health, SHAPES.health, 'health');
  each(r.causes, SHAPES.cause, 'causes');
  each(r.reasons, SHAPES.reason, 'reasons');
  each(r.timeline, SHAPES.event, 'timeline');
  const unknownKind = r.timeline.find((e) => !(e.kind in KINDS));
  if (unknownKind !== undefined) throw new Error(`${name}: timeline kind ${unknownKind.kind}`);
  return r;
}

const mutable = loadFixture('report-mutable.json');
const immutable = loadFixture('report-immutable.json');
const broken = loadFixture('report-broken.json');
const outside = loadFixture('report-reaches-outside.json');

/** A run of `count` instances over `hours`, each with boot, cloud-init, timers, hundreds of DNS queries, … */
function bigReport(count: number, dnsPerInstance: number, hours: number): VerifyReport {
  const t0 = Date.parse('2026-11-27T22:30:00.000Z');
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  const spanMs = hours * 3_600_000;
  const instances: InstanceResult[] = [];
  const timeline: TimelineEvent[] = [];
  for (let n = 0; n < count; n += 1) {
    const id = `i-${(0x1000a0 + n * 7919).toString(16).padStart(8, '0')}`;
    const base = mutable.instances[0] as InstanceResult;
    instances.push({ ...base, id, address: `10.213.0.${20 + n}`, bootedAt: at(4_000) });
    const add = (e: Omit<TimelineEvent, 'instance'>) => timeline.push({ ...e, instance: id });
    add({
      at: at(n * 300),
      end: at(n * 300 + 3_400),
      kind: 'boot',
      summary: 'booted (running) in 3400 ms',
      ok: true,
    });
    add({ at: at(n * 300 + 3_400), kind: 'cloud-init', summary: 'cloud-init done', ok: true });
    add({ at: at(60_000), end: at(spanMs - 120_000), kind: 'soak', summary: 'soak: no fast-forward' });
    for (const [k, service] of [
      'apt-daily.service',
      'apt-daily-upgrade.service',
      'logrotate.service',
    ].entries())
      add({
        at: at(spanMs * (0.2 + 0.25 * k) + n * 1_000),
        end: at(spanMs * (0.2 + 0.25 * k) + n * 1_000 + 90_000),
        kind: 'timer',
        summary: `${service} (${service.replace('.service', '.timer')}, schedule): success`,
        ok: n !== 3 || k !== 1,
      });
    add({
      at: at(spanMs * 0.5),
      kind: 'package',
      summary: 'upgrade acme-runtime 1.0 → 1.0+deb12u1 (unattended-upgrade)',
    });
    add({ at: at(spanMs * 0.5 + 2_000), kind: 'unit-failed', summary: 'acme.service failed: exit-code' });
    add({ at: at(30_000), kind: 'health', summary: 'health before "x": ok (200)', ok: true });
    add({ at: at(spanMs - 60_000), kind: 'health', summary: 'health after "x": FAILED (503)', ok: false });
    for (let q = 0; q < dnsPerInstance; q += 1) {
      const refused = q % 5 === 0;
      add({
        at: at((spanMs * q) / dnsPerInstance),
        kind: 'dns',
        summary: refused ? 'deb.distro-mirror.example A: REFUSED' : 'acme.repo.goldgate.internal A: NOERROR',
        ok: !refused,
      });
    }
  }
  timeline.sort((a, b) => a.at.localeCompare(b.at));
  return {
    ...mutable,
    startedAt: at(0),
    finishedAt: at(spanMs),
    durationMs: spanMs,
    options: {
      ...mutable.options,
      instances: count,
      fastForward: false,
      imageAgeDays: 30,
      soakSeconds: spanMs / 1000,
    },
    instances,
    timeline,
    phases: [
      { phase: 'launch', ms: 8_000 },
      { phase: 'health-before', ms: 30_000 },
      { phase: 'soak', ms: spanMs - 100_000 },
      { phase: 'health-after', ms: 20_000 },
      { phase: 'collect', ms: 30_000 },
      { phase: 'terminate', ms: 12_000 },
    ],
  };
}

const marks = (svg: string, kind?: string): number =>
  (svg.match(kind === undefined ? /<g class="ev k-/g : new RegExp(`<g class="ev k-${kind}"`, 'g')) ?? [])
    .length;
const lanes = (svg: string): string[] =>
  [...svg.matchAll(/<g class="lane" data-instance="([^"]+)"/g)].map((m) => m[1] ?? '');

// ---------------------------------------------------------------------------------------------

describe('the verify HTML page', () => {
  it('shows the verdict, the image, the causes and the drift of the incident', () => {
    const html = renderVerifyHtml(mutable);
    expect(html).toMatch(/<header class="verdict mutable">\s*<div class="word">mutable<\/div>/);
    expect(html).toContain('acme-as-found');
    expect(html).toContain('img-3f9c2a71d0b4');
    expect(html).toContain('>sha256:3f9c2a71d0b4<');
    expect(html).toContain('timers fast-forwarded');
    // The cause sentence, its quoted check shown as code.
    expect(html).toContain(
      'apt-daily-upgrade.service ran unattended-upgrade at 07:47:13, which upgraded acme-runtime 1.0 → 1.0+deb12u1; health <code>command /usr/lib/acme/health</code> failed at 07:47:14',
    );
    expect(html).toContain('<code>1.0</code> → <code>1.0+deb12u1</code>');
    expect(html).toMatch(/<summary>Noise: 19 paths changed as expected at runtime/);
    expect(html).toContain('<code>deb.distro-mirror.example</code>');
    expect(html).toContain('exit 1 (expected 0): missing /etc/acme/v2.conf');
  });

  it('says what each verdict means, with its classes, and lists the reasons under their class', () => {
    const html = renderVerifyHtml(mutable);
    expect(html).toContain(
      '<p class="meaning">mutable: it changes itself after boot (packages, configuration and binaries); also broken and reaches outside.</p>',
    );
    expect(html).toContain(
      '<p class="classes"><span class="chip cl-changes-itself">changes itself</span> <span class="chip cl-broken">broken</span> <span class="chip cl-reaches-outside">reaches outside</span></p>',
    );
    const heads = (page: string) =>
      [...page.matchAll(/<p class="class-head [^"]+">([^<]+)</g)].map((m) => m[1]);
    expect(heads(html)).toEqual(['It changes itself', 'It is broken', 'It reaches outside']);

    const page = renderVerifyHtml(broken);
    expect(page).toMatch(/<header class="verdict broken">\s*<div class="word">broken<\/div>/);
    expect(page).toContain(
      '<p class="meaning">broken: the app&#39;s health fails at boot and acme-runtime-check.service fails; the image did not change: what is inside the image breaks the app.</p>',
    );
    expect(page).toContain('<p class="classes"><span class="chip cl-broken">broken</span></p>');
    expect(heads(page)).toEqual(['It is broken']);

    const dns = renderVerifyHtml(outside);
    expect(dns).toMatch(
      /<header class="verdict reaches-outside">\s*<div class="word">reaches-outside<\/div>/,
    );
    expect(dns).toContain('(2.debian.pool.ntp.example) but changed nothing and broke nothing');
    expect(heads(dns)).toEqual(['It reaches outside']);
    expect(renderVerifyHtml(immutable)).not.toContain('class="classes"');
  });

  it('says immutable in green with nothing but noise', () => {
    const html = renderVerifyHtml(immutable);
    expect(html).toMatch(/<header class="verdict immutable">\s*<div class="word">immutable<\/div>/);
    expect(html).toContain('image aged 30 days + soak 10 min 00 s');
    expect(html).toContain('No package changed.');
    expect(html).not.toContain('Why it failed');
  });

  it('is self-contained: no script, no external reference', () => {
    for (const report of [mutable, immutable, broken, outside, bigReport(3, 50, 2)]) {
      const html = renderVerifyHtml(report);
      expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|@import|url\(/i);
      expect(html).not.toMatch(/\s(?:src|href|xlink:href|action|srcset)\s*=/i);
      expect(html).not.toMatch(/https?:\/\//);
    }
  });

  it('escapes everything that comes from the report', () => {
    const evil = '<script>alert(1)</script>"\'&amp;<img src=x onerror=alert(2)>';
    const hostile: VerifyReport = {
      ...mutable,
      image: { ...mutable.image, name: evil, spec: evil, digest: `sha256:${evil}` },
      options: { ...mutable.options, dnsAllow: [evil], userData: evil, agedStamps: [evil] },
      instances: mutable.instances.map((i, n) => ({
        ...i,
        id: `${evil}${n}`,
        bootState: evil,
        cloudInit: { status: evil, detail: evil },
        timers: i.timers.map((t) => ({ ...t, timer: evil, service: evil, result: evil })),
        failedUnits: [{ unit: evil, detail: evil }],
      })),
      reasons: mutable.reasons.map((r) => ({ ...r, summary: evil, cause: evil, instances: [evil] })),
      drift: {
        packages: mutable.drift.packages.map((p) => ({ ...p, name: evil, arch: evil, from: evil, to: evil })),
        files: mutable.drift.files.map((f) => ({ ...f, path: evil, package: evil })),
        noise: mutable.drift.noise.map((f) => ({ ...f, path: evil, rule: evil })),
      },
      dns: mutable.dns.map((d) => ({ ...d, name: evil, types: [evil], rcodes: { [evil]: 1 } })),
      health: mutable.health.map((h) => ({ ...h, name: evil, detail: evil, instance: evil })),
      causes: mutable.causes.map((c) => ({ ...c, text: `${evil} \`${evil}\``, check: evil, detail: evil })),
      timeline: mutable.timeline.map((e, n) => ({ ...e, summary: evil, instance: `${evil}${n % 2}` })),
      storedAt: evil,
    };
    const html = renderVerifyHtml(hostile);
    // Every tag in the page is one the renderer wrote, and no attribute is an event handler.
    // (Escaped text holds no `<`, and an attribute value no `"`: what remains between them is markup.)
    const tags = [...html.matchAll(/<([a-zA-Z][\w-]*)([^>]*)>/g)];
    expect([...new Set(tags.map((m) => m[1] ?? ''))].filter((t) => !ALLOWED_TAGS.has(t))).toEqual([]);
    const attributes = tags.flatMap((m) => [
      ...(m[2] ?? '').replace(/"[^"]*"/g, '""').matchAll(/([\w:-]+)=/g),
    ]);
    expect(new Set(attributes.map((a) => a[1])).size).toBeGreaterThan(5);
    expect(attributes.map((a) => a[1]).filter((name) => !ALLOWED_ATTRIBUTES.has(name ?? ''))).toEqual([]);
    expect(html).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;amp;&lt;img src=x onerror=alert(2)&gt;',
    );
    expect(html.split('&lt;script&gt;').length).toBeGreaterThan(30);
  });

  it('draws one lane per instance, in the report’s order', () => {
    expect(lanes(timelineSvg(mutable))).toEqual(['i-3a9f01c2', 'i-b71e44d0']);
    expect(lanes(timelineSvg(immutable))).toEqual(['i-5c0d7e19']);
    const ten = bigReport(10, 20, 1);
    expect(lanes(timelineSvg(ten))).toEqual(ten.instances.map((i) => i.id));
  });

  it('draws every kind of event, each as one mark with its summary as a tooltip', () => {
    const svg = timelineSvg(mutable);
    expect(marks(svg)).toBe(mutable.timeline.length);
    const all = bigReport(2, 5, 1);
    const svgAll = timelineSvg(all);
    for (const kind of ALL_KINDS) {
      expect({ kind, marks: marks(svgAll, kind) }).toEqual({
        kind,
        marks: all.timeline.filter((e) => e.kind === kind).length,
      });
    }
    expect(svg).toContain('<title>2026-11-27T07:47:13Z · i-3a9f01c2 · package: upgrade acme-runtime');
    // Failed health checks and refused names are red.
    expect(svg).toMatch(/<g class="ev k-health"><title>[^<]*FAILED[^<]*<\/title><circle [^>]*fill="#dc2626"/);
    expect(svg).toMatch(/<g class="ev k-dns"><title>[^<]*REFUSED<\/title><rect [^>]*fill="#dc2626"/);
    expect(svg).toMatch(/<g class="ev k-dns"><title>[^<]*NOERROR<\/title><rect [^>]*fill="#0891b2"/);
  });

  it('handles an empty timeline', () => {
    const html = renderVerifyHtml({ ...immutable, timeline: [] });
    expect(html).not.toContain('<svg class="timeline"');
    expect(html).toContain('No events recorded.');
  });

  it('handles every event at the same instant', () => {
    const at = '2026-11-27T07:47:13.000Z';
    const report = { ...mutable, timeline: mutable.timeline.map((e) => ({ ...e, at, end: undefined })) };
    const svg = timelineSvg(report);
    expect(svg).not.toContain('NaN');
    expect(marks(svg)).toBe(report.timeline.length);
    expect(svg).toContain('2026-11-27 07:47:08 → 07:47:18 UTC');
    expect(svg).toMatch(
      /x="(1[0-9][0-9]|[2-9][0-9][0-9]|10[0-9][0-9])\.0" y="\d+" text-anchor="middle" class="tick">07:47:1[02468]</,
    );
  });

  it('keeps a big timeline readable: one mark per event, text that does not grow with it', () => {
    const small = timelineSvg(bigReport(10, 10, 6));
    const big = bigReport(10, 400, 6);
    const svg = timelineSvg(big);
    expect(marks(svg)).toBe(big.timeline.length);
    expect(marks(svg, 'dns')).toBe(4000);
    expect(svg).not.toContain('NaN');
    // Hundreds of queries are marks with tooltips, never text on the chart.
    const texts = (s: string) => (s.match(/<text /g) ?? []).length;
    expect(texts(svg)).toBe(texts(small));
    // Six hours: hourly-ish ticks, HH:MM:SS, and the day change said on the axis.
    const ticks = [...svg.matchAll(/class="tick">([^<]+)</g)].map((m) => m[1]);
    expect(ticks.length).toBeGreaterThanOrEqual(6);
    expect(ticks.length).toBeLessThanOrEqual(30);
    expect(ticks.every((t) => /^(\d\d-\d\d )?\d\d:\d\d:\d\d$/.test(t ?? ''))).toBe(true);
    expect(ticks).toContain('11-28 00:00:00');
  });
});

const ALLOWED_TAGS = new Set(
  (
    'html head meta title style body main header div h1 h2 p section dl dt dd code span table thead tbody tr th td ' +
    'time details summary ul ol li br footer svg g rect path circle line text'
  ).split(' '),
);

const ALLOWED_ATTRIBUTES = new Set(
  (
    'lang charset http-equiv content name class title datetime colspan width height viewBox role aria-label aria-hidden ' +
    'data-instance x y x1 y1 x2 y2 cx cy r rx d fill fill-opacity stroke stroke-width stroke-linecap text-anchor style'
  ).split(' '),
);

// ---------------------------------------------------------------------------------------------
// A real browser: the page as a person opens it. Not in the fast tier (GOLDGATE_TEST_TIER=fast);
// `npm test` installs Debian's chromium. GOLDGATE_SCREENSHOTS=DIR keeps the pages and their screenshots there.

const CHROMIUM = '/usr/bin/chromium';

describe.skipIf(process.env.GOLDGATE_TEST_TIER === 'fast')('the verify HTML page in chromium', () => {
  let browser: Browser;
  const shots = process.env.GOLDGATE_SCREENSHOTS ?? tempDir('goldgate-verify-html-');

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} not found: apt-get install chromium (npm test does)`);
    mkdirSync(shots, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const pages: Array<[string, () => VerifyReport]> = [
    ['report-mutable', () => mutable],
    ['report-immutable', () => immutable],
    ['report-broken', () => broken],
    ['report-reaches-outside', () => outside],
    ['report-ten-instances-six-hours', () => bigReport(10, 300, 6)],
  ];
  it.each(pages)(
    'renders %s: verdict and timeline visible, no error, no request, no text overlap',
    async (name, get) => {
      const report = get();
      const page = await browser.newPage({ viewport: { width: 1240, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => problems.push(`request: ${r.url()}`));
      page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
      const html = renderVerifyHtml(report);
      await page.setContent(html, { waitUntil: 'load' });

      const verdict = page.locator('header.verdict .word');
      await expect(verdict.isVisible()).resolves.toBe(true);
      expect((await verdict.textContent())?.trim()).toBe(report.verdict);
      const svg = page.locator('svg.timeline');
      await expect(svg.isVisible()).resolves.toBe(true);
      const box = await svg.boundingBox();
      expect(box?.width).toBeGreaterThan(500);
      expect(box?.height).toBeGreaterThan(50);
      expect(await page.locator('svg.timeline g.lane').count()).toBe(report.instances.length);

      // No two labels of the chart overlap (tooltips hold the rest).
      const boxes = await page.$$eval('svg.timeline text', (nodes) =>
        nodes.map((n) => {
          const r = n.getBoundingClientRect();
          return { text: n.textContent ?? '', x0: r.left, y0: r.top, x1: r.right, y1: r.bottom };
        }),
      );
      const overlaps: string[] = [];
      boxes.forEach((a, i) =>
        boxes.slice(i + 1).forEach((b) => {
          if (a.x0 < b.x1 - 0.5 && b.x0 < a.x1 - 0.5 && a.y0 < b.y1 - 0.5 && b.y0 < a.y1 - 0.5)
            overlaps.push(`"${a.text}" / "${b.text}"`);
        }),
      );
      expect(overlaps).toEqual([]);
      // Tables fit the page: nothing scrolls sideways except the timeline's own box.
      const wide = await page.evaluate('document.documentElement.scrollWidth > window.innerWidth');
      expect(wide).toBe(false);

      writeFileSync(join(shots, `${name}.html`), html);
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
      expect(existsSync(join(shots, `${name}.png`))).toBe(true);
      expect(problems).toEqual([]);
      await page.close();
    },
  );
});
