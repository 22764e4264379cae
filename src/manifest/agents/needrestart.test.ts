import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { treeFs } from '../../test-support/tree.js';
import type { ManifestProblem } from '../types.js';
import { NEEDRESTART_CONF, readNeedrestart, restartAssignments } from './needrestart.js';

const STOCK = readFileSync(new URL('./__fixtures__/needrestart.conf', import.meta.url), 'utf8');

describe('readNeedrestart', () => {
  it('finds no restart mode in the stock Debian configuration (only a commented one)', () => {
    const problems: ManifestProblem[] = [];
    const info = readNeedrestart(
      treeFs({ [NEEDRESTART_CONF]: STOCK, '/usr/sbin/needrestart': '#!/usr/bin/perl\n' }),
      problems,
    );
    expect(info).toEqual({ present: true, files: [NEEDRESTART_CONF], restart: null, environmentMode: null });
    expect(problems).toEqual([]);
  });

  it('takes the last assignment across needrestart.conf and conf.d/*.conf in lexical order', () => {
    const info = readNeedrestart(
      treeFs({
        [NEEDRESTART_CONF]: STOCK,
        '/etc/needrestart/conf.d/50-autorestart.conf':
          "# Restart services automatically\n$nrconf{restart} = 'a';\n",
        '/etc/needrestart/conf.d/10-list.conf': '$nrconf{restart}="l";\n',
        '/etc/needrestart/conf.d/README': "$nrconf{restart} = 'i';\n",
      }),
      [],
    );
    expect(info.files).toEqual([
      NEEDRESTART_CONF,
      '/etc/needrestart/conf.d/10-list.conf',
      '/etc/needrestart/conf.d/50-autorestart.conf',
    ]);
    expect(info.restart).toEqual({
      value: 'a',
      source: { path: '/etc/needrestart/conf.d/50-autorestart.conf', line: 2 },
    });
  });

  it('reads NEEDRESTART_MODE from /etc/environment', () => {
    const info = readNeedrestart(treeFs({ '/etc/environment': 'PATH="/usr/bin"\nNEEDRESTART_MODE=a\n' }), []);
    expect(info).toEqual({
      present: false,
      files: [],
      restart: null,
      environmentMode: { value: 'a', source: { path: '/etc/environment', line: 2 } },
    });
  });
});

describe('restartAssignments', () => {
  it('ignores commented, POD and __END__ look-alikes; honours trailing comments and both quotes', () => {
    const problems: ManifestProblem[] = [];
    const text = [
      "#$nrconf{restart} = 'a';",
      '   # $nrconf{restart} = "a";',
      "$nrconf{restart} = 'i'; # interactive, '#' inside is fine",
      '=pod',
      "$nrconf{restart} = 'a';",
      '=cut',
      '$nrconf{kernelhints} = 0; $nrconf{\'restart\'} = "l";',
      "$nrconf{restart} = $ENV{MODE} // 'a';",
      'print "$nrconf{restart}\\n" if $nrconf{restart} == 1;',
      '__END__',
      "$nrconf{restart} = 'a';",
    ].join('\n');
    expect(restartAssignments(text, '/etc/needrestart/needrestart.conf', problems)).toEqual([
      { value: 'i', source: { path: '/etc/needrestart/needrestart.conf', line: 3 } },
      { value: 'l', source: { path: '/etc/needrestart/needrestart.conf', line: 7 } },
    ]);
    expect(problems).toEqual([
      {
        path: '/etc/needrestart/needrestart.conf',
        line: 8,
        reason: '$nrconf{restart} is not assigned a quoted string; value not understood',
      },
    ]);
  });
});
