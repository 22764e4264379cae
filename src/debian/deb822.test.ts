import { describe, expect, it } from 'vitest';
import type { Deb822Document } from './deb822.js';
import { field, parseDeb822 } from './deb822.js';

/** Paragraphs as plain data, so expectations read like the input. */
function plain(doc: Deb822Document): Array<{ line: number; fields: Array<[string, string, number]> }> {
  return doc.paragraphs.map((p) => ({
    line: p.line,
    fields: [...p.fields.values()].map((f): [string, string, number] => [f.name, f.value, f.line]),
  }));
}

describe('parseDeb822', () => {
  it('reads paragraphs, multi-line values and comments', () => {
    const text = [
      '# apt .sources comment',
      'Types: deb deb-src',
      'URIs: http://deb.distro-mirror.example/debian',
      '# a comment inside a paragraph',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
      '',
      'Package: hello',
      'Status: install ok installed',
      'Conffiles:',
      ' /etc/hello.conf 0123abcd',
      '\t/etc/hello.d/x abcd0123',
      'Description: say hello  ',
      ' The classic.',
      ' .',
      '  verbatim line',
      '',
    ].join('\n');
    const doc = parseDeb822(text);
    expect(doc.problems).toEqual([]);
    expect(plain(doc)).toEqual([
      {
        line: 2,
        fields: [
          ['Types', 'deb deb-src', 2],
          ['URIs', 'http://deb.distro-mirror.example/debian', 3],
          ['Suites', 'bookworm bookworm-updates', 5],
          ['Components', 'main', 6],
        ],
      },
      {
        line: 9,
        fields: [
          ['Package', 'hello', 9],
          ['Status', 'install ok installed', 10],
          ['Conffiles', '\n/etc/hello.conf 0123abcd\n/etc/hello.d/x abcd0123', 11],
          ['Description', 'say hello\nThe classic.\n\n verbatim line', 14],
        ],
      },
    ]);
  });

  it('looks fields up case-insensitively and keeps the original case', () => {
    const [p] = parseDeb822('Multi-Arch: same\nPACKAGE:libc6\n').paragraphs;
    if (p === undefined) throw new Error('no paragraph');
    expect(field(p, 'multi-arch')).toBe('same');
    expect(field(p, 'Package')).toBe('libc6');
    expect(p.fields.get('package')?.name).toBe('PACKAGE');
    expect(field(p, 'Version')).toBeUndefined();
  });

  it('reports malformed lines with their line numbers and reads the rest', () => {
    const text = [
      ' orphan continuation',
      ' and its next line',
      'Package: a',
      'this line has no colon',
      ' continuation of the bad line',
      'Version: 1.0',
      'package: duplicate',
      '-Dash: not a field name',
      'Has Space: no',
      ': empty name',
      'Architecture: all',
      '   ',
      'Package: b',
    ].join('\r\n');
    const doc = parseDeb822(text);
    expect(doc.problems).toEqual([
      { line: 1, reason: 'continuation line without a field before it' },
      { line: 4, reason: 'not a field, continuation or comment: "this line has no colon"' },
      { line: 7, reason: 'duplicate field package (first at line 3)' },
      { line: 8, reason: 'not a field, continuation or comment: "-Dash: not a field name"' },
      { line: 9, reason: 'not a field, continuation or comment: "Has Space: no"' },
      { line: 10, reason: 'not a field, continuation or comment: ": empty name"' },
    ]);
    expect(plain(doc)).toEqual([
      {
        line: 3,
        fields: [
          ['Package', 'a', 3],
          ['Version', '1.0', 6],
          ['Architecture', 'all', 11],
        ],
      },
      { line: 13, fields: [['Package', 'b', 13]] },
    ]);
  });

  it('returns nothing for empty or comment-only input', () => {
    expect(parseDeb822('')).toEqual({ paragraphs: [], problems: [] });
    expect(parseDeb822('# only\n\n# comments\n')).toEqual({ paragraphs: [], problems: [] });
  });

  it('ignores a byte order mark and a missing final newline', () => {
    const doc = parseDeb822('\uFEFFOrigin: Debian\nSuite: stable');
    expect(plain(doc)).toEqual([
      {
        line: 1,
        fields: [
          ['Origin', 'Debian', 1],
          ['Suite', 'stable', 2],
        ],
      },
    ]);
  });
});
