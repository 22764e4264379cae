import { canonicalJson, sha256 } from '../core/digest.js';
import { openRootFs } from '../rootfs/index.js';
import type { RootFs } from '../rootfs/types.js';
import { collectAgents } from './agents/index.js';
import type { AgentsSection } from './agents/index.js';
import { readOsRelease } from './agents/os-release.js';
import type { OsRelease } from './agents/os-release.js';
import { collectApt } from './apt/index.js';
import type { AptManifest } from './apt/index.js';
import { collectCloudInit } from './cloud-init/index.js';
import type { CloudInitSection } from './cloud-init/index.js';
import { collectPackages } from './packages.js';
import type { ManifestPackage } from './packages.js';
import { collectSystemd } from './systemd/index.js';
import type { SystemdSection } from './systemd/index.js';
import type { ManifestProblem } from './types.js';

export type { ManifestProblem, SourceRef } from './types.js';
export type { ManifestPackage } from './packages.js';

export const MANIFEST_SCHEMA = 'goldgate.manifest/v1';

/**
 * Everything about an image that decides whether it changes itself at boot. Fields come in
 * a fixed order; `digest` is the sha256 of the canonical JSON of every other field except
 * `problems`, so the same image gives the same digest however it was read (directory, tarball).
 */
export interface Manifest {
  schema: typeof MANIFEST_SCHEMA;
  digest: string;
  os: OsRelease | null;
  packages: ManifestPackage[];
  systemd: SystemdSection;
  apt: AptManifest;
  cloudInit: CloudInitSection;
  agents: AgentsSection;
  /** Every problem met while reading, from all sections plus unreadable files; not part of the digest. */
  problems: ManifestProblem[];
}

/** Reads the manifest of an image. Never throws on what is inside the image: problems are collected. */
export function buildManifest(fs: RootFs): Manifest {
  const osProblems: ManifestProblem[] = [];
  const facts = {
    os: readOsRelease(fs, osProblems),
    packages: collectPackages(fs),
    systemd: collectSystemd(fs),
    apt: collectApt(fs),
    cloudInit: collectCloudInit(fs),
    agents: collectAgents(fs),
  };
  const { packages, ...sections } = facts;
  const sectionProblems = [
    ...osProblems,
    ...packages.problems,
    ...facts.systemd.problems,
    ...facts.apt.problems,
    ...facts.cloudInit.problems,
    ...facts.agents.problems,
  ];
  // The reader's own record of a file a collector already reported would say the same thing twice.
  const reported = new Set(sectionProblems.map((p) => p.path));
  const problems = [...sectionProblems, ...fs.problems.filter((p) => !reported.has(p.path))];
  const manifest = { ...sections, packages: packages.packages };
  return {
    schema: MANIFEST_SCHEMA,
    digest: sha256(canonicalJson(withoutProblems(manifest))),
    os: facts.os,
    packages: packages.packages,
    systemd: facts.systemd,
    apt: facts.apt,
    cloudInit: facts.cloudInit,
    agents: facts.agents,
    problems: dedupe(problems),
  };
}

/** The value without any `problems` field: what was found wrong while reading is not the image's content. */
function withoutProblems(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutProblems);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'problems')
        .map(([key, v]) => [key, withoutProblems(v)]),
    );
  }
  return value;
}

function dedupe(problems: readonly ManifestProblem[]): ManifestProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.line ?? ''}\0${p.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The manifest of the image at `source` (a root filesystem directory or a tarball), read and closed. */
export async function manifestOf(source: string): Promise<Manifest> {
  const fs = await openRootFs(source);
  try {
    return buildManifest(fs);
  } finally {
    await fs.close();
  }
}
