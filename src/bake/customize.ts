import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { GoldgateError, UsageError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import type { FileSpec, ImageSpec, LabRepository } from '../spec/schema.js';
import { parsePackage } from '../spec/schema.js';
import { dieWithParent } from '../images/tools.js';
import { repoUri } from '../lab/net/names.js';
import { openDirRootFs } from '../rootfs/dir.js';
import { openRootWriter } from '../rootfs/write.js';

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
    execFile(
      command,
      rest,
      { env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error === null) return resolve({ code: 0, output });
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'number') return resolve({ code, output });
        reject(error);
      },
    );
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

const POLICY = '/usr/sbin/policy-rc.d';
const POLICY_ASIDE = '/usr/sbin/.policy-rc.d.goldgate-aside';

/**
 * Keeps maintainer scripts from starting services inside the image while it is built. An
 * image's own policy (a file, or a link to one inside the image) is kept; anything else at
 * the path (a link leading nowhere in the image) is set aside and put back by the returned
 * function, which also removes the directories made for the policy.
 */
export function blockServiceStarts(root: string): () => void {
  if (openDirRootFs(root).stat(POLICY)?.kind === 'file') return () => undefined;
  const writer = openRootWriter(root, { label: 'bake' });
  const created: string[] = [];
  writer.mkdirp('/usr/sbin', { created });
  const setAside = writer.lstat(POLICY) !== undefined;
  if (setAside) writer.rename(POLICY, POLICY_ASIDE);
  writer.writeFile(POLICY, '#!/bin/sh\nexit 101\n', { mode: 0o755, uid: 0, gid: 0 });
  return () => {
    writer.remove(POLICY);
    if (setAside) writer.rename(POLICY_ASIDE, POLICY);
    for (const dir of created.reverse()) {
      try {
        writer.remove(dir);
      } catch (error) {
        // Something was installed there: the directory stays.
        if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw error;
      }
    }
  };
}

/**
 * Installs local .debs with dpkg inside the image. Nothing is downloaded: when a dependency
 * is missing the step fails naming it, and the spec must list it in `packages`.
 */
export async function installDebs(root: string, debs: readonly string[]): Promise<void> {
  if (debs.length === 0) return;
  const writer = openRootWriter(root, { label: 'debs' });
  writer.freshDir(BAKE_DEBS);
  const inside: string[] = [];
  try {
    for (const [index, deb] of debs.entries()) {
      const path = `${BAKE_DEBS}/${index}-${basename(deb)}`;
      writer.copyIn(deb, path, { mode: 0o644, uid: 0, gid: 0 });
      inside.push(path);
    }
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
        hint: `dpkg's last lines are above: check the spec's debs (${debs.map((d) => basename(d)).join(', ')}) and that the image (or its parent) has a working dpkg`,
      });
    }
  } finally {
    writer.remove(BAKE_DEBS, { recursive: true });
  }
}

