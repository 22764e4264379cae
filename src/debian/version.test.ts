import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isGoldgateError } from '../core/errors.js';
import { compareDebianVersions, isValidDebianVersion, parseDebianVersion } from './version.js';

const dpkgMissing = spawnSync('dpkg', ['--version'], { stdio: 'ignore' }).error !== undefined;
const skipNote = dpkgMissing ? ' (skipped: dpkg is not on PATH)' : '';

describe('parseDebianVersion', () => {
  it('splits epoch, upstream and revision at the first colon and the last hyphen', () => {
    expect(parseDebianVersion('1:2.36-9+deb12u14')).toEqual({
      epoch: 1,
      upstream: '2.36',
      revision: '9+deb12u14',
    });
    expect(parseDebianVersion('1.0')).toEqual({ epoch: 0, upstream: '1.0', revision: '' });
    expect(parseDebianVersion('2:1.0-beta-3')).toEqual({ epoch: 2, upstream: '1.0-beta', revision: '3' });
    expect(parseDebianVersion('1:2:3')).toEqual({ epoch: 1, upstream: '2:3', revision: '' });
    expect(parseDebianVersion(' \t1.0 ')).toEqual({ epoch: 0, upstream: '1.0', revision: '' });
  });

  it('accepts what dpkg accepts, including its oddities', () => {
    expect(parseDebianVersion('a1.0')?.upstream).toBe('a1.0'); // dpkg only warns
    expect(parseDebianVersion('+1:1.0')?.epoch).toBe(1); // strtol() takes a sign
    expect(parseDebianVersion('-0:1.0')?.epoch).toBe(0); // not negative, so allowed
    expect(parseDebianVersion('0007:1')?.epoch).toBe(7);
    expect(parseDebianVersion('\n1:1.0')?.epoch).toBe(1); // strtol() skips the newline
    expect(parseDebianVersion('2147483647:1')?.epoch).toBe(2147483647);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'blank'],
    ['1.0 1', 'embedded space'],
    [':1.0', 'empty epoch'],
    ['a:1.0', 'non-numeric epoch'],
    ['1.0-a:b', 'first colon is in the revision, so the epoch is "1.0-a"'],
    ['-1:1.0', 'negative epoch'],
    ['2147483648:1.0', 'epoch above INT_MAX'],
    ['1:', 'nothing after the colon'],
    ['1.0-', 'empty revision'],
    ['-1', 'empty upstream'],
    ['1:-1', 'empty upstream after epoch'],
    ['1.0_1', 'underscore'],
    ['1.0-1+b1~x_y', 'underscore in revision'],
    ['1.0-1:2', 'colon in revision'],
    ['1.0é', 'non-ASCII letter'],
  ])('rejects %j (%s)', (v) => {
    expect(parseDebianVersion(v)).toBeUndefined();
    expect(isValidDebianVersion(v)).toBe(false);
  });
});

