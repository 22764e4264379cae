import { findVerb, hasFlag, parseArgs, set } from './args.js';
import { judgeImage } from './image.js';
import { SUBST } from './parse.js';
import type { Word } from './parse.js';
import type { CommandCategory } from './types.js';
import { hasScheme, isLocalHost, isLocalUrl } from './url.js';

/** What one program invocation does, before it is tied to a line. */
export interface ToolHit {
  category: CommandCategory;
  tool: string;
  action: string;
  detail?: string;
  target?: string;
  /** A fetch whose content can go to stdout, so it can feed a shell through a pipe. */
  streams?: boolean;
}

/** The value of a word for a report: substitutions shown as `$(...)`. */
function shown(word: Word): string {
  return word.value.split(SUBST).join('$(...)');
}

function install(tool: string, action: string): ToolHit[] {
  return [{ category: 'package-install', tool, action }];
}

function fetched(tool: string, action: string, target?: string, detail?: string): ToolHit[] {
  const hit: ToolHit = { category: 'network-fetch', tool, action };
  if (target !== undefined) hit.target = target;
  if (detail !== undefined) hit.detail = detail;
  return [hit];
}

// ---------------------------------------------------------------------------------------------
// Package managers. The verb is the first operand that is a known subcommand, hit or not, so an
// option value we do not know about (`--foo bar install`) is skipped rather than taken as verb.

const APT_VALUE = set(
  '-o',
  '--option',
  '-c',
  '--config-file',
  '-t',
  '--target-release',
  '--default-release',
  '-a',
  '--host-architecture',
);
const APT_INSTALL = set(
  'install',
  'reinstall',
  'upgrade',
  'dist-upgrade',
  'full-upgrade',
  'safe-upgrade',
  'build-dep',
  'satisfy',
);
const APT_FETCH: Record<string, string> = { update: 'update', download: 'download', source: 'download' };
const APT_VERBS = set(
  ...APT_INSTALL,
  ...Object.keys(APT_FETCH),
  ...['remove', 'purge', 'autoremove', 'autopurge', 'clean', 'autoclean', 'check', 'list', 'search', 'show'],
  ...[
    'showsrc',
    'showpkg',
    'policy',
    'depends',
    'rdepends',
    'edit-sources',
    'markauto',
    'unmarkauto',
    'hold',
  ],
  ...[
    'unhold',
    'why',
    'why-not',
    'forget-new',
    'moo',
    'help',
    'indextargets',
    'changelog',
    'madison',
    'versions',
  ],
);
const APT_NOOP = [
  '-h',
  '--help',
  '--version',
  '-s',
  '--simulate',
  '--just-print',
  '--dry-run',
  '--recon',
  '--no-act',
];

function apt(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, APT_VALUE);
  if (hasFlag(p, ...APT_NOOP) || (tool !== 'aptitude' && hasFlag(p, '-v'))) return [];
  const v = findVerb(p, APT_VERBS);
  if (!v) return [];
  const fetchAction = APT_FETCH[v.verb];
  if (fetchAction) return fetched(tool, fetchAction);
  if (!APT_INSTALL.has(v.verb)) return [];
  if (hasFlag(p, '-d', '--download-only')) return fetched(tool, 'download');
  return install(tool, v.verb);
}

function unattendedUpgrade(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, set());
  if (hasFlag(p, '-h', '--help', '--version')) return [];
  // Its dry run still downloads the packages it would install.
  if (hasFlag(p, '--dry-run')) return fetched(tool, 'download');
  return install(tool, 'upgrade');
}

function dpkg(tool: string, args: Word[]): ToolHit[] {
  let mode: string | undefined;
  for (const w of args) {
    const v = w.value;
    if (v === '--') break;
    if (v === '--dry-run' || v === '--no-act' || v === '--simulate') return [];
    if (v === '--install' || /^-[RGEBO]*i[RGEBO]*$/.test(v)) mode ??= 'install';
    else if (v === '--unpack') mode ??= 'unpack';
  }
  return mode ? install(tool, mode) : [];
}

function rpm(tool: string, args: Word[]): ToolHit[] {
  let mode: string | undefined;
  for (const w of args) {
    const v = w.value;
    if (v === '--') break;
    if (v === '--test') return [];
    if (v === '--install' || v === '--reinstall' || /^-i[A-Za-z]*$/.test(v)) mode ??= 'install';
    else if (v === '--upgrade' || v === '--freshen' || /^-[UF][A-Za-z]*$/.test(v)) mode ??= 'upgrade';
  }
  return mode ? install(tool, mode) : [];
}

