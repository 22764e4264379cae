import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../core/atomic-write.js';
import { canonicalJson, sha256 } from '../core/digest.js';
import type { ImageSpec } from '../spec/schema.js';
import type { PendingUpdate } from './pending.js';

// The candidate: a spec derived from the image to patch that installs exactly the approved
// updates, and nothing else (the parent already carries the spec's files and services).

/**
 * The plan's digest: sha256 over the parent and the updates the candidate installs (name,
 * architecture, version, repository and suite). The same plan gives the same digest, so the
 * pipeline recognises a run it already made.
 */
export function planDigest(parent: string, updates: readonly PendingUpdate[]): string {
  const applied = updates
    .map((u) => ({
      name: u.name,
      architecture: u.architecture,
      version: u.to,
      repository: u.origin.repository,
      suite: u.origin.suite,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.architecture < b.architecture ? -1 : 1));
  return sha256(canonicalJson({ parent, updates: applied }));
}

/**
 * The candidate spec as written: `base: { from: <parent> }`, a pinned `name=version` for each
 * update, the spec's repositories, health checks, dnsAllow and user-data, automatic updates
 * disabled, the same name.
 */
export function candidateDocument(
  spec: ImageSpec,
  parent: string,
  updates: readonly PendingUpdate[],
): Record<string, unknown> {
  const pins = [...new Map(updates.map((u) => [u.name, `${u.name}=${u.to}`])).values()];
  const userData =
    spec.userData === undefined
      ? undefined
      : typeof spec.userData === 'string'
        ? spec.userData
        : { file: spec.userData.file.path };
  // Through JSON: a key the spec left unset (`timeoutMs`) is left out, not written as null.
  return JSON.parse(
    JSON.stringify({
      name: spec.name,
      base: { from: parent },
      packages: pins,
      repositories: spec.repositories,
      autoUpdates: 'disabled',
      health: spec.health,
      dnsAllow: spec.dnsAllow,
      userData,
    }),
  ) as Record<string, unknown>;
}

/** `$GOLDGATE_HOME/patch/<spec name>/<parent id>-<12 hex digits of the plan digest>.yaml`. */
export function candidatePath(home: string, name: string, parent: string, digest: string): string {
  return join(home, 'patch', name, `${parent}-${digest.replace(/^sha256:/, '').slice(0, 12)}.yaml`);
}

/** Writes the candidate spec (atomically: a reader sees the whole file or none) and returns its path. */
export function writeCandidate(
  home: string,
  spec: ImageSpec,
  parent: string,
  updates: readonly PendingUpdate[],
): { path: string; digest: string } {
  const digest = planDigest(parent, updates);
  const path = candidatePath(home, spec.name, parent, digest);
  const header = [
    `# The patch candidate of ${spec.name}, written by goldgate patch: ${parent} with`,
    ...updates.map((u) => `#   ${u.name} ${u.from} -> ${u.to} (${u.origin.repository} ${u.origin.suite})`),
    `# plan ${digest}`,
  ];
  mkdirSync(join(home, 'patch', spec.name), { recursive: true });
  writeFileAtomic(path, `${header.join('\n')}\n${stringify(candidateDocument(spec, parent, updates))}`);
  return { path, digest };
}
