import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, posix } from 'node:path';
import { GoldgateError, UsageError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import type { FileSpec, ImageSpec, LabRepository } from '../spec/schema.js';
import { parsePackage } from '../spec/schema.js';
import { dieWithParent } from '../images/tools.js';
import { repoUri } from '../lab/net/names.js';

/** The result of a child process that ran to its end (whatever its exit status). */
export interface RunResult {
  code: number;
  output: string;
}

const CHROOT_ENV = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  DEBIAN_FRONTEND: 'noninteractive',
  HOME: '/root',
};

/** Runs a program (argument array, never a shell); resolves with its exit status and combined output. */
export function runProgram(
  file: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<RunResult> {
  // Killed with goldgate (even by SIGKILL): no orphan keeps writing into a staging root being removed.
  const [command = file, ...rest] = dieWithParent([file, ...args]);
  return new Promise((resolve, reject) => {
    execFile(command, rest, { env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error === null) return resolve({ code: 0, output });
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') return resolve({ code, output });
      reject(error);
    });
  });
}

/** Runs a program chrooted into `root`; throws a BAKE_STEP_FAILED error with its last lines unless it succeeds. */
export async function inImage(root: string, step: string, args: readonly string[]): Promise<string> {
  const result = await runProgram('chroot', [root, ...args], CHROOT_ENV);
  if (result.code !== 0) {
    throw new GoldgateError(
      'BAKE_STEP_FAILED',
      `${step}: ${args.join(' ')} exited ${result.code} in the image:\n${lastLines(result.output)}`,
      { fault: 'environment' },
    );
  }
  return result.output;
}

export function lastLines(output: string, count = 15): string {
  return output.trimEnd().split('\n').slice(-count).join('\n');
}

/** Keeps maintainer scripts from starting services inside the image while it is built. */
export function blockServiceStarts(root: string): () => void {
  const policy = join(root, 'usr/sbin/policy-rc.d');
  const existed = existsSync(policy);
  if (!existed) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  return () => {
    if (!existed) rmSync(policy, { force: true });
  };
}

/**
 * Installs local .debs with dpkg inside the image. Nothing is downloaded: when a dependency
 * is missing the step fails naming it, and the spec must list it in `packages`.
 */
