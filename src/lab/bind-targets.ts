import { UsageError } from '../core/errors.js';
import { openLayerWriter } from '../rootfs/layer.js';

/** Where the init script binds the lab's files over the image, as link-free in-image paths ("" for none). */
export interface BindTargets {
  /** The image's /etc/resolv.conf, or "" when it is a link (a resolver manager inside the image owns it). */
  resolvConf: string;
  /** The image's NoCloud seed directory, or "" when the instance gets no seed. */
  seed: string;
}

/**
 * Resolves, in the image as the reader does, the paths the init script binds the lab's
 * resolv.conf and NoCloud seed over, and makes what is missing in the instance's empty upper
 * layer (directories like the image's). The script then mounts on link-free paths of the
 * merged tree: no link of the image leads its mounts, or a file it would create, to the host.
 */
export function prepareBindTargets(rootfs: string, upper: string, withSeed: boolean): BindTargets {
  const layer = openLayerWriter(rootfs, upper, 'lab');
  let resolvConf = '';
  if (layer.image.lstat('/etc/resolv.conf')?.kind !== 'symlink') {
    const etc = layer.imageDir('/etc');
    const path = etc === undefined ? undefined : `${etc === '/' ? '' : etc}/resolv.conf`;
    const existing = path === undefined ? undefined : layer.imageStats(path);
    if (path !== undefined && existing === undefined)
      layer.writeFile(path, '', { mode: 0o644, uid: 0, gid: 0 });
    if (path !== undefined && existing?.isDirectory() !== true) resolvConf = path;
  }
  let seed = '';
  if (withSeed) {
    const dir = layer.imageDir('/var/lib/cloud/seed/nocloud');
    if (dir === undefined)
      throw new UsageError(
        'LAB_SEED_PATH',
        `${rootfs}: /var/lib/cloud/seed/nocloud leads nowhere in the image (a link out of it, or a file on the way or at its end): the instance's user-data has nowhere to go`,
        {
          hint: 'make /var/lib/cloud/seed/nocloud a directory of the image, each folder above it a directory or a link inside the image',
        },
      );
    layer.mkdir(dir);
    seed = dir;
  }
  return { resolvConf, seed };
}
