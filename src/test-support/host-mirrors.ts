import { collectAptSources } from '../manifest/apt/sources.js';
import { openDirRootFs } from '../rootfs/index.js';

/**
 * The host names of the Debian mirrors this machine's apt uses, read from its own sources
 * (mmdebstrap gives the images it bootstraps the same ones). Tests that expect an instance to
 * look up its mirror read the name here instead of spelling one.
 */
export function hostMirrorNames(): string[] {
  const fs = openDirRootFs('/');
  const names = new Set<string>();
  for (const source of collectAptSources(fs).sources.filter((s) => s.enabled))
    for (const uri of source.uris) {
      const match = /^[a-z+]+:\/\/([^/:\s]+)/i.exec(uri);
      if (match?.[1] !== undefined) names.add(match[1].toLowerCase());
    }
  return [...names].sort();
}