export async function installDebs(root: string, debs: readonly string[]): Promise<void> {
  if (debs.length === 0) return;
  const dir = join(root, 'tmp', 'goldgate-debs');
  mkdirSync(dir, { recursive: true });
  const inside: string[] = [];
  for (const [index, deb] of debs.entries()) {
    const name = `${index}-${basename(deb)}`;
    copyFileSync(deb, join(dir, name));
    inside.push(`/tmp/goldgate-debs/${name}`);
  }
  try {
    const result = await runProgram('chroot', [root, 'dpkg', '-i', ...inside], CHROOT_ENV);
    if (result.code !== 0) {
      const missing = [
        ...result.output.matchAll(
          /depends on ([^;\s]+)(?:[^;]*);\s*however:\s*\n\s*Package \S+ is not installed/g,
        ),
      ]
        .map((m) => m[1] ?? '')
        .filter((name) => name !== '');
      if (missing.length > 0) {
        throw new UsageError(
          'BAKE_DEB_DEPENDENCIES',
          `debs: ${[...new Set(missing)].join(', ')} ${missing.length === 1 ? 'is' : 'are'} needed by the spec's debs and not in the image`,
          { hint: "add them to the spec's packages (bake downloads nothing for local debs)" },
        );
      }
      throw new GoldgateError('BAKE_STEP_FAILED', `debs: dpkg -i failed:\n${lastLines(result.output)}`, {
        fault: 'user',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where bake copies lab repositories inside the image while it installs from them (removed after). */
const BAKE_REPOS = '/tmp/goldgate-bake-repos';
const BAKE_LIST = '/tmp/goldgate-bake-sources.list';

/** Package names each lab repository offers in the suites the spec uses. */
export type LabOffer = Map<string, Set<string>>;

/**
 * Lists each lab repository in the image at its lab host name (`http://<name>.repo.goldgate.internal/`,
 * served to instances by the lab network), and copies the repository into the image's /tmp for
 * the bake's own apt, which reads only that copy (a temporary list file: the image's Debian
 * mirror is never contacted). Returns the apt options that select that list, or undefined
 * when there is no lab repository.
 */
export async function configureRepositories(
  root: string,
  spec: ImageSpec,
  repoDir: (name: string) => string,
  existingSuites: (name: string) => Set<string>,
  sink: EventSink,
): Promise<string[] | undefined> {
  const updateLines: string[] = [];
  const sourcesDir = join(root, 'etc/apt/sources.list.d');
  mkdirSync(sourcesDir, { recursive: true });
  for (const repo of spec.repositories) {
    if ('lab' in repo) {
      const copy = join(root, BAKE_REPOS, repo.lab);
      mkdirSync(join(root, BAKE_REPOS), { recursive: true });
      rmSync(copy, { recursive: true, force: true });
      // cp -a keeps dists/<suite> a relative symlink to its snapshot, which apt follows.
      await checked('cp', ['-a', repoDir(repo.lab), copy], 'repositories');
      writeFileSync(
        join(sourcesDir, `goldgate-${repo.lab}.list`),
        labLines(repo, repoUri(repo.lab))
          .map((l) => `${l}\n`)
          .join(''),
      );
      const bakeLines = labLines(repo, `file://${BAKE_REPOS}/${repo.lab}`);
      const present = existingSuites(repo.lab);
      for (const [index, suite] of repo.suites.entries()) {
        if (present.has(suite)) updateLines.push(bakeLines[index] ?? '');
        else
          sink.emit({
            type: 'warning',
            message: `lab repository ${repo.lab} has no suite ${suite} yet: the image lists it, apt reads nothing from it at bake time`,
          });
      }
    } else {
      const options = repo.signedBy === undefined ? '' : ` [signed-by=${repo.signedBy}]`;
      const name = createHash('sha256').update(repo.uri).digest('hex').slice(0, 8);
      writeFileSync(
        join(sourcesDir, `goldgate-uri-${name}.list`),
        repo.suites
          .map((suite) => `deb${options} ${repo.uri} ${suite} ${repo.components.join(' ')}\n`)
          .join(''),
      );
    }
  }
  if (updateLines.length === 0) {
    rmSync(join(root, BAKE_REPOS), { recursive: true, force: true });
    return undefined;
  }
  writeFileSync(join(root, BAKE_LIST), updateLines.map((l) => `${l}\n`).join(''));
  return ['-o', `Dir::Etc::sourcelist=${BAKE_LIST}`, '-o', 'Dir::Etc::sourceparts=-'];
}

function labLines(repo: LabRepository, uri: string): string[] {
  const options = repo.trusted ? ' [trusted=yes]' : '';
  return repo.suites.map((suite) => `deb${options} ${uri} ${suite} ${repo.components.join(' ')}`);
}

/** Installs packages from the lab repositories with apt, reading only their copies; then removes the copies and their lists. */
export async function installLabPackages(
  root: string,
  aptOptions: string[],
  packages: string[],
): Promise<void> {
  await inImage(root, 'repositories', ['apt-get', ...aptOptions, 'update']);
  if (packages.length > 0)
    await inImage(root, 'packages', [
      'apt-get',
      ...aptOptions,
      'install',
      '-y',
      '--no-install-recommends',
      ...packages,
    ]);
  // The lists are bake-time state: the image gets them again with its own apt-get update.
  await inImage(root, 'packages', ['apt-get', 'clean']);
  rmSync(join(root, BAKE_LIST), { force: true });
  rmSync(join(root, BAKE_REPOS), { recursive: true, force: true });
  const lists = join(root, 'var/lib/apt/lists');
  // apt names a list after its URI with / as _: _tmp_goldgate-bake-repos_acme_dists_bookworm_Release
  const marker = BAKE_REPOS.replaceAll('/', '_');
  for (const entry of existsSync(lists) ? readdirSync(lists) : [])
    if (entry.includes(marker)) rmSync(join(lists, entry), { force: true });
}

/** Splits the spec's packages: those a lab repository offers are installed from it, the rest go into the base. */
export function splitPackages(spec: ImageSpec, offer: LabOffer): { base: string[]; lab: string[] } {
  const base: string[] = [];
  const lab: string[] = [];
  for (const entry of spec.packages) {
    const { name } = parsePackage(entry);
    if ([...offer.values()].some((names) => names.has(name))) lab.push(entry);
    else base.push(entry);
  }
  return { base, lab };
}

/** Writes the spec's files into the image: parents made inside the root, mode and numeric owner set. */
export function writeFiles(root: string, files: readonly FileSpec[]): void {
  for (const file of files) {
    const target = hostPath(root, file.path, true);
    const existing = lstatSync(target, { throwIfNoEntry: false });
    if (existing?.isDirectory() === true)
      throw new UsageError('BAKE_FILE_IS_DIRECTORY', `files: ${file.path} is a directory in the image`);
    // Written beside and renamed: a symlink already at the path is replaced, never written through.
    const temp = `${target}.goldgate-tmp`;
    if (file.content !== undefined) writeFileSync(temp, file.content);
    else if (file.source !== undefined) copyFileSync(file.source.path, temp);
    chmodSync(temp, Number.parseInt(file.mode, 8));
    const { uid, gid } = resolveOwner(root, file.owner, file.path);
    lchownSync(temp, uid, gid);
    renameSync(temp, target);
  }
}

/** Writes NoCloud seed files so cloud-init finds the spec's user-data without a datasource. */
export function writeUserData(root: string, name: string, userData: string): void {
  const dir = hostPath(root, '/var/lib/cloud/seed/nocloud/user-data', true);
  const seed = posix.dirname(dir);
  writeFileSync(join(seed, 'user-data'), userData);
  writeFileSync(join(seed, 'meta-data'), `instance-id: ${name}\nlocal-hostname: ${name}\n`);
}

/**
 * The host path of an image path, with symlinks in its directories resolved inside the root
 * (an absolute link target is taken from the root, `..` never climbs above it); the last
 * component is not followed. With `makeParents`, missing directories are created.
 */
export function hostPath(root: string, imagePath: string, makeParents = false): string {
  const parts = imagePath.split('/').filter((p) => p !== '' && p !== '.');
  const last = parts.pop();
  if (last === undefined || last === '..')
    throw new UsageError('BAKE_BAD_PATH', `${imagePath} names no file`);
  const resolved: string[] = [];
  let hops = 0;
  const queue = [...parts];
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const here = join(root, ...resolved, part);
    const stats = lstatSync(here, { throwIfNoEntry: false });
    if (stats === undefined) {
      if (!makeParents)
        throw new UsageError('BAKE_BAD_PATH', `${imagePath}: ${part} does not exist in the image`);
      mkdirSync(here, { mode: 0o755 });
      resolved.push(part);
    } else if (stats.isSymbolicLink()) {
      if (++hops > 40) throw new UsageError('BAKE_BAD_PATH', `${imagePath}: too many symlinks in the image`);
      const target = readlinkSync(here);
      if (target.startsWith('/')) resolved.length = 0;
      queue.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
    } else if (stats.isDirectory()) resolved.push(part);
    else throw new UsageError('BAKE_BAD_PATH', `${imagePath}: ${part} is not a directory in the image`);
  }
  return join(root, ...resolved, last);
}

/** `user:group` by name (looked up in the image's /etc/passwd and /etc/group) or number. */
export function resolveOwner(root: string, owner: string, path: string): { uid: number; gid: number } {
  const [user = 'root', group = user] = owner.split(':');
  return {
    uid: lookupId(root, '/etc/passwd', user, `files: ${path}: no user ${user} in the image`),
    gid: lookupId(root, '/etc/group', group, `files: ${path}: no group ${group} in the image`),
  };
}

function lookupId(root: string, database: string, name: string, missing: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  let text = '';
  try {
    text = readFileSync(join(root, database), 'utf8');
  } catch {
    // No database: only numeric ids work.
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  throw new UsageError('BAKE_UNKNOWN_OWNER', missing, {
    hint: 'create the user with a package, or give a numeric id',
  });
}

/** `systemctl --root` writes the links systemd would, without a running systemd. */
export async function configureServices(root: string, services: ImageSpec['services']): Promise<void> {
  for (const verb of ['enable', 'disable', 'mask'] as const) {
    const units = services[verb];
    if (units.length === 0) continue;
    await checked('systemctl', [`--root=${root}`, verb, ...units], 'services');
  }
}

async function checked(file: string, args: readonly string[], step: string): Promise<string> {
  const result = await runProgram(file, args);
  if (result.code !== 0)
    throw new GoldgateError(
      'BAKE_STEP_FAILED',
      `${step}: ${file} ${args.join(' ')} exited ${result.code}:\n${lastLines(result.output)}`,
      { fault: 'environment' },
    );
  return result.output;
}

/** Copies a root filesystem with every mode, owner, link and device node (reflinked where the filesystem can). */
export async function copyTree(from: string, to: string): Promise<void> {
  await checked('cp', ['-a', '--reflink=auto', from, to], 'copy');
}
