import { goldgateHome } from '../core/home.js';
import { openRegistry } from '../registry/db.js';
import type { Registry } from '../registry/db.js';
import { indexStore } from '../registry/images.js';

/**
 * Runs `work` on the registry of `$GOLDGATE_HOME` and closes it, whatever happens. With
 * `index`, images of the store the registry does not know yet are indexed first, so that a
 * command sees every stored image.
 */
export function withRegistry<T>(work: (registry: Registry) => T, options: { index?: boolean } = {}): T {
  const registry = openRegistry(goldgateHome());
  try {
    if (options.index === true) indexStore(registry);
    return work(registry);
  } finally {
    registry.close();
  }
}
