// The JSON documents of the gate's commands (schemas in docs/gate.md). Each shape is built
// here once, so that `channels`, `channel history`, `images` and `promote` agree on how an
// image, an audit, a proof and a revocation look.
import type { Assignment, Channel, ChannelGate } from '../../registry/channels.js';
import type { RegisteredImage } from '../../registry/images.js';
import type { LineageEntry } from '../../registry/lineage.js';
import type { ImageStatus } from '../../registry/listing.js';
import type { StoredAudit, StoredVerification } from '../../registry/proofs.js';
import type { Revocation } from '../../registry/revoke.js';

export const imageRefJson = (image: RegisteredImage) => ({
  id: image.id,
  name: image.name,
  digest: image.digest,
});

export const gateJson = (gate: ChannelGate) => ({
  auditThreshold: gate.auditThreshold,
  blocks: gate.blocks,
});

export const revocationJson = (revoked: Revocation | null) =>
  revoked === null
    ? null
    : { at: revoked.at, by: revoked.by, reason: revoked.reason, inheritedFrom: revoked.inheritedFrom };

export const auditJson = (audit: StoredAudit | null) =>
  audit === null
    ? null
    : {
        at: audit.at,
        origin: audit.origin,
        total: audit.total,
        worst: audit.worst,
        bySeverity: audit.bySeverity,
        rules: audit.rules,
      };

export const verificationJson = (verification: StoredVerification | null) =>
  verification === null
    ? null
    : {
        at: verification.at,
        verdict: verification.verdict,
        classes: verification.classes,
        passed: verification.passed,
        reasons: verification.reasons,
        proof: verification.proof,
      };

/** An assignment with its image: who put which image on the channel, when, how and why. */
export const assignmentJson = (assignment: Assignment, image: RegisteredImage) => ({
  image: imageRefJson(image),
  since: assignment.at,
  by: assignment.by,
  kind: assignment.kind,
  forced: assignment.forced,
  reason: assignment.reason,
});

/** A channel: its gate, its current image and, when that image is revoked, the revocation. */
export function channelJson(channel: Channel, imageOf: (id: string) => RegisteredImage) {
  return {
    name: channel.name,
    createdAt: channel.createdAt,
    gate: gateJson(channel),
    current:
      channel.current === null ? null : assignmentJson(channel.current, imageOf(channel.current.imageId)),
    revoked: revocationJson(channel.revoked),
  };
}

/** One entry of `channel history`. */
export function historyEntryJson(
  assignment: Assignment,
  image: RegisteredImage,
  current: boolean,
  revoked: Revocation | null,
) {
  return {
    id: assignment.id,
    at: assignment.at,
    by: assignment.by,
    kind: assignment.kind,
    forced: assignment.forced,
    reason: assignment.reason,
    image: imageRefJson(image),
    current,
    revoked: revocationJson(revoked),
  };
}

/** One image of `goldgate images --json`. */
export function listedImageJson(status: ImageStatus) {
  const { image } = status;
  return {
    id: image.id,
    name: image.name,
    digest: image.digest,
    path: image.path,
    rootfs: `${image.path}/rootfs`,
    createdAt: image.createdAt,
    spec: image.spec,
    base: image.base,
    autoUpdates: image.autoUpdates,
    // Present only when the image has them, as in `bake --json`.
    ...(image.parent === null ? {} : { parent: image.parent }),
    ...(image.source === null ? {} : { source: image.source }),
    channels: status.channels,
    revoked: revocationJson(status.revoked),
    audit: auditJson(status.audit),
    verification: verificationJson(status.verification),
  };
}

/** One image of `goldgate images --lineage NAME --json`. */
export function lineageEntryJson(entry: LineageEntry) {
  const { image } = entry;
  return {
    id: image.id,
    name: image.name,
    digest: image.digest,
    createdAt: image.createdAt,
    spec: image.spec,
    parent: image.parent,
    parentKind: entry.parentKind,
    depth: entry.depth,
    changes: entry.changes,
    channels: entry.channels,
    revoked: revocationJson(entry.revoked),
    verification:
      entry.verification === null
        ? null
        : {
            at: entry.verification.at,
            verdict: entry.verification.verdict,
            classes: entry.verification.classes,
            passed: entry.verification.passed,
          },
  };
}
