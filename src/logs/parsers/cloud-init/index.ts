import { localTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';
import { bannerDateText, parseBanner, parsePythonList } from './banner.js';

/** What a cloud-init.log record is about. */
export type CloudInitEvent =
  | 'stage-start'
  | 'module-start'
  | 'module-done'
  | 'module-failed'
  | 'command'
  | 'command-failed'
  | 'dpkg-lock'
  | 'reboot'
  | 'finished'
  | 'other';

/**
 * Where an apt/dpkg lock wait stands. cloud-init (22.3 and later) logs `waiting` before every
 * apt run and `acquired` when the lock is free, polling once a second in between without a
 * word: the gap is the only sign of contention. `held`: another process has it (apt's `Could
 * not get lock ... held by process N`); `timeout`: cloud-init gave up.
 */
export type CloudInitLockState = 'waiting' | 'acquired' | 'held' | 'timeout';

/**
 * One record of `/var/log/cloud-init.log`: a `2026-11-27 07:57:54,502 - util.py[DEBUG]: ...`
 * line and the lines after it that do not start a record (tracebacks, multi-line dicts).
 * Fields an event does not have are null.
 */
export interface CloudInitRecord extends LogRecordBase {
  source: 'cloud-init';
  /** Local wall-clock time: cloud-init.log does not say its zone (UTC on most clouds). */
  time: LogTime | null;
  /** `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`. */
  level: string;
  /** The Python file that logged it: `util.py`, `modules.py`, `cc_locale.py`. */
  module: string;
  /** The text after `]: ` on the record's first line. */
  message: string;
  /** The continuation lines as written (a traceback); empty for most records. */
  detail: string[];
  event: CloudInitEvent;
  /**
   * `stage-start`: the stage as the banner names it (`init-local`, `init`, `modules:config`,
   * `modules:final`). `finished`: the stage the line closes (`init-local`, `init-network`,
   * `modules-config`, `modules-final` from the reporting handler; `init` or `modules` from
   * `cloud-init mode 'init' took ...`). `module-*`: the stage the module ran in, when logged.
   */
  stage: string | null;
  /** Banners (`stage-start`, and `finished` from `Cloud-init v. X finished at`). */
  cloudInitVersion: string | null;
  /** Banners: the time the banner states, which carries a zone (unlike the line's own time). */
  at: LogTime | null;
  /** Banners: seconds since the kernel booted. */
  upSeconds: number | null;
  /** `finished` from the final banner: `DataSourceNoCloud [seed=...][dsmode=net]`. */
  datasource: string | null;
  /** `module-*`: the config module, normalised as cloud-init does (`package-update` → `package_update`). */
  cloudModule: string | null;
  /** `module-start`: `always`, `once-per-instance`, `once`. */
  frequency: string | null;
  /** The reporting handler's verdict on `finish:` lines: `SUCCESS`, `FAIL`, `WARN`. */
  result: string | null;
  /** `finished` from `cloud-init mode '...' took N seconds`. */
  durationSeconds: number | null;
  /** `command`: the argv cloud-init ran; on failures, the traceback's `Command: [...]`. */
  argv: string[] | null;
  /** `command` lines whose command is not a list (a shell string), as written. */
  commandText: string | null;
  /** The traceback's `Exit code: N`; null when cloud-init wrote `-` (the command could not start) or none. */
  exitCode: number | null;
  /** `dpkg-lock`, or any record whose text reports a lock held. */
  lock: CloudInitLockState | null;
  /** `... It is held by process 812 (unattended-upgr)`. */
  lockHolder: { pid: number; program: string | null } | null;
  /** `acquired`: seconds since the `waiting` line before it (from the lines' own times). */
  lockWaitSeconds: number | null;
  /** The log ended inside this record's continuation lines. */
  truncated?: true;
}

/**
 * An `acquired` lock after a wait this long (seconds) is a `dpkg-lock` event; a shorter one is
 * `other`. cloud-init polls once a second, so a second or more means it found the lock held.
 */
export const LOCK_WAIT_EVENT_SECONDS = 1;

/** A record holding more continuation lines (or characters) than this is cut, with a problem. */
export const MAX_DETAIL_LINES = 10_000;
export const MAX_DETAIL_CHARS = 4 * 1024 * 1024;

const HEADER = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:[,.]\d{1,6})?) - ([^\s[\]]+)\[([A-Za-z]+)\]: ?(.*)$/;
const MODULE_START = /^Running module (\S+) \((.*)\) with frequency (\S+)$/;
const MODULE_FAILED = /^Running module (\S+) \((.*)\) failed$/;
const HANDLER_FINISH = /^finish: ([^\s:/]+)(?:\/([^\s:]+))?: ([A-Z]+): (.*)$/;
const MODE_TOOK = /^cloud-init mode '([^']*)' took (\d+(?:\.\d+)?) seconds/;
const COMMAND = /^Running command (.*) with allowed return codes (.*)$/;
const HELD_BY = /held by process (\d+)(?: \(([^)]*)\))?/;
const LOCK_PATTERNS: ReadonlyArray<[RegExp, CloudInitLockState]> = [
  [/^Waiting for apt lock\b/, 'waiting'],
  [/^apt lock available\b/, 'acquired'],
  [/Could not get apt lock/, 'timeout'],
  [/Another process holds apt lock/, 'held'],
  [/Could not get lock \//, 'held'],
  [/Waiting for cache lock/, 'held'],
  [/Unable to acquire the dpkg frontend lock|Unable to lock the administration directory/, 'held'],
];
const COMMAND_FAILED = /ProcessExecutionError|Unexpected error while running command|^Exit code: -?\d+/m;
const REBOOT = /\bRebooting\b|\breboot[- ]required\b|\bwill reboot\b/i;

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** cloud-init's own name for a config module (`cloudinit/config/modules.py` canonicalises dashes). */
function canonicalModule(name: string): string {
  return name.replace(/^config-/, '').replace(/-/g, '_');
}

function lockOf(text: string): CloudInitLockState | null {
  for (const [pattern, state] of LOCK_PATTERNS) if (pattern.test(text)) return state;
  return null;
}

function holderOf(text: string): { pid: number; program: string | null } | null {
  const match = HELD_BY.exec(text);
  if (match === null) return null;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) ? { pid, program: match[2] ?? null } : null;
}

