import { posix } from 'node:path';
import { openDirRootFs } from '../rootfs/dir.js';
import type { RootFs } from '../rootfs/types.js';

const SYSTEMD = ['/lib/systemd/systemd', '/usr/lib/systemd/systemd'];

/**
 * Why an image cannot boot in the lab, or undefined when it can. The lab runs the image's own
 * systemd as PID 1: an image without it, or whose `/sbin/init` is another init (sysvinit,
 * busybox, OpenRC, runit), would boot differently on a real machine than here. Read as if
 * chrooted: a link never leads out of the image.
 */
export function initProblem(rootfs: string): string | undefined {
  const fs = openDirRootFs(rootfs);
  const systemd = SYSTEMD.find((path) => fs.stat(path)?.kind === 'file');
  if (systemd === undefined)
    return 'it has no systemd (/lib/systemd/systemd): the lab boots the image with its own systemd as PID 1';
  const mountPoint = mountPointProblem(fs);
  if (mountPoint !== undefined) return mountPoint;
  if (fs.lstat('/sbin/init') === undefined) return undefined;
  const target = fs.resolve('/sbin/init');
  if (target !== undefined && SYSTEMD.includes(posix.normalize(target))) return undefined;
  const shown = fs.readlink('/sbin/init') ?? target ?? '/sbin/init';
  return `its init is not systemd (/sbin/init is ${shown === '/sbin/init' ? 'a program of its own' : `a link to ${shown}`}): the lab boots systemd as PID 1, which is not how this image boots`;
}

/** Where the lab's init mounts the kernel's file systems (proc, sysfs, tmpfs), as systemd expects them. */
const MOUNT_POINTS = ['/proc', '/sys', '/dev', '/run', '/tmp'];

/**
 * The lab's init mounts over these paths before it chroots: each must be a directory of the
 * image, never a link (which the mount would follow to a path of the host).
 */
function mountPointProblem(fs: RootFs): string | undefined {
  for (const path of MOUNT_POINTS) {
    const entry = fs.lstat(path);
    if (entry?.kind === 'dir') continue;
    const what =
      entry === undefined
        ? 'missing'
        : entry.kind === 'symlink'
          ? `a symbolic link (to ${fs.readlink(path) ?? '?'})`
          : 'not a directory';
    return `its ${path} is ${what}: the lab mounts the kernel's file systems on /proc, /sys, /dev, /run and /tmp, which must be directories of the image`;
  }
  return undefined;
}
