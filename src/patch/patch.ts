import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { goldgateHome } from '../core/home.js';
import { installedPackages, readStoredManifest } from '../manifest/stored.js';
import type { StoredManifest } from '../manifest/stored.js';
import { checkChannelName } from '../registry/channels.js';
import { openRegistry } from '../registry/db.js';
import type { Registry } from '../registry/db.js';
import { runPipeline } from '../pipeline/pipeline.js';
import type { PipelineOptions, PipelineResult } from '../pipeline/pipeline.js';
import { observeVersions } from '../registry/packages.js';
import { loadSpec } from '../spec/load.js';
import { isDerived } from '../spec/schema.js';
import type { ImageSpec, PatchPolicy } from '../spec/schema.js';
import {
  archiveEntries,
  archiveOffers,
  archiveStateDir,
  archiveTargets,
  hostAptSources,
  updateArchive,
} from './archive.js';
import { planDigest, writeCandidate } from './candidate.js';
import { labOffers } from './lab.js';
import type { Offer, SourceRead, Wanted } from './offers.js';
import { pendingUpdates } from './pending.js';
import type { InstalledPackage, PendingUpdate, SeenOffer } from './pending.js';
import { applyPolicy, DEFAULT_PATCH_POLICY } from './policy.js';
import type { Decided } from './policy.js';
import { patchTarget } from './target.js';
import type { PatchTarget } from './target.js';

export interface PatchOptions {
  /** goldgate's data directory; default goldgateHome(). */
  home?: string;
  /** The channel whose image is patched; default the spec's first channel. */
  channel?: string;
  /** The time the policy's minAge is measured at, and new versions are first seen at; default now. */
  now?: Date;
  sink?: EventSink;
  /** The root filesystem whose apt sources say where Debian's archive is; default the host's (`/`). */
  hostRoot?: string;
}

/** What `goldgate patch` found and decided, before anything is baked. */
export interface PatchPlan {
  spec: { name: string; path: string };
  image: {
    id: string;
    name: string;
    digest: string;
    createdAt: string;
    chosenBy: PatchTarget['chosenBy'];
    channel: string | null;
    note: string | null;
  };
  policy: PatchPolicy;
  /** When the policy was applied (its minAge measured up to): ISO 8601. */
  at: string;
  /** The Debian suite whose archive was read (the spec's base suite, or the image's os-release), or null. */
  debianSuite: string | null;
  /** Every suite read, with how many versions of installed packages it offers and its problems. */
  sources: SourceRead[];
  pending: PendingUpdate[];
  /** The updates the candidate installs, at most one per package. */
  approved: Decided[];
  leftOut: Decided[];
  /** Approved by the policy but from Debian's archive, which a derived bake does not install from. */
  planOnly: Decided[];
  /** The plan's digest (parent and approved updates), or null when nothing is approved. */
  digest: string | null;
}

/** The reason an approved update from Debian's archive stays in the plan only (docs/gate.md). */
export const PLAN_ONLY_REASON =
  "from Debian's archive: a derived bake installs packages from lab repositories only, so the candidate cannot take it";

/**
 * The approved updates a derived bake can install (from lab repositories), and those it
 * cannot (from Debian's archive), which stay in the plan with PLAN_ONLY_REASON.
 */
export function splitBakeable(approved: readonly Decided[]): { approved: Decided[]; planOnly: Decided[] } {
  const fromLab = (d: Decided) => d.update.origin.repository.startsWith('lab:');
  return {
    approved: approved.filter(fromLab),
    planOnly: approved
      .filter((d) => !fromLab(d))
      .map((d) => ({ update: d.update, reason: PLAN_ONLY_REASON })),
  };
}

/** The Debian suite of the image's archive: the spec's base suite, else the image's own os-release. */
function debianSuiteOf(spec: ImageSpec, manifest: StoredManifest): string | null {
  if (!isDerived(spec.base)) return spec.base.suite;
  if (manifest.os?.id === 'debian' && manifest.os.codename !== null && manifest.os.codename !== '')
    return manifest.os.codename;
  return null;
}

