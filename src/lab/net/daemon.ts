/**
 * The lab network's daemon: started by `ensureNetwork` through `unshare --net`, so it runs in
 * a network namespace of its own, which ends with it. It makes the bridge the instances join
 * and serves, at the gateway address only, the lab's DNS resolver (port 53) and its apt
 * repositories (port 80). Every DNS query and repository request is logged into the
 * directory of the instance that made it (found by its source address, from the leases).
 *
 *   node daemon.js --lab-home <lab home> --repos <repositories directory>
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findExecutable } from '../../core/which.js';
import { processStartTime } from '../proc.js';
import { run } from '../run.js';
import { instanceDir, writeJsonAtomic } from '../state.js';
import { startResolver } from './dns.js';
import { startRepoServer } from './http.js';
import { DNS_LOG, GATEWAY, LAB_ZONE, PREFIX_LENGTH, REPO_LOG, repoForHost } from './names.js';
import { BRIDGE, leaseOwner, netDir } from './network.js';

async function ip(...args: string[]): Promise<void> {
  const result = await run([findExecutable('ip') ?? 'ip', ...args], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'lab-home': { type: 'string' }, repos: { type: 'string' } },
    strict: true,
  });
  const home = values['lab-home'];
  const reposDir = values.repos;
  if (home === undefined || reposDir === undefined)
    throw new Error('usage: daemon --lab-home DIR --repos DIR');

  const append = (instance: string | undefined, file: string, record: unknown): void => {
    const dir = instance === undefined ? netDir(home) : instanceDir(home, instance);
    // An instance terminated meanwhile takes its logs with it; its late queries go to the lab's own log.
    const target = existsSync(dir) ? dir : netDir(home);
    try {
      appendFileSync(join(target, file), `${JSON.stringify(record)}\n`);
    } catch {
      // a full disk must not take the resolver down
    }
  };

  await ip('link', 'set', 'lo', 'up');
  await ip('link', 'add', BRIDGE, 'type', 'bridge');
  await ip('addr', 'add', `${GATEWAY}/${PREFIX_LENGTH}`, 'dev', BRIDGE);
  await ip('link', 'set', BRIDGE, 'up');

  const resolver = await startResolver(GATEWAY, 53, {
    resolve: (name) => {
      const repo = repoForHost(name);
      return repo !== undefined && existsSync(join(reposDir, repo)) ? GATEWAY : undefined;
    },
    // repo.<zone> is a zone too, so that it exists (NOERROR, no data) rather than NXDOMAIN: a
    // resolver that reads NXDOMAIN as "nothing below" (RFC 8020) would give up on every repository.
    zones: [`repo.${LAB_ZONE}`, LAB_ZONE],
    attribute: (address) => leaseOwner(home, address),
    log: (record) => append(record.srcids.instance, DNS_LOG, record),
  });
  const server = await startRepoServer(GATEWAY, 80, {
    reposDir,
    repoForHost,
    log: (record) => append(leaseOwner(home, record.srcaddr), REPO_LOG, record),
  });

  writeJsonAtomic(join(netDir(home), 'net.json'), {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? 0,
    gateway: GATEWAY,
    reposDir,
    startedAt: new Date().toISOString(),
  });

  const stop = (): void => {
    void Promise.allSettled([resolver.close(), server.close()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`goldgate lab network: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
