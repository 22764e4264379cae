import { describe, expect, it } from 'vitest';
import { mergeMany, originOf } from './merge.js';
import { cloudInitTrue } from './settings.js';
import { parseYaml } from './yaml.js';

describe('mergeMany (cloud-init mergemanydict, highest priority first)', () => {
  it('keeps the first value of a key, merges dicts recursively, never combines lists', () => {
    const merged = mergeMany([
      { a: 1, c: [4], d: { a: 3, f: 10 }, e: 20 },
      { a: 10, b: 2, c: [1, 2, 3], d: { a: 1, b: 2 } },
    ]);
    expect(merged.value).toEqual({ a: 1, c: [4], d: { a: 3, f: 10, b: 2 }, e: 20, b: 2 });
    expect(originOf(merged.origin, ['a'])).toBe(0);
    expect(originOf(merged.origin, ['b'])).toBe(1);
    expect(originOf(merged.origin, ['c'])).toBe(0);
    expect(originOf(merged.origin, ['d', 'a'])).toBe(0);
    expect(originOf(merged.origin, ['d', 'b'])).toBe(1);
    expect(originOf(merged.origin, ['missing'])).toBe(-1);
  });

  it('lets a lower-priority dict replace a string or list (the str/list mergers return it)', () => {
    const merged = mergeMany([
      { s: 'x', l: [1], n: 5 },
      { s: { k: 1 }, l: { k: 2 }, n: { k: 3 } },
    ]);
    expect(merged.value).toEqual({ s: { k: 1 }, l: { k: 2 }, n: 5 });
    expect(originOf(merged.origin, ['s', 'k'])).toBe(1);
    expect(originOf(merged.origin, ['n'])).toBe(0);
  });

  it('does not delete a key for a lower-priority null, and keeps a __proto__ key a plain key', () => {
    const low = JSON.parse('{"a": null, "__proto__": {"polluted": true}}') as Record<string, null>;
    const merged = mergeMany([{ a: 1 }, low]);
    expect(merged.value['a']).toBe(1);
    expect(Object.hasOwn(merged.value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('parseYaml (as PyYAML safe_load reads it)', () => {
  it('reads YAML 1.1 booleans but not y/n, octal ints, merge keys, and the last duplicate key', () => {
    const parsed = parseYaml('a: yes\nb: y\nc: off\nd: 0644\nbase: &b {k: 1}\ne:\n  <<: *b\n  j: 2\na: no\n');
    expect(parsed.value).toEqual({ a: false, b: 'y', c: false, d: 420, base: { k: 1 }, e: { k: 1, j: 2 } });
    expect(parsed.lineOf(['a'])).toBe(9);
    expect(parsed.lineOf(['e', 'j'])).toBe(8);
    expect(parsed.lineOf(['e', 'k'])).toBe(6);
  });

  it('turns timestamps, binary and non-finite floats into JSON values', () => {
    const parsed = parseYaml('t: 2024-05-01\nbin: !!binary aGk=\nn: .nan\n');
    expect(parsed.value).toEqual({ t: '2024-05-01T00:00:00.000Z', bin: 'aGk=', n: 'NaN' });
  });

  it('refuses an alias bomb and self-referencing aliases instead of expanding them', () => {
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
    ]) {
      rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    expect(parseYaml(rows.join('\n')).error?.reason).toMatch(/alias count/);
    expect(parseYaml('&a [*a]').error?.reason).toBe('nested too deeply');
  });

  it('reports the line of a syntax error', () => {
    const parsed = parseYaml('a: 1\nb: [1, 2\nc: 3\n');
    expect(parsed.value).toBeUndefined();
    expect(parsed.error?.line).toBe(3);
  });
});

describe('cloudInitTrue (translate_bool)', () => {
  it.each([
    [true, true],
    ['yes', true],
    [' On ', true],
    ['1', true],
    [1, true],
    ['y', false],
    ['false', false],
    [false, false],
    [null, false],
    [[], false],
    ['security', false],
  ] as const)('%j -> %s', (value, expected) => {
    expect(cloudInitTrue(value as never)).toBe(expected);
  });
});
