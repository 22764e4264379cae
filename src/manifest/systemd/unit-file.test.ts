import { describe, expect, it } from 'vitest';
import {
  assignmentsOf,
  effectiveList,
  effectiveValue,
  parseSystemdBoolean,
  parseUnitFile,
} from './unit-file.js';

describe('parseUnitFile', () => {
  it('reads sections, assignments, comments and continuations with the first line number', () => {
    const text = [
      '\uFEFF# comment',
      '[Unit]',
      'Description = Daily apt download activities ',
      '; another comment',
      '',
      '[Service]',
      'ExecStart=/bin/sh -c \\',
      '  "echo one \\',
      '# a comment inside a continuation is dropped',
      '  two"',
      'ExecStart=',
      'Environment=A=1 B=2',
      'ExecStartPre=/bin/true \\\\',
      '[X-Custom]',
      'Key=value\r',
    ].join('\n');
    const parsed = parseUnitFile(text, '/etc/systemd/system/x.service');
    expect(parsed).toEqual({
      path: '/etc/systemd/system/x.service',
      entries: [
        { section: 'Unit', key: 'Description', value: 'Daily apt download activities', line: 3 },
        { section: 'Service', key: 'ExecStart', value: '/bin/sh -c    "echo one    two"', line: 7 },
        { section: 'Service', key: 'ExecStart', value: '', line: 11 },
        { section: 'Service', key: 'Environment', value: 'A=1 B=2', line: 12 },
        { section: 'Service', key: 'ExecStartPre', value: '/bin/true \\\\', line: 13 },
        { section: 'X-Custom', key: 'Key', value: 'value', line: 15 },
      ],
      problems: [],
      loadable: true,
    });
  });

  it('reports malformed lines and keeps reading', () => {
    const text = [
      'Orphan=1',
      '[Unit]',
      'no equals sign here',
      '=value',
      '[Broken',
      'After=network.target',
      'Trailing=\\',
    ].join('\n');
    const parsed = parseUnitFile(text, '/lib/systemd/system/bad.service');
    expect(parsed.entries).toEqual([
      { section: 'Unit', key: 'After', value: 'network.target', line: 6 },
      { section: 'Unit', key: 'Trailing', value: '', line: 7 },
    ]);
    expect(parsed.problems).toEqual([
      {
        path: '/lib/systemd/system/bad.service',
        line: 1,
        reason: 'assignment outside of a section, ignored',
      },
      {
        path: '/lib/systemd/system/bad.service',
        line: 3,
        reason: "missing '=' in 'no equals sign here', line ignored",
      },
      {
        path: '/lib/systemd/system/bad.service',
        line: 4,
        reason: "missing key name before '=' in '=value', line ignored",
      },
      {
        path: '/lib/systemd/system/bad.service',
        line: 5,
        reason: "invalid section header '[Broken': systemd refuses to load this file",
      },
    ]);
    expect(parsed.loadable).toBe(false);
  });
});

describe('effective values', () => {
  const fragment = parseUnitFile(
    '[Service]\nType=simple\nExecStart=/a\nExecStartPre=/pre\n[Timer]\nOnCalendar=daily\nOnBootSec=5m\n',
    '/f',
  );
  const dropIn = parseUnitFile(
    '[Service]\nType=\nExecStart=\nExecStart=/b\n[Timer]\nOnBootSec=\nOnCalendar=weekly\n',
    '/d',
  );
  const list = assignmentsOf([fragment, dropIn]);

  it('resets a list on an empty assignment, per key or per group', () => {
    expect(effectiveList(list, 'Service', ['ExecStart']).map((a) => [a.value, a.source])).toEqual([
      ['/b', { path: '/d', line: 4 }],
    ]);
    expect(effectiveList(list, 'Service', ['ExecStartPre']).map((a) => a.value)).toEqual(['/pre']);
    expect(effectiveList(list, 'Timer', ['OnCalendar', 'OnBootSec']).map((a) => a.value)).toEqual(['weekly']);
  });

  it('takes the last single value; empty resets to the default', () => {
    expect(effectiveValue(list, 'Service', 'Type')).toBeNull();
    expect(effectiveValue(assignmentsOf([fragment]), 'Service', 'Type')).toEqual({
      section: 'Service',
      key: 'Type',
      value: 'simple',
      source: { path: '/f', line: 2 },
    });
  });

  it('parses booleans like systemd', () => {
    expect(['yes', 'True', 'on', '1', 't', 'y'].map(parseSystemdBoolean)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['no', 'FALSE', 'off', '0', 'f', 'n'].map(parseSystemdBoolean)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(parseSystemdBoolean('maybe')).toBeUndefined();
  });
});
