import { lstatSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DiagnoseReport } from '../diagnose/report.js';
import type { ResolverLogRecord } from '../lab/net/dns.js';
import { makeTree, tempDir } from '../test-support/tree.js';
import { verifyReportErrors } from '../test-support/verify-schema.js';
import { ageStamps, parseAge, persistentTimers } from './age.js';
import { summarizeDns } from './dns.js';
import { linkCauses } from './evidence.js';
import { orderByAfter, parseShow, showTime } from './systemd.js';
import type { HealthRecord, InstanceResult, TimerRun } from './types.js';
import { mergeDrift, reasonsFor } from './verdict.js';
import { parseCloudInitStatus } from './verify.js';

const DAY = 86_400_000;

describe('--image-age', () => {
  it('reads ages in minutes, hours, days (the default) and weeks', () => {
    expect(parseAge('90d')).toBe(90 * DAY);
    expect(parseAge('90')).toBe(90 * DAY);
    expect(parseAge('12h')).toBe(12 * 3_600_000);
    expect(parseAge('2w')).toBe(14 * DAY);
    expect(parseAge('30m')).toBe(30 * 60_000);
    for (const bad of ['', '0d', '-3d', 'ninety', '3y', '1e9'])
      expect(() => parseAge(bad), bad).toThrow(/is not an age/);
  });

  it('finds persistent timers by their [Timer] section only', () => {
    const root = makeTree({
      '/lib/systemd/system/apt-daily.timer': '[Timer]\nOnCalendar=daily\nPersistent=true\n',
      '/lib/systemd/system/fstrim.timer': '[Timer]\nOnCalendar=weekly\n',
      '/etc/systemd/system/custom.timer': '[Unit]\nPersistent=yes\n[Timer]\nOnCalendar=hourly\n',
      '/etc/systemd/system/own.timer': '[Timer]\nPersistent = yes\n',
    });
    expect(persistentTimers(root)).toEqual(['apt-daily.timer', 'own.timer']);
  });

  it('writes aged stamps into the upper layer, keeps the image untouched, and mirrors directory modes', () => {
    const lower = makeTree({
      '/lib/systemd/system/apt-daily.timer': '[Timer]\nPersistent=true\n',
      '/var/lib/apt/periodic/update-success-stamp': '',
      '/var/lib/apt/periodic/upgrade-stamp': '',
    });
    const upper = tempDir('goldgate-upper-');
    const now = Date.UTC(2026, 10, 27, 12);
    const written = ageStamps(lower, upper, 90 * DAY, now);
    expect(written).toEqual([
      '/var/lib/systemd/timers/stamp-apt-daily.timer',
      '/var/lib/apt/periodic/update-success-stamp',
      '/var/lib/apt/periodic/upgrade-stamp',
    ]);
    for (const path of written) expect(statSync(join(upper, path)).mtimeMs).toBe(now - 90 * DAY);
    expect(lstatSync(join(lower, 'var/lib/systemd'), { throwIfNoEntry: false })).toBeUndefined();
    expect(statSync(join(lower, 'var/lib/apt/periodic/upgrade-stamp')).mtimeMs).not.toBe(now - 90 * DAY);
    expect(statSync(join(upper, 'var/lib/apt')).mode & 0o777).toBe(
      statSync(join(lower, 'var/lib/apt')).mode & 0o777,
    );
  });

  it('never follows a link in the image out of it', () => {
    const outside = tempDir('goldgate-outside-');
    const lower = makeTree({
      '/lib/systemd/system/apt-daily.timer': '[Timer]\nPersistent=true\n',
      '/var/lib/systemd': { link: outside },
      '/var/lib/apt': { link: outside },
    });
    const upper = tempDir('goldgate-upper-');
    expect(ageStamps(lower, upper, DAY)).toEqual([]);
  });
});

