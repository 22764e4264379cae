import { literalWord, programName } from './args.js';
import type { Word } from './parse.js';

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const MAX_WRAPPERS = 16;

/** `sh -c <code>`: how wrappers that take a command string (`su -c`, `flock -c`) are followed. */
function shellCommand(code: Word): Word[] {
  return [literalWord('sh'), literalWord('-c'), code];
}

/**
 * Skips options: `value` lists those that take a separate value; `stop` those after which
 * nothing is run (returns null). Returns the index of the first operand.
 */
function skipOptions(
  args: Word[],
  value: ReadonlySet<string>,
  stop: ReadonlySet<string> = new Set(),
  shortValue = '',
): number | null {
  let i = 0;
  while (i < args.length) {
    const v = (args[i] as Word).value;
    if (v === '--') return i + 1;
    if (!v.startsWith('-') || v === '-') return i;
    const flag = v.startsWith('--') ? (v.split('=')[0] as string) : v;
    if (stop.has(flag)) return null;
    if (!v.startsWith('--')) {
      // A short cluster: a stop flag anywhere stops; a value flag takes the rest or the next word.
      for (let k = 1; k < v.length; k++) {
        const ch = v[k] as string;
        if (stop.has(`-${ch}`)) return null;
        if (shortValue.includes(ch)) {
          if (k === v.length - 1) i++;
          break;
        }
      }
      i++;
      continue;
    }
    i += value.has(v) ? 2 : 1;
  }
  return i;
}

function skipAssignments(args: Word[], from: number): number {
  let i = from;
  while (i < args.length && ASSIGNMENT.test((args[i] as Word).value)) i++;
  return i;
}

const SUDO_LONG_VALUE = new Set([
  '--user',
  '--group',
  '--prompt',
  '--close-from',
  '--chdir',
  '--role',
  '--type',
  '--command-timeout',
  '--other-user',
  '--host',
  '--login-class',
]);
// `-R` runs the command in another root: like chroot, not this instance.
const SUDO_STOP = new Set([
  '-l',
  '-v',
  '-e',
  '-V',
  '-K',
  '-h',
  '-R',
  '--list',
  '--validate',
  '--edit',
  '--version',
  '--chroot',
]);

function afterSudo(args: Word[]): Word[] | null {
  const i = skipOptions(
    args,
    SUDO_LONG_VALUE,
    new Set([...SUDO_STOP, '--help', '--remove-timestamp']),
    'ugpCDrtTUc',
  );
  return i === null ? null : args.slice(skipAssignments(args, i));
}

function afterEnv(args: Word[]): Word[] | null {
  let i = 0;
  while (i < args.length) {
    const v = (args[i] as Word).value;
    if (v === '--') {
      i++;
      break;
    }
    if (v === '-S' || v === '--split-string' || v.startsWith('--split-string=') || /^-S./.test(v)) {
      // `env -S 'prog args'` splits its argument into words.
      const inline = v.startsWith('--split-string=')
        ? v.slice(15)
        : v.startsWith('-S') && v.length > 2
          ? v.slice(2)
          : undefined;
      const text = inline ?? args[i + 1]?.value ?? '';
      const rest = args.slice(inline === undefined ? i + 2 : i + 1);
      const split = text
        .split(/\s+/)
        .filter((t) => t !== '')
        .map((t) => literalWord(t, t.includes('$')));
      return afterEnv([...split, ...rest]);
    }
    if (['-u', '--unset', '-C', '--chdir', '-P'].includes(v)) i += 2;
    else if (v.startsWith('-')) i++;
    else if (ASSIGNMENT.test(v)) i++;
    else break;
  }
  return args.slice(i);
}

function afterFlock(args: Word[]): Word[] | null {
  const value = new Set(['-w', '--wait', '--timeout', '-E', '--conflict-exit-code']);
  let sawLock = false;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as Word;
    const v = w.value;
    if (v === '-c' || v === '--command') {
      const code = args[i + 1];
      return code ? shellCommand(code) : null;
    }
    if (v.startsWith('--command=')) return shellCommand({ ...w, value: v.slice(10) });
    if (v === '--') return sawLock ? args.slice(i + 1) : args.slice(i + 2);
    if (v.startsWith('-')) {
      if (value.has(v)) i++;
      continue;
    }
    if (!sawLock) {
      sawLock = true;
      continue;
    }
    return args.slice(i);
  }
  return null;
}