const YUM_VALUE = set(
  ...[
    '-c',
    '--config',
    '-d',
    '--debuglevel',
    '-e',
    '--errorlevel',
    '--installroot',
    '--enablerepo',
    '--disablerepo',
  ],
  ...[
    '--repo',
    '--repoid',
    '-x',
    '--exclude',
    '--excludepkgs',
    '--releasever',
    '--setopt',
    '--color',
    '--forcearch',
  ],
  ...[
    '--downloaddir',
    '--destdir',
    '--rpmverbosity',
    '--repofrompath',
    '--advisory',
    '--advisories',
    '--bz',
    '--cve',
  ],
  ...[
    '--sec-severity',
    '--secseverity',
    '--root',
    '-R',
    '--reposd-dir',
    '--cache-dir',
    '--raw-cache-dir',
    '-r',
  ],
  ...['--solv-cache-dir', '--pkg-cache-dir', '--from', '-t', '--type', '--comment'],
);
const YUM_INSTALL: Record<string, string> = {
  install: 'install',
  in: 'install',
  localinstall: 'install',
  reinstall: 'reinstall',
  swap: 'swap',
  downgrade: 'downgrade',
  builddep: 'build-dep',
  'debuginfo-install': 'install',
  'source-install': 'source-install',
  si: 'source-install',
  groupinstall: 'group install',
  update: 'update',
  upgrade: 'upgrade',
  up: 'upgrade',
  'update-minimal': 'update-minimal',
  'upgrade-minimal': 'upgrade-minimal',
  'distro-sync': 'distro-sync',
  distrosync: 'distro-sync',
  dsync: 'distro-sync',
  localupdate: 'update',
  groupupdate: 'group update',
  'dist-upgrade': 'dist-upgrade',
  dup: 'dist-upgrade',
  patch: 'patch',
};
const YUM_FETCH: Record<string, string> = {
  'check-update': 'check-update',
  'check-upgrade': 'check-update',
  makecache: 'makecache',
  refresh: 'refresh',
  ref: 'refresh',
  download: 'download',
};
const YUM_GROUPS = set('group', 'groups', 'module');
const YUM_GROUP_INSTALL = set('install', 'update', 'upgrade');
const YUM_VERBS = set(
  ...Object.keys(YUM_INSTALL),
  ...Object.keys(YUM_FETCH),
  ...YUM_GROUPS,
  ...[
    'list',
    'info',
    'search',
    'remove',
    'erase',
    'rm',
    'autoremove',
    'clean',
    'repolist',
    'repoinfo',
    'history',
  ],
  ...['provides', 'whatprovides', 'config-manager', 'versionlock', 'mark', 'repoquery', 'check', 'deplist'],
  ...[
    'updateinfo',
    'alias',
    'help',
    'shell',
    'lr',
    'repos',
    'addrepo',
    'ar',
    'removerepo',
    'rr',
    'se',
    'if',
    'pa',
  ],
  ...[
    'packages',
    'patches',
    'lu',
    'list-updates',
    'lp',
    'list-patches',
    'locks',
    'addlock',
    'al',
    'needs-restarting',
  ],
);

function yum(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, YUM_VALUE);
  if (hasFlag(p, '-h', '--help', '--assumeno', '--dry-run')) return [];
  const v = findVerb(p, YUM_VERBS);
  if (!v) return [];
  const fetchAction = YUM_FETCH[v.verb];
  if (fetchAction) return fetched(tool, fetchAction);
  let action = YUM_INSTALL[v.verb];
  if (YUM_GROUPS.has(v.verb)) {
    const sub = p.operands[v.operand + 1];
    if (sub && YUM_GROUP_INSTALL.has(sub.value))
      action = `${v.verb === 'module' ? 'module' : 'group'} ${sub.value}`;
  }
  if (!action) return [];
  if (tool === 'zypper' && v.verb === 'up') action = 'update';
  if (hasFlag(p, '--downloadonly', '--download-only')) return fetched(tool, 'download');
  return install(tool, action);
}

const APK_VALUE = set(
  ...[
    '-X',
    '--repository',
    '-p',
    '--root',
    '--arch',
    '--cache-dir',
    '--keys-dir',
    '--repositories-file',
    '-t',
  ],
  ...['--virtual', '--wait', '--timeout'],
);
const APK_INSTALL = set('add', 'upgrade', 'fix');
const APK_FETCH: Record<string, string> = { update: 'update', fetch: 'download' };
const APK_VERBS = set(
  ...APK_INSTALL,
  ...Object.keys(APK_FETCH),
  ...[
    'del',
    'info',
    'search',
    'list',
    'policy',
    'cache',
    'stats',
    'version',
    'audit',
    'index',
    'manifest',
    'dot',
    'verify',
  ],
);

function apk(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, APK_VALUE);
  if (hasFlag(p, '-s', '--simulate', '-h', '--help', '-V', '--version')) return [];
  const v = findVerb(p, APK_VERBS);
  if (!v) return [];
  const fetchAction = APK_FETCH[v.verb];
  if (fetchAction) return fetched(tool, fetchAction);
  return APK_INSTALL.has(v.verb) ? install(tool, v.verb) : [];
}

const PIP_VALUE = set(
  ...[
    '--log',
    '--proxy',
    '--retries',
    '--timeout',
    '--exists-action',
    '--trusted-host',
    '--cert',
    '--client-cert',
  ],
  ...[
    '--cache-dir',
    '--python',
    '-r',
    '--requirement',
    '-c',
    '--constraint',
    '-e',
    '--editable',
    '-t',
    '--target',
  ],
  ...[
    '--platform',
    '--python-version',
    '--implementation',
    '--abi',
    '--root',
    '--prefix',
    '--src',
    '--upgrade-strategy',
  ],
  ...[
    '-C',
    '--config-settings',
    '--global-option',
    '-i',
    '--index-url',
    '--extra-index-url',
    '-f',
    '--find-links',
  ],
  ...[
    '--no-binary',
    '--only-binary',
    '--progress-bar',
    '--report',
    '-d',
    '--dest',
    '--use-feature',
    '--use-deprecated',
  ],
);
const PIP_VERBS = set(
  ...[
    'install',
    'download',
    'wheel',
    'uninstall',
    'list',
    'freeze',
    'show',
    'check',
    'config',
    'cache',
    'hash',
    'help',
  ],
  ...['inspect', 'index', 'debug', 'completion', 'search', 'lock'],
);

