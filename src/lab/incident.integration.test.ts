import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { bake } from '../bake/bake.js';
import { collectingSink } from '../core/events.js';
import { parseDpkgStatus } from '../debian/dpkg-status.js';
import route53 from '../logs/parsers/route53-resolver/index.js';
import { parseFile } from '../logs/read.js';
import { manifestOf } from '../manifest/manifest.js';
import { buildDeb } from '../repo/build-deb.js';
import { createRepo, publish } from '../repo/repo.js';
import { baseRootfs, itWithBase } from '../test-support/base-image.js';
import { hostMirrorNames } from '../test-support/host-mirrors.js';
import { hostMountsUnder, labHomes, processesNaming } from '../test-support/lab-home.js';
import { homeCgroup } from './cgroup.js';
import { instanceDnsLog } from './dns-log.js';
import { runHealthChecks } from './health.js';
import { imageHealthChecks } from './image-health.js';
import { execInInstance, gc, launchInstance, listInstances, terminateInstance } from './instance.js';
import type { InstanceInfo } from './instance.js';
import type { RepoAccessRecord } from './net/http.js';
import { DNS_LOG, GATEWAY, REPO_LOG, repoHost } from './net/names.js';
import { daemonsOf } from './net/network.js';
import { instanceDir } from './state.js';

// The incident, end to end with real parts: an image baked with Debian's automatic updates on
// boots healthy, takes a security update from the (lab) security suite when its apt-daily
// timers fire, and fails its health check; the same image baked with them off does not change.

const EXAMPLES = join(import.meta.dirname, '../../examples/acme');
const UPDATE = '1.0+deb12u1';

/** The Route 53 Resolver query log's fields, exactly as AWS writes them (no firewall match). */
const ROUTE53_FIELDS = [
  'account_id',
  'answers',
  'query_class',
  'query_name',
  'query_timestamp',
  'query_type',
  'rcode',
  'region',
  'srcaddr',
  'srcids',
  'srcport',
  'transport',
  'version',
  'vpc_id',
];

const homes = labHomes('goldgate-incident-');

/** The version dpkg's status file at `path` records for acme-runtime, if installed. */
function statusVersion(path: string): string | undefined {
  const { packages } = parseDpkgStatus(readFileSync(path, 'utf8'));
  return packages.find((p) => p.name === 'acme-runtime' && p.state === 'installed')?.version;
}

function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

