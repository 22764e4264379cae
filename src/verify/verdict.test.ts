import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResolverLogRecord } from '../lab/net/dns.js';
import { summarizeDns } from './dns.js';
import type { HealthRecord, InstanceResult, ReasonClass, VerifyReport, VerifyReportV1 } from './types.js';
import {
  CLASS_OF_KIND,
  classesOf,
  explainVerdict,
  mergeDrift,
  passes,
  reasonsFor,
  verdictFor,
} from './verdict.js';

const fixture = (name: string): VerifyReport =>
  JSON.parse(
    readFileSync(new URL(`./__fixtures__/report-${name}.json`, import.meta.url), 'utf8'),
  ) as VerifyReport;

/** A report as schemaVersion 1 stored it: no classes, reasons without class, any reason `mutable`. */
function asV1({ classes: _classes, reasons, ...rest }: VerifyReport): VerifyReportV1 {
  return {
    ...rest,
    schemaVersion: 1,
    verdict: reasons.length === 0 ? 'immutable' : 'mutable',
    reasons: reasons.map(({ class: _class, ...r }) => r),
  };
}

function instance(id: string, over: Partial<InstanceResult> = {}): InstanceResult {
  return {
    id,
    address: null,
    bootMs: 300,
    bootState: 'running',
    bootedAt: '2026-11-27T07:47:00.000Z',
    cloudInit: null,
    timers: [],
    failedUnits: [],
    drift: { packages: [], files: [], noise: [] },
    ...over,
  };
}

const failedCheck = (phase: HealthRecord['phase']): HealthRecord => ({
  instance: 'i-1',
  phase,
  name: 'acme',
  kind: 'command',
  ok: false,
  detail: 'exit 1 (expected 0): missing /etc/acme/v2.conf',
  at: phase === 'before' ? '2026-11-27T07:47:01.000Z' : '2026-11-27T07:47:14.000Z',
  durationMs: 5,
});

const lookup = (name: string): ResolverLogRecord => ({
  version: '1.100000',
  account_id: '000000000000',
  region: 'lab',
  vpc_id: 'vpc-lab',
  query_timestamp: '2026-11-27T07:47:12Z',
  query_name: `${name}.`,
  query_type: 'A',
  query_class: 'IN',
  rcode: 'REFUSED',
  answers: [],
  srcaddr: '10.213.0.2',
  srcport: '5353',
  transport: 'UDP',
  srcids: { instance: 'i-1' },
});

describe('the class of each reason', () => {
  it('follows from its kind: drift changes itself, failures are broken, lookups reach outside', () => {
    const instances = [
      instance('i-1', {
        cloudInit: { status: 'error', detail: 'module package_update_upgrade_install failed' },
        failedUnits: [{ unit: 'phone-home.service', detail: 'exit-code, status 2' }],
        drift: {
          packages: [{ name: 'acme-runtime', arch: 'all', from: '1.0', to: '1.1', action: 'upgraded' }],
          files: [
            { path: '/etc/motd', class: 'config', change: 'modified', package: 'base-files' },
            { path: '/usr/lib/acme/health', class: 'binary', change: 'modified', package: 'acme-runtime' },
            { path: '/var/lib/acme/state', class: 'data', change: 'added', package: null },
          ],
          noise: [],
        },
      }),
    ];
    const dns = summarizeDns(new Map([['i-1', [lookup('2.debian.pool.ntp.example')]]]), []);
    const reasons = reasonsFor({
      instances,
      drift: mergeDrift(instances),
      dns,
      health: [failedCheck('before'), failedCheck('after')],
      causes: [],
    });
    expect(reasons.map((r) => [r.kind, r.class])).toEqual([
      ['health', 'broken'],
      ['health', 'broken'],
      ['package', 'changes-itself'],
      ['config', 'changes-itself'],
      ['binary', 'changes-itself'],
      ['dns', 'reaches-outside'],
      ['failed-unit', 'broken'],
      ['boot', 'broken'],
    ]);
    // Every kind is classified, and the class comes right after the kind in the JSON.
    expect(new Set(reasons.map((r) => r.kind))).toEqual(new Set(Object.keys(CLASS_OF_KIND)));
    for (const reason of reasons)
      expect(Object.keys(reason).slice(0, 3)).toEqual(['kind', 'class', 'summary']);
    expect(classesOf({ reasons })).toEqual(['changes-itself', 'broken', 'reaches-outside']);
  });
});

