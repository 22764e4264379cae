import type { ResolverLogRecord } from '../lab/net/dns.js';
import { dnsAllowed } from '../spec/schema.js';
import type { DnsName } from './types.js';

/** The name as looked up, lower-case, without the trailing dot (odd bytes stay escaped as `\DDD`). */
export const normalName = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/**
 * Every name the instances looked up, with how the lab resolver answered, and whether the
 * spec's allowlist (`dnsAllow`, `--allow-domain`) expects it. Sorted: unexpected names first.
 */
export function summarizeDns(
  byInstance: ReadonlyMap<string, readonly ResolverLogRecord[]>,
  allow: readonly string[],
): DnsName[] {
  const names = new Map<string, DnsName & { typeSet: Set<string>; instanceSet: Set<string> }>();
  for (const [instance, records] of byInstance) {
    for (const record of records) {
      const name = normalName(record.query_name);
      let entry = names.get(name);
      if (entry === undefined) {
        entry = {
          name,
          types: [],
          queries: 0,
          rcodes: {},
          answered: false,
          allowed: dnsAllowed(name, allow),
          instances: [],
          firstAt: record.query_timestamp,
          typeSet: new Set(),
          instanceSet: new Set(),
        };
        names.set(name, entry);
      }
      entry.queries += 1;
      entry.rcodes[record.rcode] = (entry.rcodes[record.rcode] ?? 0) + 1;
      if (record.rcode === 'NOERROR' && record.answers.length > 0) entry.answered = true;
      entry.typeSet.add(record.query_type);
      entry.instanceSet.add(record.srcids.instance ?? instance);
      if (record.query_timestamp < entry.firstAt) entry.firstAt = record.query_timestamp;
    }
  }
  return [...names.values()]
    .map(({ typeSet, instanceSet, ...entry }) => ({
      ...entry,
      types: [...typeSet].sort(),
      instances: [...instanceSet].sort(),
    }))
    .sort((a, b) => Number(a.allowed) - Number(b.allowed) || a.name.localeCompare(b.name));
}