describe('the incident, reproduced in the lab', { sequential: true }, () => {
  afterEach(homes.cleanUp, 180_000);

  itWithBase(
    'as found, an instance upgrades acme-runtime from the security suite and fails its health check; fixed, it stays healthy',
    async () => {
      const home = homes.create();
      const lab = join(home, 'lab');
      const reposDir = join(home, 'repos');
      // The shared base lives at <cache>/bases/<key>/rootfs: the example specs bake on it.
      const cacheDir = dirname(dirname(dirname(baseRootfs() as string)));

      await createRepo('acme', { home });
      const debs = join(home, 'debs');
      await publish('acme', [await buildDeb(join(EXAMPLES, 'packages/acme-runtime-1.0'), debs)], {
        suite: 'bookworm',
        home,
      });

      const images = [];
      for (const spec of ['as-found', 'fixed'] as const) {
        const sink = collectingSink();
        const { image } = await bake(join(EXAMPLES, 'specs', `${spec}.yaml`), {
          home,
          cacheDir,
          basePolicy: 'any',
          sink,
        });
        // No second bootstrap: the spec's base packages are exactly the shared base's.
        const base = sink.events.find((e) => e.type === 'progress' && e.step === 'base' && e.done === true);
        expect(base?.type === 'progress' ? base.message : '').toMatch(/^cached base /);
        const rootfs = join(image.path, 'rootfs');
        expect((await manifestOf(rootfs)).digest).toBe(image.digest);
        expect(statusVersion(join(rootfs, 'var/lib/dpkg/status'))).toBe('1.0');
        images.push({ spec, image, rootfs, checks: await imageHealthChecks(rootfs) });
      }
      const [asFound, fixed] = images as [(typeof images)[0], (typeof images)[0]];
      expect(asFound.image.id).not.toBe(fixed.image.id);
      expect(asFound.checks.map((c) => c.name)).toEqual(['acme http health', 'acme health command']);

      const instances = new Map<string, InstanceInfo>();
      for (const { spec, rootfs, checks } of images) {
        const info = await launchInstance({ rootfs, home: lab, reposDir, name: spec, timeoutMs: 90_000 });
        instances.set(spec, info);
        const health = await runHealthChecks(info.id, checks, { home: lab });
        expect(health.map((r) => [r.name, r.ok, r.detail])).toEqual([
          ['acme http health', true, 'HTTP 200'],
          ['acme health command', true, 'ok'],
        ]);
        const version = await execInInstance(
          info.id,
          ['dpkg-query', '-W', '-f', '${Version}', 'acme-runtime'],
          { home: lab },
        );
        expect(version).toMatchObject({ code: 0, stdout: '1.0' });
      }
      const asFoundInstance = instances.get('as-found') as InstanceInfo;
      const fixedInstance = instances.get('fixed') as InstanceInfo;

      // The security team's update lands in the security suite.
      const update = await publish(
        'acme',
        [await buildDeb(join(EXAMPLES, `packages/acme-runtime-${UPDATE}`), debs)],
        {
          suite: 'bookworm-security',
          origin: 'Debian',
          label: 'Debian-Security',
          codename: 'bookworm-security',
          home,
        },
      );
      const pool = update.published[0]?.filename ?? '';
      expect(pool).toBe(`pool/main/a/acme-runtime/acme-runtime_${UPDATE}_all.deb`);

      // What the apt-daily timers would do, in the order they would do it.
      for (const info of instances.values())
        for (const unit of ['apt-daily.service', 'apt-daily-upgrade.service']) {
          const started = await execInInstance(info.id, ['systemctl', 'start', unit], {
            home: lab,
            timeoutMs: 300_000,
          });
          expect({ unit, image: info.name, ...started }).toMatchObject({ code: 0 });
        }

      // As found: the instance changed itself, and broke.
      const upgraded = await execInInstance(
        asFoundInstance.id,
        ['dpkg-query', '-W', '-f', '${Version}', 'acme-runtime'],
        { home: lab },
      );
      expect(upgraded).toMatchObject({ code: 0, stdout: UPDATE });
      const broken = await runHealthChecks(asFoundInstance.id, asFound.checks, { home: lab });
      expect(broken.map((r) => [r.name, r.ok, r.detail])).toEqual([
        ['acme http health', false, 'GET http://127.0.0.1:8080/cgi-bin/health: HTTP 503 (expected 200)'],
        ['acme health command', false, 'exit 1 (expected 0): missing /etc/acme/v2.conf'],
      ]);
      const history = await execInInstance(asFoundInstance.id, ['cat', '/var/log/apt/history.log'], {
        home: lab,
      });
      expect(history.code).toBe(0);
      // apt records an Architecture: all package under the native architecture.
      const arch = await execInInstance(asFoundInstance.id, ['dpkg', '--print-architecture'], { home: lab });
      expect(history.stdout).toContain(`Upgrade: acme-runtime:${arch.stdout.trim()} (1.0, ${UPDATE})`);
      expect(history.stdout).toContain('Commandline: /usr/bin/unattended-upgrade');
      // The drift is the instance's upper layer; the image itself is untouched.
      expect(statusVersion(join(asFoundInstance.upper, 'var/lib/dpkg/status'))).toBe(UPDATE);
      expect(readFileSync(join(asFoundInstance.upper, 'usr/lib/acme/health'), 'utf8')).toContain(
        '/etc/acme/v2.conf',
      );
      expect(readFileSync(join(asFound.rootfs, 'usr/lib/acme/health'), 'utf8')).not.toContain('v2.conf');
      expect(statusVersion(join(asFound.rootfs, 'var/lib/dpkg/status'))).toBe('1.0');
      expect((await manifestOf(asFound.rootfs)).digest).toBe(asFound.image.digest);

      // Fixed: nothing changed.
      const kept = await execInInstance(
        fixedInstance.id,
        ['dpkg-query', '-W', '-f', '${Version}', 'acme-runtime'],
        { home: lab },
      );
      expect(kept).toMatchObject({ code: 0, stdout: '1.0' });
      const healthy = await runHealthChecks(fixedInstance.id, fixed.checks, { home: lab });
      expect(healthy.map((r) => [r.name, r.ok, r.detail])).toEqual([
        ['acme http health', true, 'HTTP 200'],
        ['acme health command', true, 'ok'],
      ]);
      expect(existsSync(join(fixedInstance.upper, 'usr/lib/acme/health'))).toBe(false);
      expect(statusVersion(join(fixed.rootfs, 'var/lib/dpkg/status'))).toBe('1.0');
      expect((await manifestOf(fixed.rootfs)).digest).toBe(fixed.image.digest);

      // The as-found instance's DNS queries, as Route 53 Resolver would log them.
      const dns = await instanceDnsLog(lab, asFoundInstance.id);
      const lookups = dns.filter((r) => r.query_name.toLowerCase() === `${repoHost('acme')}.`);
      expect(lookups.length).toBeGreaterThan(0);
      for (const record of dns) {
        expect(Object.keys(record).sort()).toEqual(ROUTE53_FIELDS);
        expect(record).toMatchObject({
          version: '1.100000',
          srcaddr: asFoundInstance.address,
          srcids: { instance: asFoundInstance.id },
          query_class: 'IN',
        });
        expect(record.query_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      }
      const addressLookups = lookups.filter((r) => r.query_type === 'A');
      expect(addressLookups.length).toBeGreaterThan(0);
      for (const record of lookups)
        expect(record).toMatchObject({
          rcode: 'NOERROR',
          answers: record.query_type === 'A' ? [{ Rdata: GATEWAY, Type: 'A', Class: 'IN' }] : [],
        });
      // The image's Debian sources name hosts outside the lab: refused, never answered.
      const outside = [
        ...readFileSync(join(asFound.rootfs, 'etc/apt/sources.list'), 'utf8').matchAll(
          /https?:\/\/([^/\s]+)/g,
        ),
      ].map((m) => `${m[1]}.`);
      expect(outside).toEqual(expect.arrayContaining(hostMirrorNames().map((name) => `${name}.`)));
      for (const name of new Set(outside)) {
        const asked = dns.filter((r) => r.query_name.toLowerCase() === name);
        expect({ name, asked: asked.length > 0 }).toEqual({ name, asked: true });
        for (const record of asked) expect(record).toMatchObject({ rcode: 'REFUSED', answers: [] });
      }
      const parsed = await parseFile(join(instanceDir(lab, asFoundInstance.id), DNS_LOG), route53);
      expect(parsed.problems).toEqual([]);
      expect(parsed.records).toHaveLength(dns.length);
      expect(parsed.records.filter((r) => r.name === repoHost('acme') && r.type === 'A')).toEqual(
        addressLookups.map(() =>
          expect.objectContaining({
            rcode: 'NOERROR',
            instance: asFoundInstance.id,
            srcaddr: asFoundInstance.address,
            answers: [GATEWAY],
            vpcId: 'vpc-lab',
          }),
        ),
      );
      const mirrors = new Set(hostMirrorNames());
      expect(parsed.records.filter((r) => mirrors.has(r.name)).map((r) => r.rcode)).not.toContain('NOERROR');

      // The repository server saw the as-found instance fetch the security suite and the update.
      const access = readJsonLines<RepoAccessRecord>(join(instanceDir(lab, asFoundInstance.id), REPO_LOG));
      const fetched = (path: string): RepoAccessRecord[] =>
        access.filter((r) => r.method === 'GET' && decodeURIComponent(r.path) === path);
      const security = access.filter(
        (r) => r.method === 'GET' && r.path.startsWith('/dists/bookworm-security/') && r.status === 200,
      );
      expect(security.map((r) => r.path)).toContain('/dists/bookworm-security/Release');
      expect(
        security.some((r) => r.path.startsWith('/dists/bookworm-security/main/binary-all/Packages')),
      ).toBe(true);
      expect(new Set(access.map((r) => r.host))).toEqual(new Set([repoHost('acme')]));
      expect(fetched(`/${pool}`).map((r) => [r.host, r.srcaddr, r.status])).toEqual([
        [repoHost('acme'), asFoundInstance.address, 200],
      ]);
      // The fixed instance's apt never ran: it asked for no name and fetched nothing.
      expect(await instanceDnsLog(lab, fixedInstance.id)).toEqual([]);
      expect(readJsonLines<RepoAccessRecord>(join(instanceDir(lab, fixedInstance.id), REPO_LOG))).toEqual([]);

      // Nothing of either instance, nor of the lab network, is left behind.
      for (const info of instances.values())
        expect((await terminateInstance(info.id, { home: lab })).existed).toBe(true);
      await gc({ home: lab });
      expect(listInstances({ home: lab })).toEqual([]);
      expect(hostMountsUnder(home)).toEqual([]);
      expect(processesNaming(home)).toEqual([]);
      expect(daemonsOf(lab)).toEqual([]);
      expect(existsSync(homeCgroup(lab))).toBe(false);
    },
    900_000,
  );
});