describe('systemctl show', () => {
  it('splits blocks and reads UTC timestamps with microseconds', () => {
    const blocks = parseShow(
      'Id=apt-daily.service\nResult=success\nExecMainStartTimestamp=Fri 2026-11-27 12:04:49.450115 UTC\n\nId=b.service\nExecMainStartTimestamp=\n',
    );
    expect(blocks).toHaveLength(2);
    expect(showTime(blocks[0]?.get('ExecMainStartTimestamp'))).toBe('2026-11-27T12:04:49.450Z');
    expect(showTime(blocks[1]?.get('ExecMainStartTimestamp'))).toBeNull();
    expect(showTime('Fri 2026-11-27 12:04:49 UTC')).toBe('2026-11-27T12:04:49.000Z');
    expect(showTime('Fri 2026-11-27 12:04:49 CET')).toBeNull();
  });

  it('reads cloud-init status --long', () => {
    expect(parseCloudInitStatus('status: done\ntime: Fri\ndetail:\nDataSourceNoCloud [seed=/x]\n')).toEqual({
      status: 'done',
      detail: 'DataSourceNoCloud [seed=/x]',
    });
    expect(parseCloudInitStatus("status: error\ndetail:\n('locale', Error)\nerrors:\n").status).toBe('error');
  });
});

function query(name: string, rcode: string, instance: string, answers = 0): ResolverLogRecord {
  return {
    version: '1.100000',
    account_id: '000000000000',
    region: 'lab',
    vpc_id: 'vpc-lab',
    query_timestamp: '2026-11-27T07:47:12Z',
    query_name: `${name}.`,
    query_type: 'A',
    query_class: 'IN',
    rcode,
    answers: Array.from({ length: answers }, () => ({ Rdata: '10.213.0.1', Type: 'A', Class: 'IN' })),
    srcaddr: '10.213.0.2',
    srcport: '5353',
    transport: 'UDP',
    srcids: { instance },
  };
}

describe('DNS lookups', () => {
  it('counts each name across instances, with answers, refusals and the allowlist', () => {
    const dns = summarizeDns(
      new Map([
        [
          'i-1',
          [
            query('acme.repo.goldgate.internal', 'NOERROR', 'i-1', 1),
            query('Deb.Distro-Mirror.example', 'REFUSED', 'i-1'),
          ],
        ],
        ['i-2', [query('deb.distro-mirror.example', 'REFUSED', 'i-2')]],
      ]),
      ['*.goldgate.internal'],
    );
    expect(dns).toEqual([
      expect.objectContaining({
        name: 'deb.distro-mirror.example',
        queries: 2,
        rcodes: { REFUSED: 2 },
        answered: false,
        allowed: false,
        instances: ['i-1', 'i-2'],
      }),
      expect.objectContaining({ name: 'acme.repo.goldgate.internal', answered: true, allowed: true }),
    ]);
  });
});

const emptyDrift = { packages: [], files: [], noise: [] };

function instance(
  id: string,
  drift: Partial<InstanceResult['drift']> = {},
  failed: InstanceResult['failedUnits'] = [],
): InstanceResult {
  return {
    id,
    address: null,
    bootMs: 300,
    bootState: 'running',
    bootedAt: '2026-11-27T07:47:00.000Z',
    cloudInit: null,
    timers: [],
    failedUnits: failed,
    drift: { ...emptyDrift, ...drift },
  };
}