interface Pending {
  record: CloudInitRecord;
  chars: number;
  capped: boolean;
}

/** Fills in what the first line and the continuation say; sets `event`. */
function classify(record: CloudInitRecord, sink: ParserSink<CloudInitRecord>): void {
  const { message } = record;
  const banner = parseBanner(message);
  if (banner !== null) {
    record.event = banner.kind === 'start' ? 'stage-start' : 'finished';
    record.cloudInitVersion = banner.cloudInitVersion;
    record.at = banner.at;
    record.upSeconds = banner.upSeconds;
    if (banner.kind === 'start') record.stage = banner.stage;
    else record.datasource = banner.datasource;
    if (banner.at === null)
      sink.problem(record.line, `banner date '${clip(bannerDateText(message) ?? '')}' is not a date`);
    return;
  }
  const took = MODE_TOOK.exec(message);
  if (took !== null) {
    record.event = 'finished';
    record.stage = took[1] ?? null;
    record.durationSeconds = Number(took[2]);
    return;
  }
  const start = MODULE_START.exec(message);
  if (start !== null) {
    record.event = 'module-start';
    record.cloudModule = canonicalModule(start[1] ?? '');
    record.frequency = start[3] ?? null;
    return;
  }
  const failed = MODULE_FAILED.exec(message);
  if (failed !== null) {
    record.event = 'module-failed';
    record.cloudModule = canonicalModule(failed[1] ?? '');
    readFailure(record, sink);
    return;
  }
  const finish = HANDLER_FINISH.exec(message);
  if (finish !== null) {
    const [, stage = '', item, result = ''] = finish;
    record.stage = stage;
    record.result = result;
    if (item === undefined) {
      record.event = 'finished';
    } else if (item.startsWith('config-')) {
      record.event = result === 'FAIL' ? 'module-failed' : 'module-done';
      record.cloudModule = canonicalModule(item);
    }
    // Other handler steps (`init-local/check-cache`, `init-network/consume-user-data`) stay 'other'.
    return;
  }
  const command = COMMAND.exec(message);
  if (command !== null) {
    record.event = 'command';
    const args = command[1] ?? '';
    if (args.startsWith('[')) {
      record.argv = parsePythonList(args) ?? null;
      if (record.argv === null)
        sink.problem(record.line, `command '${clip(args)}' is not a readable Python list`);
    } else {
      record.commandText = args;
    }
    return;
  }
  const lock = lockOf(message);
  if (lock !== null) {
    // Waiting and acquiring happen on every apt run; the parser decides on the gap (see open).
    record.event = lock === 'waiting' || lock === 'acquired' ? 'other' : 'dpkg-lock';
    record.lock = lock;
    record.lockHolder = holderOf(message) ?? holderOf(record.detail.join('\n'));
    return;
  }
  if (COMMAND_FAILED.test(message)) {
    record.event = 'command-failed';
    readFailure(record, sink);
    return;
  }
  if (REBOOT.test(message)) {
    record.event = 'reboot';
    return;
  }
  if (record.detail.length === 0) return;
  // `util.logexc` writes a plain message and puts what failed in the traceback below it.
  const detail = record.detail.join('\n');
  const detailLock = lockOf(detail);
  if (detailLock !== null) {
    record.event = 'dpkg-lock';
    record.lock = detailLock;
    readFailure(record, sink);
  } else if (COMMAND_FAILED.test(detail)) {
    record.event = 'command-failed';
    readFailure(record, sink);
  }
}

