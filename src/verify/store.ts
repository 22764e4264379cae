import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { findImage } from '../images/store.js';
import { recordVerificationInRegistry } from '../registry/images.js';
import { classesOf } from './verdict.js';
import type { StoredVerifyReport, VerifyReport } from './types.js';

// Each proof is kept beside its image: `images/<id>/verify/<time>-<random>/` holding
// `report.json` and the evidence bundle it was concluded from (`evidence/`, the layout
// `goldgate diagnose` reads). A proof is written in a staging directory and renamed into
// place, so a crash never leaves half a proof; `latest` names the newest.

const PROOF = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

export function proofsDir(home: string, imageId: string): string {
  return join(home, 'images', imageId, 'verify');
}

/** Stores a report and its evidence with the stored image; returns the proof's directory. */
export function storeReport(
  home: string,
  imageId: string,
  report: VerifyReport,
  evidence: string,
): string | null {
  const image = findImage(imageId, home);
  if (image === undefined) return null;
  const dir = proofsDir(home, imageId);
  mkdirSync(dir, { recursive: true });
  dropLeftovers(dir);
  const stamp = report.finishedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const name = `${stamp}-${randomBytes(4).toString('hex')}`;
  const staging = join(dir, `.staging-${name}`);
  const final = join(dir, name);
  try {
    mkdirSync(staging);
    if (existsSync(evidence)) cpSync(evidence, join(staging, 'evidence'), { recursive: true });
    writeFileSync(
      join(staging, 'report.json'),
      `${JSON.stringify({ ...report, storedAt: final }, null, 2)}\n`,
    );
    renameSync(staging, final);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const latest = join(dir, `.latest-${name}`);
  writeFileSync(latest, `${name}\n`);
  renameSync(latest, join(dir, 'latest'));
  // The gate reads proofs from the registry. A proof stored but not recorded (a kill between
  // the two) is not used by the gate: verify again.
  recordVerificationInRegistry(home, image, {
    at: report.finishedAt,
    verdict: report.verdict,
    classes: classesOf(report),
    reasons: report.reasons,
    proof: final,
  });
  return final;
}

/** What a crashed store left (a staging directory, a `latest` not yet renamed), once it is an hour old. */
function dropLeftovers(dir: string): void {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('.staging-') && !name.startsWith('.latest-')) continue;
    const path = join(dir, name);
    if ((statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) < hourAgo)
      rmSync(path, { recursive: true, force: true });
  }
}

/** The stored proofs of an image, oldest first (half-written ones are never listed). */
export function listProofs(home: string, imageId: string): string[] {
  const dir = proofsDir(home, imageId);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => PROOF.test(name) && existsSync(join(dir, name, 'report.json')))
    .sort();
}

/**
 * The newest stored proof of an image, if there is one. It may be an older schema version
 * (`classesOf` reads the classes of either).
 */
export function latestProof(home: string, imageId: string): StoredVerifyReport | undefined {
  const proofs = listProofs(home, imageId);
  const last = proofs[proofs.length - 1];
  if (last === undefined) return undefined;
  return JSON.parse(
    readFileSync(join(proofsDir(home, imageId), last, 'report.json'), 'utf8'),
  ) as StoredVerifyReport;
}