function wantedOf(installed: readonly InstalledPackage[]): Wanted {
  return {
    names: new Set(installed.map((p) => p.name)),
    architectures: [...new Set(installed.map((p) => p.architecture).filter((a) => a !== 'all'))].sort(),
  };
}

async function debianOffers(
  spec: ImageSpec,
  suite: string,
  home: string,
  wanted: Wanted,
  options: PatchOptions,
): Promise<{ offers: Offer[]; reads: SourceRead[] }> {
  const sink = options.sink ?? silent;
  // What the host's apt makes of its own sources files is its business: only what patch misses is said.
  const host = hostAptSources(options.hostRoot);
  const mirror = isDerived(spec.base) ? undefined : spec.base.mirror;
  const { entries, missing } = archiveEntries(host, suite, mirror);
  const notes = missing.map((s) => ({
    file: 'apt sources',
    reason: `the host's apt sources list no suite ${s}`,
  }));
  if (entries.length === 0) {
    const from = { repository: 'debian', suite, origin: null, label: null, codename: suite };
    return { offers: [], reads: [{ from, offered: 0, problems: notes }] };
  }
  const state = archiveStateDir(home);
  const fetched = await updateArchive(state, entries, sink);
  const listed = await archiveTargets(state);
  const read = await archiveOffers(listed.targets, wanted);
  const problems = [...notes, ...fetched, ...listed.problems];
  const first = read.reads[0];
  if (first !== undefined) first.problems.unshift(...problems);
  else
    read.reads.push({
      from: { repository: 'debian', suite, origin: null, label: null, codename: suite },
      offered: 0,
      problems,
    });
  return read;
}

/** Records every offered version with goldgate's first-seen time, and returns each with it. */
function observe(registry: Registry, offers: readonly Offer[], now: Date): SeenOffer[] {
  const observed = observeVersions(
    registry,
    offers.map((o) => ({
      source: o.from.repository,
      suite: o.from.suite,
      package: o.package,
      version: o.version,
      arch: o.architecture,
      origin: o.from.origin,
      label: o.from.label,
    })),
    now,
  );
  return offers.map((offer, i) => ({ ...offer, firstSeen: observed[i]?.firstSeen ?? now.toISOString() }));
}

/**
 * Lists the updates pending against a spec's image and applies the spec's patch policy.
 * The image is the one on the channel (`options.channel`, else the spec's first channel),
 * else the newest image of the spec's name not revoked. Repositories read: the spec's lab
 * repositories, and Debian's archive (suite, -updates, -security, through the host's apt
 * sources) when the spec's base, or the image's os-release, is a Debian suite. Every version
 * offered of an installed package is recorded with the time goldgate first saw it.
 */
export async function planPatch(specPath: string, options: PatchOptions = {}): Promise<PatchPlan> {
  const { spec } = await loadSpec(specPath, { home: options.home ?? goldgateHome() });
  return planFor(spec, specPath, options);
}