function pip(args: Word[]): ToolHit[] {
  const tool = 'pip';
  const p = parseArgs(args, PIP_VALUE);
  if (hasFlag(p, '-h', '--help', '-V', '--version')) return [];
  const v = findVerb(p, PIP_VERBS);
  if (!v) return [];
  if (v.verb === 'download' || v.verb === 'wheel') return fetched(tool, 'download');
  if (v.verb !== 'install') return [];
  // A dry run resolves and downloads, it does not install.
  if (hasFlag(p, '--dry-run')) return fetched(tool, 'download');
  return install(tool, 'install');
}

const PYTHON_VALUE = set('-W', '-X', '-Q');

/** `python3 -m pip ...`: the arguments after the module, or undefined when another module or no module runs. */
function pythonModuleArgs(args: Word[], module: string): Word[] | undefined {
  for (let i = 0; i < args.length; i++) {
    const v = (args[i] as Word).value;
    if (!v.startsWith('-') || v === '-' || v === '--') return undefined;
    if (v === '-m') return args[i + 1]?.value === module ? args.slice(i + 2) : undefined;
    if (v.startsWith('-m')) return v.slice(2) === module ? args.slice(i + 1) : undefined;
    if (v.startsWith('-c')) return undefined;
    if (PYTHON_VALUE.has(v)) i++;
  }
  return undefined;
}

const NPM_VALUE = set(
  ...[
    '--prefix',
    '-C',
    '--registry',
    '--cache',
    '--userconfig',
    '--globalconfig',
    '--loglevel',
    '-w',
    '--workspace',
  ],
  ...['--tag', '--omit', '--include', '--install-strategy', '--location'],
);
const NPM_INSTALL: Record<string, string> = {};
for (const v of [
  'install',
  'i',
  'in',
  'ins',
  'inst',
  'insta',
  'instal',
  'isnt',
  'isnta',
  'isntal',
  'isntall',
  'add',
]) {
  NPM_INSTALL[v] = 'install';
}
for (const v of ['install-test', 'it']) NPM_INSTALL[v] = 'install';
for (const v of ['ci', 'clean-install', 'ic', 'install-clean', 'isntall-clean', 'install-ci-test', 'cit'])
  NPM_INSTALL[v] = 'ci';
for (const v of ['update', 'up', 'upgrade', 'udpate']) NPM_INSTALL[v] = 'update';
const NPM_VERBS = set(
  ...Object.keys(NPM_INSTALL),
  ...[
    'run',
    'run-script',
    'rum',
    'urn',
    'test',
    't',
    'tst',
    'start',
    'stop',
    'restart',
    'build',
    'ls',
    'list',
    'la',
  ],
  ...[
    'll',
    'audit',
    'config',
    'c',
    'set',
    'get',
    'cache',
    'prune',
    'uninstall',
    'remove',
    'rm',
    'r',
    'un',
    'unlink',
  ],
  ...[
    'exec',
    'x',
    'init',
    'create',
    'version',
    'view',
    'v',
    'info',
    'show',
    'outdated',
    'pack',
    'publish',
    'rebuild',
  ],
  ...[
    'rb',
    'link',
    'ln',
    'doctor',
    'explain',
    'why',
    'fund',
    'help',
    'login',
    'logout',
    'whoami',
    'token',
    'search',
  ],
  ...[
    'root',
    'bin',
    'prefix',
    'edit',
    'explore',
    'dedupe',
    'ddp',
    'find-dupes',
    'shrinkwrap',
    'pkg',
    'query',
    'sbom',
  ],
  ...[
    'diff',
    'ping',
    'profile',
    'completion',
    'dist-tag',
    'deprecate',
    'unpublish',
    'owner',
    'access',
    'team',
    'org',
  ],
);

function npm(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, NPM_VALUE);
  if (hasFlag(p, '-h', '--help', '-v', '--version', '--dry-run')) return [];
  const v = findVerb(p, NPM_VERBS);
  const action = v && NPM_INSTALL[v.verb];
  return action ? install(tool, action) : [];
}

const YARN_VALUE = set(
  ...[
    '--cwd',
    '--modules-folder',
    '--cache-folder',
    '--global-folder',
    '--network-timeout',
    '--registry',
    '--mutex',
  ],
  ...['--link-folder', '--preferred-cache-folder', '--use-yarnrc'],
);
const YARN_INSTALL: Record<string, string> = {
  add: 'add',
  install: 'install',
  upgrade: 'upgrade',
  up: 'upgrade',
};

function yarn(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, YARN_VALUE);
  if (hasFlag(p, '-h', '--help', '-v', '--version')) return [];
  let first = p.operands[0];
  if (first?.value === 'global') first = p.operands[1];
  // A bare `yarn` installs; any other first word is a command or a package.json script.
  if (!first) return install(tool, 'install');
  const action = first.dynamic ? undefined : YARN_INSTALL[first.value];
  return action ? install(tool, action) : [];
}

