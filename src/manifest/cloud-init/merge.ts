import type { JsonObject, JsonValue } from './types.js';
import { isObject } from './yaml.js';

/**
 * Where a merged value came from: index of the source it was taken from and, for a dict built
 * from several sources, where each of its keys came from.
 */
export interface Origin {
  source: number;
  children?: Record<string, Origin>;
}

export interface Merged {
  value: JsonObject;
  origin: Origin;
}

function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function childOrigin(origin: Origin, key: string): Origin {
  return origin.children?.[key] ?? { source: origin.source };
}

/*
 * cloud-init's default merge (cloudinit/util.py mergemanydict with the mergers of
 * cloudinit/mergers, default "list()+dict()+str()"), checked against its source:
 * - mergemanydict folds the sources in order, the FIRST one having the highest priority:
 *   the dict merger defaults to "no_replace", so a key already present is kept.
 * - When both values are dicts they are merged recursively (_recurse_dict is always on).
 * - Lists and scalars are never combined: the higher-priority value is kept whole.
 * - One quirk is kept: when the higher-priority value is a string or a list and the lower one
 *   a dict, the string/list mergers' `_on_str`/`_on_list` return the dict, so the dict wins.
 * - `null` in a lower-priority source changes nothing (allow_delete is off by default).
 * read_conf_d sorts cloud.cfg.d/*.cfg in REVERSE order before merging, and read_conf_with_confd
 * puts the conf.d result before cloud.cfg: the net effect is "later file wins, dicts merged".
 */
function mergeValue(
  high: JsonValue,
  highOrigin: Origin,
  low: JsonValue,
  lowOrigin: Origin,
): { value: JsonValue; origin: Origin } {
  if (!isObject(low)) return { value: high, origin: highOrigin };
  if (isObject(high))
    return mergeObjects({ value: high, origin: highOrigin }, { value: low, origin: lowOrigin });
  if (typeof high === 'string' || Array.isArray(high)) return { value: low, origin: lowOrigin };
  return { value: high, origin: highOrigin };
}

/** Merges a lower-priority dict into a higher-priority one, keeping track of origins. */
export function mergeObjects(high: Merged, low: Merged): Merged {
  const value: JsonObject = {};
  const children: Record<string, Origin> = {};
  for (const [key, item] of Object.entries(high.value)) {
    setOwn(value, key, item);
    setOwn(children, key, childOrigin(high.origin, key));
  }
  for (const [key, item] of Object.entries(low.value)) {
    if (Object.hasOwn(value, key)) {
      const merged = mergeValue(value[key]!, children[key]!, item, childOrigin(low.origin, key));
      setOwn(value, key, merged.value);
      setOwn(children, key, merged.origin);
    } else {
      setOwn(value, key, item);
      setOwn(children, key, childOrigin(low.origin, key));
    }
  }
  return { value, origin: { source: high.origin.source, children } };
}

/** Merges sources given highest priority first, as cloud-init's mergemanydict does. */
export function mergeMany(sources: JsonObject[]): Merged {
  let merged: Merged = { value: {}, origin: { source: -1, children: {} } };
  sources.forEach((value, index) => {
    merged = mergeObjects(merged, { value, origin: { source: index } });
  });
  return merged;
}

/** The index of the source the value at `path` came from (-1 when the path is not in the merge). */
export function originOf(origin: Origin, path: readonly string[]): number {
  let current = origin;
  for (const key of path) {
    const next = current.children?.[key];
    if (next === undefined) return current.children === undefined ? current.source : -1;
    current = next;
  }
  return current.source;
}
