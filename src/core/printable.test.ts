import { describe, expect, it } from 'vitest';
import { printable, printableDeep } from './printable.js';

describe('printable', () => {
  it('escapes control characters, keeping newlines and tabs unless asked', () => {
    expect(printable('a\u001b[2Jb\u0007c\r\u009bd\u202ee\u007f')).toBe(
      'a\\x1b[2Jb\\x07c\\r\\x9bd\\u202ee\\x7f',
    );
    expect(printable('one\n\ttwo')).toBe('one\n\ttwo');
    expect(printable('one\n\ttwo', { oneLine: true })).toBe('one\\n\\ttwo');
    expect(printable('plain ünïcode – ok')).toBe('plain ünïcode – ok');
  });

  it('copies a report with every string escaped, numbers and nulls as they are', () => {
    const report = { name: 'x\u001by', list: [{ path: '/a\u0000', line: 3 }], none: null, ok: true };
    expect(printableDeep(report)).toEqual({
      name: 'x\\x1by',
      list: [{ path: '/a\\x00', line: 3 }],
      none: null,
      ok: true,
    });
    expect(report.name).toBe('x\u001by');
  });
});
