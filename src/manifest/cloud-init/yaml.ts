import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, ScalarTag, Tags } from 'yaml';
import type { JsonObject, JsonValue } from './types.js';

const BOOL_TAG = 'tag:yaml.org,2002:bool';

// cloud-init loads YAML with PyYAML's safe_load: YAML 1.1 scalars, but its boolean resolver
// knows yes/no/true/false/on/off only, not the y/n that the yaml package's 1.1 schema adds.
const pyTrue: ScalarTag = {
  tag: BOOL_TAG,
  default: true,
  identify: (value) => value === true,
  test: /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/,
  resolve: () => true,
};
const pyFalse: ScalarTag = {
  tag: BOOL_TAG,
  default: true,
  identify: (value) => value === false,
  test: /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/,
  resolve: () => false,
};

function pyYamlTags(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag === 'string' || tag.tag !== BOOL_TAG) return tag;
    return tag.identify?.(true) ? pyTrue : pyFalse;
  });
}

const MAX_DEPTH = 100;

class TooDeep extends Error {}

function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  // defineProperty keeps a `__proto__` key an ordinary key.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Turns what the yaml package produces into plain JSON data. */
export function toPlain(value: unknown, depth = 0): JsonValue {
  if (depth > MAX_DEPTH) throw new TooDeep();
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((item) => toPlain(item, depth + 1));
  if (value instanceof Set) return [...value].map((item) => toPlain(item, depth + 1));
  const result: JsonObject = {};
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
  for (const [key, item] of entries) setOwn(result, String(key), toPlain(item, depth + 1));
  return result;
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A parsed YAML text; `value` is undefined when the text could not be parsed. */
export interface ParsedYaml {
  value: JsonValue | undefined;
  /** Why parsing failed, with the 1-based line in the text. */
  error?: { line: number | undefined; reason: string };
  /** 1-based line (in the text) of the key or item at `path`, or of the deepest part of it found. */
  lineOf(path: ReadonlyArray<string | number>): number | undefined;
}

/** Parses YAML the way cloud-init's PyYAML safe_load would (one document, YAML 1.1, `<<` merges). */
export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, {
      version: '1.1',
      merge: true,
      uniqueKeys: false,
      customTags: pyYamlTags,
      lineCounter,
      prettyErrors: true,
    });
  } catch (error) {
    // The parser reports its own failures as errors; this is for what it did not foresee.
    return { value: undefined, error: { line: undefined, reason: String(error) }, lineOf: () => undefined };
  }
  const lineOf = (path: ReadonlyArray<string | number>): number | undefined =>
    findLine(doc, lineCounter, path);
  const first = doc.errors[0];
  if (first !== undefined) {
    return {
      value: undefined,
      // The message repeats the position relative to the text; the caller cites file lines.
      error: {
        line: first.linePos?.[0].line,
        reason: first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$|:$/, ''),
      },
      lineOf,
    };
  }
  try {
    return { value: toPlain(doc.toJS({ maxAliasCount: 1000 })), lineOf };
  } catch (error) {
    const reason = error instanceof TooDeep ? 'nested too deeply' : String((error as Error).message);
    return { value: undefined, error: { line: undefined, reason }, lineOf };
  }
}

function findLine(
  doc: Document,
  lineCounter: LineCounter,
  path: ReadonlyArray<string | number>,
): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      // Duplicate keys: the last one wins, as in PyYAML.
      const pair = node.items.findLast((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined || !isScalar(pair.key) || !pair.key.range) return line;
      line = lineCounter.linePos(pair.key.range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      const range = (item as { range?: [number, number, number] | null } | undefined)?.range;
      if (!range) return line;
      line = lineCounter.linePos(range[0]).line;
      node = item;
    } else {
      return line;
    }
  }
  return line;
}