describe('the verdict', () => {
  it('has no reason when only noise and data changed', () => {
    const instances = [
      instance('i-1', {
        noise: [{ path: '/etc/machine-id', change: 'added', rule: 'machine-id' }],
        files: [{ path: '/var/backups/dpkg.status.0', class: 'data', change: 'added', package: null }],
      }),
    ];
    expect(reasonsFor({ instances, drift: mergeDrift(instances), dns: [], health: [], causes: [] })).toEqual(
      [],
    );
  });

  it('names package, config and binary drift, unexpected lookups, failed units and failed checks', () => {
    const upgrade = {
      name: 'acme-runtime',
      arch: 'all',
      from: '1.0',
      to: '1.0+deb12u1',
      action: 'upgraded' as const,
    };
    const files = [
      {
        path: '/usr/lib/acme/health',
        class: 'binary' as const,
        change: 'modified' as const,
        package: 'acme-runtime',
      },
      {
        path: '/usr/lib/acme/lib.sh',
        class: 'binary' as const,
        change: 'added' as const,
        package: 'acme-runtime',
      },
      { path: '/etc/motd', class: 'config' as const, change: 'modified' as const, package: 'base-files' },
    ];
    const instances = [
      instance('i-1', { packages: [upgrade], files }, [
        { unit: 'phone-home.service', detail: 'exit-code, status 2' },
      ]),
      instance('i-2', { packages: [upgrade], files: files.slice(0, 2) }),
    ];
    const health: HealthRecord[] = [
      {
        instance: 'i-1',
        phase: 'before',
        name: 'acme',
        kind: 'command',
        ok: true,
        detail: 'ok',
        at: '2026-11-27T07:47:01Z',
        durationMs: 5,
      },
      {
        instance: 'i-1',
        phase: 'after',
        name: 'acme',
        kind: 'command',
        ok: false,
        detail: 'exit 1 (expected 0): missing /etc/acme/v2.conf',
        at: '2026-11-27T07:47:14Z',
        durationMs: 5,
      },
    ];
    const dns = summarizeDns(new Map([['i-1', [query('telemetry.example.com', 'REFUSED', 'i-1')]]]), []);
    const drift = mergeDrift(instances);
    expect(drift.packages).toEqual([{ ...upgrade, instances: ['i-1', 'i-2'] }]);
    const reasons = reasonsFor({ instances, drift, dns, health, causes: [] });
    expect(reasons.map((r) => r.kind)).toEqual([
      'health',
      'package',
      'config',
      'binary',
      'dns',
      'failed-unit',
    ]);
    expect(reasons[0]).toMatchObject({ check: 'acme', phase: 'after', instances: ['i-1'] });
    expect(reasons[1]?.summary).toBe('acme-runtime upgraded 1.0 → 1.0+deb12u1 on 2 instances');
    expect(reasons[3]).toMatchObject({
      package: 'acme-runtime',
      paths: ['/usr/lib/acme/health', '/usr/lib/acme/lib.sh'],
      instances: ['i-1', 'i-2'],
    });
    expect(reasons[2]).toMatchObject({ path: '/etc/motd', package: 'base-files', instances: ['i-1'] });
    expect(reasons[4]).toMatchObject({ name: 'telemetry.example.com', rcodes: { REFUSED: 1 } });
    expect(reasons[5]).toMatchObject({ unit: 'phone-home.service', instances: ['i-1'] });
  });
});

describe('the cause of a failed check', () => {
  const report = {
    causes: [
      {
        kind: 'package-change',
        summary: 'acme-runtime upgraded 1.0 → 1.0+deb12u1 by unattended-upgrade after boot on 1 instance.',
        confidence: 0.9,
        instances: ['i-1'],
        at: '2026-11-27T07:47:13.000Z',
        evidence: [],
        actions: [],
        package: 'acme-runtime',
        from: '1.0',
        to: '1.0+deb12u1',
        by: 'unattended-upgrade',
      },
    ],
    timeline: [
      {
        at: '2026-11-27T07:47:13.000Z',
        instance: 'i-1',
        kind: 'package',
        summary: 'upgrade acme-runtime 1.0 → 1.0+deb12u1 (unattended-upgrade)',
        file: 'i-1/var/log/dpkg.log',
        line: 3,
      },
    ],
  } as unknown as DiagnoseReport;
  const failure: HealthRecord = {
    instance: 'i-1',
    phase: 'after',
    name: 'command /usr/lib/acme/health',
    kind: 'command',
    ok: false,
    detail: 'missing /etc/acme/v2.conf',
    at: '2026-11-27T07:47:14.000Z',
    durationMs: 3,
  };
  const run: TimerRun = {
    timer: 'apt-daily-upgrade.timer',
    service: 'apt-daily-upgrade.service',
    triggered: 'fast-forward',
    startedAt: '2026-11-27T07:47:10.000Z',
    finishedAt: '2026-11-27T07:47:13.500Z',
    result: 'success',
    exitStatus: 0,
    nextAt: null,
  };

  it('names the service that ran the tool, the change, and the check that failed after it', () => {
    const [linked] = linkCauses([failure], report, new Map([['i-1', [run]]]));
    expect(linked?.text).toBe(
      'apt-daily-upgrade.service ran unattended-upgrade at 07:47:13, which upgraded acme-runtime 1.0 → 1.0+deb12u1; health `command /usr/lib/acme/health` failed at 07:47:14: missing /etc/acme/v2.conf',
    );
    expect(linked?.cause).toMatchObject({
      service: 'apt-daily-upgrade.service',
      by: 'unattended-upgrade',
      package: 'acme-runtime',
    });
  });

  it('does not blame a change after the failure, nor another instance', () => {
    const early = { ...failure, at: '2026-11-27T07:47:05.000Z' };
    expect(linkCauses([early], report, new Map())[0]?.cause).toBeNull();
    const other = { ...failure, instance: 'i-2' };
    expect(linkCauses([other], report, new Map())[0]?.text).toMatch(
      /nothing in the instance's logs changed before it$/,
    );
  });
});