/** su and runuser: a command string after `-c`, or (runuser -u) a command after the options. */
function afterSu(args: Word[], runuser: boolean): Word[] | null {
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as Word;
    const v = w.value;
    if (v === '-c' || v === '--command' || v === '--session-command') {
      const code = args[i + 1];
      return code ? shellCommand(code) : null;
    }
    if (v.startsWith('--command=')) return shellCommand({ ...w, value: v.slice(10) });
  }
  if (
    !runuser ||
    !args.some((w) => w.value === '-u' || w.value === '--user' || w.value.startsWith('--user='))
  ) {
    return null;
  }
  const value = new Set(['--user', '--group', '--supp-group', '--whitelist-environment', '--shell']);
  const i = skipOptions(args, value, new Set(), 'ugGws');
  return i === null ? null : args.slice(i);
}

function afterTimeout(args: Word[]): Word[] | null {
  const i = skipOptions(args, new Set(['--signal', '--kill-after']), new Set(['--help', '--version']), 'sk');
  return i === null ? null : args.slice(i + 1); // the duration comes first
}

function afterXargs(args: Word[]): Word[] | null {
  const value = new Set([
    '--arg-file',
    '--delimiter',
    '--eof',
    '--replace',
    '--max-lines',
    '--max-args',
    '--max-procs',
    '--max-chars',
    '--process-slot-var',
  ]);
  const i = skipOptions(args, value, new Set(['--help', '--version']), 'adEILnPs');
  return i === null ? null : args.slice(i);
}

type Unwrapper = (args: Word[]) => Word[] | null;

const NO_VALUE = new Set<string>();

const WRAPPERS: Record<string, Unwrapper> = {
  sudo: afterSudo,
  doas: afterSudo,
  env: afterEnv,
  nohup: (args) => args,
  builtin: (args) => args,
  busybox: (args) => args,
  exec: (args) => {
    const i = skipOptions(args, NO_VALUE, NO_VALUE, 'a');
    return i === null ? null : args.slice(i);
  },
  command: (args) => {
    const i = skipOptions(args, NO_VALUE, new Set(['-v', '-V']));
    return i === null ? null : args.slice(i);
  },
  time: (args) => {
    const i = skipOptions(args, new Set(['--format', '--output']), NO_VALUE, 'fo');
    return i === null ? null : args.slice(i);
  },
  nice: (args) => {
    const i = skipOptions(args, new Set(['--adjustment']), NO_VALUE, 'n');
    return i === null ? null : args.slice(i);
  },
  ionice: (args) => {
    const stop = new Set(['-p', '-P', '-u', '--pid', '--pgid', '--uid']);
    const i = skipOptions(args, new Set(['--class', '--classdata']), stop, 'cn');
    return i === null ? null : args.slice(i);
  },
  timeout: afterTimeout,
  xargs: afterXargs,
  flock: afterFlock,
  setsid: (args) => {
    const i = skipOptions(args, NO_VALUE);
    return i === null ? null : args.slice(i);
  },
  stdbuf: (args) => {
    const i = skipOptions(args, new Set(['--input', '--output', '--error']), NO_VALUE, 'ioe');
    return i === null ? null : args.slice(i);
  },
  // cloud-init's `cloud-init-per <frequency> <name> <command...>`, common in bootcmd.
  'cloud-init-per': (args) => (args.length > 2 && !args[0]?.value.startsWith('-') ? args.slice(2) : null),
  su: (args) => afterSu(args, false),
  runuser: (args) => afterSu(args, true),
};

/**
 * The command a wrapper runs: `sudo -E env K=V nohup apt-get ...` gives `apt-get ...`;
 * `su -c '...'` and `flock f -c '...'` give `sh -c '...'`. An empty result means the words
 * run nothing (`sudo -l`, `command -v x`). chroot is not a wrapper: what runs in another root
 * does not change this instance.
 */
export function unwrap(words: Word[]): Word[] {
  let argv = words;
  for (let n = 0; n < MAX_WRAPPERS; n++) {
    const name = programName(argv[0]);
    const unwrapper = name !== undefined && Object.hasOwn(WRAPPERS, name) ? WRAPPERS[name] : undefined;
    if (!unwrapper) return argv;
    const next = unwrapper(argv.slice(1));
    if (next === null) return [];
    argv = next;
  }
  return argv;
}

/** Whether `name` is a wrapper this module sees through. */
export function isWrapper(name: string): boolean {
  return Object.hasOwn(WRAPPERS, name);
}
