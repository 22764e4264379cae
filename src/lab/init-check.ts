import { posix } from 'node:path';
import { openDirRootFs } from '../rootfs/dir.js';

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
  if (fs.lstat('/sbin/init') === undefined) return undefined;
  const target = fs.resolve('/sbin/init');
  if (target !== undefined && SYSTEMD.includes(posix.normalize(target))) return undefined;
  const shown = fs.readlink('/sbin/init') ?? target ?? '/sbin/init';
  return `its init is not systemd (/sbin/init is ${shown === '/sbin/init' ? 'a program of its own' : `a link to ${shown}`}): the lab boots systemd as PID 1, which is not how this image boots`;
}
