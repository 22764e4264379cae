import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyRemediations, remediationSteps } from '../audit/remediate.js';
import { auditSource } from '../audit/report.js';
import type { AuditReport } from '../audit/report.js';
import { canonicalJson, sha256 } from '../core/digest.js';
import { diskFullError } from '../core/disk-full.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { goldgateHome } from '../core/home.js';
import { cleanupStore, createStaging, findImage, imagesDir, registerImage } from '../images/store.js';
import type { ImageAudit, StoredImage } from '../images/store.js';
import { manifestOf } from '../manifest/manifest.js';
import { recordInRegistry } from '../registry/images.js';
import { repoPath, showRepo } from '../repo/repo.js';
import { loadSpec } from '../spec/load.js';
import { isDerived, parentIdentity } from '../spec/schema.js';
import type { ImageSpec } from '../spec/schema.js';
import {
  blockServiceStarts,
  configureRepositories,
  configureServices,
  copyTree,
  installDebs,
  installLabPackages,
  splitPackages,
  writeFiles,
  writeUserData,
} from './customize.js';
import type { LabOffer } from './customize.js';
import { cachedBase } from './mmdebstrap.js';
import type { BootstrapRequest } from './mmdebstrap.js';

export interface BakeOptions {
  /** goldgate's data directory; default goldgateHome(). Images go to `<home>/images`, lab repositories are read from `<home>/repos`. */
  home?: string;
  /** Where bases are cached; default `<home>/cache`. */
  cacheDir?: string;
  /**
   * When a cached base is too old: `daily` (default) bootstraps again once the UTC day the
   * base was built has passed; `refresh` always bootstraps; `any` reuses any cached base.
   */
  basePolicy?: 'daily' | 'refresh' | 'any';
  sink?: EventSink;
  now?: () => Date;
}

export interface BakeResult {
  image: StoredImage;
  /** True when an identical image was already registered (nothing new was stored). */
  existing: boolean;
}

/** The steps of a bake, in order, as they appear in progress events. */
export const BAKE_STEPS = [
  'base',
  'copy',
  'debs',
  'repositories',
  'packages',
  'files',
  'services',
  'auto-updates',
  'manifest',
  'store',
] as const;

/**
 * Bakes an image from a spec: a cached mmdebstrap base (or, for `base: { from }`, the parent
 * image's root filesystem), customised in a staging copy (debs, lab repositories and their
 * packages, files, services, the audit's remediations when `autoUpdates: disabled`), stored
 * content-addressed under `<home>/images/<id>` with its manifest and audit. Atomic: the image
 * is registered by the last rename of `image.json`; a failed bake removes its staging
 * directory, a killed one is removed by the next bake.
 */