const PNPM_VALUE = set(
  ...[
    '-C',
    '--dir',
    '--filter',
    '-F',
    '--workspace-dir',
    '--reporter',
    '--loglevel',
    '--store-dir',
    '--registry',
  ],
  ...['--virtual-store-dir'],
);
const PNPM_INSTALL: Record<string, string> = {
  add: 'add',
  install: 'install',
  i: 'install',
  update: 'update',
  up: 'update',
  upgrade: 'update',
};
const PNPM_VERBS = set(
  ...Object.keys(PNPM_INSTALL),
  ...[
    'fetch',
    'run',
    'exec',
    'test',
    't',
    'start',
    'remove',
    'rm',
    'un',
    'uninstall',
    'list',
    'ls',
    'll',
    'la',
  ],
  ...[
    'why',
    'outdated',
    'audit',
    'link',
    'ln',
    'unlink',
    'store',
    'publish',
    'pack',
    'dlx',
    'create',
    'init',
    'env',
  ],
  ...[
    'setup',
    'root',
    'bin',
    'config',
    'c',
    'rebuild',
    'rb',
    'prune',
    'deploy',
    'patch',
    'patch-commit',
    'server',
  ],
  ...['licenses', 'import', 'doctor', 'help'],
);

function pnpm(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, PNPM_VALUE);
  if (hasFlag(p, '-h', '--help', '-v', '--version')) return [];
  const v = findVerb(p, PNPM_VERBS);
  if (v?.verb === 'fetch') return fetched(tool, 'download');
  const action = v && PNPM_INSTALL[v.verb];
  return action ? install(tool, action) : [];
}

const GEM_VALUE = set(
  ...[
    '-v',
    '--version',
    '-i',
    '--install-dir',
    '-n',
    '--bindir',
    '--source',
    '-s',
    '-p',
    '--http-proxy',
    '--platform',
  ],
  ...['-g', '--file', '--document'],
);
const GEM_VERBS = set(
  ...[
    'install',
    'i',
    'update',
    'fetch',
    'list',
    'search',
    'uninstall',
    'env',
    'sources',
    'build',
    'cert',
    'check',
  ],
  ...[
    'cleanup',
    'contents',
    'dependency',
    'help',
    'info',
    'lock',
    'open',
    'outdated',
    'owner',
    'pristine',
    'push',
  ],
  ...['query', 'rdoc', 'rebuild', 'specification', 'stale', 'unpack', 'which', 'yank'],
);

function gem(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, GEM_VALUE);
  if (hasFlag(p, '-h', '--help')) return [];
  const v = findVerb(p, GEM_VERBS);
  if (v?.verb === 'fetch') return fetched(tool, 'download');
  if (v?.verb === 'install' || v?.verb === 'i') return install(tool, 'install');
  return v?.verb === 'update' ? install(tool, 'update') : [];
}

const SNAP_VALUE = set('--channel', '--revision', '--cohort', '--name');
const SNAP_VERBS = set(
  ...[
    'install',
    'refresh',
    'download',
    'list',
    'info',
    'find',
    'remove',
    'connect',
    'disconnect',
    'set',
    'get',
    'start',
  ],
  ...[
    'stop',
    'restart',
    'services',
    'logs',
    'version',
    'help',
    'aliases',
    'alias',
    'unalias',
    'enable',
    'disable',
  ],
  ...[
    'revert',
    'switch',
    'ack',
    'known',
    'login',
    'logout',
    'run',
    'wait',
    'watch',
    'changes',
    'tasks',
    'abort',
  ],
);

function snap(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, SNAP_VALUE);
  if (hasFlag(p, '-h', '--help')) return [];
  const v = findVerb(p, SNAP_VERBS);
  if (v?.verb === 'download') return fetched(tool, 'download');
  if (v?.verb === 'install') return install(tool, 'install');
  // `refresh --hold` stops refreshes; `--list` and `--time` only report.
  if (v?.verb === 'refresh' && !hasFlag(p, '--hold', '--unhold', '--list', '--time', '--abort')) {
    return install(tool, 'refresh');
  }
  return [];
}

function amazonLinuxExtras(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, set());
  const v = findVerb(p, set('install', 'enable', 'disable', 'list', 'info', 'help'));
  return v?.verb === 'install' ? install(tool, 'install') : [];
}

// ---------------------------------------------------------------------------------------------
// Network fetches.

const HOSTLIKE = [
  /^(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+(?::\d+)?\//,
  /^[A-Za-z0-9.-]+:\d+(?:\/|$)/,
  /^localhost(?::\d+)?(?:\/|$)/,
  /^\[[0-9A-Fa-f:.]+\](?::\d+)?(?:\/|$)/,
];
/** Options that name a file of URLs (or a config holding them): the targets are not in the command. */
const URL_FILE_OPTIONS: Record<string, ReadonlySet<string>> = {
  curl: set('-K', '--config'),
  wget: set('-i', '--input-file'),
  wget2: set('-i', '--input-file'),
  aria2c: set('-i', '--input-file'),
};

/** curl, wget and the like: a fetch unless every URL named is on the instance. */
function urlFetch(tool: string, args: Word[]): ToolHit[] {
  const urls: string[] = [];
  let unknown = false;
  for (const w of args) {
    const v = w.value.startsWith('--url=') ? w.value.slice(6) : w.value;
    if (hasScheme(v)) urls.push(v);
    else if (URL_FILE_OPTIONS[tool]?.has(v.split('=')[0] as string)) unknown = true;
  }
  if (urls.length === 0) {
    // No URL with a scheme: an operand that is an expansion or looks like `host.tld/path`.
    for (const w of args) {
      const v = w.value;
      if (v.startsWith('-')) continue;
      if (tool.startsWith('http') && /^:\d*(?:\/|$)/.test(v)) urls.push(`http://localhost${v}`);
      else if (HOSTLIKE.some((re) => re.test(v))) urls.push(`http://${v}`);
      else if (w.dynamic) unknown = true;
    }
  }
  const remote = urls.filter((u) => !isLocalUrl(u));
  if (remote.length === 0 && !unknown) return [];
  const [hit] =
    remote.length > 0
      ? fetched(tool, 'download', remote[0])
      : fetched(tool, 'download', undefined, 'URL not static');
  return [{ ...(hit as ToolHit), streams: true }];
}

const GIT_VALUE = set(
  '-C',
  '-c',
  '--git-dir',
  '--work-tree',
  '--namespace',
  '--config-env',
  '--super-prefix',
);
const GIT_CLONE_VALUE = set(
  ...[
    '-b',
    '--branch',
    '--depth',
    '-o',
    '--origin',
    '--reference',
    '--reference-if-able',
    '-c',
    '--config',
    '-j',
  ],
  ...['--jobs', '-u', '--upload-pack', '--template', '--separate-git-dir', '--filter', '--shallow-since'],
  ...['--shallow-exclude', '--server-option', '--bundle-uri', '--ref-format'],
);
const GIT_PULL_VALUE = set(
  ...['--depth', '--deepen', '--shallow-since', '--shallow-exclude', '-j', '--jobs', '--upload-pack', '-s'],
  ...['--strategy', '-X', '--strategy-option', '--negotiation-tip', '--server-option', '--refmap', '-o'],
);
const SCP_LIKE = /^(?:[^@/\s]+@)?(\[[^\]]+\]|[^/:\s]+):/;

