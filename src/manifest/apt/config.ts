import { posix } from 'node:path';
import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import { listAptDir } from './conf-dir.js';
import type { AptConfAssignment, AptConfOp } from './conf-parser.js';
import { aptLower, readAptConfFile } from './conf-parser.js';

/** One step in the life of an option: where it was set, appended to or cleared, and to what. */
export interface AptConfigEvent extends SourceRef {
  op: AptConfOp;
  /** The value set or appended; null for a clear. */
  value: string | null;
}

/** One option of the effective configuration. */
export interface AptConfigValue {
  /** Full name, spelled as APT first met it (`APT::Periodic::Unattended-Upgrade`). */
  key: string;
  /** `key` lowercased: the lookup key. */
  lkey: string;
  /**
   * The option's own value as APT holds it. `''` when the option exists without one (a list's
   * name, set to `""`, or the target of a `#clear`): APT's Find* then return their default,
   * but `apt-config shell` prints `''`. null when a `#clear` of a parent removed the option.
   */
  value: string | null;
  /** Items appended with `Key { "a"; "b"; };` or `Key:: "a";`, in order (present when the option was ever a list). */
  list?: string[];
  /** Where the current state was last changed. */
  source: SourceRef;
  /** Every set, append and clear that touched the option, in reading order. */
  history: AptConfigEvent[];
}

/** APT's configuration as read from an image. */
export interface AptConfig {
  /** Files read, in order: `/etc/apt/apt.conf.d/*`, then the main file, with includes where they were met. */
  files: string[];
  /** Entries of apt.conf.d (and included directories) that APT skips. */
  ignoredFiles: string[];
  /** True when APT would refuse to start with this configuration (see `problems`). */
  fatal: boolean;
  /** Options set by the image, sorted by `lkey`. APT's built-in defaults are not listed. */
  values: AptConfigValue[];
  problems: ManifestProblem[];
}

interface Node {
  tag: string;
  value: string;
  parent: Node | undefined;
  children: Node[];
}

interface OptionRecord {
  key: string;
  node: Node;
  events: AptConfigEvent[];
}

// The defaults pkgInitConfig sets before reading anything that decide which files are read.
const DEFAULTS: readonly (readonly [string, string])[] = [
  ['Dir', '/'],
  ['Dir::Etc', 'etc/apt'],
  ['Dir::Etc::sourcelist', 'sources.list'],
  ['Dir::Etc::sourceparts', 'sources.list.d'],
  ['Dir::Etc::main', 'apt.conf'],
  ['Dir::Etc::parts', 'apt.conf.d'],
];

/** Splits an option name at `::` exactly as Configuration::Lookup does (so `A:::b` is `A` and `:b`). */
function splitName(name: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; name.length - i >= 2; i++) {
    if (name[i] === ':' && name[i + 1] === ':') {
      parts.push(name.slice(start, i));
      start = i + 2;
      i = start;
    }
  }
  parts.push(name.slice(start));
  return parts;
}

/** APT's configuration tree: case-insensitive tags, insertion order, empty tags for list items. */
class Tree {
  readonly root: Node = { tag: '', value: '', parent: undefined, children: [] };

  lookup(name: string, create: boolean): Node | undefined {
    const parts = splitName(name);
    const last = parts.pop() as string;
    let node: Node | undefined = this.root;
    for (const part of parts) {
      node = this.child(node, part, create);
      if (node === undefined) return undefined;
    }
    if (last === '' && !create) return undefined;
    return this.child(node, last, create);
  }

  private child(head: Node, tag: string, create: boolean): Node | undefined {
    if (tag !== '') {
      const ltag = aptLower(tag);
      const found = head.children.find((c) => c.tag.length === tag.length && aptLower(c.tag) === ltag);
      if (found !== undefined) return found;
    }
    if (!create) return undefined;
    const node: Node = { tag, value: '', parent: head, children: [] };
    head.children.push(node);
    return node;
  }
}

function fullTag(node: Node): string {
  const tags: string[] = [];
  for (let n: Node | undefined = node; n?.parent !== undefined; n = n.parent) tags.unshift(n.tag);
  return tags.join('::');
}

function attached(node: Node): boolean {
  for (let n = node; n.parent !== undefined; n = n.parent) if (!n.parent.children.includes(n)) return false;
  return true;
}

