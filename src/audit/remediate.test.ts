import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTree } from '../test-support/tree.js';
import { applyRemediations, setLine } from './remediate.js';

describe('applying remediation steps', () => {
  it('creates missing directories once and keeps using them', () => {
    const root = makeTree({ '/etc/hostname': 'x\n' });
    const applied = applyRemediations(root, [
      { rule: 'r', step: { action: 'mask-units', units: ['a.timer', 'b.timer'] } },
      {
        rule: 'r',
        step: { action: 'set-line', path: '/etc/apt/apt.conf.d/99x', match: 'A::B ', line: 'A::B "0";' },
      },
      {
        rule: 'r',
        step: { action: 'set-line', path: '/etc/apt/apt.conf.d/99x', match: 'A::C ', line: 'A::C "0";' },
      },
    ]);
    expect(applied.every((a) => a.applied)).toBe(true);
    expect(readlinkSync(join(root, 'etc/systemd/system/a.timer'))).toBe('/dev/null');
    expect(readlinkSync(join(root, 'etc/systemd/system/b.timer'))).toBe('/dev/null');
    expect(readFileSync(join(root, 'etc/apt/apt.conf.d/99x'), 'utf8')).toBe('A::B "0";\nA::C "0";\n');
  });

  it('refuses to mask over what is not a link, saying what is there', () => {
    const mask = { rule: 'r', step: { action: 'mask-units' as const, units: ['a.timer'] } };
    const refusal = (tree: Parameters<typeof makeTree>[0]) => {
      try {
        applyRemediations(makeTree(tree), [mask]);
      } catch (error) {
        return (error as Error).message;
      }
      return 'applied';
    };
    expect(refusal({ '/etc/systemd/system/a.timer': '[Timer]\n' })).toBe(
      '/etc/systemd/system/a.timer is a unit file, not a link',
    );
    expect(refusal({ '/etc/systemd/system/a.timer': { dir: true } })).toBe(
      '/etc/systemd/system/a.timer is a directory, not a link',
    );
    const fifo = makeTree({ '/etc/systemd/system/.keep': '' });
    execFileSync('mkfifo', [join(fifo, 'etc/systemd/system/a.timer')]);
    expect(() => applyRemediations(fifo, [mask])).toThrow(
      '/etc/systemd/system/a.timer is a special file (a FIFO, socket or device), not a link',
    );
  });

  it('writes inside the image through its links, and replaces a link where a file goes', () => {
    const root = makeTree({
      '/etc/apt': { link: '/srv/apt' },
      '/srv/apt/apt.conf.d/20x': 'A "1";\n',
      '/etc/rc.local': { link: '/etc/hostname' },
    });
    applyRemediations(root, [
      {
        rule: 'r',
        step: { action: 'set-line', path: '/etc/apt/apt.conf.d/20x', match: 'A ', line: 'A "0";' },
      },
      { rule: 'r', step: { action: 'write-file', path: '/etc/rc.local', content: '#!/bin/sh\n' } },
    ]);
    expect(readFileSync(join(root, 'srv/apt/apt.conf.d/20x'), 'utf8')).toBe('A "0";\n');
    expect(lstatSync(join(root, 'etc/rc.local')).isFile()).toBe(true);
  });

  it('leaves commands and stale line removals to the person', () => {
    const root = makeTree({ '/etc/environment': 'A=1\nB=2\n' });
    const applied = applyRemediations(root, [
      { rule: 'r', step: { action: 'command', argv: ['snap', 'refresh', '--hold'] } },
      { rule: 'r', step: { action: 'remove-line', path: '/etc/environment', line: 2, text: 'B=3' } },
    ]);
    expect(applied.map((a) => a.applied)).toEqual([false, false]);
    expect(readFileSync(join(root, 'etc/environment'), 'utf8')).toBe('A=1\nB=2\n');
  });

  it('replaces the matching line or appends', () => {
    expect(setLine('a 1\nb 2\n', 'b ', 'b 3')).toBe('a 1\nb 3\n');
    expect(setLine('a 1', 'c ', 'c 3')).toBe('a 1\nc 3\n');
    expect(setLine('', 'c ', 'c 3')).toBe('c 3\n');
  });
});

describe('line removals of several findings in one file', () => {
  it('are applied bottom-up, so each removes the line it names', () => {
    const root = makeTree({ '/etc/rc.local': 'a\nb\nc\nd\n' });
    const applied = applyRemediations(root, [
      { rule: 'first', step: { action: 'remove-line', path: '/etc/rc.local', line: 2, text: 'b' } },
      { rule: 'second', step: { action: 'remove-line', path: '/etc/rc.local', line: 4, text: 'd' } },
    ]);
    expect(applied.map((a) => [a.rule, a.applied])).toEqual([
      ['first', true],
      ['second', true],
    ]);
    expect(readFileSync(join(root, 'etc/rc.local'), 'utf8')).toBe('a\nc\n');
  });
});