/** Where bake copies local .debs inside the image while dpkg installs them (removed after). */
const BAKE_DEBS = '/tmp/goldgate-debs';
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
  const writer = openRootWriter(root, { label: 'repositories' });
  const sourcesDir = '/etc/apt/sources.list.d';
  writer.mkdirp(sourcesDir);
  // A directory made here, all of whose parents are real directories inside the image: cp writes into it.
  const copies = spec.repositories.some((repo) => 'lab' in repo) ? writer.freshDir(BAKE_REPOS) : undefined;
  for (const repo of spec.repositories) {
    if ('lab' in repo) {
      // cp -a keeps dists/<suite> a relative symlink to its snapshot, which apt follows.
      await checked('cp', ['-a', repoDir(repo.lab), join(copies as string, repo.lab)], 'repositories');
      writer.writeFile(
        `${sourcesDir}/goldgate-${repo.lab}.list`,
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
      writer.writeFile(
        `${sourcesDir}/goldgate-uri-${name}.list`,
        repo.suites
          .map((suite) => `deb${options} ${repo.uri} ${suite} ${repo.components.join(' ')}\n`)
          .join(''),
      );
    }
  }
  if (updateLines.length === 0) {
    writer.remove(BAKE_REPOS, { recursive: true });
    return undefined;
  }
  writer.writeFile(BAKE_LIST, updateLines.map((l) => `${l}\n`).join(''));
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
  const writer = openRootWriter(root, { label: 'packages' });
  writer.remove(BAKE_LIST);
  writer.remove(BAKE_REPOS, { recursive: true });
  const lists = '/var/lib/apt/lists';
  // apt names a list after its URI with / as _: _tmp_goldgate-bake-repos_acme_dists_bookworm_Release
  const marker = BAKE_REPOS.replaceAll('/', '_');
  for (const entry of openDirRootFs(root).readdir(lists))
    if (entry.name.includes(marker)) writer.remove(`${lists}/${entry.name}`);
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

/**
 * Writes the spec's files into the image through the confined writer: parents made inside
 * the root, a symlink at the path replaced (never written through), mode and numeric owner set.
 */
export function writeFiles(root: string, files: readonly FileSpec[]): void {
  const writer = openRootWriter(root, { label: 'files' });
  for (const file of files) {
    const { uid, gid } = resolveOwner(root, file.owner, file.path);
    const options = { mode: Number.parseInt(file.mode, 8), uid, gid };
    if (file.content !== undefined) writer.writeFile(file.path, file.content, options);
    else if (file.source !== undefined) writer.copyIn(file.source.path, file.path, options);
  }
}

/** Writes NoCloud seed files so cloud-init finds the spec's user-data without a datasource. */
export function writeUserData(root: string, name: string, userData: string): void {
  const writer = openRootWriter(root, { label: 'userData' });
  const seed = '/var/lib/cloud/seed/nocloud';
  writer.writeFile(`${seed}/user-data`, userData, { mode: 0o644, uid: 0, gid: 0 });
  writer.writeFile(`${seed}/meta-data`, `instance-id: ${name}\nlocal-hostname: ${name}\n`, {
    mode: 0o644,
    uid: 0,
    gid: 0,
  });
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
  // Read as if chrooted; no database: only numeric ids work.
  const text = openDirRootFs(root).readText(database) ?? '';
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  throw new UsageError('BAKE_UNKNOWN_OWNER', missing, {
    hint: 'create the user with a package, or give a numeric id',
  });
}

/**
 * `systemctl --root` writes the links systemd would, without a running systemd. It follows
 * the image's links on the host, so the directories it writes into must be the image's own.
 */
export async function configureServices(root: string, services: ImageSpec['services']): Promise<void> {
  if (services.enable.length + services.disable.length + services.mask.length === 0) return;
  checkUnitDirs(root);
  for (const verb of ['enable', 'disable', 'mask'] as const) {
    const units = services[verb];
    if (units.length === 0) continue;
    await checked('systemctl', [`--root=${root}`, verb, ...units], 'services');
  }
}

const UNIT_DIR = '/etc/systemd/system';

/**
 * Refuses an image whose /etc/systemd/system, or a `.wants`/`.requires`/`.upholds` directory
 * in it, is a symbolic link: systemctl --root would follow it on the host and write there.
 */
export function checkUnitDirs(root: string): void {
  const hint =
    'goldgate never lets systemctl write through a link of the image: make it a real directory in the (parent) image, or list no services';
  const fs = openDirRootFs(root);
  let path = '';
  for (const part of UNIT_DIR.slice(1).split('/')) {
    path = `${path}/${part}`;
    const entry = fs.lstat(path);
    // What is missing, systemctl makes as a plain directory.
    if (entry === undefined) break;
    if (entry.kind !== 'dir')
      throw new UsageError(
        'BAKE_UNIT_DIR_LINK',
        `services: ${path} in the image is ${entry.kind === 'symlink' ? `a symbolic link (to ${entry.target ?? ''})` : `a ${entry.kind}`}, not a directory: systemctl --root would follow it out of the image`,
        { hint },
      );
  }
  for (const entry of fs.readdir(UNIT_DIR)) {
    if (entry.kind !== 'symlink') continue;
    if (/\.(wants|requires|upholds)$/.test(entry.name) || fs.stat(entry.path)?.kind === 'dir')
      throw new UsageError(
        'BAKE_UNIT_DIR_LINK',
        `services: ${entry.path} in the image is a symbolic link to a directory (${entry.target ?? ''}): systemctl --root would follow it out of the image`,
        { hint },
      );
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
