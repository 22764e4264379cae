import type { ManifestProblem, SourceRef } from '../types.js';

/** The unit types systemd knows, from the name's suffix. */
export type UnitType =
  | 'service'
  | 'socket'
  | 'device'
  | 'mount'
  | 'automount'
  | 'swap'
  | 'target'
  | 'path'
  | 'timer'
  | 'slice'
  | 'scope';

/**
 * Whether a unit starts at boot, in systemctl's words where they fit:
 * - `masked`: its highest-priority fragment is a symlink to /dev/null or an empty file.
 * - `enabled`: a `.wants/`, `.requires/` or `.upholds/` link in a directory under /etc or /run names it.
 * - `vendor-enabled`: linked only from a vendor directory (/usr/lib, /lib, /usr/local/lib). systemctl
 *   says `static` or `disabled` for these, yet the manager starts them: we keep them apart.
 * - `generated` / `transient`: the fragment is in /run/systemd/generator* or /run/systemd/transient.
 * - `indirect`: a template whose instances are linked, or a unit whose [Install] has only `Also=`.
 * - `disabled`: has [Install] rules but nothing links it.
 * - `static`: no [Install] rules and nothing links it.
 */
export type Enablement =
  'masked' | 'enabled' | 'vendor-enabled' | 'generated' | 'transient' | 'indirect' | 'disabled' | 'static';

/** One effective value of a setting, after drop-ins, and the line that set it. */
export interface Setting {
  value: string;
  source: SourceRef;
}

/** A setting whose key varies (`ConditionPathExists`, `AssertVirtualization`, …). */
export interface KeyedSetting extends Setting {
  key: string;
}

/** A systemd time span (`12h`, `1h 30min`, `500ms`) as written and in seconds (null: `infinity` or unparsable). */
export interface TimeSpan {
  text: string;
  seconds: number | null;
  source: SourceRef;
}

/** A link in a `<unit>.wants/`, `.requires/` or `.upholds/` directory that pulls this unit in. */
export interface WantedByLink {
  /** The unit whose directory holds the link (`timers.target`). */
  unit: string;
  dependency: 'wants' | 'requires' | 'upholds';
  /** Path of the link inside the image. */
  via: string;
}

/** The [Install] section as `systemctl enable` reads it (fragment plus `<name>.d`/template drop-ins). */
export interface InstallInfo {
  wantedBy: Setting[];
  requiredBy: Setting[];
  upheldBy: Setting[];
  alias: Setting[];
  also: Setting[];
  defaultInstance: Setting | null;
}

/** What the preset files say for a unit; applied by `systemctl preset-all` on first boot. */
export interface UnitPreset {
  action: 'enable' | 'disable' | 'ignore';
  /** The matching preset line; null when no line matched and systemd's default (enable) applies. */
  rule: SourceRef | null;
}

/** One line of a `*.preset` file, in the order systemd evaluates them (first match wins). */
export interface PresetRule {
  action: 'enable' | 'disable' | 'ignore';
  /** fnmatch(3) glob on unit names. */
  pattern: string;
  /** For `enable foo@.service a b`: the instances to enable. */
  instances: string[];
  source: SourceRef;
}

/** The effective [Timer] settings of a `.timer` unit. */
export interface TimerInfo {
  /** The unit it triggers (`Unit=`, or the same name with `.service`). */
  unit: string;
  /** Where `Unit=` was set; null when the default applies. */
  unitSource: SourceRef | null;
  onCalendar: Setting[];
  onBootSec: TimeSpan[];
  onStartupSec: TimeSpan[];
  onActiveSec: TimeSpan[];
  onUnitActiveSec: TimeSpan[];
  onUnitInactiveSec: TimeSpan[];
  persistent: boolean;
  persistentSource: SourceRef | null;
  randomizedDelaySec: TimeSpan | null;
  accuracySec: TimeSpan | null;
  /** `/var/lib/systemd/timers/stamp-<timer>`: when the timer last triggered (mtime, ISO 8601). */
  stamp: { path: string; mtime: string } | null;
  /**
   * True when the timer starts at boot, is `Persistent=true`, has `OnCalendar=` and a stamp file:
   * systemd then schedules from the stamp's mtime, so a calendar event missed since the stamp fires
   * right after boot (plus the random delay). Whether one was missed depends on the boot time: the
   * audit compares the stamp's age with the schedule. Without a stamp systemd schedules from the
   * activation time (no catch-up) and creates the stamp.
   */
  catchUpAtBoot: boolean;
}

/** The effective [Service] settings that run code at start. */
export interface ServiceInfo {
  type: Setting | null;
  execCondition: Setting[];
  execStartPre: Setting[];
  execStart: Setting[];
  execStartPost: Setting[];
  environment: Setting[];
  /** `EnvironmentFile=` values as written (a leading `-` means optional); the files are not read. */
  environmentFile: Setting[];
}

/** One unit as the system manager of the image would see it. */
export interface Unit {
  name: string;
  type: UnitType;
  /** For an instance (`getty@tty1.service`): its template (`getty@.service`); otherwise null. */
  template: string | null;
  /** The file the unit is loaded from (real path inside the image); null when masked. */
  fragment: SourceRef | null;
  masked: boolean;
  /** The /dev/null symlink or empty file that masks it. */
  maskedBy?: SourceRef;
  /** Other names of the unit: symlinks with another name in a unit directory. */
  aliases: string[];
  /** Drop-in files applied, in the order systemd applies them. */
  dropIns: string[];
  /** Whether [Install] has anything for `systemctl enable` to do. */
  hasInstall: boolean;
  install: InstallInfo;
  enablement: Enablement;
  wantedBy: WantedByLink[];
  /** Timers, sockets and paths that start this unit. */
  triggeredBy: string[];
  /** Not masked, not a template, and pulled in by at least one link. */
  activeAtBoot: boolean;
  /** Present for unit files `systemctl preset-all` would consider (not masked, not aliases, not instances). */
  preset?: UnitPreset;
  /** `Condition*=` and `Assert*=` of [Unit] after drop-ins, as written. */
  conditions: KeyedSetting[];
  timer?: TimerInfo;
  service?: ServiceInfo;
}

/** What /etc/machine-id says about the next boot. */
export type MachineIdState = 'missing' | 'uninitialized' | 'empty' | 'set';

/** The systemd part of an image's manifest. */
export interface SystemdSection {
  /** Sorted by name. */
  units: Unit[];
  presets: PresetRule[];
  /**
   * Whether the next boot is a "first boot" for systemd: /etc/machine-id missing (or unreadable) or
   * `uninitialized`. An empty file is not a first boot. On a first boot systemd runs preset-all and
   * `ConditionFirstBoot=yes` units.
   */
  firstBoot: boolean;
  machineId: MachineIdState;
  problems: ManifestProblem[];
}