/** Applies assignments to a tree, keeping each option's history. */
class Builder {
  readonly tree = new Tree();
  readonly records = new Map<string, OptionRecord>();

  constructor() {
    for (const [key, value] of DEFAULTS) (this.tree.lookup(key, true) as Node).value = value;
  }

  apply(a: AptConfAssignment): void {
    const event = (op: AptConfOp, value: string | null): AptConfigEvent => ({ ...a.source, op, value });
    if (a.op === 'clear') {
      const top = this.tree.lookup(a.key, false);
      if (top === undefined) return;
      // The clear shows in the history of the option itself and of every option it removes.
      const touched: Node[] = [];
      const walk = (n: Node): void => {
        if (n.tag === '' && n !== top) return;
        if (n === top || n.value !== '' || this.records.has(aptLower(fullTag(n)))) touched.push(n);
        n.children.forEach(walk);
      };
      walk(top);
      top.value = '';
      top.children = [];
      for (const n of touched) this.record(n).events.push(event('clear', null));
      return;
    }
    if (a.op === 'append') {
      const item = this.tree.lookup(a.key === '' ? '' : `${a.key}::`, true) as Node;
      item.value = a.value;
      this.record(item.parent as Node).events.push(event('append', a.value));
      return;
    }
    const node = this.tree.lookup(a.key, true) as Node;
    node.value = a.value;
    this.record(node).events.push(event('set', a.value));
  }

  private record(node: Node): OptionRecord {
    const key = fullTag(node);
    const lkey = aptLower(key);
    let record = this.records.get(lkey);
    if (record === undefined) {
      record = { key, node, events: [] };
      this.records.set(lkey, record);
    }
    record.node = node;
    return record;
  }

  /** Value of an option (`''` when it has none or does not exist), for FindFile. */
  find(key: string): string {
    return this.tree.lookup(key, false)?.value ?? '';
  }

