import { localTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';

/** The messages of unattended-upgrades that tell what a run did. */
export type UnattendedUpgradesEvent =
  | 'start'
  | 'allowed-origins'
  | 'packages'
  | 'no-packages'
  | 'installed'
  | 'error'
  | 'reboot'
  | 'dpkg-lock'
  | 'other';

/** One message of `unattended-upgrades.log` (or `unattended-upgrades-shutdown.log`), with its continuation lines. */
export interface UnattendedUpgradesRecord extends LogRecordBase {
  source: 'unattended-upgrades';
  time: LogTime | null;
  /** Python's logging level: `DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`. */
  level: string;
  /** The message; lines that followed it without a timestamp (a traceback, dpkg output) joined by newlines. */
  message: string;
  event: UnattendedUpgradesEvent;
  /** For `packages`: the names in "Packages that will be upgraded: a b c"; null for other events. */
  packages: string[] | null;
  /** The message had more than MAX_MESSAGE_LINES lines or MAX_MESSAGE_CHARS characters; the rest was dropped. */
  truncated?: true;
}

/** Continuation lines kept per message. */
export const MAX_MESSAGE_LINES = 10_000;
/** Characters kept per message. */
export const MAX_MESSAGE_CHARS = 1_000_000;

// The shutdown helper logs "%(asctime)s %(levelname)s - %(message)s"; the main script has no dash.
const LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) ([A-Z]+)(?: (?:- )?(.*))?$/;
const PACKAGES = /^Packages that will be upgraded:(.*)$/;

/** Sorts a message (its first line and level) into the events the correlator cares about. */
export function classifyMessage(level: string, message: string): UnattendedUpgradesEvent {
  const first = message.split('\n', 1)[0] ?? '';
  if (first.startsWith('Starting unattended upgrades script')) return 'start';
  if (first.startsWith('Allowed origins are:')) return 'allowed-origins';
  if (PACKAGES.test(first)) return 'packages';
  if (first.startsWith('No packages found that can be upgraded unattended')) return 'no-packages';
  if (first.startsWith('All upgrades installed')) return 'installed';
  if (
    /lock could not be acquired|another package manager|could not get lock|unable to acquire the dpkg/i.test(
      first,
    )
  ) {
    return 'dpkg-lock';
  }
  if (level === 'ERROR' || level === 'CRITICAL' || first.startsWith('Installing the upgrades failed'))
    return 'error';
  if (/reboot/i.test(first)) return 'reboot';
  return 'other';
}

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

interface Pending {
  record: UnattendedUpgradesRecord;
  lines: number;
  chars: number;
}

function openLog(file: string, sink: ParserSink<UnattendedUpgradesRecord>): LineParser {
  let pending: Pending | null = null;

  const flush = () => {
    if (pending === null) return;
    const { record } = pending;
    pending = null;
    record.message = record.message.trimEnd();
    record.event = classifyMessage(record.level, record.message);
    if (record.event === 'packages') {
      const list = PACKAGES.exec(record.message.split('\n', 1)[0] ?? '')?.[1] ?? '';
      record.packages = list.split(/\s+/).filter((name) => name !== '');
    }
    sink.record(record);
  };

  return {
    line(text, n) {
      const match = LINE.exec(text);
      if (match !== null) {
        flush();
        const [, stamp = '', level = '', message = ''] = match;
        const time = localTime(stamp);
        if (time === undefined) sink.problem(n, `'${stamp}' is not a valid date and time`);
        pending = {
          record: {
            source: 'unattended-upgrades',
            file,
            line: n,
            time: time ?? null,
            level,
            message: message.slice(0, MAX_MESSAGE_CHARS),
            event: 'other',
            packages: null,
          },
          lines: 1,
          chars: Math.min(message.length, MAX_MESSAGE_CHARS),
        };
        if (message.length > MAX_MESSAGE_CHARS) {
          pending.record.truncated = true;
          sink.problem(n, `message longer than ${MAX_MESSAGE_CHARS} characters, rest dropped`);
        }
        return;
      }
      const current: Pending | null = pending;
      if (current === null) {
        if (text.trim() !== '') sink.problem(n, `line before any timestamped message: '${clip(text)}'`);
        return;
      }
      current.lines++;
      current.chars += text.length + 1;
      if (current.lines > MAX_MESSAGE_LINES || current.chars > MAX_MESSAGE_CHARS) {
        if (current.record.truncated !== true) {
          sink.problem(
            n,
            `message longer than ${MAX_MESSAGE_LINES} lines or ${MAX_MESSAGE_CHARS} characters, rest dropped`,
          );
        }
        current.record.truncated = true;
        return;
      }
      current.record.message += `\n${text}`;
    },
    end() {
      flush();
    },
  };
}

const NAME = /(?:^|[._-])unattended-upgrades(?:-shutdown)?\.log(?:\.\d+)?(?:\.gz)?$/;

/** unattended-upgrades' own log: what each run found, installed, or failed to do. */
const unattendedUpgrades: LogParser<UnattendedUpgradesRecord> = {
  id: 'unattended-upgrades',
  title:
    'unattended-upgrades (/var/log/unattended-upgrades/unattended-upgrades.log): what each automatic run found, installed or failed to do',
  detect(name, head) {
    return NAME.test(name) && (head.length === 0 || head.some((line) => LINE.test(line)));
  },
  open: openLog,
};

export default unattendedUpgrades;
