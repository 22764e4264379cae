import { humanDuration, parseDuration } from '../core/duration.js';
import { compareDebianVersions } from '../debian/version.js';
import type { PatchPolicy } from '../spec/schema.js';
import type { PendingUpdate } from './pending.js';

// The spec's patch policy as a pure function of the pending updates and the time: which
// updates a candidate takes, and why each other one is left out.

/** The policy of a spec without `patch:`: security updates, as soon as they are seen. */
export const DEFAULT_PATCH_POLICY: PatchPolicy = { include: 'security', minAge: '0', hold: [], allow: [] };

/** An update and why the policy takes it or leaves it out. */
export interface Decided {
  update: PendingUpdate;
  reason: string;
}

export interface PolicyDecision {
  /** At most one update per package and architecture: the version the candidate installs. */
  approved: Decided[];
  leftOut: Decided[];
}

/** The reasons the rules (include, minAge) give against an update; none when it passes both. */
export function ruleReasons(update: PendingUpdate, policy: PatchPolicy, now: Date): string[] {
  const reasons: string[] = [];
  if (policy.include === 'security' && !update.security)
    reasons.push('not a security update (include: security)');
  const minAgeMs = parseDuration(policy.minAge) ?? 0;
  const ageMs = Math.max(0, now.getTime() - Date.parse(update.firstSeen));
  if (ageMs < minAgeMs)
    reasons.push(`first seen ${humanDuration(ageMs / 1000)} ago, minAge ${policy.minAge}`);
  return reasons;
}

/** Newest first; for one version, a security suite first, then by repository and suite. */
function preferred(a: PendingUpdate, b: PendingUpdate): number {
  return (
    compareDebianVersions(b.to, a.to) ||
    Number(b.security) - Number(a.security) ||
    a.origin.repository.localeCompare(b.origin.repository) ||
    a.origin.suite.localeCompare(b.origin.suite)
  );
}

/**
 * Applies a patch policy. For each package (and architecture): `hold` leaves every update out;
 * `allow` takes the newest update whatever `include` and `minAge` say (hold wins over allow);
 * otherwise the newest update that is a security update (or any, with `include: all`) and was
 * first seen at least `minAge` before `now` is taken. Every other update is left out with its
 * reason; one passing the rules but not taken is superseded by the one taken.
 */
export function applyPolicy(
  pending: readonly PendingUpdate[],
  policy: PatchPolicy,
  now: Date,
): PolicyDecision {
  const groups = new Map<string, PendingUpdate[]>();
  for (const update of pending) {
    const key = `${update.name}\0${update.architecture}`;
    groups.set(key, [...(groups.get(key) ?? []), update]);
  }
  const approved: Decided[] = [];
  const leftOut: Decided[] = [];
  for (const updates of groups.values()) {
    const first = updates[0] as PendingUpdate;
    const sorted = [...updates].sort(preferred);
    if (policy.hold.includes(first.name)) {
      for (const update of updates) leftOut.push({ update, reason: 'held' });
      continue;
    }
    let taken: PendingUpdate | undefined;
    if (policy.allow.includes(first.name)) {
      taken = sorted[0];
      if (taken !== undefined) approved.push({ update: taken, reason: 'allowed' });
    } else {
      taken = sorted.find((update) => ruleReasons(update, policy, now).length === 0);
      if (taken !== undefined)
        approved.push({
          update: taken,
          reason: taken.security ? 'security update' : 'update (include: all)',
        });
    }
    for (const update of updates) {
      if (update === taken) continue;
      const reasons = policy.allow.includes(update.name) ? [] : ruleReasons(update, policy, now);
      leftOut.push({
        update,
        reason:
          reasons.length > 0
            ? reasons.join('; ')
            : `superseded by ${taken?.to ?? '?'} from ${taken?.origin.repository ?? '?'} ${taken?.origin.suite ?? ''}`.trim(),
      });
    }
  }
  return { approved, leftOut };
}