/** Where a git repository argument points: on the instance or not. `origin`-like names are remote. */
function gitRepoIsLocal(w: Word, bareNameIsLocal: boolean): boolean {
  const v = w.value;
  if (hasScheme(v)) return isLocalUrl(v);
  if (/^(?:\/|\.\.?\/|~)/.test(v)) return true;
  const m = SCP_LIKE.exec(v);
  if (m) return isLocalHost(m[1] as string);
  return !w.dynamic && bareNameIsLocal;
}

function git(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, GIT_VALUE, true);
  const verb = p.operands[0];
  if (!verb || verb.dynamic) return [];
  const rest = args.slice((p.operandIndex[0] as number) + 1);
  if (verb.value === 'clone') {
    const repo = parseArgs(rest, GIT_CLONE_VALUE).operands[0];
    if (!repo || gitRepoIsLocal(repo, true)) return [];
    return fetched(tool, 'clone', shown(repo));
  }
  if (verb.value === 'pull' || verb.value === 'fetch') {
    const remote = parseArgs(rest, GIT_PULL_VALUE).operands[0];
    if (remote && gitRepoIsLocal(remote, false)) return [];
    return fetched(tool, verb.value, remote ? shown(remote) : undefined);
  }
  return [];
}

const AWS_VALUE = set(
  ...[
    '--region',
    '--profile',
    '--endpoint-url',
    '--output',
    '--query',
    '--cli-read-timeout',
    '--cli-connect-timeout',
  ],
  ...['--color', '--ca-bundle', '--cli-binary-format', '--exclude', '--include', '--acl', '--sse', '--sse-c'],
  ...[
    '--sse-c-key',
    '--sse-kms-key-id',
    '--storage-class',
    '--grants',
    '--website-redirect',
    '--content-type',
  ],
  ...['--cache-control', '--content-disposition', '--content-encoding', '--content-language', '--expires'],
  ...[
    '--source-region',
    '--metadata',
    '--metadata-directive',
    '--expected-size',
    '--page-size',
    '--copy-props',
  ],
  ...['--checksum-mode', '--checksum-algorithm', '--request-payer'],
);

/** `aws s3 cp|mv|sync s3://...`: a download from S3 (an upload has a local source). */
function aws(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, AWS_VALUE);
  const [service, verb, source] = p.operands;
  if (service?.value !== 's3' || !verb || !source) return [];
  if (!['cp', 'mv', 'sync'].includes(verb.value) || !/^s3:\/\//i.test(source.value)) return [];
  const [hit] = fetched(tool, verb.value === 'sync' ? 'sync' : 'download', shown(source));
  return [{ ...(hit as ToolHit), streams: verb.value !== 'sync' }];
}

const SCP_VALUE = set('-c', '-F', '-i', '-J', '-l', '-o', '-P', '-S', '-D', '-X');
const RSYNC_VALUE = set(
  ...[
    '-e',
    '--rsh',
    '--exclude',
    '--include',
    '-f',
    '--filter',
    '--files-from',
    '--exclude-from',
    '--include-from',
  ],
  ...[
    '--password-file',
    '--port',
    '--timeout',
    '--contimeout',
    '-B',
    '--block-size',
    '--bwlimit',
    '--chmod',
    '--chown',
  ],
  ...[
    '-T',
    '--temp-dir',
    '--log-file',
    '--compare-dest',
    '--copy-dest',
    '--link-dest',
    '-M',
    '--remote-option',
  ],
  ...[
    '--max-size',
    '--min-size',
    '--partial-dir',
    '--suffix',
    '--usermap',
    '--groupmap',
    '--info',
    '--debug',
  ],
  ...['--out-format', '--backup-dir', '--iconv', '--address', '--sockopts', '--outbuf', '--skip-compress'],
);