export async function bake(specPath: string, options: BakeOptions = {}): Promise<BakeResult> {
  const home = options.home ?? goldgateHome();
  const { spec } = await loadSpec(specPath, { home });
  if (process.getuid?.() !== 0)
    throw new EnvironmentError('BAKE_NEEDS_ROOT', 'bake must run as root', {
      hint: 'mmdebstrap, chroot and dpkg need root: run goldgate bake with sudo',
    });
  const sink = options.sink ?? silent;
  const now = options.now ?? (() => new Date());
  const record = (image: StoredImage): void => {
    const failure = recordInRegistry(home, image, 'bake');
    if (failure !== null)
      sink.emit({
        type: 'warning',
        message: `the registry did not record ${image.id} (${failure.message}): it is indexed the next time the registry is read`,
      });
  };
  const runStep = stepper(sink);
  let current = 'base';
  const step: typeof runStep = (name, run) => {
    current = name;
    return runStep(name, run);
  };

  const { offer, suites } = await labOffer(spec, home);
  const packages = splitPackages(spec, offer);
  const parent = isDerived(spec.base) ? parentIdentity(spec.base.from) : undefined;
  if (parent !== undefined && packages.base.length > 0)
    throw new UsageError(
      'BAKE_DERIVED_PACKAGES',
      `packages: ${packages.base.join(', ')} ${packages.base.length === 1 ? 'is' : 'are'} offered by no lab repository of the spec, and a derived image (from ${parent}) has no Debian suite to bootstrap ${packages.base.length === 1 ? 'it' : 'them'} from`,
      {
        hint: 'a derived image installs packages only from lab repositories or debs; put them in the parent image',
      },
    );

  for (const removed of cleanupStore(home))
    sink.emit({ type: 'warning', message: `removed what an interrupted bake left behind`, path: removed });

  const base = await step('base', async () => {
    if (isDerived(spec.base)) {
      const { from } = spec.base;
      const identity = parentIdentity(from);
      // The spec was checked when loaded; the parent may have gone since.
      if (!existsSync(from.path))
        throw new UsageError('BAKE_PARENT_MISSING', `base.from: ${from.path} no longer exists`, {
          hint: 'bake the parent image again, or point from at an existing root filesystem',
        });
      return {
        value: { rootfs: from.path, key: `from:${identity}`, label: identity },
        message: `from ${identity}`,
      };
    }
    const request: BootstrapRequest = {
      suite: spec.base.suite,
      variant: spec.base.variant,
      include: packages.base,
      ...(spec.base.mirror === undefined ? {} : { mirror: spec.base.mirror }),
    };
    const policy = options.basePolicy ?? 'daily';
    const refreshBefore = policy === 'any' ? undefined : policy === 'refresh' ? now() : startOfUtcDay(now());
    const found = await cachedBase(request, options.cacheDir ?? join(home, 'cache'), {
      sink,
      now,
      ...(refreshBefore === undefined ? {} : { refreshBefore }),
    });
    const key = `${found.key}@${found.builtAt.toISOString().slice(0, 10)}`;
    return {
      value: { rootfs: found.rootfs, key, label: `base ${key}` },
      message: `${found.built ? 'bootstrapped' : 'cached'} base ${key}`,
    };
  });

  const diskFull = (error: unknown) =>
    diskFullError(error, imagesDir(home), `bake of ${specPath} stopped at step ${current}`);
  let staging: string;
  try {
    staging = createStaging(home);
  } catch (error) {
    throw diskFull(error) ?? error;
  }
  try {
    const root = join(staging, 'rootfs');
    await step('copy', async () => {
      await copyTree(base.rootfs, root);
      return { value: undefined, message: `copy of ${base.label}` };
    });
    const unblock = blockServiceStarts(root);
    try {
      await step('debs', async () => {
        await installDebs(
          root,
          spec.debs.map((deb) => deb.path),
        );
        return {
          value: undefined,
          message: `${spec.debs.length} local .deb${spec.debs.length === 1 ? '' : 's'}`,
        };
      });
      const aptOptions = await step('repositories', async () => {
        const value = await configureRepositories(
          root,
          spec,
          (name) => repoPath(name, { home }),
          (name) => suites.get(name) ?? new Set<string>(),
          sink,
        );
        return {
          value,
          message: `${spec.repositories.length} repositor${spec.repositories.length === 1 ? 'y' : 'ies'}`,
        };
      });
      await step('packages', async () => {
        if (aptOptions !== undefined) await installLabPackages(root, aptOptions, packages.lab);
        return {
          value: undefined,
          message:
            parent === undefined
              ? `${packages.base.length} from the base suite (in the base), ${packages.lab.length} from lab repositories`
              : `${packages.lab.length} from lab repositories`,
        };
      });
    } finally {
      unblock();
    }
    await step('files', async () => {
      writeFiles(root, spec.files);
      const userData = userDataText(spec);
      if (userData !== undefined) writeUserData(root, spec.name, userData);
      return {
        value: undefined,
        message: `${spec.files.length} file${spec.files.length === 1 ? '' : 's'}${userData === undefined ? '' : ', NoCloud user-data'}`,
      };
    });
    await step('services', async () => {
      await configureServices(root, spec.services);
      const { enable, disable, mask } = spec.services;
      return {
        value: undefined,
        message: `${enable.length} enabled, ${disable.length} disabled, ${mask.length} masked`,
      };
    });
    const { audit, report } = await step('auto-updates', async () => {
      const value = await autoUpdates(root, spec);
      const { before, after } = value.audit;
      return {
        value,
        message:
          spec.autoUpdates === 'disabled'
            ? `${before.total} findings, ${value.audit.applied} remediations applied, ${after.total} left`
            : `enabled: ${before.total} findings kept`,
      };
    });
    const manifest = await step('manifest', async () => {
      const value = await manifestOf(root);
      return { value, message: `${value.packages.length} packages, digest ${value.digest.slice(0, 19)}` };
    });
    return await step<BakeResult>('store', async () => {
      const id = imageId(manifest.digest, spec);
      const present = findImage(id, home);
      if (present !== undefined) {
        rmSync(staging, { recursive: true, force: true });
        record(present);
        return { value: { image: present, existing: true }, message: `${id} already present` };
      }
      writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      writeFileSync(join(staging, 'audit.json'), `${JSON.stringify(report, null, 2)}\n`);
      const image = registerImage(
        staging,
        {
          id,
          name: spec.name,
          digest: manifest.digest,
          createdAt: now().toISOString(),
          spec: resolve(specPath),
          base: base.key,
          autoUpdates: spec.autoUpdates,
          audit,
          ...(parent === undefined ? {} : { parent }),
        },
        home,
      );
      record(image);
      return { value: { image, existing: false }, message: `${id} at ${image.path}` };
    });
  } catch (error) {
    // Asked before the staging directory goes: its removal frees the space that tells.
    const full = diskFull(error);
    rmSync(staging, { recursive: true, force: true });
    throw full ?? error;
  }
}

