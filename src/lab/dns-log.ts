import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { forEachLine } from '../logs/read.js';
import { DNS_LOG } from './net/names.js';
import type { ResolverLogRecord } from './net/dns.js';
import { instanceDir, isInstanceId } from './state.js';

/** Where the lab resolver logs an instance's queries (Route 53 Resolver query log lines). */
export function dnsLogPath(home: string, id: string): string {
  if (!isInstanceId(id)) throw new UsageError('LAB_BAD_ID', `"${id}" is not an instance id`);
  const dir = instanceDir(home, id);
  if (!existsSync(dir))
    throw new UsageError('LAB_NO_INSTANCE', `no instance ${id}`, {
      hint: 'the log goes with the instance when it is terminated; goldgate lab ls lists the instances',
    });
  return join(dir, DNS_LOG);
}

/** The queries an instance made through the lab resolver, oldest first (empty before its first query). */
export async function instanceDnsLog(home: string, id: string): Promise<ResolverLogRecord[]> {
  const path = dnsLogPath(home, id);
  if (!existsSync(path)) return [];
  const records: ResolverLogRecord[] = [];
  await forEachLine(createReadStream(path), (text) => {
    // The resolver writes whole lines; a line cut by a crash is skipped.
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === 'object' && value !== null && 'query_name' in value)
        records.push(value as ResolverLogRecord);
    } catch {
      // not a record
    }
  });
  return records;
}
