import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import { dropInNames, instanceOf, isUnitName, templateOf, withInstance } from './names.js';
import { fnmatch, presetFor, readMachineId, readPresets } from './presets.js';
import { parseTimeSpan } from './timers.js';
import type { ManifestProblem } from '../types.js';

describe('parseTimeSpan', () => {
  it.each([
    ['12h', 43_200],
    ['60m', 3600],
    ['1h 30min', 5400],
    ['1h30min', 5400],
    ['60', 60],
    ['5m', 300],
    ['5 min', 300],
    ['2d', 172_800],
    ['500ms', 0.5],
    ['1.5h', 5400],
    ['2 weeks', 1_209_600],
    ['1y', 31_557_600],
    ['1M', 2_629_800],
    ['10us', 0.00001],
    ['0', 0],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseTimeSpan(text)).toBe(seconds);
  });

  it('reads infinity as null and rejects what systemd rejects', () => {
    expect(parseTimeSpan('infinity')).toBeNull();
    expect(['', 'abc', '5mo', '-5s', '1h foo'].map(parseTimeSpan)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('unit names', () => {
  it('recognises plain, template and instance names', () => {
    expect(
      ['ssh.service', 'getty@.service', 'getty@tty1.service', 'README', 'foo.conf', 'a.d'].map(isUnitName),
    ).toEqual([true, true, true, false, false, false]);
    expect([
      instanceOf('ssh.service'),
      instanceOf('getty@.service'),
      instanceOf('getty@tty1.service'),
    ]).toEqual([null, '', 'tty1']);
    expect(templateOf('getty@tty1.service')).toBe('getty@.service');
    expect(withInstance('getty@.service', 'ttyS0')).toBe('getty@ttyS0.service');
  });

  it('lists drop-in directory names in systemd order', () => {
    expect(dropInNames('foo-bar-baz.service')).toEqual([
      'foo-bar-baz.service',
      'foo-bar-.service',
      'foo-.service',
    ]);
    expect(dropInNames('getty@tty1.service')).toEqual(['getty@tty1.service', 'getty@.service']);
    expect(dropInNames('a-b@x.service')).toEqual([
      'a-b@x.service',
      'a-b@.service',
      'a-.service',
      'a-@x.service',
      'a-@.service',
    ]);
    expect(dropInNames('-leading.service')).toEqual(['-leading.service']);
  });
});

describe('presets', () => {
  it('matches globs like fnmatch without escapes', () => {
    expect(fnmatch('apt-daily*.timer', 'apt-daily-upgrade.timer')).toBe(true);
    expect(fnmatch('*', 'anything.service')).toBe(true);
    expect(fnmatch('getty@tty?.service', 'getty@tty1.service')).toBe(true);
    expect(fnmatch('[!a]*.service', 'apt.service')).toBe(false);
    expect(fnmatch('[a-c]pt.service', 'apt.service')).toBe(true);
    expect(fnmatch('ssh.service', 'sshd.service')).toBe(false);
    expect(fnmatch('a.service', 'aXservice')).toBe(false);
  });

  it('reads preset files in name order, higher directories hiding same names, and reports bad lines', () => {
    const fs = treeFs({
      '/usr/lib/systemd/system-preset/90-systemd.preset':
        'enable getty@.service tty1 ttyS0\nenable systemd-*.service\n',
      '/usr/lib/systemd/system-preset/99-default.preset': 'disable *\n',
      '/usr/lib/systemd/system-preset/50-vendor.preset': 'enable apt-daily.timer\n',
      '/etc/systemd/system-preset/50-vendor.preset':
        '# hides the vendor file\n; comment\nbogus line\nenable ssh.service a\n',
      '/etc/systemd/system-preset/10-image.preset': 'disable apt-daily*.timer\nignore snapd.service\n',
    });
    const problems: ManifestProblem[] = [];
    const rules = readPresets(fs, problems);
    expect(rules).toEqual([
      {
        action: 'disable',
        pattern: 'apt-daily*.timer',
        instances: [],
        source: { path: '/etc/systemd/system-preset/10-image.preset', line: 1 },
      },
      {
        action: 'ignore',
        pattern: 'snapd.service',
        instances: [],
        source: { path: '/etc/systemd/system-preset/10-image.preset', line: 2 },
      },
      {
        action: 'enable',
        pattern: 'getty@.service',
        instances: ['tty1', 'ttyS0'],
        source: { path: '/usr/lib/systemd/system-preset/90-systemd.preset', line: 1 },
      },
      {
        action: 'enable',
        pattern: 'systemd-*.service',
        instances: [],
        source: { path: '/usr/lib/systemd/system-preset/90-systemd.preset', line: 2 },
      },
      {
        action: 'disable',
        pattern: '*',
        instances: [],
        source: { path: '/usr/lib/systemd/system-preset/99-default.preset', line: 1 },
      },
    ]);
    expect(problems).toEqual([
      {
        path: '/etc/systemd/system-preset/50-vendor.preset',
        line: 3,
        reason: "cannot parse preset line 'bogus line', ignored",
      },
      {
        path: '/etc/systemd/system-preset/50-vendor.preset',
        line: 4,
        reason: "instances listed for 'ssh.service', which is not a template; ignored",
      },
    ]);
    const etc = { path: '/etc/systemd/system-preset/10-image.preset', line: 1 };
    const vendor = { path: '/usr/lib/systemd/system-preset/90-systemd.preset', line: 1 };
    const all = { path: '/usr/lib/systemd/system-preset/99-default.preset', line: 1 };
    expect(presetFor('apt-daily-upgrade.timer', rules)).toEqual({ action: 'disable', rule: etc });
    expect(presetFor('getty@.service', rules)).toEqual({ action: 'enable', rule: vendor });
    expect(presetFor('getty@ttyS0.service', rules)).toEqual({ action: 'enable', rule: vendor });
    expect(presetFor('getty@tty5.service', rules)).toEqual({ action: 'disable', rule: all });
    expect(presetFor('cron.service', rules)).toEqual({ action: 'disable', rule: all });
    expect(presetFor('cron.service', [])).toEqual({ action: 'enable', rule: null });
  });
});

describe('readMachineId', () => {
  it.each([
    ['missing', undefined, { state: 'missing', firstBoot: true }],
    ['uninitialized', 'uninitialized\n', { state: 'uninitialized', firstBoot: true }],
    ['empty', '', { state: 'empty', firstBoot: false }],
    ['set', '0123456789abcdef0123456789abcdef\n', { state: 'set', firstBoot: false }],
  ])('%s', (_label, content, expected) => {
    const fs = treeFs(content === undefined ? { '/etc/hostname': 'x\n' } : { '/etc/machine-id': content });
    expect(readMachineId(fs)).toEqual(expected);
  });
});