  values(): AptConfigValue[] {
    const values: AptConfigValue[] = [];
    for (const [lkey, record] of this.records) {
      const live = attached(record.node);
      const items = live ? record.node.children.filter((c) => c.tag === '').map((c) => c.value) : [];
      const last = record.events[record.events.length - 1] as AptConfigEvent;
      const isList = items.length > 0 || record.events.some((e) => e.op === 'append');
      values.push({
        key: live ? fullTag(record.node) : record.key,
        lkey,
        value: live ? record.node.value : null,
        ...(isList ? { list: items } : {}),
        source: { path: last.path, line: last.line },
        history: record.events,
      });
    }
    return values.sort((a, b) => compareText(a.lkey, b.lkey));
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Configuration::FindFile over a lookup: a relative value is prefixed by its parents' values
 * (`Dir` + `Dir::Etc` + `Dir::Etc::main`), then by `RootDir`. Paths come back absolute.
 */
function findFile(find: (key: string) => string, key: string, fallback: string): string {
  let result = find('RootDir');
  if (result !== '' && !result.endsWith('/')) result += '/';
  let value = find(key);
  if (value === '') value = fallback;
  else {
    const parts = splitName(key);
    for (let n = parts.length - 1; n >= 1; n--) {
      const parent = find(parts.slice(0, n).join('::'));
      if (parent === '') continue;
      if (value.startsWith('/')) {
        if (value.startsWith('/dev/null')) value = '/dev/null';
        break;
      }
      if (/^[~.]\//.test(value) || value.startsWith('../')) break;
      value = (parent.endsWith('/') ? parent : `${parent}/`) + value;
    }
  }
  return posix.resolve('/', result + value);
}

/**
 * Reads APT's configuration from an image in APT's order (pkgInitConfig): every file of
 * `/etc/apt/apt.conf.d/` that APT accepts, by name, then the main file (`/etc/apt/apt.conf`,
 * or wherever `Dir::Etc::main` set in a part points). Later settings win, `#clear` removes.
 * `APT_CONFIG` and `-o` options come from outside the image and are not considered.
 */
export function collectAptConfig(fs: RootFs): AptConfig {
  const builder = new Builder();
  const config: AptConfig = { files: [], ignoredFiles: [], fatal: false, values: [], problems: [] };
  const read = (path: string): void => {
    const parsed = readAptConfFile(fs, path);
    config.files.push(...parsed.files);
    config.ignoredFiles.push(...parsed.ignoredFiles);
    config.problems.push(...parsed.problems);
    config.fatal ||= parsed.fatal;
    parsed.assignments.forEach((a) => builder.apply(a));
  };

  const find = (key: string): string => builder.find(key);
  const parts = listAptDir(fs, findFile(find, 'Dir::Etc::parts', '/dev/null'), ['conf'], true);
  config.ignoredFiles.push(...parts.ignored);
  config.problems.push(...parts.problems);
  parts.files.forEach(read);
  const main = findFile(find, 'Dir::Etc::main', '/dev/null');
  if (fs.stat(main)?.kind === 'file') read(main);

  config.values = builder.values();
  for (const value of config.values) config.problems.push(...checkValue(value));
  return config;
}

const PERIODIC_INTERVALS = [
  'Update-Package-Lists',
  'Download-Upgradeable-Packages',
  'Unattended-Upgrade',
  'AutocleanInterval',
  'CleanInterval',
  'BackupArchiveInterval',
].map((name) => `apt::periodic::${aptLower(name)}`);

/** Settings that do not do what they seem to. */
function checkValue(v: AptConfigValue): ManifestProblem[] {
  const at = { path: v.source.path, line: v.source.line };
  if (v.lkey === 'dir::etc::parts' && v.history.some((e) => e.op === 'set')) {
    return [
      { ...at, reason: `${v.key} set in the image has no effect: APT lists apt.conf.d before reading it` },
    ];
  }
  if (v.value === null) return [];
  if (
    PERIODIC_INTERVALS.includes(v.lkey) &&
    !/^(always|0|[1-9][0-9]*[smhd]?)$/.test(firstWord(v.value) ?? '')
  ) {
    const interval = aptPeriodicInterval(v.value);
    const meaning =
      interval.runs === 'never'
        ? 'never runs'
        : interval.runs === 'always' || (interval.seconds !== null && interval.seconds <= 0)
          ? 'runs the job every time'
          : interval.seconds === null
            ? 'runs the job while its stamp file is missing (as on a fresh image), not afterwards'
            : `runs the job every ${interval.seconds} s`;
    return [
      {
        ...at,
        reason: `${v.key} ${JSON.stringify(v.value)} is not a plain interval; apt.systemd.daily ${meaning}`,
      },
    ];
  }
  if (v.lkey === 'apt::periodic::enable' && aptBool(v.value) === false && aptPeriodicEnabled(v.value)) {
    return [
      {
        ...at,
        reason: `${v.key} ${JSON.stringify(v.value)} does not disable apt.systemd.daily: it tests the value as a number; use "0"`,
      },
    ];
  }
  return [];
}

/** The entry for an option name, compared case-insensitively as APT does. */
export function aptValue(config: AptConfig, key: string): AptConfigValue | undefined {
  const lkey = aptLower(key);
  return config.values.find((v) => v.lkey === lkey);
}

/**
 * A list option as Configuration::FindVector reads it: the own value split at commas when it has
 * one, else the list items. Empty when the option is absent.
 */
export function aptList(value: AptConfigValue | undefined): string[] {
  if (value === undefined || value.value === null) return [];
  if (value.value !== '') return value.value.split(',');
  return value.list ?? [];
}

/**
 * Where a file option points, as Configuration::FindFile resolves it (`Dir::Etc::sourcelist`
 * -> `/etc/apt/sources.list`), with APT's defaults for the `Dir::Etc` options it knows.
 */
export function aptFindFile(config: AptConfig | undefined, key: string, fallback = '/dev/null'): string {
  const defaults = new Map(DEFAULTS.map(([k, v]) => [aptLower(k), v]));
  const find = (k: string): string => {
    const entry = config === undefined ? undefined : aptValue(config, k);
    if (entry !== undefined) return entry.value ?? '';
    return defaults.get(aptLower(k)) ?? '';
  };
  return findFile(find, key, fallback);
}

/** C's strtol with base 0 (`0x` hex, leading `0` octal), as far as it reads; undefined when it reads nothing. */
function strtol(text: string): { value: bigint; rest: string } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (m === null) return undefined;
  const [whole, sign, digits] = m as unknown as [string, string, string];
  let value = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.length > 1 && digits.startsWith('0')
      ? BigInt(`0o${digits.slice(1)}`)
      : BigInt(digits);
  if (sign === '-') value = -value;
  const max = 2n ** 63n - 1n;
  if (value > max) value = max;
  if (value < -max - 1n) value = -max - 1n;
  return { value, rest: text.slice(whole.length) };
}

/**
 * A boolean as APT's FindB reads it (StringToBool): a whole number 0 or 1, or
 * no/false/without/off/disable and yes/true/with/on/enable in any case. undefined when the
 * value is absent, empty or anything else: APT then uses the caller's default.
 */
export function aptBool(value: string | null | undefined): boolean | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = strtol(value);
  if (n !== undefined && n.rest === '' && (n.value === 0n || n.value === 1n)) return n.value === 1n;
  const word = value.toLowerCase();
  if (['no', 'false', 'without', 'off', 'disable'].includes(word)) return false;
  if (['yes', 'true', 'with', 'on', 'enable'].includes(word)) return true;
  return undefined;
}

/**
 * An integer as APT's FindI reads it: strtol's leading number (`"1d"` is 1, `"0x10"` is 16,
 * `"010"` is 8), as a C int. undefined when absent, empty or not starting with a number.
 */
export function aptInt(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = strtol(value);
  return n === undefined ? undefined : Number(BigInt.asIntN(32, n.value));
}

/** How apt.systemd.daily schedules a job from an `APT::Periodic::*` interval. */
export interface AptPeriodicInterval {
  /**
   * `never`: skipped. `always`: on every run of apt-daily(-upgrade).service. `due`: when its
   * stamp file is missing (as on a fresh image) or older than `seconds`.
   */
  runs: 'never' | 'always' | 'due';
  /** The interval when it can be computed; null when the script cannot (it aborts once a stamp exists). */
  seconds: number | null;
}

function firstWord(value: string): string | undefined {
  return value.split(/[ \t\n]+/).find((w) => w !== '');
}

/**
 * An `APT::Periodic::*` interval as `/usr/lib/apt/apt.systemd.daily` (apt 2.6) treats it: it
 * reads the value with `apt-config shell` and compares strings, so only an absent option or
 * exactly `0` disables a job; `always` runs it every time; `N`, `Nd`, `Nh`, `Nm`, `Ns` are
 * intervals; anything else (`"true"`, `"yes"`, `""`) runs at least when the stamp is missing.
 */
export function aptPeriodicInterval(value: string | null | undefined): AptPeriodicInterval {
  if (value === null || value === undefined) return { runs: 'never', seconds: null };
  const word = firstWord(value);
  // apt-config prints '' for an empty option; the script's arithmetic reads it as 0.
  if (word === undefined) return { runs: 'due', seconds: 0 };
  if (word === 'always') return { runs: 'always', seconds: null };
  if (word === '0') return { runs: 'never', seconds: null };
  const unit = word.at(-1) as string;
  if (unit === 's') {
    const n = word.slice(0, -1);
    return { runs: 'due', seconds: /^[+-]?[0-9]+$/.test(n) ? Number(n) : null };
  }
  const factor = unit === 'm' ? 60 : unit === 'h' ? 3600 : 86400;
  const n = 'mhd'.includes(unit) ? word.slice(0, -1) : word;
  if (n === '') return { runs: 'due', seconds: 0 };
  const parsed = strtol(n);
  return {
    runs: 'due',
    seconds: parsed !== undefined && parsed.rest === '' ? Number(parsed.value) * factor : null,
  };
}

/**
 * `APT::Periodic::Enable` as apt.systemd.daily reads it (`[ $AutoAptEnable -eq 0 ]`): only a
 * single whole number equal to 0 disables the script; absent means enabled, and so do
 * `"false"` or `"no"` (the numeric test fails).
 */
export function aptPeriodicEnabled(value: string | null | undefined): boolean {
  if (value === null || value === undefined) return true;
  const words = value.split(/[ \t\n]+/).filter((w) => w !== '');
  return !(words.length === 1 && /^[+-]?[0-9]+$/.test(words[0] as string) && Number(words[0]) === 0);
}