/** scp and rsync: a fetch when a source (any operand but the last) is on another host. */
function remoteCopy(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, tool === 'scp' ? SCP_VALUE : RSYNC_VALUE);
  const sources = p.operands.slice(0, -1);
  for (const src of sources) {
    const v = src.value;
    let host: string | undefined;
    if (/^(?:scp|sftp|rsync|ssh):\/\//i.test(v)) {
      if (isLocalUrl(v)) continue;
      return fetched(tool, 'download', shown(src));
    }
    if (!/^[/.~]/.test(v)) host = SCP_LIKE.exec(v)?.[1];
    if (host !== undefined && !isLocalHost(host)) return fetched(tool, 'download', shown(src));
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// Containers: pulling or running an image by tag trusts whatever the tag points at today.

const DOCKER_GLOBAL_VALUE = set(
  ...[
    '-H',
    '--host',
    '--config',
    '-c',
    '--context',
    '-l',
    '--log-level',
    '--tlscacert',
    '--tlscert',
    '--tlskey',
  ],
  ...[
    '--root',
    '--runroot',
    '--storage-driver',
    '--storage-opt',
    '--url',
    '--connection',
    '--cgroup-manager',
  ],
  ...[
    '--conmon',
    '--events-backend',
    '--hooks-dir',
    '--identity',
    '--imagestore',
    '--module',
    '--network-cmd-path',
  ],
  ...[
    '--network-config-dir',
    '--runtime',
    '--runtime-flag',
    '--ssh',
    '--tmpdir',
    '--volumepath',
    '--cni-config-dir',
  ],
  ...[
    '-n',
    '--namespace',
    '-a',
    '--address',
    '--snapshotter',
    '--cni-path',
    '--cni-netconfpath',
    '--data-root',
  ],
  ...['--hosts-dir'],
);
/** Options of `docker|podman|nerdctl run|create` that take a separate value. */
const DOCKER_RUN_VALUE = set(
  ...['-a', '--attach', '--add-host', '--annotation', '--blkio-weight', '--blkio-weight-device', '--cap-add'],
  ...[
    '--cap-drop',
    '--cgroup-parent',
    '--cgroupns',
    '--cidfile',
    '--cpu-period',
    '--cpu-quota',
    '--cpu-rt-period',
  ],
  ...['--cpu-rt-runtime', '-c', '--cpu-shares', '--cpus', '--cpuset-cpus', '--cpuset-mems', '--device'],
  ...[
    '--device-cgroup-rule',
    '--device-read-bps',
    '--device-read-iops',
    '--device-write-bps',
    '--device-write-iops',
  ],
  ...[
    '--dns',
    '--dns-option',
    '--dns-opt',
    '--dns-search',
    '--domainname',
    '--entrypoint',
    '-e',
    '--env',
    '--env-file',
  ],
  ...['--expose', '--gpus', '--group-add', '--health-cmd', '--health-interval', '--health-retries'],
  ...[
    '--health-start-period',
    '--health-start-interval',
    '--health-timeout',
    '--health-on-failure',
    '-h',
    '--hostname',
  ],
  ...['--ip', '--ip6', '--ipc', '--isolation', '--kernel-memory', '-l', '--label', '--label-file', '--link'],
  ...[
    '--link-local-ip',
    '--log-driver',
    '--log-opt',
    '--mac-address',
    '-m',
    '--memory',
    '--memory-reservation',
  ],
  ...[
    '--memory-swap',
    '--memory-swappiness',
    '--mount',
    '--name',
    '--network',
    '--net',
    '--network-alias',
    '--net-alias',
  ],
  ...[
    '--oom-score-adj',
    '--pid',
    '--pids-limit',
    '--platform',
    '-p',
    '--publish',
    '--pull',
    '--restart',
    '--runtime',
  ],
  ...[
    '--security-opt',
    '--shm-size',
    '--stop-signal',
    '--stop-timeout',
    '--storage-opt',
    '--sysctl',
    '--tmpfs',
  ],
  ...[
    '-u',
    '--user',
    '--ulimit',
    '--userns',
    '--uts',
    '-v',
    '--volume',
    '--volume-driver',
    '--volumes-from',
    '-w',
  ],
  ...[
    '--workdir',
    '--detach-keys',
    '--arch',
    '--os',
    '--variant',
    '--pod',
    '--pod-id-file',
    '--secret',
    '--uidmap',
  ],
  ...[
    '--gidmap',
    '--subuidname',
    '--subgidname',
    '--umask',
    '--init-path',
    '--conmon-pidfile',
    '--seccomp-policy',
  ],
  ...[
    '--systemd',
    '--timeout',
    '--tz',
    '--chrootdirs',
    '--personality',
    '--preserve-fds',
    '--requires',
    '--sdnotify',
  ],
  ...['--image-volume', '--cgroups', '--cgroup-conf', '--passwd-entry', '--group-entry', '--hostuser'],
  ...['--decryption-key', '--authfile', '--cert-dir', '--creds', '--retry', '--retry-delay', '--env-merge'],
  ...[
    '--unsetenv',
    '--pidfile',
    '--health-startup-cmd',
    '--health-startup-interval',
    '--health-startup-retries',
  ],
  ...[
    '--health-startup-success',
    '--health-startup-timeout',
    '--health-log-destination',
    '--health-max-log-count',
  ],
  ...[
    '--health-max-log-size',
    '--log-level',
    '--blkio-weight',
    '--cpu-rt-runtime',
    '--stop-signal',
    '--shm-size-systemd',
  ],
);
const DOCKER_PULL_VALUE = set(
  ...[
    '--platform',
    '--arch',
    '--authfile',
    '--cert-dir',
    '--creds',
    '--decryption-key',
    '--os',
    '--policy',
    '--retry',
  ],
  ...['--retry-delay', '--variant'],
);
const CTR_GLOBAL_VALUE = set('-n', '--namespace', '-a', '--address', '--timeout', '--connect-timeout');
const CTR_PULL_VALUE = set(
  ...['-u', '--user', '--platform', '--hosts-dir', '--refresh', '--label', '--max-concurrent-downloads'],
  ...['--max-concurrent-uploaded-layers', '--snapshotter', '--tlscacert', '--tlscert', '--tlskey'],
);
const CTR_RUN_VALUE = set(
  ...[
    '--snapshotter',
    '--snapshotter-label',
    '--config',
    '-c',
    '--cwd',
    '--env',
    '--env-file',
    '--label',
    '--annotation',
  ],
  ...[
    '--mount',
    '--runtime',
    '--runtime-config-path',
    '--runc-binary',
    '--runc-root',
    '--platform',
    '--memory-limit',
  ],
  ...[
    '--cpus',
    '--cpu-quota',
    '--cpu-period',
    '--cpu-shares',
    '--cap-add',
    '--cap-drop',
    '--seccomp-profile',
  ],
  ...['--apparmor-default-profile', '--apparmor-profile', '--uidmap', '--gidmap', '--device', '-u', '--user'],
  ...[
    '--with-ns',
    '--pid-file',
    '--fifo-dir',
    '--gpus',
    '--rootfs-propagation',
    '--sandbox',
    '--blockio-config-file',
  ],
  ...[
    '--blockio-class',
    '--rdt-class',
    '--cgroup',
    '--log-uri',
    '--hostname',
    '--cpuset-cpus',
    '--cpuset-mems',
  ],
);
const CRICTL_GLOBAL_VALUE = set(
  '-r',
  '--runtime-endpoint',
  '-i',
  '--image-endpoint',
  '-t',
  '--timeout',
  '-c',
  '--config',
);
const CRICTL_PULL_VALUE = set(
  '--creds',
  '--auth',
  '-u',
  '--username',
  '-p',
  '--pod-config',
  '-a',
  '--annotation',
  '--platform',
);

function imageHits(tool: string, action: string, images: Word[]): ToolHit[] {
  const hits: ToolHit[] = [];
  for (const image of images) {
    const verdict = judgeImage(image.value, image.dynamic);
    if (verdict.pinned) continue;
    const ref = shown(image);
    hits.push({
      category: 'container-mutable',
      tool,
      action,
      target: ref,
      detail: `${ref}: ${verdict.reason}`,
    });
  }
  return hits;
}

/** The image operand of `run`/`create`: the first operand once the options are skipped. */
function runImage(args: Word[], valueOptions: ReadonlySet<string>): Word[] {
  const p = parseArgs(args, valueOptions, true);
  if (hasFlag(p, '--help', '--rootfs')) return [];
  return p.operands.slice(0, 1);
}

function docker(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, DOCKER_GLOBAL_VALUE, true);
  let verb = p.operands[0];
  let at = p.operandIndex[0];
  if (verb && (verb.value === 'container' || verb.value === 'image')) {
    const group = verb.value;
    verb = p.operands[1];
    at = p.operandIndex[1];
    if (verb && group === 'image' && verb.value !== 'pull') return [];
  }
  if (!verb || at === undefined || verb.dynamic) return [];
  const rest = args.slice(at + 1);
  if (verb.value === 'run' || verb.value === 'create')
    return imageHits(tool, verb.value, runImage(rest, DOCKER_RUN_VALUE));
  if (verb.value === 'pull') {
    const q = parseArgs(rest, DOCKER_PULL_VALUE);
    return hasFlag(q, '--help') ? [] : imageHits(tool, 'pull', q.operands);
  }
  return [];
}

