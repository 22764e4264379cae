/**
 * What a systemd-related message says happened, the same for the journal and for syslog
 * (where systemd's messages read `systemd[1]: Started ...`). `unit-starting`/`unit-stopping`
 * are the job beginning; `unit-started` a start job done (`Started`, `Finished` for oneshot
 * services, `Reached target`, `Mounted`); `unit-skipped` a start job done without running
 * anything (an unmet condition); `reboot` the system going down (reboot or power-off).
 */
export type SystemdEvent =
  | 'unit-starting'
  | 'unit-started'
  | 'unit-skipped'
  | 'unit-stopping'
  | 'unit-stopped'
  | 'unit-failed'
  | 'unit-restart'
  | 'reboot'
  | 'startup-finished'
  | 'daemon-reexec'
  | 'other';

/** What the classifier looks at; journal fields where there are any, else the text alone. */
export interface SystemdMessage {
  message: string | null;
  /** `SYSLOG_IDENTIFIER` or syslog's program: `systemd`, `systemd-logind`, ... */
  identifier: string | null;
  /** The unit the message is about, when known. */
  unit?: string | null;
  messageId?: string | null;
  jobType?: string | null;
  jobResult?: string | null;
}

// sd-messages.h: systemd's catalog ids, which say what a message is without reading its words.
const MESSAGE_IDS: Readonly<Record<string, SystemdEvent>> = {
  '7d4958e842da4a758f6c1cdc7b36dcc5': 'unit-starting',
  '39f53479d3a045ac8e11786248231fbf': 'unit-started',
  be02cf6855d2428ba40df7e9d022f03d: 'unit-failed',
  de5b426a63be47a7b6ac3eaac82e2f6f: 'unit-stopping',
  '9d1aaa27d60140bd96365438aad20286': 'unit-stopped',
  '7ad2d189f7e94e70a38c781354912448': 'unit-stopped',
  '0e4284a0caca4bfc81c0bb6786972673': 'unit-skipped',
  d9b373ed55a64feb8242e02dbe79a49c: 'unit-failed',
  '5eb03494b6584870a536b337290809b3': 'unit-restart',
  b07a249cd024414a82dd00cd181378ff: 'startup-finished',
  eed00a68ffd84e31882105fd973abdd1: 'startup-finished',
  '98268866d1d54a499c4e98921d93bc40': 'reboot',
};

const DOWN_TARGETS = /^(?:reboot|shutdown|poweroff|halt|kexec|soft-reboot)\.target$/;
const UNIT_SUFFIX = 'service|socket|target|timer|mount|automount|path|slice|scope|swap|device';
const UNIT_PREFIX = new RegExp(`^([^\\s:]+\\.(?:${UNIT_SUFFIX})): `);
const UNIT_AFTER_VERB = new RegExp(
  `^(?:Started|Starting|Stopped|Stopping|Finished|Reached target|Stopped target|Mounted|Mounting|Unmounted|Unmounting|Listening on|Closed|Failed to start|Dependency failed for|Reloading|Reloaded)\\s+([^\\s]+\\.(?:${UNIT_SUFFIX}))(?: - |\\.{0,3}$)`,
);
const SKIPPED = /\bwas skipped because\b|^Skipped due to\b/;

const REACHED_DOWN_TARGET =
  /^Reached target (?:(?:reboot|shutdown|poweroff|halt|kexec|soft-reboot)\.target\b|(?:System )?(?:Reboot|Shutdown|Power-Off|Halt)\.?$)/;
const REBOOT_TEXT: readonly RegExp[] = [
  REACHED_DOWN_TARGET,
  /^System is (?:rebooting|powering down|halting|soft-rebooting)/,
  /^The system will (?:reboot|power off) now!/,
  /^(?:Shutting down|Rebooting|Powering off)\.?$/,
];

/**
 * The unit a systemd message names: `apt-daily.service: Deactivated successfully.` or
 * `Started apt-daily.service - Daily apt download activities.` (systemd 249+). Older systemd
 * wrote only the description (`Started Daily apt download activities.`): null then.
 */
export function unitFromMessage(message: string): string | null {
  return UNIT_PREFIX.exec(message)?.[1] ?? UNIT_AFTER_VERB.exec(message)?.[1] ?? null;
}

function isSystemd(identifier: string | null): boolean {
  return identifier === 'systemd' || identifier === 'init';
}

/** Classifies a message from systemd (or logind, systemd-shutdown) about units, boot and shutdown. */
export function classifySystemdMessage(m: SystemdMessage): SystemdEvent {
  const message = m.message ?? '';
  const unit = m.unit ?? null;
  const id = m.messageId?.toLowerCase() ?? null;
  const downIdentifier =
    isSystemd(m.identifier) || m.identifier === 'systemd-logind' || m.identifier === 'systemd-shutdown';

  let byId: SystemdEvent | undefined = id === null ? undefined : MESSAGE_IDS[id];
  if (byId === undefined && m.jobResult != null && m.jobType != null && isSystemd(m.identifier)) {
    const done = m.jobResult === 'done';
    if (m.jobType === 'stop') byId = done ? 'unit-stopped' : 'unit-failed';
    else if (m.jobType === 'start' || m.jobType === 'restart' || m.jobType === 'verify-active')
      byId = done ? 'unit-started' : m.jobResult === 'skipped' ? 'unit-skipped' : 'unit-failed';
  }
  if (byId !== undefined) {
    if (byId === 'unit-started' && SKIPPED.test(message)) return 'unit-skipped';
    if (byId === 'unit-started' && unit !== null && DOWN_TARGETS.test(unit)) return 'reboot';
    if (byId === 'unit-started' && REACHED_DOWN_TARGET.test(message)) return 'reboot';
    return byId;
  }

  if (downIdentifier && REBOOT_TEXT.some((pattern) => pattern.test(message))) return 'reboot';
  if (!isSystemd(m.identifier)) return 'other';
  if (/^Startup finished in /.test(message)) return 'startup-finished';
  if (/^(?:Reexecuting|Reloading)\.{1,3}$|^(?:Reexecution|Reloading) requested from client PID/.test(message))
    return 'daemon-reexec';
  if (SKIPPED.test(message)) return 'unit-skipped';
  if (/: Scheduled restart job\b/.test(message)) return 'unit-restart';
  if (/: Failed with result '|^Failed to start |^Dependency failed for /.test(message)) return 'unit-failed';
  if (/: Deactivated successfully\.?$|^(?:Stopped|Unmounted|Closed|Stopped target) /.test(message))
    return 'unit-stopped';
  if (/^(?:Stopping|Unmounting) /.test(message)) return 'unit-stopping';
  if (/^(?:Starting|Mounting) .*\.\.\.$/.test(message)) return 'unit-starting';
  if (/^(?:Started|Finished|Reached target|Mounted|Listening on|Activated swap) /.test(message))
    return 'unit-started';
  return 'other';
}
