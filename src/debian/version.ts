import { GoldgateError } from '../core/errors.js';

/** A Debian version split the way dpkg splits it: `[epoch:]upstream[-revision]`. */
export interface DebianVersion {
  epoch: number;
  upstream: string;
  /** Text after the last hyphen; `''` when there is none (which compares equal to `'0'`). */
  revision: string;
}

const INT_MAX = 2 ** 31 - 1;
// dpkg trims only blanks (space, tab) around the whole version, but its strtol() epoch
// parse also skips any C whitespace, so "\n1:2" has epoch 1.
const EPOCH = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/;
const UPSTREAM_CHARS = /^[0-9A-Za-z.+~:-]*$/;
const REVISION_CHARS = /^[0-9A-Za-z.+~]*$/;

/**
 * Parses a version as dpkg's parseversion() does. Returns undefined where dpkg reports an
 * error, and also for characters dpkg only warns about (its database parser rejects them).
 * An upstream part that does not start with a digit is accepted, as dpkg only warns.
 */
export function parseDebianVersion(v: string): DebianVersion | undefined {
  const trimmed = v.replace(/^[ \t]+|[ \t]+$/g, '');
  if (trimmed === '' || /[ \t]/.test(trimmed)) return undefined;

  let epoch = 0;
  let rest = trimmed;
  const colon = trimmed.indexOf(':');
  if (colon !== -1) {
    const m = EPOCH.exec(trimmed.slice(0, colon));
    if (!m) return undefined;
    const value = Number(m[2]);
    // "-0" passes dpkg's `epoch < 0` check; any other negative epoch does not.
    if (m[1] === '-' && value !== 0) return undefined;
    if (value > INT_MAX) return undefined;
    epoch = value;
    rest = trimmed.slice(colon + 1);
    if (rest === '') return undefined;
  }

  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen === -1 ? rest : rest.slice(0, hyphen);
  const revision = hyphen === -1 ? '' : rest.slice(hyphen + 1);
  if (upstream === '' || (hyphen !== -1 && revision === '')) return undefined;
  if (!UPSTREAM_CHARS.test(upstream) || !REVISION_CHARS.test(revision)) return undefined;
  return { epoch, upstream, revision };
}

/** True when `parseDebianVersion` accepts `v`. */
export function isValidDebianVersion(v: string): boolean {
  return parseDebianVersion(v) !== undefined;
}

/**
 * Compares two versions exactly like `dpkg --compare-versions`: epoch, then upstream, then
 * revision. Throws a GoldgateError when either version is invalid.
 */
export function compareDebianVersions(a: string, b: string): -1 | 0 | 1 {
  const va = mustParse(a);
  const vb = mustParse(b);
  const diff =
    va.epoch !== vb.epoch
      ? va.epoch - vb.epoch
      : verrevcmp(va.upstream, vb.upstream) || verrevcmp(va.revision, vb.revision);
  return diff < 0 ? -1 : diff > 0 ? 1 : 0;
}

function mustParse(v: string): DebianVersion {
  const parsed = parseDebianVersion(v);
  if (parsed === undefined) {
    throw new GoldgateError('DEBIAN_VERSION_INVALID', `'${v}' is not a valid Debian version`, {
      fault: 'user',
    });
  }
  return parsed;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

// End of string is 0, so '~' (-1) sorts before it and every other character after it.
function order(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

/** Port of dpkg's verrevcmp(); reading past the end yields NaN, standing in for C's NUL. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const diff = order(a.charCodeAt(i)) - order(b.charCodeAt(j));
      if (diff !== 0) return diff;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    // Digit runs of any length: after leading zeros, the longer run is bigger, else the first differing digit decides.
    let firstDiff = 0;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}