describe('the verdict', () => {
  const cases: Array<[ReasonClass[], string]> = [
    [[], 'immutable'],
    [['changes-itself'], 'mutable'],
    [['changes-itself', 'broken', 'reaches-outside'], 'mutable'],
    [['changes-itself', 'reaches-outside'], 'mutable'],
    [['broken'], 'broken'],
    [['broken', 'reaches-outside'], 'broken'],
    [['reaches-outside'], 'reaches-outside'],
  ];
  it.each(cases)('of %j is %s', (classes, verdict) => {
    expect(verdictFor(classes)).toBe(verdict);
  });

  it('is what the stored fixtures hold, and their classes are those of their reasons', () => {
    for (const name of ['mutable', 'immutable', 'broken', 'reaches-outside']) {
      const report = fixture(name);
      expect(classesOf(report)).toEqual(report.classes);
      expect(verdictFor(report.classes)).toBe(name);
    }
  });

  it('passes only immutable, unless each of its classes is accepted', () => {
    expect(passes([])).toBe(true);
    expect(passes(['reaches-outside'])).toBe(false);
    expect(passes(['reaches-outside'], ['reaches-outside'])).toBe(true);
    expect(passes(['broken', 'reaches-outside'], ['reaches-outside'])).toBe(false);
    expect(passes(['broken', 'reaches-outside'], ['broken', 'reaches-outside'])).toBe(true);
    expect(passes(['changes-itself'], ['broken', 'reaches-outside'])).toBe(false);
  });
});

describe('a schemaVersion 1 report', () => {
  it('gets its classes from its reasons’ kinds', () => {
    const old = asV1(fixture('mutable'));
    expect(old.reasons[0]).not.toHaveProperty('class');
    expect(classesOf(old)).toEqual(['changes-itself', 'broken', 'reaches-outside']);
    expect(classesOf(asV1(fixture('immutable')))).toEqual([]);
  });

  it('that version 1 called mutable can be read as broken or only reaching outside', () => {
    const broken = asV1(fixture('broken'));
    expect(broken.verdict).toBe('mutable');
    expect(classesOf(broken)).toEqual(['broken']);
    expect(verdictFor(classesOf(broken))).toBe('broken');
    const outside = asV1(fixture('reaches-outside'));
    expect(outside.verdict).toBe('mutable');
    expect(classesOf(outside)).toEqual(['reaches-outside']);
    expect(passes(classesOf(outside), ['reaches-outside'])).toBe(true);
  });

  it('fails closed on a kind it does not know', () => {
    const old = asV1(fixture('reaches-outside'));
    const odd = { ...old, reasons: [...old.reasons, { kind: 'kernel', summary: 'x', instances: [] }] };
    expect(classesOf(odd as unknown as VerifyReportV1)).toEqual(['changes-itself', 'reaches-outside']);
  });
});

describe('the verdict in words', () => {
  it('says what each verdict means', () => {
    expect(explainVerdict(fixture('immutable'))).toBe(
      'immutable: nothing but runtime noise changed, every check passed and every name looked up was allowed',
    );
    expect(explainVerdict(fixture('mutable'))).toBe(
      'mutable: it changes itself after boot (packages, configuration and binaries); also broken and reaches outside',
    );
    expect(explainVerdict(fixture('broken'))).toBe(
      "broken: the app's health fails at boot and acme-runtime-check.service fails; the image did not change: what is inside the image breaks the app",
    );
    expect(explainVerdict(fixture('reaches-outside'))).toBe(
      'reaches outside: it looked up a name outside the allowlist (2.debian.pool.ntp.example) but changed nothing and broke nothing (allow it with dnsAllow or --allow-domain)',
    );
  });

  it('tells a check that fails only after the timers ran, and a failure besides lookups', () => {
    const instances = [instance('i-1')];
    const dns = summarizeDns(new Map([['i-1', [lookup('a.example'), lookup('b.example')]]]), []);
    const reasons = reasonsFor({
      instances,
      drift: mergeDrift(instances),
      dns,
      health: [failedCheck('after')],
      causes: [],
    });
    const classes = classesOf({ reasons });
    const report = { verdict: verdictFor(classes), reasons, options: fixture('broken').options };
    expect(explainVerdict(report)).toBe(
      "broken: the app's health fails after the fast-forward and the image did not change: what runs on its own breaks the app without changing packages, configuration or binaries; it also looked up names outside the allowlist (a.example and b.example)",
    );
    const soaked = { ...report, options: { ...report.options, fastForward: false } };
    expect(explainVerdict(soaked)).toMatch(/^broken: the app's health fails after the soak and/);
  });

  it('names a boot that did not finish cleanly', () => {
    const instances = [instance('i-1', { cloudInit: { status: 'error', detail: '' } })];
    const reasons = reasonsFor({ instances, drift: mergeDrift(instances), dns: [], health: [], causes: [] });
    expect(
      explainVerdict({
        verdict: verdictFor(classesOf({ reasons })),
        reasons,
        options: fixture('broken').options,
      }),
    ).toBe(
      'broken: cloud-init does not finish cleanly and the image did not change: what is inside the image is broken',
    );
  });
});