describe('the JSON schema in docs/verify-json.md', () => {
  it('is a valid schema that accepts a report and rejects what a report never holds', () => {
    const instances = [instance('i-1')];
    const report = {
      schemaVersion: 2,
      verdict: 'immutable',
      classes: [],
      image: { id: null, name: null, digest: null, rootfs: '/images/x/rootfs', spec: null },
      startedAt: '2026-11-27T07:47:00.000Z',
      finishedAt: '2026-11-27T07:47:04.000Z',
      durationMs: 4000,
      options: {
        instances: 1,
        userData: null,
        fastForward: true,
        imageAgeDays: null,
        soakSeconds: null,
        dnsAllow: [],
        agedStamps: [],
      },
      instances,
      reasons: [],
      drift: mergeDrift(instances),
      dns: [],
      health: [],
      causes: [],
      timeline: [],
      phases: [{ phase: 'launch', ms: 300 }],
      storedAt: null,
    };
    expect(verifyReportErrors(report)).toBe('');
    expect(verifyReportErrors({ ...report, verdict: 'maybe' })).toMatch(/verdict/);
    expect(verifyReportErrors({ ...report, phases: [{ phase: 'nap', ms: 1 }] })).toMatch(/phase/);
    expect(verifyReportErrors({ ...report, schemaVersion: 1 })).toMatch(/schemaVersion/);
    // The verdict follows from the classes, and each reason's class from its kind.
    expect(verifyReportErrors({ ...report, classes: ['broken'] })).toMatch(/classes/);
    const lookup = { kind: 'dns', class: 'reaches-outside', summary: 'looked up x', instances: ['i-1'] };
    const outside = {
      ...report,
      verdict: 'reaches-outside',
      classes: ['reaches-outside'],
      reasons: [lookup],
    };
    expect(verifyReportErrors(outside)).toBe('');
    expect(verifyReportErrors({ ...outside, verdict: 'mutable' })).toMatch(/verdict/);
    expect(verifyReportErrors({ ...outside, reasons: [{ ...lookup, class: 'broken' }] })).toMatch(/class/);
    expect(verifyReportErrors({ ...outside, reasons: [{ ...lookup, class: undefined }] })).toMatch(/class/);
  });

  it.each(['mutable', 'immutable', 'broken', 'reaches-outside'])('accepts the %s fixture', (name) => {
    const fixture = readFileSync(new URL(`./__fixtures__/report-${name}.json`, import.meta.url), 'utf8');
    const report = JSON.parse(fixture) as { verdict: string };
    expect(verifyReportErrors(report)).toBe('');
    expect(report.verdict).toBe(name);
  });
});

describe('the fast-forward order', () => {
  it('queues a service after those it is ordered after, whatever their names', () => {
    const after = new Map([
      ['apt-daily-upgrade.service', ['apt-daily.service', 'network.target']],
      ['apt-daily.service', ['network-online.target']],
      ['a.service', ['b.service']],
      ['b.service', ['a.service']],
    ]);
    expect(
      orderByAfter(['apt-daily-upgrade.service', 'apt-daily.service', 'dpkg-db-backup.service'], after),
    ).toEqual(['apt-daily.service', 'apt-daily-upgrade.service', 'dpkg-db-backup.service']);
    // A cycle does not stop the fast-forward.
    expect(orderByAfter(['b.service', 'a.service'], after)).toHaveLength(2);
  });
});
