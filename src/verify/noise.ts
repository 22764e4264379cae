/**
 * The noise list: paths an instance is expected to change at runtime, whatever its image.
 * A changed path that matches a rule is reported as noise (shown, never failing the proof)
 * instead of config, binary or data drift. The first matching rule wins, so narrower rules
 * come before broader ones (`journal` before `logs`).
 *
 * Pattern syntax (whole, absolute in-instance paths; no brackets, no negation):
 * - `*` matches any run of characters inside one path component (never `/`);
 * - `?` matches one character other than `/`;
 * - `**` as a whole component matches any number of components, none included:
 *   `/var/log/**` matches /var/log itself (a new directory holding only noise is noise too)
 *   and everything below it; `/var/**\/lock` matches `/var/lock` and `/var/lib/x/lock`;
 * - everything else is literal.
 *
 * Deliberately not noise:
 * - `/etc/ld.so.cache`: ldconfig rewrites it when libraries change (a libc-bin trigger after
 *   a package upgrade). If it differs from the image's, the set of libraries the dynamic
 *   linker loads changed: that is binary or config drift, and must not be masked, even when
 *   the package drift already explains it. A boot-time rerun over the same libraries writes
 *   the same bytes and is caught by `copy-up-unchanged`.
 * - `/var/lib/systemd/**` as a whole: `deb-systemd-helper-enabled/` records units enabled by
 *   package scripts, `linger/` users allowed to run services, `coredump/` crashes at boot.
 *   Only the state systemd writes on every boot (random seed, timer stamps, clock, catalog)
 *   is noise; the rest stays visible as data drift.
 * - `*.lock` under /usr, /opt, /boot or /lib: nothing there takes locks at runtime, so a
 *   file with that name is binary drift like any other.
 */
export interface NoiseRule {
  /** Stable id, reported with each match. */
  id: string;
  /** Patterns in the syntax above; empty for a rule applied by content, not by path. */
  paths: string[];
  /** Why the change is expected at runtime. */
  why: string;
  /** Applies only to images that have this (cloud-init: `/usr/bin/cloud-init` in the image). */
  onlyWith?: 'cloud-init';
}

/** What the image has, for the rules that apply only to some images. */
export interface NoiseContext {
  cloudInit: boolean;
}

/** A copied-up file whose content, type, mode and owner equal the image's: matched by comparing, not by path. */
export const COPY_UP_UNCHANGED = 'copy-up-unchanged';

