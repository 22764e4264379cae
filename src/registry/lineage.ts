import { UsageError } from '../core/errors.js';
import { compareDebianVersions, isValidDebianVersion } from '../debian/version.js';
import { isImageId } from '../images/store.js';
import { readStoredPackages } from '../images/stored-manifest.js';
import type { PackageVersion, StoredPackages } from '../images/stored-manifest.js';
import { declaredFiles } from '../spec/declared.js';
import type { DeclaredFiles } from '../spec/declared.js';
import type { Registry } from './db.js';
import { getImage, registeredImages } from './images.js';
import type { RegisteredImage } from './images.js';
import { imageStatuses } from './listing.js';
import type { ImageStatus } from './listing.js';

/** How one package differs between a parent image and its child. */
export interface PackageChange {
  name: string;
  architecture: string;
  /** The parent's version; null when the child added the package. */
  from: string | null;
  /** The child's version; null when the child removed it. */
  to: string | null;
  /** `changed`: versions dpkg cannot order (invalid, or equal written differently: `0:1.0`, `1.0`). */
  change: 'added' | 'removed' | 'upgraded' | 'downgraded' | 'changed';
}

/** What changed from an image's parent to it. */
export interface ImageChanges {
  /** Package differences, by name; null when either manifest could not be read. */
  packages: PackageChange[] | null;
  /** The in-image paths the image's spec declares in `files:`; null when that cannot be told. */
  files: string[] | null;
  /** Why packages or files are null, or entries were skipped. */
  problems: string[];
}

/** One image of a lineage, with where it stands and what changed from its parent. */
export interface LineageEntry extends ImageStatus {
  /** 0 for an image without a registered parent; a child is one deeper than its parent. */
  depth: number;
  /**
   * What the image's `parent` is: a registered image (then `changes` compares them), the path
   * of a root filesystem it was derived from, an id the registry no longer has, or none.
   */
  parentKind: 'image' | 'path' | 'missing' | null;
  /** What changed from the parent; null unless the parent is a registered image. */
  changes: ImageChanges | null;
}

export interface Lineage {
  name: string;
  /** Each image after its parent, siblings oldest first: a tree read from the top. */
  images: LineageEntry[];
}

/**
 * The lineage of an image name: every image of that name and every ancestor of them (of
 * whatever name), each with its channels, revocation and newest verification, and what changed
 * from its parent: packages (from the two images' stored manifests) and the files its spec
 * declares. Reads the registry and the store; writes nothing.
 */
export function lineageOf(registry: Registry, name: string): Lineage {
  const named = registeredImages(registry, name);
  if (named.length === 0)
    throw new UsageError('LINEAGE_UNKNOWN_NAME', `no image is named ${name}`, {
      hint: 'goldgate images lists the images and their names',
    });
  const members = new Map<string, RegisteredImage>(named.map((image) => [image.id, image]));
  for (const image of named) {
    let parent = image.parent;
    while (parent !== null && isImageId(parent) && !members.has(parent)) {
      const found = getImage(registry, parent);
      if (found === undefined) break;
      members.set(found.id, found);
      parent = found.parent;
    }
  }
  const statuses = new Map(
    imageStatuses(registry, [...members.values()]).map((status) => [status.image.id, status]),
  );
  const children = new Map<string | null, RegisteredImage[]>();
  for (const image of members.values()) {
    const key = image.parent !== null && members.has(image.parent) ? image.parent : null;
    children.set(key, [...(children.get(key) ?? []), image]);
  }
  const readers = cachedReaders();
  const images: LineageEntry[] = [];
  const visit = (parent: RegisteredImage | null, depth: number): void => {
    const below = (children.get(parent?.id ?? null) ?? []).sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
    );
    for (const image of below) {
      images.push({
        ...(statuses.get(image.id) as ImageStatus),
        depth,
        parentKind: parentKind(image, parent),
        changes: parent === null ? null : changesFrom(parent, image, readers),
      });
      visit(image, depth + 1);
    }
  };
  visit(null, 0);
  return { name, images };
}

function parentKind(image: RegisteredImage, parent: RegisteredImage | null): LineageEntry['parentKind'] {
  if (parent !== null) return 'image';
  if (image.parent === null) return null;
  return isImageId(image.parent) ? 'missing' : 'path';
}

/** What changed from a registered parent to its child: packages by manifest, files by the child's spec. */
/** How `changesFrom` reads an image's packages and a spec's files. */
export interface ChangeReaders {
  packagesOf(image: RegisteredImage): StoredPackages;
  filesOf(spec: string): DeclaredFiles;
}

/**
 * Readers that read each manifest and each spec once: an image is compared with its parent
 * and with each child, and the images of one name share a spec.
 */
export function cachedReaders(): ChangeReaders {
  const manifests = new Map<string, StoredPackages>();
  const specs = new Map<string, DeclaredFiles>();
  return {
    packagesOf(image) {
      const read = manifests.get(image.id) ?? readStoredPackages(image.path);
      manifests.set(image.id, read);
      return read;
    },
    filesOf(spec) {
      const read = specs.get(spec) ?? declaredFiles(spec);
      specs.set(spec, read);
      return read;
    },
  };
}

export function changesFrom(
  parent: RegisteredImage,
  child: RegisteredImage,
  readers: ChangeReaders = cachedReaders(),
): ImageChanges {
  const before = readers.packagesOf(parent);
  const after = readers.packagesOf(child);
  const problems = [...before.problems, ...after.problems];
  let files: string[] | null = null;
  if (child.spec === null) problems.push(`${child.id} has no spec (an imported image)`);
  else {
    const declared = readers.filesOf(child.spec);
    if (declared.problem !== null) problems.push(declared.problem);
    files = declared.files;
  }
  return {
    packages:
      before.packages === null || after.packages === null
        ? null
        : diffPackages(before.packages, after.packages),
    files,
    problems,
  };
}

/** The package differences between two package lists, by name then architecture. */
export function diffPackages(
  parent: readonly PackageVersion[],
  child: readonly PackageVersion[],
): PackageChange[] {
  const key = (p: PackageVersion) => `${p.name}\u0000${p.architecture}`;
  const old = new Map(parent.map((p) => [key(p), p]));
  const now = new Map(child.map((p) => [key(p), p]));
  const changes: PackageChange[] = [];
  for (const [k, p] of now) {
    const was = old.get(k);
    if (was === undefined)
      changes.push({
        name: p.name,
        architecture: p.architecture,
        from: null,
        to: p.version,
        change: 'added',
      });
    else if (was.version !== p.version)
      changes.push({
        name: p.name,
        architecture: p.architecture,
        from: was.version,
        to: p.version,
        change: direction(was.version, p.version),
      });
  }
  for (const [k, p] of old)
    if (!now.has(k))
      changes.push({
        name: p.name,
        architecture: p.architecture,
        from: p.version,
        to: null,
        change: 'removed',
      });
  return changes.sort((a, b) => a.name.localeCompare(b.name) || a.architecture.localeCompare(b.architecture));
}

function direction(from: string, to: string): PackageChange['change'] {
  if (!isValidDebianVersion(from) || !isValidDebianVersion(to)) return 'changed';
  const order = compareDebianVersions(from, to);
  return order < 0 ? 'upgraded' : order > 0 ? 'downgraded' : 'changed';
}