function ctr(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, CTR_GLOBAL_VALUE, true);
  const [group, sub] = p.operands;
  const after = (k: number): Word[] => args.slice((p.operandIndex[k] as number) + 1);
  if (!group) return [];
  if (['images', 'image', 'i'].includes(group.value) && sub?.value === 'pull') {
    const q = parseArgs(after(1), CTR_PULL_VALUE, true);
    return imageHits(tool, 'pull', q.operands.slice(0, 1));
  }
  if (group.value === 'run') return imageHits(tool, 'run', runImage(after(0), CTR_RUN_VALUE));
  if (['containers', 'container', 'c'].includes(group.value) && sub?.value === 'create') {
    return imageHits(tool, 'create', runImage(after(1), CTR_RUN_VALUE));
  }
  return [];
}

function crictl(tool: string, args: Word[]): ToolHit[] {
  const p = parseArgs(args, CRICTL_GLOBAL_VALUE, true);
  if (p.operands[0]?.value !== 'pull') return [];
  const q = parseArgs(args.slice((p.operandIndex[0] as number) + 1), CRICTL_PULL_VALUE, true);
  return imageHits(tool, 'pull', q.operands.slice(0, 1));
}

// ---------------------------------------------------------------------------------------------

type Classifier = (tool: string, args: Word[]) => ToolHit[];

