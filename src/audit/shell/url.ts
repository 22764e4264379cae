/**
 * Which network addresses stay on the instance. A fetch from these is not an off-instance
 * fetch: loopback (`127.0.0.0/8`, `::1`, `localhost` and `*.localhost`), the instance
 * metadata service (`169.254.169.254`, `fd00:ec2::254`, `metadata.google.internal`) and
 * `file:` URLs. Anything else, and any host that is not written literally, is off-instance.
 */

import { SUBST } from './parse.js';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const METADATA_HOSTS = new Set(['169.254.169.254', 'fd00:ec2::254', 'metadata.google.internal']);

/** Whether the word is a URL with a scheme (`https://...`, `s3://...`). */
export function hasScheme(text: string): boolean {
  return SCHEME.test(text);
}

/** Whether a host name or address (IPv6 with or without brackets) is on the instance. */
export function isLocalHost(host: string): boolean {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return METADATA_HOSTS.has(h);
}

/** The host of a URL (`scheme://[user@]host[:port]/...`), or undefined when it has none. */
function urlHost(url: string): string | undefined {
  const m = SCHEME.exec(url);
  if (!m) return undefined;
  let rest = url.slice(m[0].length);
  const end = rest.search(/[/?#]/);
  if (end >= 0) rest = rest.slice(0, end);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    return close < 0 ? rest : rest.slice(0, close + 1);
  }
  const colon = rest.indexOf(':');
  return colon >= 0 ? rest.slice(0, colon) : rest;
}

/** Whether fetching this URL stays on the instance. A host with an expansion in it is not known: false. */
export function isLocalUrl(url: string): boolean {
  const m = SCHEME.exec(url);
  if (!m) return false;
  if ((m[1] as string).toLowerCase() === 'file') return true;
  const host = urlHost(url);
  if (host === undefined || host === '' || /[$`]/.test(host) || host.includes(SUBST)) return false;
  return isLocalHost(host);
}
