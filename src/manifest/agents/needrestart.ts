import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem, SourceRef } from '../types.js';
import { listFiles, readImageText, splitLines } from './read.js';
import { parseShellAssignments } from './shell.js';

export interface NeedrestartValue {
  /** `l` (list only), `i` (interactive, the default), `a` (restart automatically). */
  value: string;
  source: SourceRef;
}

export interface NeedrestartInfo {
  /** `/usr/sbin/needrestart` or `/etc/needrestart/needrestart.conf` exists. */
  present: boolean;
  /** Files read in the order needrestart evaluates them. */
  files: string[];
  /** The last `$nrconf{restart} = '...';` evaluated, or null (needrestart's default, `i`). */
  restart: NeedrestartValue | null;
  /** `NEEDRESTART_MODE` in `/etc/environment`; overrides the configuration where that environment reaches. */
  environmentMode: NeedrestartValue | null;
}

export const NEEDRESTART_CONF = '/etc/needrestart/needrestart.conf';
const CONF_D = '/etc/needrestart/conf.d';

/** Cuts a Perl line at a `#` outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '#') {
      return line.slice(0, i);
    }
  }
  return line;
}

const RESTART_KEY = /\$nrconf\s*\{\s*(?:restart|'restart'|"restart")\s*\}\s*=(?!=)/g;
const QUOTED = /^\s*(?:'([^'\\]*)'|"([^"\\$@]*)")\s*(?:;|$)/;

/**
 * The `$nrconf{restart}` assignments of a needrestart Perl configuration, in order. Only literal
 * quoted strings are understood; any other assignment to it is a problem. POD and everything
 * after `__END__` are skipped, as Perl does.
 */
export function restartAssignments(
  text: string,
  path: string,
  problems: ManifestProblem[],
): NeedrestartValue[] {
  const found: NeedrestartValue[] = [];
  let pod = false;
  for (const [index, raw] of splitLines(text).entries()) {
    const line = index + 1;
    if (pod) {
      if (/^=cut\b/.test(raw)) pod = false;
      continue;
    }
    if (/^=[A-Za-z]/.test(raw)) {
      pod = true;
      continue;
    }
    if (/^__(?:END|DATA)__\s*$/.test(raw)) break;
    const code = stripComment(raw);
    for (const match of code.matchAll(RESTART_KEY)) {
      const value = QUOTED.exec(code.slice(match.index + match[0].length));
      if (value === null) {
        problems.push({
          path,
          line,
          reason: '$nrconf{restart} is not assigned a quoted string; value not understood',
        });
        continue;
      }
      found.push({ value: value[1] ?? value[2]!, source: { path, line } });
    }
  }
  return found;
}

/**
 * Reads needrestart's restart mode: needrestart.conf, then conf.d/*.conf in lexical order (the
 * stock needrestart.conf evaluates them at its end), the last assignment winning.
 */
export function readNeedrestart(fs: RootFs, problems: ManifestProblem[]): NeedrestartInfo {
  const files: string[] = [];
  let restart: NeedrestartValue | null = null;
  for (const path of [NEEDRESTART_CONF, ...listFiles(fs, CONF_D, '.conf')]) {
    const text = readImageText(fs, path, problems, 1024 * 1024);
    if (text === undefined) continue;
    files.push(path);
    restart = restartAssignments(text, path, problems).at(-1) ?? restart;
  }
  let environmentMode: NeedrestartValue | null = null;
  const environment = readImageText(fs, '/etc/environment', problems, 64 * 1024);
  if (environment !== undefined) {
    // pam_env reads KEY=VALUE lines; problems in the file are not needrestart's.
    const mode = parseShellAssignments(environment).assignments.findLast((a) => a.key === 'NEEDRESTART_MODE');
    if (mode !== undefined)
      environmentMode = { value: mode.value, source: { path: '/etc/environment', line: mode.line } };
  }
  return {
    present: fs.exists('/usr/sbin/needrestart') || fs.exists(NEEDRESTART_CONF),
    files,
    restart,
    environmentMode,
  };
}
