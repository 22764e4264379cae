import { describe, expect, it } from 'vitest';
import { scanArgv, scanShell, scanSystemdExec, scriptPathsOf, splitSystemdExec } from './index.js';

/** Deterministic junk drawn mostly from shell syntax characters. */
function junk(length: number, seed: number): string {
  const alphabet = 'ab $(){}[]`"\'\\\n;|&<>#=@!*+?-/:.09\t\r\u0000\u00e9EOF<<-';
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(alphabet[(x >>> 8) % alphabet.length] as string);
  }
  return out.join('');
}

const NASTY = [
  '',
  '\u0000\u0001\u0002\uffff',
  '"unterminated',
  "'unterminated",
  '$(unclosed',
  '`unclosed',
  '${unclosed',
  '$((1 +',
  '((((((',
  '))))))',
  '{ { { ;',
  'case x in',
  'case x in a) apt-get install y',
  'if then else fi done esac }',
  'cat <<',
  'cat <<EOF',
  'cat <<"',
  'a=(',
  'f() ',
  'function',
  '\\',
  'echo \\',
  '<(',
  '>&',
  '2>',
  '|||;;;&&&',
  'sh -c',
  'sudo -u',
  'timeout',
  'docker run',
  'docker run -e',
  'curl |',
  '| sh',
  '@(',
  "$'\\",
];

describe('robustness', () => {
  it.each(NASTY)('never throws on %j', (text) => {
    expect(Array.isArray(scanShell(text))).toBe(true);
    expect(Array.isArray(scriptPathsOf(text))).toBe(true);
    expect(Array.isArray(scanSystemdExec(text))).toBe(true);
    expect(Array.isArray(splitSystemdExec(text))).toBe(true);
    expect(Array.isArray(scanArgv([text, text]))).toBe(true);
  });

  it('still finds a command after an unclosed construct on an earlier line', () => {
    expect(scanShell('case x in a) apt-get install y').map((h) => h.tool)).toEqual(['apt-get']);
    expect(scanShell('echo (\napt-get install y').map((h) => h.line)).toEqual([2]);
  });

  it('never throws on random junk', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const text = junk(2_000, seed);
      expect(Array.isArray(scanShell(text))).toBe(true);
      expect(Array.isArray(scriptPathsOf(text))).toBe(true);
    }
  });

  it('finishes on 2 MB of junk (linear time)', () => {
    const hits = scanShell(junk(2 * 1024 * 1024, 7));
    expect(Array.isArray(hits)).toBe(true);
  });

  it.each([
    ['deep $( nesting', '$('.repeat(200_000)],
    ['deep ${ nesting', '${'.repeat(200_000)],
    ['deep backtick nesting', '`\\`\\\\\\`'.repeat(50_000)],
    ['deep array nesting', 'a=('.repeat(200_000)],
    ['many here-documents', 'cat <<EOF\n$(\n'.repeat(50_000)],
    ['one huge command', 'echo `a` $(b) <(c) '.repeat(50_000)],
  ])('finishes on %s', (_name, text) => {
    expect(Array.isArray(scanShell(text))).toBe(true);
  });

  it('tolerates non-string input from untyped callers', () => {
    expect(scanShell(undefined as unknown as string)).toEqual([]);
    expect(scanArgv([1, null] as unknown as string[])).toEqual([]);
  });
});
