import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTree } from '../test-support/tree.js';
import type { TreeEntry } from '../test-support/tree.js';
import { diagnose } from './report.js';

const work = mkdtempSync(join(tmpdir(), 'goldgate-diagnose-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** apt history of the bake: the same entries, same times, on every instance of the image. */
const BAKED_HISTORY = `
Start-Date: 2026-08-01  10:00:01
Commandline: apt-get install -y acme-runtime nginx
Install: acme-runtime:amd64 (1.0), nginx:amd64 (1.22.1-9)
End-Date: 2026-08-01  10:00:09
`;

const uuHistory = (at: string) => `
Start-Date: ${at}
Commandline: /usr/bin/unattended-upgrade
Upgrade: acme-runtime:amd64 (1.0, 1.0+deb12u1)
End-Date: ${at}
`;

const BAKED_DPKG = `2026-08-01 10:00:05 startup archives unpack
2026-08-01 10:00:05 install acme-runtime:all <none> 1.0
2026-08-01 10:00:06 status installed acme-runtime:all 1.0
`;

const uuDpkg = (day: string, time: string) => `${day} ${time} startup archives unpack
${day} ${time} upgrade acme-runtime:all 1.0 1.0+deb12u1
${day} ${time} status installed acme-runtime:all 1.0+deb12u1
`;

const health = (instance: string, rows: Array<[string, boolean, string]>) =>
  rows
    .map(([time, ok, detail]) =>
      JSON.stringify({ time, instance, check: 'command /usr/lib/acme/health', ok, detail, durationMs: 12 }),
    )
    .join('\n') + '\n';

const route53 = (rows: Array<[string, string, string, string]>) =>
  rows
    .map(([time, instance, name, rcode]) =>
      JSON.stringify({
        version: '1.100000',
        account_id: '111122223333',
        region: 'us-east-1',
        vpc_id: 'vpc-0example',
        query_timestamp: time,
        query_name: `${name}.`,
        query_type: 'A',
        query_class: 'IN',
        rcode,
        answers: [],
        srcaddr: '10.0.1.20',
        srcport: '40000',
        transport: 'UDP',
        srcids: { instance },
      }),
    )
    .join('\n') + '\n';

const activity = (id: string, instance: string, start: string, kind: 'launch' | 'terminate') => ({
  ActivityId: id,
  AutoScalingGroupName: 'web-asg',
  Description:
    kind === 'launch' ? `Launching a new EC2 instance: ${instance}` : `Terminating EC2 instance: ${instance}`,
  Cause:
    kind === 'launch'
      ? `At ${start} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 2 to 3.`
      : `At ${start} an instance was taken out of service in response to an ELB system health check failure.`,
  StartTime: start,
  EndTime: start,
  StatusCode: 'Successful',
  Progress: 100,
  Details: '{"Subnet ID":"subnet-0example","Availability Zone":"us-east-1a"}',
});

/**
 * Three instances of one image. Two upgraded acme-runtime by themselves after boot and then
 * failed their health check; the third booted before the update and stayed healthy. All
 * three carry the bake's history (acme-runtime 1.0 and nginx installed in August).
 */
function incidentBundle(extra: Record<string, TreeEntry> = {}): string {
  const instance = (id: string, uu: { day: string; time: string } | null) => ({
    [`/${id}/var/log/apt/history.log`]:
      BAKED_HISTORY + (uu === null ? '' : uuHistory(`${uu.day}  ${uu.time}`)),
    [`/${id}/var/log/dpkg.log`]: BAKED_DPKG + (uu === null ? '' : uuDpkg(uu.day, uu.time)),
  });
  return makeTree({
    ...instance('i-0a1b2c3d4e5f60001', { day: '2026-11-27', time: '07:47:13' }),
    ...instance('i-0a1b2c3d4e5f60002', { day: '2026-11-27', time: '07:52:40' }),
    ...instance('i-0a1b2c3d4e5f60003', null),
    '/health/i-0a1b2c3d4e5f60001.jsonl': health('i-0a1b2c3d4e5f60001', [
      ['2026-11-27T07:40:00.000Z', true, ''],
      ['2026-11-27T07:47:30.000Z', false, 'missing /etc/acme/v2.conf'],
    ]),
    '/health/i-0a1b2c3d4e5f60002.jsonl': health('i-0a1b2c3d4e5f60002', [
      ['2026-11-27T07:45:00.000Z', true, ''],
      ['2026-11-27T07:53:00.000Z', false, 'missing /etc/acme/v2.conf'],
    ]),
    '/health/i-0a1b2c3d4e5f60003.jsonl': health('i-0a1b2c3d4e5f60003', [
      ['2026-11-27T07:50:00.000Z', true, ''],
    ]),
    '/activities.json': JSON.stringify(
      {
        Activities: [
          activity('a-1', 'i-0a1b2c3d4e5f60001', '2026-11-27T07:38:00Z', 'launch'),
          activity('a-2', 'i-0a1b2c3d4e5f60002', '2026-11-27T07:43:00Z', 'launch'),
          activity('a-3', 'i-0a1b2c3d4e5f60003', '2026-11-27T07:30:00Z', 'launch'),
          activity('a-4', 'i-0a1b2c3d4e5f60001', '2026-11-27T07:48:30Z', 'terminate'),
        ],
      },
      null,
      2,
    ),
    '/route53/vpcdnsquerylogs.log': route53([
      ['2026-11-27T07:47:12Z', 'i-0a1b2c3d4e5f60001', 'security.distro-mirror.example', 'NOERROR'],
      ['2026-11-27T07:52:39Z', 'i-0a1b2c3d4e5f60002', 'security.distro-mirror.example', 'NOERROR'],
      ['2026-11-27T07:41:00Z', 'i-0a1b2c3d4e5f60001', 'telemetry.vendor.example', 'NXDOMAIN'],
      ['2026-11-27T07:46:00Z', 'i-0a1b2c3d4e5f60002', 'telemetry.vendor.example', 'NXDOMAIN'],
      ['2026-11-27T07:46:01Z', 'i-0a1b2c3d4e5f60002', 'telemetry.vendor.example', 'NXDOMAIN'],
    ]),
    ...extra,
  });
}

describe('goldgate diagnose on a group whose instances upgraded themselves', () => {
  it('ranks the boot-time upgrade first and never blames the bake', async () => {
    const report = await diagnose(incidentBundle(), { allowDomains: ['*.distro-mirror.example'] });
    const [first] = report.causes;
    expect(first).toMatchObject({
      kind: 'package-change',
      package: 'acme-runtime',
      from: '1.0',
      to: '1.0+deb12u1',
      by: 'unattended-upgrade',
      instances: ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002'],
      at: '2026-11-27T07:47:13.000Z',
    });
    expect(first?.confidence).toBeGreaterThan(0.8);
    // Installed at bake time on every instance: not a cause.
    expect(report.causes.some((c) => c.kind === 'package-change' && c.package === 'nginx')).toBe(false);
    expect(report.causes.filter((c) => c.kind === 'package-change')).toHaveLength(1);
    expect(report.causes.map((c) => c.kind)).toContain('instances-drifted');
  });

  it('summarises each instance: boot, first failure, changes after boot', async () => {
    const report = await diagnose(incidentBundle(), { allowDomains: ['*.distro-mirror.example'] });
    expect(report.instances).toEqual([
      expect.objectContaining({
        id: 'i-0a1b2c3d4e5f60001',
        bootAt: '2026-11-27T07:38:00.000Z',
        firstFailureAt: '2026-11-27T07:47:30.000Z',
        packageChangesAfterBoot: 1,
      }),
      expect.objectContaining({
        id: 'i-0a1b2c3d4e5f60002',
        bootAt: '2026-11-27T07:43:00.000Z',
        firstFailureAt: '2026-11-27T07:53:00.000Z',
        packageChangesAfterBoot: 1,
      }),
      expect.objectContaining({
        id: 'i-0a1b2c3d4e5f60003',
        firstFailureAt: null,
        packageChangesAfterBoot: 0,
      }),
    ]);
    expect(report.instances[0]?.failure).toBe(
      'health command /usr/lib/acme/health failed: missing /etc/acme/v2.conf',
    );
  });

  it('counts external DNS names per instance, exactly', async () => {
    const report = await diagnose(incidentBundle(), { allowDomains: ['*.distro-mirror.example'] });
    expect(report.externalDomains).toEqual([
      {
        name: 'telemetry.vendor.example',
        instances: ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002'],
        queries: 3,
        queriesByInstance: { 'i-0a1b2c3d4e5f60001': 1, 'i-0a1b2c3d4e5f60002': 2 },
        rcodes: { NXDOMAIN: 3 },
      },
    ]);
  });

  it('reads the same bundle as a tar.gz to the same diagnosis', async () => {
    const dir = incidentBundle();
    const archive = join(work, 'bundle.tar.gz');
    execFileSync('tar', ['-C', dir, '-czf', archive, '.']);
    const fromDir = await diagnose(dir);
    const fromTar = await diagnose(archive);
    expect(fromTar.causes).toEqual(fromDir.causes);
    expect(fromTar.timeline).toEqual(fromDir.timeline);
  });

  it('places local times with the instance’s etc/timezone, and says so', async () => {
    // In Berlin the upgrade at 08:47:13 local is 07:47:13 UTC.
    const dir = incidentBundle({
      '/i-0a1b2c3d4e5f60001/etc/timezone': 'Europe/Berlin\n',
      '/i-0a1b2c3d4e5f60001/var/log/apt/history.log': BAKED_HISTORY + uuHistory('2026-11-27  08:47:13'),
      '/i-0a1b2c3d4e5f60001/var/log/dpkg.log': BAKED_DPKG + uuDpkg('2026-11-27', '08:47:13'),
    });
    const report = await diagnose(dir);
    expect(report.instances[0]).toMatchObject({
      timezone: 'Europe/Berlin',
      timezoneFrom: 'i-0a1b2c3d4e5f60001/etc/timezone',
    });
    expect(report.causes[0]?.at).toBe('2026-11-27T07:47:13.000Z');
    await expect(diagnose(dir, { tz: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'BAD_TIMEZONE' });
  });

  it('reports unreadable lines with file and line and still reads the rest, binary garbage included', async () => {
    const dir = incidentBundle({
      '/i-0a1b2c3d4e5f60002/var/log/dpkg.log.1':
        '2026-11-26 99:99:99 startup archives unpack\n\u0000\u0001garbage\n',
      '/junk.bin': '\u0000\u0001\u0002\u00ff'.repeat(100),
    });
    const report = await diagnose(dir);
    expect(report.causes[0]?.package).toBe('acme-runtime');
    expect(
      report.problems.some((p) => p.file === 'i-0a1b2c3d4e5f60002/var/log/dpkg.log.1' && p.line === 1),
    ).toBe(true);
    expect(report.files.find((f) => f.name === 'junk.bin')?.format).toBeNull();
  });
});

const journalLine = (iso: string, bootId: string, message: string, unit = 'init.scope') =>
  JSON.stringify({
    __REALTIME_TIMESTAMP: String(Date.parse(iso) * 1000),
    _BOOT_ID: bootId,
    _SYSTEMD_UNIT: unit,
    SYSLOG_IDENTIFIER: 'systemd',
    _PID: '1',
    PRIORITY: '6',
    _HOSTNAME: 'web',
    MESSAGE: message,
  });

describe('telling the bake from the instance’s life, one instance alone', () => {
  it('takes the instance’s own boot, not the bake’s boot the image still carries', async () => {
    const id = 'i-0a1b2c3d4e5f6000a';
    const dir = makeTree({
      // Packer booted the build instance in August and installed nginx; the journal kept that boot.
      [`/${id}/journal.json`]: [
        journalLine('2026-08-01T09:59:00Z', 'bake0000000000000000000000000000', 'Startup finished in 2.1s.'),
        journalLine('2026-11-27T07:38:00Z', 'life0000000000000000000000000000', 'Startup finished in 1.9s.'),
      ].join('\n'),
      [`/${id}/var/log/apt/history.log`]: BAKED_HISTORY + uuHistory('2026-11-27  07:47:13'),
      [`/health/${id}.jsonl`]: health(id, [['2026-11-27T07:47:30.000Z', false, 'missing /etc/acme/v2.conf']]),
    });
    const report = await diagnose(dir);
    expect(report.instances[0]?.bootAt).toBe('2026-11-27T07:38:00.000Z');
    expect(report.causes.filter((c) => c.kind === 'package-change').map((c) => c.package)).toEqual([
      'acme-runtime',
    ]);
  });

  it('with no record of the boot, does not blame changes long before the failure', async () => {
    const id = 'i-0a1b2c3d4e5f6000b';
    const dir = makeTree({
      [`/${id}/var/log/apt/history.log`]: BAKED_HISTORY + uuHistory('2026-11-27  07:47:13'),
      [`/health/${id}.jsonl`]: health(id, [['2026-11-27T07:47:30.000Z', false, 'missing /etc/acme/v2.conf']]),
    });
    const report = await diagnose(dir);
    expect(report.instances[0]?.bootAt).toBeNull();
    expect(report.causes[0]).toMatchObject({
      kind: 'package-change',
      package: 'acme-runtime',
      from: '1.0',
      to: '1.0+deb12u1',
    });
    expect(report.causes.some((c) => c.package === 'nginx')).toBe(false);
  });
});

describe('instances that upgrade in the same second', () => {
  it('blame the upgrade on each when their boots are known (a fleet started together)', async () => {
    const ids = ['i-0a1b2c3d4e5f6000c', 'i-0a1b2c3d4e5f6000d'];
    const dir = makeTree(
      Object.fromEntries(
        ids.flatMap((id, n) => [
          [
            `/${id}/journal.json`,
            journalLine(
              `2026-11-27T07:38:0${n}Z`,
              `life000000000000000000000000000${n}`,
              'Startup finished in 1.9s.',
            ),
          ],
          [`/${id}/var/log/apt/history.log`, BAKED_HISTORY + uuHistory('2026-11-27  07:47:13')],
          [
            `/health/${id}.jsonl`,
            health(id, [['2026-11-27T07:47:30.000Z', false, 'missing /etc/acme/v2.conf']]),
          ],
        ]),
      ),
    );
    const report = await diagnose(dir);
    expect(report.instances.map((i) => i.packageChangesAfterBoot)).toEqual([1, 1]);
    expect(report.causes[0]).toMatchObject({
      kind: 'package-change',
      package: 'acme-runtime',
      instances: ids,
    });
  });
});

describe('large Route 53 query logs', () => {
  it('are counted on the fast path to the same external names and counts', async () => {
    const dir = incidentBundle();
    const slow = await diagnose(dir, { allowDomains: ['*.distro-mirror.example'] });
    const fast = await diagnose(dir, { allowDomains: ['*.distro-mirror.example'], fastDnsBytes: 0 });
    expect(fast.externalDomains).toEqual(slow.externalDomains);
    expect(fast.files.find((f) => f.format === 'route53-resolver')?.records).toBe(5);
  });
});

describe('a bundle from a real lab run', () => {
  it('finds the boot-time upgrade in the logs of the lab instance that upgraded itself', async () => {
    const report = await diagnose(new URL('../../examples/bundles/lab-incident', import.meta.url).pathname);
    expect(report.causes[0]).toMatchObject({
      kind: 'package-change',
      package: 'acme-runtime',
      from: '1.0',
      to: '1.0+deb12u1',
      by: 'unattended-upgrade',
      instances: ['lab-i-0001'],
      at: '2026-11-27T07:47:13.000Z',
    });
    // acme-runtime 1.0 was installed before the instance booted (with the image): not a cause.
    expect(report.causes.filter((c) => c.kind === 'package-change')).toHaveLength(1);
    expect(report.instances).toEqual([
      expect.objectContaining({
        id: 'lab-i-0001',
        bootAt: '2026-11-27T07:46:58.594Z',
        packageChangesAfterBoot: 1,
      }),
    ]);
    expect(report.problemsTotal).toBe(0);
  });

  it('names systemd re-executions as restarts when packages changed', async () => {
    const id = 'i-0a1b2c3d4e5f6000c';
    const dir = makeTree({
      [`/${id}/journal.json`]: [
        journalLine('2026-11-27T07:38:00Z', 'life0000000000000000000000000000', 'Startup finished in 1.9s.'),
        journalLine('2026-11-27T07:47:20Z', 'life0000000000000000000000000000', 'Reexecuting.'),
      ].join('\n'),
      [`/${id}/var/log/apt/history.log`]: uuHistory('2026-11-27  07:47:13').replace(
        /acme-runtime:amd64 \(1\.0, 1\.0\+deb12u1\)/,
        'systemd:amd64 (252.38-1~deb12u1, 252.39-1~deb12u1)',
      ),
      [`/health/${id}.jsonl`]: health(id, [['2026-11-27T07:48:00.000Z', false, 'routes gone']]),
    });
    const report = await diagnose(dir);
    expect(report.causes.map((c) => c.kind)).toContain('service-restart');
    expect(report.causes.find((c) => c.kind === 'service-restart')?.unit).toBe('systemd (daemon re-exec)');
  });
});

describe('a flat bundle of one machine’s logs', () => {
  it('attributes its logs to that machine, named after the bundle', async () => {
    const root = makeTree({
      '/web-01/history.log': BAKED_HISTORY + uuHistory('2026-11-27  07:47:13'),
      '/web-01/dpkg.log': BAKED_DPKG + uuDpkg('2026-11-27', '07:47:13'),
    });
    const report = await diagnose(join(root, 'web-01'));
    expect(report.instances.map((i) => i.id)).toEqual(['web-01']);
    expect(report.causes[0]).toMatchObject({
      kind: 'package-change',
      package: 'acme-runtime',
      instances: ['web-01'],
    });
    expect(report.causes.some((c) => c.package === 'nginx')).toBe(false);
  });
});

describe('red-team: boot-time changes told by several logs', () => {
  it('merges cloud-init-output’s package lines (timed by the last banner) with the history entry they are', async () => {
    const id = 'i-0c10000000000001';
    const dir = makeTree({
      [`/${id}/var/log/cloud-init-output.log`]: [
        "Cloud-init v. 22.4.2 running 'init' at Fri, 27 Nov 2026 07:31:22 +0000. Up 7.20 seconds.",
        "Cloud-init v. 22.4.2 running 'modules:final' at Fri, 27 Nov 2026 07:31:26 +0000. Up 11.39 seconds.",
        'Unpacking acme-runtime (1.0+deb12u1) over (1.0) ...',
        'Setting up acme-runtime (1.0+deb12u1) ...',
        '',
      ].join('\n'),
      // apt ran minutes after the banner: its own log has the real time.
      [`/${id}/var/log/apt/history.log`]: `${BAKED_HISTORY}
Start-Date: 2026-11-27  07:35:30
Commandline: apt-get --option=Dpkg::Options::=--force-confold --option=Dpkg::options::=--force-unsafe-io --assume-yes --quiet dist-upgrade
Upgrade: acme-runtime:amd64 (1.0, 1.0+deb12u1)
End-Date: 2026-11-27  07:35:33
`,
      [`/health/${id}.jsonl`]: health(id, [['2026-11-27T07:36:10.000Z', false, 'missing /etc/acme/v2.conf']]),
      '/activities.json': JSON.stringify({
        Activities: [activity('a-1', id, '2026-11-27T07:30:00Z', 'launch')],
      }),
    });
    const report = await diagnose(dir);
    expect(report.causes[0]).toMatchObject({
      kind: 'package-change',
      package: 'acme-runtime',
      by: 'cloud-init',
      at: '2026-11-27T07:35:30.000Z',
    });
    expect(report.instances[0]?.packageChangesAfterBoot).toBe(1);
  });

  it('ranks the package whose upgrade restarted its own services first among one transaction', async () => {
    const id = 'i-0c20000000000001';
    const boot = 'life0000000000000000000000000000';
    const dir = makeTree({
      [`/${id}/journal.json`]: [
        journalLine('2026-11-27T07:58:00Z', boot, 'Startup finished in 1.9s.'),
        journalLine('2026-11-27T08:06:12Z', boot, 'Reexecuting.'),
        JSON.stringify({
          ...JSON.parse(
            journalLine(
              '2026-11-27T08:06:14Z',
              boot,
              'Stopped systemd-networkd.service - Network Configuration.',
            ),
          ),
          UNIT: 'systemd-networkd.service',
        }),
      ].join('\n'),
      [`/${id}/var/log/apt/history.log`]: `
Start-Date: 2026-11-27  08:06:02
Commandline: /usr/bin/unattended-upgrade
Upgrade: libsystemd0:amd64 (252.30-1~deb12u2, 252.31-1~deb12u1), systemd:amd64 (252.30-1~deb12u2, 252.31-1~deb12u1), udev:amd64 (252.30-1~deb12u2, 252.31-1~deb12u1)
End-Date: 2026-11-27  08:06:20
`,
      [`/health/${id}.jsonl`]: health(id, [['2026-11-27T08:06:40.000Z', false, 'no route to host']]),
    });
    const report = await diagnose(dir);
    expect(report.causes[0]).toMatchObject({ kind: 'package-change', package: 'systemd' });
  });
});

describe('red-team: an image baked hours, not days, before the instance booted', () => {
  it('tells the bake’s boot from the instance’s by the journal’s machine id', async () => {
    const id = 'i-0c50000000000001';
    const line = (iso: string, boot: string, machine: string, message: string) =>
      JSON.stringify({ ...JSON.parse(journalLine(iso, boot, message)), _MACHINE_ID: machine });
    const dir = makeTree({
      [`/${id}/journal.json`]: [
        line(
          '2026-11-27T04:58:00Z',
          'bake0000000000000000000000000000',
          'packer00000000000000000000000000',
          'Startup finished in 9s.',
        ),
        line(
          '2026-11-27T07:38:10Z',
          'life0000000000000000000000000000',
          'ec2a0000000000000000000000000001',
          'Startup finished in 8s.',
        ),
      ].join('\n'),
      [`/${id}/var/log/apt/history.log`]:
        BAKED_HISTORY.replace(/2026-08-01/g, '2026-11-27').replace(/10:00:0/g, '05:02:1') +
        uuHistory('2026-11-27  07:47:13'),
      [`/health/${id}.jsonl`]: health(id, [['2026-11-27T07:47:40.000Z', false, 'missing /etc/acme/v2.conf']]),
    });
    const report = await diagnose(dir);
    expect(report.instances[0]?.bootAt).toBe('2026-11-27T07:38:10.000Z');
    expect(report.causes.filter((c) => c.kind === 'package-change').map((c) => c.package)).toEqual([
      'acme-runtime',
    ]);
  });
});

describe('systemd reloads', () => {
  it('are not restarts: only a re-execution is', async () => {
    const id = 'i-0a1b2c3d4e5f6000d';
    const dir = makeTree({
      [`/${id}/journal.json`]: [
        journalLine('2026-11-27T07:38:00Z', 'life0000000000000000000000000000', 'Startup finished in 1.9s.'),
        journalLine('2026-11-27T07:47:14Z', 'life0000000000000000000000000000', 'Reloading.'),
      ].join('\n'),
      [`/${id}/var/log/apt/history.log`]: uuHistory('2026-11-27  07:47:13'),
      [`/health/${id}.jsonl`]: health(id, [['2026-11-27T07:48:00.000Z', false, 'missing /etc/acme/v2.conf']]),
    });
    const report = await diagnose(dir);
    expect(report.causes.some((c) => c.kind === 'service-restart')).toBe(false);
  });
});
