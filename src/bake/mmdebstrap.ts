import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, sha256 } from '../core/digest.js';
import { diskFullError } from '../core/disk-full.js';
import { EnvironmentError, GoldgateError, UsageError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { silent } from '../core/events.js';
import { findExecutable } from '../core/which.js';

export const VARIANTS = [
  'extract',
  'custom',
  'essential',
  'apt',
  'minbase',
  'buildd',
  'required',
  'important',
  'standard',
] as const;
export type Variant = (typeof VARIANTS)[number];

/** What determines a bootstrapped base: the same request gives the same tree (for the same mirror state). */
export interface BootstrapRequest {
  suite: string;
  variant: Variant;
  include: string[];
  /** A mirror URL; default: the host's apt sources. */
  mirror?: string;
}

/** A package name, optionally pinned (`name=version`): mmdebstrap passes includes to apt as is. */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/;
const SUITE_NAME = /^[a-z][a-z0-9-]*$/;

/** Rejects names that are not Debian package or suite names before they reach any command. */
export function validateRequest(request: BootstrapRequest): void {
  if (!SUITE_NAME.test(request.suite))
    throw new UsageError('BAD_SUITE', `"${request.suite}" is not a Debian suite name`);
  if (!VARIANTS.includes(request.variant)) {
    throw new UsageError('BAD_VARIANT', `"${request.variant}" is not an mmdebstrap variant`, {
      hint: `use one of ${VARIANTS.join(', ')}`,
    });
  }
  for (const name of request.include) {
    if (!PACKAGE_NAME.test(name))
      throw new UsageError('BAD_PACKAGE_NAME', `"${name}" is not a Debian package name`);
  }
  if (request.mirror !== undefined && !/^(https?|file|copy):\/\/[^\s]+$/.test(request.mirror)) {
    throw new UsageError('BAD_MIRROR', `"${request.mirror}" is not a mirror URL`, {
      hint: 'use http://, https://, file:// or copy://',
    });
  }
}

/** The cache key of a bootstrap request. */
export function bootstrapKey(request: BootstrapRequest): string {
  const normalised = { ...request, include: [...new Set(request.include)].sort() };
  return sha256(canonicalJson(normalised)).slice('sha256:'.length, 'sha256:'.length + 16);
}

/** The mmdebstrap argument vector for a request; the target comes last. */
export function mmdebstrapArgs(request: BootstrapRequest, target: string): string[] {
  const args = [`--variant=${request.variant}`];
  if (request.include.length > 0) args.push(`--include=${[...new Set(request.include)].sort().join(',')}`);
  args.push(request.suite, target);
  if (request.mirror !== undefined) args.push(request.mirror);
  return args;
}

/** Runs mmdebstrap into `target` (which must not exist), reporting progress; throws with mmdebstrap's last lines on failure. */
export async function runMmdebstrap(
  request: BootstrapRequest,
  target: string,
  sink: EventSink = silent,
): Promise<void> {
  validateRequest(request);
  const executable = findExecutable('mmdebstrap');
  if (executable === undefined) {
    throw new EnvironmentError('MMDEBSTRAP_MISSING', 'mmdebstrap not found', {
      hint: 'apt-get install mmdebstrap',
    });
  }
  const started = Date.now();
  sink.emit({
    type: 'progress',
    step: 'bootstrap',
    message: `mmdebstrap ${request.variant} ${request.suite} (${request.include.length} extra packages)`,
  });
  const tail: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(executable, mmdebstrapArgs(request, target), { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (line.startsWith('I: '))
          sink.emit({ type: 'progress', step: 'bootstrap', message: line.slice(3) });
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new GoldgateError('MMDEBSTRAP_FAILED', `mmdebstrap failed (exit ${code}):\n${tail.join('\n')}`, {
      fault: 'environment',
      hint: 'check that the apt sources of this machine reach a Debian mirror, or give a mirror',
    });
  }
  sink.emit({
    type: 'progress',
    step: 'bootstrap',
    message: `root filesystem ready`,
    done: true,
    elapsedMs: Date.now() - started,
  });
}

/**
 * A bootstrapped root filesystem from the cache, built on first use. Built in a temporary
 * directory and renamed into place, so a crash never leaves a half-built base in the cache.
 */
export async function cachedBootstrap(
  request: BootstrapRequest,
  cacheDir: string,
  sink: EventSink = silent,
): Promise<string> {
  return (await cachedBase(request, cacheDir, { sink })).rootfs;
}

/** A cached base: its root filesystem, its request key, and when it was bootstrapped. */
export interface CachedBase {
  rootfs: string;
  /** The request's key (`bootstrapKey`). */
  key: string;
  builtAt: Date;
  /** Whether this call bootstrapped it. */
  built: boolean;
}

export interface CachedBaseOptions {
  sink?: EventSink;
  /** Rebuild a cached base bootstrapped before this time (the mirror may have moved on since). */
  refreshBefore?: Date;
  now?: () => Date;
}

/**
 * Like `cachedBootstrap`, and also says when the base was bootstrapped; a base older than
 * `refreshBefore` is bootstrapped again and replaces the cached one (by rename).
 */
export async function cachedBase(
  request: BootstrapRequest,
  cacheDir: string,
  options: CachedBaseOptions = {},
): Promise<CachedBase> {
  const sink = options.sink ?? silent;
  validateRequest(request);
  const key = bootstrapKey(request);
  const entry = join(cacheDir, 'bases', key);
  const rootfs = join(entry, 'rootfs');
  const recorded = join(entry, 'request.json');
  if (existsSync(recorded)) {
    const builtAt = baseBuiltAt(recorded);
    if (options.refreshBefore === undefined || builtAt >= options.refreshBefore) {
      sink.emit({ type: 'progress', step: 'bootstrap', message: `cached base ${key}`, done: true });
      return { rootfs, key, builtAt, built: false };
    }
  }
  mkdirSync(join(cacheDir, 'bases'), { recursive: true });
  const building = join(cacheDir, 'bases', `.building-${key}-${process.pid}`);
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building);
  const builtAt = (options.now ?? (() => new Date()))();
  try {
    await runMmdebstrap(request, join(building, 'rootfs'), sink);
    writeFileSync(
      join(building, 'request.json'),
      `${JSON.stringify({ ...request, builtAt: builtAt.toISOString() }, null, 2)}\n`,
    );
    // The old entry is moved aside before the new one takes its name, so the name never points at nothing built.
    const old = join(cacheDir, 'bases', `.old-${key}-${process.pid}`);
    if (existsSync(entry)) renameSync(entry, old);
    renameSync(building, entry);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    const full = diskFullError(error, join(cacheDir, 'bases'), `bootstrapping the base ${key}`);
    rmSync(building, { recursive: true, force: true });
    throw full ?? error;
  }
  return { rootfs, key, builtAt, built: true };
}

/** When a cached base was bootstrapped: its recorded `builtAt`, else (older caches) the record's mtime. */
function baseBuiltAt(recorded: string): Date {
  try {
    const value = (JSON.parse(readFileSync(recorded, 'utf8')) as { builtAt?: unknown }).builtAt;
    if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value);
  } catch {
    // An unreadable record: fall back to its time.
  }
  return statSync(recorded).mtime;
}
