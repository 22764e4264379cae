import { runRules } from '../audit/engine.js';
import { RULES } from '../audit/rules/api.js';
import type { Finding } from '../audit/types.js';
import { buildManifest } from '../manifest/manifest.js';
import { openDirRootFs } from '../rootfs/dir.js';
import { makeTree } from './tree.js';
import type { TreeEntry } from './tree.js';

/** The audit clock tests use, so stamp ages are stable. */
export const TEST_NOW = new Date('2026-11-27T08:00:00Z');

/** Audits a tree (written fresh) with one rule, or all rules when none is named. */
export function auditTree(
  entries: Record<string, TreeEntry>,
  ruleId?: string,
  now: Date = TEST_NOW,
): Finding[] {
  return auditDir(makeTree(entries), ruleId, now);
}

/** Audits an existing root filesystem directory with one rule, or all rules. */
export function auditDir(root: string, ruleId?: string, now: Date = TEST_NOW): Finding[] {
  const fs = openDirRootFs(root);
  const rule = ruleId === undefined ? undefined : RULES.get(ruleId);
  if (ruleId !== undefined && rule === undefined) throw new Error(`no rule ${ruleId}`);
  return runRules(buildManifest(fs), fs, rule === undefined ? [...RULES.values()] : [rule], { now }).findings;
}

/** A dpkg status database listing these packages as installed (name → version). */
export function dpkgStatus(packages: Record<string, string>, state = 'installed'): string {
  return Object.entries(packages)
    .map(
      ([name, version]) =>
        `Package: ${name}\nStatus: install ok ${state}\nArchitecture: amd64\nVersion: ${version}\n`,
    )
    .join('\n');
}