const CLASSIFIERS: Record<string, Classifier> = {
  'apt-get': apt,
  apt,
  aptitude: apt,
  'unattended-upgrade': unattendedUpgrade,
  'unattended-upgrades': unattendedUpgrade,
  dpkg,
  rpm,
  yum,
  dnf: yum,
  dnf5: yum,
  microdnf: yum,
  tdnf: yum,
  zypper: yum,
  apk,
  npm,
  yarn,
  yarnpkg: yarn,
  pnpm,
  gem,
  snap,
  'amazon-linux-extras': amazonLinuxExtras,
  curl: urlFetch,
  wget: urlFetch,
  wget2: urlFetch,
  fetch: urlFetch,
  aria2c: urlFetch,
  http: urlFetch,
  https: urlFetch,
  httpie: urlFetch,
  git,
  aws,
  scp: remoteCopy,
  rsync: remoteCopy,
  docker,
  podman: docker,
  nerdctl: docker,
  ctr,
  crictl,
};

const PIP_NAME = /^pip(?:\d+(?:\.\d+)?)?$/;
const PYTHON_NAME = /^python(?:\d+(?:\.\d+)?)?$/;

/** What running `name args...` does to the instance, judged from the words alone. */
export function classify(name: string, args: Word[]): ToolHit[] {
  if (PIP_NAME.test(name)) return pip(args);
  if (PYTHON_NAME.test(name)) {
    const pipArgs = pythonModuleArgs(args, 'pip');
    return pipArgs ? pip(pipArgs) : [];
  }
  const classifier = Object.hasOwn(CLASSIFIERS, name) ? CLASSIFIERS[name] : undefined;
  return classifier ? classifier(name, args) : [];
}

/** Whether `name` is a program this module knows (so a path to it is not a boot script). */
export function isKnownProgram(name: string): boolean {
  return Object.hasOwn(CLASSIFIERS, name) || PIP_NAME.test(name) || PYTHON_NAME.test(name);
}

// ---------------------------------------------------------------------------------------------
// Interpreters: programs that run code given as a string, a file or on stdin.

const SHELLS = set('sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'yash', 'posh', 'busybox-sh');
const SHELL_LONG_VALUE = set('--rcfile', '--init-file');

/** How an interpreter invocation gets its code. */
export interface InterpreterUse {
  name: string;
  /** The code is shell. */
  shell: boolean;
  /** `-c`/`-e` code given as a word. */
  code?: Word;
  /** A script given as an operand: a path or a `<(...)`. */
  script?: Word;
  /** The code is read from stdin. */
  stdin: boolean;
}

function shellUse(name: string, args: Word[]): InterpreterUse {
  let i = 0;
  let command = false;
  let stdin = false;
  while (i < args.length) {
    const v = (args[i] as Word).value;
    if (v === '--' || v === '-') {
      i++;
      break;
    }
    if (v.startsWith('--')) {
      i += SHELL_LONG_VALUE.has(v) ? 2 : 1;
      continue;
    }
    if (!/^[-+][A-Za-z]/.test(v)) break;
    i++;
    for (const ch of v.slice(1)) {
      if (ch === 'c') command = true;
      else if (ch === 's') stdin = true;
      else if (ch === 'o' || ch === 'O') i++;
    }
  }
  const first = args[i];
  if (command)
    return first ? { name, shell: true, code: first, stdin: false } : { name, shell: true, stdin: false };
  if (stdin || !first) return { name, shell: true, stdin: true };
  return { name, shell: true, script: first, stdin: false };
}

/** python, perl, ruby, node: `-c`/`-e` code, a script operand, or stdin. */
function scriptingUse(
  name: string,
  args: Word[],
  codeFlags: ReadonlySet<string>,
): InterpreterUse | undefined {
  for (let i = 0; i < args.length; i++) {
    const v = (args[i] as Word).value;
    if (v === '-') return { name, shell: false, stdin: true };
    if (v === '--') {
      const next = args[i + 1];
      return next ? { name, shell: false, script: next, stdin: false } : { name, shell: false, stdin: true };
    }
    if (codeFlags.has(v)) {
      const code = args[i + 1];
      return code ? { name, shell: false, code, stdin: false } : undefined;
    }
    if (v === '-m') return undefined;
    if (!v.startsWith('-')) return { name, shell: false, script: args[i] as Word, stdin: false };
    if (PYTHON_VALUE.has(v) && PYTHON_NAME.test(name)) i++;
  }
  return { name, shell: false, stdin: true };
}

/** `eval a b c`: the words joined are shell code. */
function evalUse(args: Word[]): InterpreterUse | undefined {
  if (args.length === 0) return undefined;
  const code: Word = {
    raw: args.map((w) => w.raw).join(' '),
    value: args.map((w) => w.value).join(' '),
    dynamic: args.some((w) => w.dynamic),
    subs: args.flatMap((w) => w.subs),
  };
  return { name: 'eval', shell: true, code, stdin: false };
}

/** How `name args...` runs code, if it is an interpreter. */
export function interpreterUse(name: string, args: Word[]): InterpreterUse | undefined {
  if (SHELLS.has(name)) return shellUse(name, args);
  if (name === 'source' || name === '.') {
    const script = args[0];
    return script ? { name, shell: true, script, stdin: false } : undefined;
  }
  if (name === 'eval') return evalUse(args);
  if (PYTHON_NAME.test(name)) return scriptingUse(name, args, set('-c'));
  if (name === 'perl') return scriptingUse(name, args, set('-e', '-E'));
  if (name === 'ruby') return scriptingUse(name, args, set('-e'));
  if (name === 'node' || name === 'nodejs')
    return scriptingUse(name, args, set('-e', '--eval', '-p', '--print'));
  return undefined;
}