const TRAPS = [
  ['1.09', '1.9', 0],
  ['1.0~rc1', '1.0', -1],
  ['1:0.9', '2.0', 1],
  ['1.0', '1.0+deb12u1', -1],
  ['2.36-9', '2.36-9+deb12u14', -1],
  ['1.0~~', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.0~~a', '1.0~~', 1],
  ['1.0a', '1.0+', -1], // letters sort before non-letters
  ['1.0a', '1.0', 1],
  ['1.0', '1.0.', -1],
  ['1.0', '1.0-0', 0], // absent revision equals "0"
  ['1.0-0', '1.0-00', 0],
  ['0:1.0', '1.0', 0],
  ['1.0', '1.00', 0],
  ['1.0', '1.0.0', -1],
  ['1.2.10', '1.2.9', 1],
  ['1.0A', '1.0a', -1], // uppercase before lowercase (ASCII)
  ['1.0+', '1.0.', -1], // non-letters by ASCII: + (43) < . (46)
  ['1a', '1.', -1],
  ['1~', '1a', -1],
  ['1.0-1', '1.0+1', -1], // the hyphen splits: upstream "1.0" < "1.0+1" decides
  ['123456789012345678901234567890', '123456789012345678901234567891', -1], // beyond 2^53
  ['00000000000000000000001', '1', 0],
] as const;

describe('compareDebianVersions', () => {
  it.each(TRAPS)('%s vs %s is %i', (a, b, expected) => {
    expect(compareDebianVersions(a, b)).toBe(expected);
    expect(compareDebianVersions(b, a)).toBe(-expected || 0);
  });

  it('throws a GoldgateError on an invalid version', () => {
    let thrown: unknown;
    try {
      compareDebianVersions('1.0', '1:');
    } catch (error) {
      thrown = error;
    }
    expect(isGoldgateError(thrown) && thrown.code).toBe('DEBIAN_VERSION_INVALID');
  });

  it.skipIf(dpkgMissing)(
    `agrees with dpkg --compare-versions on the traps and 2,000 generated pairs${skipNote}`,
    () => {
      const pairs = [...TRAPS.map(([a, b]): [string, string] => [a, b]), ...generatePairs(2000, 0x9e3779b9)];
      const dpkg = dpkgCompare(pairs);
      const disagreements = pairs
        .map(([a, b], i) => ({ a, b, dpkg: dpkg[i], ours: String(compareDebianVersions(a, b)) }))
        .filter((r) => r.dpkg !== r.ours);
      expect(disagreements).toEqual([]);
      // The generator must exercise every outcome, or the agreement says little.
      expect(new Set(dpkg)).toEqual(new Set(['-1', '0', '1']));
    },
  );
});

describe('isValidDebianVersion', () => {
  it.skipIf(dpkgMissing)(`agrees with dpkg's parser on 1,000 generated strings${skipNote}`, () => {
    const rand = prng(20240607);
    const alphabet = '0123456789012345aZ.+~-:_!,é';
    const strings: string[] = [];
    while (strings.length < 1000) {
      let s = '';
      for (let n = 1 + Math.floor(rand() * 8); n > 0; n--)
        s += alphabet[Math.floor(rand() * alphabet.length)];
      if (!s.startsWith('-')) strings.push(s); // dpkg would read it as an option
    }
    const verdicts = dpkgValidate(strings);
    const mismatches = strings
      .map((v, i) => ({ v, dpkg: verdicts[i], ours: isValidDebianVersion(v) }))
      // dpkg stops checking characters once it has warned about a non-digit start.
      .filter((r) => r.dpkg !== 'no-digit-start' && (r.dpkg === 'ok') !== r.ours);
    expect(mismatches).toEqual([]);
    expect(new Set(verdicts)).toEqual(new Set(['ok', 'error', 'bad-character', 'no-digit-start']));
  });
});

// The data goes to dpkg on stdin only; the script itself is fixed, so no data reaches a shell parser.
const COMPARE_SCRIPT = `while read -r a b; do
  dpkg --compare-versions "$a" lt "$b"; r=$?
  if [ "$r" -eq 0 ]; then echo -1
  elif [ "$r" -ne 1 ]; then echo "error $r"
  elif dpkg --compare-versions "$a" eq "$b"; then echo 0
  else echo 1; fi
done`;

function dpkgCompare(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  return runScript(COMPARE_SCRIPT, pairs.map(([a, b]) => `${a} ${b}\n`).join(''));
}

function runScript(script: string, input: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'goldgate-dpkg-'));
  try {
    const file = join(dir, 'input');
    writeFileSync(file, input);
    const result = spawnSync('sh', ['-c', `${script} < "$1"`, 'sh', file], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) throw new Error(`sh exited ${result.status}: ${result.stderr}`);
    return result.stdout.trimEnd().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const VALIDATE_SCRIPT = `while read -r v; do
  msg=$(dpkg --compare-versions "$v" eq "$v" 2>&1); r=$?
  case "$msg" in
    *"invalid character"*) echo bad-character ;;
    *"does not start with digit"*) echo no-digit-start ;;
    *) if [ "$r" -eq 0 ] && [ -z "$msg" ]; then echo ok; else echo error; fi ;;
  esac
done`;

function dpkgValidate(versions: readonly string[]): string[] {
  return runScript(VALIDATE_SCRIPT, versions.map((v) => `${v}\n`).join(''));
}

/** mulberry32: tiny, seedable, good enough to pick test cases reproducibly. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generatePairs(count: number, seed: number): Array<[string, string]> {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const digits = (): string => pick(['0', '1', '2', '9', '10', '01', '09', '009', '100', '99', '0010']);
  const letters = (): string => pick(['a', 'b', 'z', 'A', 'Z', 'rc', 'deb', 'ubuntu', 'b']);
  const seps = ['.', '+', '~', '~~', '.', '+', '~', ''];
  const piece = (): string => pick(seps) + (rand() < 0.6 ? digits() : letters());

  const upstream = (): string => {
    let s = rand() < 0.05 ? letters() : digits();
    for (let n = Math.floor(rand() * 5); n > 0; n--) s += piece();
    if (rand() < 0.15) s += pick(['~', '+', '.', 'a']);
    return s;
  };
  const revision = (): string => {
    let s = rand() < 0.8 ? digits() : letters();
    for (let n = Math.floor(rand() * 3); n > 0; n--) s += piece();
    return s;
  };
  const version = (): string => {
    const epoch = rand() < 0.2 ? `${pick(['0', '1', '2', '01'])}:` : '';
    let up = upstream();
    if (epoch && rand() < 0.1) up += `:${digits()}`;
    if (rand() < 0.1) up += `-${digits()}`; // a hyphen inside upstream, needs a revision
    const rev = rand() < 0.5 || up.includes('-') ? `-${revision()}` : '';
    return epoch + up + rev;
  };
  // Small edits keep a long shared prefix, where the interesting comparisons happen.
  const mutate = (v: string): string => {
    switch (Math.floor(rand() * 7)) {
      case 0:
        return v + piece();
      case 1:
        return v.slice(0, Math.max(1, v.length - 1 - Math.floor(rand() * 3)));
      case 2:
        return v.replace(/\d+/, (d) => (rand() < 0.5 ? `0${d}` : d.replace(/^0+(?=\d)/, '')));
      case 3:
        return v + pick(['~', '~~', '+', '.', 'a', '-1', '-0', '+deb12u1', '~rc1']);
      case 4:
        return `${pick(['0', '1'])}:${v.replace(/^\d+:/, '')}`;
      case 5: {
        const i = Math.floor(rand() * v.length);
        return v.slice(0, i) + pick(['0', '1', '9', 'a', 'Z', '~', '+', '.']) + v.slice(i + 1);
      }
      default:
        return version();
    }
  };

  const pairs: Array<[string, string]> = [];
  while (pairs.length < count) {
    const a = version();
    const b = rand() < 0.15 ? a : mutate(a);
    // Mutations can produce versions dpkg rejects outright; those are covered by the table above.
    if (isValidDebianVersion(a) && isValidDebianVersion(b)) pairs.push(rand() < 0.5 ? [a, b] : [b, a]);
  }
  return pairs;
}