/** Reads `Command: [...]`, `Exit code: N` and a lock holder from a failure's traceback. */
function readFailure(record: CloudInitRecord, sink: ParserSink<CloudInitRecord>): void {
  for (const text of record.detail) {
    if (record.argv === null && text.startsWith('Command: ')) {
      const args = text.slice('Command: '.length);
      record.argv = parsePythonList(args) ?? null;
      if (record.argv === null && args.startsWith('[')) {
        sink.problem(record.line, `failed command '${clip(args)}' is not a readable Python list`);
      } else if (record.argv === null) {
        record.commandText = args;
      }
    }
    const exit = /^Exit code: (-?\d+)\s*$/.exec(text);
    if (exit !== null && record.exitCode === null) record.exitCode = Number(exit[1]);
  }
  const holder = holderOf(record.detail.join('\n'));
  if (holder !== null) {
    record.lockHolder = holder;
    record.lock ??= 'held';
  }
}

function openCloudInit(file: string, sink: ParserSink<CloudInitRecord>): LineParser {
  let pending: Pending | null = null;
  let orphans = false;
  let waitingSince: number | null = null;

  const lockWait = (record: CloudInitRecord) => {
    const at = record.time?.local === undefined ? null : Date.parse(`${record.time.local}Z`);
    if (record.lock === 'waiting') {
      waitingSince = at;
    } else if (record.lock === 'acquired') {
      if (waitingSince !== null && at !== null && at >= waitingSince) {
        record.lockWaitSeconds = (at - waitingSince) / 1000;
        if (record.lockWaitSeconds >= LOCK_WAIT_EVENT_SECONDS) record.event = 'dpkg-lock';
      }
      waitingSince = null;
    }
  };

  const flush = (truncated: boolean) => {
    if (pending === null) return;
    const { record } = pending;
    pending = null;
    // Blank lines cloud-init leaves after a traceback belong to nothing.
    while (record.detail.length > 0 && record.detail.at(-1)?.trim() === '') record.detail.pop();
    const last = record.detail.at(-1);
    // A traceback ends with an unindented exception line; one ending indented was cut.
    if (truncated && last !== undefined && (/^\s/.test(last) || last.startsWith('Traceback ('))) {
      record.truncated = true;
      sink.problem(record.line, 'the log ends inside this record: its traceback is cut');
    }
    classify(record, sink);
    lockWait(record);
    sink.record(record);
  };

  return {
    line(text, n) {
      const header = HEADER.exec(text);
      if (header === null) {
        if (pending === null) {
          if (!orphans && text.trim() !== '') sink.problem(n, 'text before the first record, skipped');
          orphans = true;
          return;
        }
        if (pending.capped) return;
        if (
          pending.record.detail.length >= MAX_DETAIL_LINES ||
          pending.chars + text.length > MAX_DETAIL_CHARS
        ) {
          pending.capped = true;
          sink.problem(
            n,
            `record longer than ${MAX_DETAIL_LINES} lines or ${MAX_DETAIL_CHARS} characters, rest ignored`,
          );
          return;
        }
        pending.record.detail.push(text);
        pending.chars += text.length;
        return;
      }
      flush(false);
      orphans = false;
      const [, stamp = '', module = '', level = '', message = ''] = header;
      const time = localTime(stamp) ?? null;
      if (time === null) sink.problem(n, `'${stamp}' is not a date and time`);
      pending = {
        record: {
          source: 'cloud-init',
          file,
          line: n,
          time,
          level,
          module,
          message,
          detail: [],
          event: 'other',
          stage: null,
          cloudInitVersion: null,
          at: null,
          upSeconds: null,
          datasource: null,
          cloudModule: null,
          frequency: null,
          result: null,
          durationSeconds: null,
          argv: null,
          commandText: null,
          exitCode: null,
          lock: null,
          lockHolder: null,
          lockWaitSeconds: null,
        },
        chars: 0,
        capped: false,
      };
    },
    end() {
      flush(true);
    },
  };
}

const NAME_PATTERN = /(?:^|[._-])cloud-init\.log(?:\.\d+)?(?:\.gz)?$/;
const HEAD_LINE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - [^\s[\]]+\.py\[[A-Z]+\]: /;

/** cloud-init's own log, `/var/log/cloud-init.log`: stages, modules, commands and their failures. */
const cloudInit: LogParser<CloudInitRecord> = {
  id: 'cloud-init',
  title:
    'cloud-init log (/var/log/cloud-init.log): boot stages, config modules, the commands they ran and what failed',
  detect(name, head) {
    if (/cloud-init-output/.test(name)) return false;
    if (head.length === 0) return NAME_PATTERN.test(name);
    return (
      HEAD_LINE.test(head[0] ?? '') || (NAME_PATTERN.test(name) && head.some((line) => HEAD_LINE.test(line)))
    );
  },
  open: openCloudInit,
};

export default cloudInit;