export const NOISE_RULES: readonly NoiseRule[] = [
  {
    id: 'machine-id',
    paths: ['/etc/machine-id', '/var/lib/dbus/machine-id'],
    why: 'systemd writes a new machine id at first boot (an image ships it empty): unique per instance by design',
  },
  {
    id: 'ssh-host-keys',
    paths: ['/etc/ssh/ssh_host_*'],
    why: 'generated at first boot (cloud-init, or the sshd key generation unit) so that instances never share host keys',
  },
  {
    id: 'hostname-resolver',
    paths: ['/etc/hostname', '/etc/resolv.conf'],
    why: "the instance's name and resolver come from its cloud (cloud-init set_hostname, DHCP); the lab binds its own over them and creates an empty resolv.conf where the image has none",
  },
  {
    id: 'cloud-init-provisioning',
    onlyWith: 'cloud-init',
    paths: [
      '/etc/passwd',
      '/etc/passwd-',
      '/etc/group',
      '/etc/group-',
      '/etc/shadow',
      '/etc/shadow-',
      '/etc/gshadow',
      '/etc/gshadow-',
      '/etc/subuid',
      '/etc/subuid-',
      '/etc/subgid',
      '/etc/subgid-',
      '/etc/sudoers',
      '/etc/sudoers.d',
      '/etc/sudoers.d/90-cloud-init-users',
      '/etc/ssh',
      '/etc/hosts',
      '/etc/systemd/network/10-cloud-init-*.network',
      '/etc/network/interfaces.d/50-cloud-init*',
      '/etc/netplan/50-cloud-init.yaml',
    ],
    why: "in an image with cloud-init, the files its first boot writes for this instance: the default user and the user-data's users (users-groups, set-passwords: the account databases and their backups, the sudoers entry), the hosts file (update-etc-hosts), the network configuration it renders for the instance's interfaces",
  },
  {
    id: 'update-done-stamps',
    paths: ['/etc/.updated', '/var/.updated'],
    why: 'systemd-update-done writes a timestamp at boot whenever /usr is newer than these stamps, as in every freshly baked image',
  },
  {
    id: 'journal',
    paths: ['/var/log/journal/**'],
    why: "the systemd journal: every boot's log",
  },
  {
    id: 'logs',
    paths: ['/var/log/**'],
    why: 'log files grow at runtime (apt and dpkg logs included: the package drift reports what they record)',
  },
  {
    id: 'caches',
    paths: ['/var/cache/**'],
    why: 'caches are rebuilt on demand (apt package caches, ldconfig aux cache, man-db); deleting them changes nothing',
  },
  {
    id: 'apt-lists',
    paths: ['/var/lib/apt/lists/**'],
    why: 'package indexes downloaded by apt-get update (apt-daily.service): what could be installed, not what is',
  },
  {
    id: 'apt-periodic',
    paths: ['/var/lib/apt/periodic/**', '/var/lib/apt/daily_lock'],
    why: "apt.systemd.daily's stamps and lock, written each time the apt-daily services run",
  },
  {
    id: 'apt-auto-marks',
    paths: ['/var/lib/apt/extended_states', '/var/backups/apt.extended_states.*'],
    why: 'apt records which packages came in as dependencies (and apt.systemd.daily keeps backups of that file); it changes exactly when packages do, which the package drift reports',
  },
  {
    id: 'dpkg-database',
    paths: [
      '/var/lib/dpkg/status',
      '/var/lib/dpkg/*-old',
      '/var/lib/dpkg/available',
      '/var/lib/dpkg/lock',
      '/var/lib/dpkg/lock-frontend',
      '/var/lib/dpkg/triggers/**',
      '/var/lib/dpkg/updates/**',
      '/var/lib/dpkg/info/**',
    ],
    why: "dpkg rewrites its database and takes its locks on every run; what it records (packages installed, upgraded, removed) is the package drift, and the packages' files are the file drift",
  },
  {
    id: 'systemd-timers',
    paths: ['/var/lib/systemd/timers/**'],
    why: "persistent timers' last-run stamps, written whenever a timer's service runs",
  },
  {
    id: 'systemd-state',
    paths: [
      '/var/lib/systemd/random-seed',
      '/var/lib/systemd/catalog/database',
      '/var/lib/systemd/timesync/**',
    ],
    why: 'state systemd saves on every boot or shutdown: the entropy seed, the message catalog index, the last synchronised clock',
  },
  {
    id: 'cloud-init-state',
    paths: ['/var/lib/cloud/**'],
    why: "cloud-init's per-instance state (instance id, semaphores, the datasource and user-data it read), and the lab's seed mount point",
  },
  {
    id: 'locks',
    paths: [
      '/run/**',
      '/var/run/**',
      '/var/lock/**',
      '/etc/.pwd.lock',
      '/etc/*.lock',
      '/var/**/*.lock',
      '/var/**/lock',
    ],
    why: 'lock files exist while a tool runs and stay behind empty; only where tools take locks (/run, /var, the shadow tools in /etc), never under /usr, /opt or /boot',
  },
  {
    id: 'tmp',
    paths: ['/tmp/**', '/var/tmp/**'],
    why: 'temporary files',
  },
  {
    id: COPY_UP_UNCHANGED,
    paths: [],
    why: 'a file copied up to the upper layer by an open for writing, a touch, or a chmod or chown back to the same value, whose content, type, mode and owner equal the image’s: only timestamps changed',
  },
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles one pattern of the documented syntax to an anchored RegExp. */
export function compileNoisePattern(pattern: string): RegExp {
  const parts = pattern.split('/').slice(1);
  let source = '';
  for (const part of parts) {
    if (part === '**') {
      source += '(?:/.+)?';
      continue;
    }
    source += `/${part
      .split(/(\*|\?)/)
      .map((piece) => (piece === '*' ? '[^/]*' : piece === '?' ? '[^/]' : escapeRegExp(piece)))
      .join('')}`;
  }
  // `s`: names may hold newlines, and `.` must match them too.
  return new RegExp(`^${source}$`, 's');
}

const COMPILED: ReadonlyArray<{ id: string; test: RegExp; onlyWith?: 'cloud-init' }> = NOISE_RULES.filter(
  (rule) => rule.paths.length > 0,
).map((rule) => ({
  id: rule.id,
  test: new RegExp(rule.paths.map((p) => `(?:${compileNoisePattern(p).source})`).join('|'), 's'),
  ...(rule.onlyWith === undefined ? {} : { onlyWith: rule.onlyWith }),
}));

/**
 * The id of the first noise rule whose patterns match `path` (absolute, in the instance), if
 * any; a rule for images with cloud-init applies only when `context.cloudInit`.
 */
export function matchNoise(path: string, context: NoiseContext = { cloudInit: false }): string | undefined {
  for (const rule of COMPILED) {
    if (rule.onlyWith === 'cloud-init' && !context.cloudInit) continue;
    if (rule.test.test(path)) return rule.id;
  }
  return undefined;
}
