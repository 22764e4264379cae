import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../repo/repo.js';
import type { Repository } from '../spec/schema.js';
import type { IndexProblem } from './indexes.js';
import { readRelease } from './indexes.js';
import type { Offer, SourceRead, Wanted } from './offers.js';
import { originOf, readSuiteOffers } from './offers.js';

/**
 * What the spec's lab repositories offer of the image's installed packages: for each
 * repository and each suite the spec lists, `$GOLDGATE_HOME/repos/<name>/dists/<suite>/`
 * (its Release, then the Packages of the spec's components). A suite not published yet is
 * read as offering nothing, and said.
 */
export async function labOffers(
  repositories: readonly Repository[],
  home: string,
  wanted: Wanted,
): Promise<{ offers: Offer[]; reads: SourceRead[] }> {
  const offers: Offer[] = [];
  const reads: SourceRead[] = [];
  for (const repo of repositories) {
    if (!('lab' in repo)) continue;
    const root = repoPath(repo.lab, { home });
    for (const suite of repo.suites) {
      const dir = join(root, 'dists', suite);
      const problems: IndexProblem[] = [];
      const unpublished = {
        repository: `lab:${repo.lab}`,
        suite,
        origin: null,
        label: null,
        codename: null,
      };
      if (!existsSync(join(dir, 'Release'))) {
        problems.push({
          file: dir,
          reason: existsSync(root)
            ? `lab repository ${repo.lab} has no suite ${suite} yet`
            : `no lab repository ${repo.lab} (goldgate repo create ${repo.lab})`,
        });
        reads.push({ from: unpublished, offered: 0, problems });
        continue;
      }
      const release = readRelease(join(dir, 'Release'), problems);
      if (release === undefined) {
        reads.push({ from: unpublished, offered: 0, problems });
        continue;
      }
      const suiteOffers = await readSuiteOffers(
        dir,
        originOf(`lab:${repo.lab}`, suite, release),
        repo.components,
        release,
        wanted,
      );
      offers.push(...suiteOffers.offers);
      reads.push({ ...suiteOffers.read, problems: [...problems, ...suiteOffers.read.problems] });
    }
  }
  return { offers, reads };
}
