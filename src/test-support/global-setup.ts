import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { cachedBootstrap } from '../bake/mmdebstrap.js';
import { TEST_BASE } from './test-base.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared real Debian root filesystem, or null in the fast tier. Never modify it: copy it. */
    baseRootfs: string | null;
  }
}

/** Bootstraps the one real Debian base image all integration tests share, once per cache. */
export default async function setup(project: TestProject): Promise<void> {
  if (process.env.GOLDGATE_TEST_TIER === 'fast') {
    project.provide('baseRootfs', null);
    return;
  }
  const cache = process.env.GOLDGATE_CACHE ?? join(homedir(), '.cache', 'goldgate');
  project.provide('baseRootfs', await cachedBootstrap(TEST_BASE, join(cache, 'test')));
}
