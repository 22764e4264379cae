/**
 * The lab network's addresses and names. The subnet exists only inside namespaces the lab
 * made (no host interface has it), so it cannot collide with the machine's own networks.
 */

/** The lab's DNS zone: `.internal` is reserved for private use and never resolves publicly. */
export const LAB_ZONE = 'goldgate.internal';

const BASE = (10 << 24) | (213 << 16);
export const PREFIX_LENGTH = 16;

/** The lab network's own address: resolver, repository server, the bridge. */
export const GATEWAY = addressOf(1);

/** The address with host index `index` in the lab subnet (10.213.0.0/16). */
export function addressOf(index: number): string {
  const value = (BASE | index) >>> 0;
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The host index of a lab address (10.213.1.2 → 258). */
export function indexOf(address: string): number {
  const [, , c = 0, d = 0] = address.split('.').map(Number);
  return c * 256 + d;
}

/** The host name under which the lab serves a repository: `http://<host>/` is its root. */
export function repoHost(name: string): string {
  return `${name}.repo.${LAB_ZONE}`;
}

const REPO_HOST = new RegExp(`^([a-z0-9][a-z0-9-]{0,62})\\.repo\\.${LAB_ZONE.replaceAll('.', '\\.')}$`);

/** The repository a host name serves, or undefined when it is not a repository's host. */
export function repoForHost(host: string): string | undefined {
  return REPO_HOST.exec(host.toLowerCase())?.[1];
}

/** The apt URI of a lab repository, as an image lists it. */
export function repoUri(name: string): string {
  return `http://${repoHost(name)}/`;
}

/** Per-instance logs the lab network writes (JSON lines), beside the instance's instance.json. */
export const DNS_LOG = 'dns-query.log';
export const REPO_LOG = 'repo-access.log';