async function planFor(spec: ImageSpec, specPath: string, options: PatchOptions): Promise<PatchPlan> {
  const home = options.home ?? goldgateHome();
  const now = options.now ?? new Date();
  const sink = options.sink ?? silent;
  const channel = options.channel ?? spec.channels?.[0];
  if (channel !== undefined) checkChannelName(channel);
  const policy = spec.patch ?? DEFAULT_PATCH_POLICY;

  const registry = openRegistry(home);
  try {
    const target = patchTarget(registry, spec.name, channel);
    const { image } = target;
    sink.emit({
      type: 'progress',
      step: 'image',
      message: `${image.id} (${target.chosenBy === 'channel' ? `on ${channel}` : 'newest not revoked'})`,
      done: true,
    });
    const manifest = readStoredManifest(image.path);
    const installed = installedPackages(manifest);
    const wanted = wantedOf(installed);

    const lab = await labOffers(spec.repositories, home, wanted);
    const suite = debianSuiteOf(spec, manifest);
    const debian =
      suite === null ? { offers: [], reads: [] } : await debianOffers(spec, suite, home, wanted, options);
    const offers = [...lab.offers, ...debian.offers];
    sink.emit({
      type: 'progress',
      step: 'sources',
      message: `${offers.length} versions of installed packages offered`,
      done: true,
    });

    const pending = pendingUpdates(installed, observe(registry, offers, now));
    const decision = applyPolicy(pending, policy, now);
    const { approved, planOnly } = splitBakeable(decision.approved);
    return {
      spec: { name: spec.name, path: specPath },
      image: {
        id: image.id,
        name: image.name,
        digest: image.digest,
        createdAt: image.createdAt,
        chosenBy: target.chosenBy,
        channel: target.channel,
        note: target.note,
      },
      policy,
      at: now.toISOString(),
      debianSuite: suite,
      sources: [...lab.reads, ...debian.reads],
      pending,
      approved,
      leftOut: decision.leftOut,
      planOnly,
      digest:
        approved.length === 0
          ? null
          : planDigest(
              image.id,
              approved.map((d) => d.update),
            ),
    };
  } finally {
    registry.close();
  }
}

/** How a patch ended: `dry-run` (planned only), `nothing-to-patch` (no approved update), `candidate` (written). */
export type PatchOutcome = 'dry-run' | 'nothing-to-patch' | 'candidate';

export interface PatchResult {
  plan: PatchPlan;
  outcome: PatchOutcome;
  /** The candidate spec written, with the plan's digest. */
  candidate: { path: string; digest: string } | null;
}

/**
 * Plans a patch and, unless `dryRun`, writes the candidate spec of the approved updates under
 * `$GOLDGATE_HOME/patch/<name>/`. Nothing approved: nothing is written.
 */
export async function preparePatch(
  specPath: string,
  options: PatchOptions & { dryRun?: boolean } = {},
): Promise<PatchResult> {
  const home = options.home ?? goldgateHome();
  const { spec } = await loadSpec(specPath, { home });
  const plan = await planFor(spec, specPath, options);
  if (options.dryRun === true) return { plan, outcome: 'dry-run', candidate: null };
  if (plan.approved.length === 0) return { plan, outcome: 'nothing-to-patch', candidate: null };
  const candidate = writeCandidate(
    home,
    spec,
    plan.image.id,
    plan.approved.map((d) => d.update),
  );
  return { plan, outcome: 'candidate', candidate };
}

export interface PatchRunResult extends PatchResult {
  /** The pipeline run on the candidate, or null when none was written. */
  pipeline: PipelineResult | null;
}

/**
 * `goldgate patch`: plans, writes the candidate spec of the approved updates, and runs the
 * pipeline on it (bake, audit, verify, promote): a run of kind `patch` whose spec digest is the
 * plan's, promoting to the channel whose image was patched (none: the candidate is proven, not
 * promoted). A dry run, or nothing approved, runs nothing.
 */
export async function runPatch(
  specPath: string,
  options: PatchOptions & { dryRun?: boolean; pipeline?: Pick<PipelineOptions, 'verify' | 'signal'> } = {},
): Promise<PatchRunResult> {
  const prepared = await preparePatch(specPath, options);
  if (prepared.candidate === null) return { ...prepared, pipeline: null };
  const pipeline = await runPipeline(prepared.candidate.path, {
    ...(options.pipeline ?? {}),
    home: options.home ?? goldgateHome(),
    sink: options.sink ?? silent,
    kind: 'patch',
    specDigest: prepared.candidate.digest,
    ...(prepared.plan.image.channel === null ? {} : { channel: prepared.plan.image.channel }),
  });
  return { ...prepared, pipeline };
}