/**
 * `img-` and 12 hex digits of sha256 over the manifest digest, the spec's name, the digest of
 * the files it declares and, for a derived image, its parent (so that derivations from
 * different parents never share an id).
 */
export function imageId(manifestDigest: string, spec: ImageSpec): string {
  const files = spec.files.map((file) => ({
    path: file.path,
    mode: file.mode,
    owner: file.owner,
    content:
      file.content !== undefined ? sha256(file.content) : sha256(readFileSync(file.source?.path ?? '')),
  }));
  const declared = sha256(
    canonicalJson({
      files,
      debs: spec.debs.map((deb) => sha256(readFileSync(deb.path))),
      userData: userDataText(spec) === undefined ? null : sha256(userDataText(spec) ?? ''),
    }),
  );
  const parent = isDerived(spec.base) ? `from:${parentIdentity(spec.base.from)}\n` : '';
  const digest = createHash('sha256')
    .update(`${manifestDigest}\n${spec.name}\n${declared}\n${parent}`)
    .digest('hex');
  return `img-${digest.slice(0, 12)}`;
}

function userDataText(spec: ImageSpec): string | undefined {
  if (spec.userData === undefined) return undefined;
  return typeof spec.userData === 'string' ? spec.userData : readFileSync(spec.userData.file.path, 'utf8');
}

async function autoUpdates(
  root: string,
  spec: ImageSpec,
): Promise<{ audit: ImageAudit; report: AuditReport }> {
  const before = await auditSource(root);
  if (spec.autoUpdates === 'enabled')
    return {
      audit: { before: before.summary, after: before.summary, applied: 0, notApplied: 0 },
      report: before,
    };
  const applied = applyRemediations(root, remediationSteps(before.findings));
  const after = await auditSource(root);
  return {
    audit: {
      before: before.summary,
      after: after.summary,
      applied: applied.filter((a) => a.applied).length,
      notApplied: applied.filter((a) => !a.applied).length,
    },
    report: after,
  };
}

/** The packages each lab repository of the spec offers in the suites the spec uses, and the suites each has. */
async function labOffer(
  spec: ImageSpec,
  home: string,
): Promise<{ offer: LabOffer; suites: Map<string, Set<string>> }> {
  const offer: LabOffer = new Map();
  const suites = new Map<string, Set<string>>();
  for (const repo of spec.repositories) {
    if (!('lab' in repo)) continue;
    const info = await showRepo(repo.lab, { home });
    const names = new Set<string>();
    for (const suite of info.suites)
      if (repo.suites.includes(suite.suite)) for (const pkg of suite.packages) names.add(pkg.name);
    offer.set(repo.lab, names);
    suites.set(repo.lab, new Set(info.suites.map((s) => s.suite)));
  }
  return { offer, suites };
}

function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/** Runs one step with a start and a done event carrying its time. */
function stepper(sink: EventSink) {
  return async <T>(
    name: (typeof BAKE_STEPS)[number],
    run: () => Promise<{ value: T; message: string }>,
  ): Promise<T> => {
    const started = Date.now();
    sink.emit({ type: 'progress', step: name, message: 'started' });
    const { value, message } = await run();
    sink.emit({ type: 'progress', step: name, message, done: true, elapsedMs: Date.now() - started });
    return value;
  };
}
