import { isValidDebianVersion } from '../../../debian/version.js';
import type { PackageAction, PackageChange } from '../../packages.js';
import { localTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';

/** What ran apt, from the paragraph's `Commandline:`. */
export type AptTool =
  'unattended-upgrade' | 'apt-get' | 'apt' | 'aptitude' | 'cloud-init' | 'dpkg' | 'unknown';

/** One paragraph of `/var/log/apt/history.log`: one apt run and the packages it changed. */
export interface AptHistoryRecord extends LogRecordBase {
  source: 'apt-history';
  /** The line of `Start-Date:` (or of the paragraph's first field when Start-Date is missing). */
  line: number;
  /** `Start-Date:`, local time. */
  time: LogTime | null;
  /** `End-Date:`, local time; null when apt did not finish (or the log was cut). */
  end: LogTime | null;
  commandline: string | null;
  /** `Requested-By: user (uid)`: absent when root ran apt directly. */
  requestedBy: { user: string; uid: number | null } | null;
  tool: AptTool;
  /** In the order the sections appear (Install, Upgrade, Downgrade, Remove, Purge, Reinstall). */
  changes: PackageChange[];
  /** `Error:` lines, joined by newlines. */
  error: string | null;
  /** The paragraph had no `End-Date:`. */
  truncated?: true;
}

/** A paragraph holding more lines than this is cut: history paragraphs have about ten. */
export const MAX_PARAGRAPH_LINES = 10_000;
/** Nor more characters than this (a full-upgrade's Upgrade line is some tens of kilobytes). */
export const MAX_PARAGRAPH_CHARS = 8_000_000;

const SECTIONS: Readonly<Record<string, PackageAction>> = {
  Install: 'install',
  Upgrade: 'upgrade',
  Downgrade: 'downgrade',
  Remove: 'remove',
  Purge: 'purge',
  Reinstall: 'reinstall',
};

const NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const ARCH = /^[a-z0-9][a-z0-9-]*$/;
const FIELD = /^([A-Za-z][A-Za-z-]*):(?:[ \t]+(.*)|)$/;
const ITEM = /^(\S+)[ \t]*\(([^()]*)\)$/;

// cloud-init runs apt-get with exactly these options (cloudinit/distros/debian.py APT_GET_COMMAND).
const CLOUD_INIT_OPTIONS = [
  '--option=Dpkg::Options::=--force-confold',
  '--option=Dpkg::options::=--force-unsafe-io',
];
const WRAPPERS = /^(?:eatmydata|sudo|env|nice|ionice|python[0-9.]*|[A-Za-z_][A-Za-z0-9_]*=.*)$/;

/** Which tool a `Commandline:` shows: cloud-init is told apart from a person's apt-get by its options. */
export function classifyTool(commandline: string | null): AptTool {
  if (commandline === null) return 'unknown';
  const words = commandline.trim().split(/[ \t]+/);
  let i = 0;
  const base = (word: string | undefined) => (word ?? '').split('/').pop() ?? '';
  while (i < words.length - 1 && WRAPPERS.test(base(words[i]))) i++;
  const program = base(words[i]);
  switch (program) {
    case 'unattended-upgrade':
    case 'unattended-upgrades':
      return 'unattended-upgrade';
    case 'apt-get':
      return CLOUD_INIT_OPTIONS.every((option) => words.includes(option)) ? 'cloud-init' : 'apt-get';
    case 'apt':
      return 'apt';
    case 'aptitude':
    case 'aptitude-curses':
      return 'aptitude';
    case 'dpkg':
      return 'dpkg';
    default:
      return 'unknown';
  }
}

/** Splits at commas outside parentheses: `a:amd64 (1, automatic), b:all (2)` → two items. */
function splitItems(value: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      items.push(value.slice(start, i));
      start = i + 1;
    }
  }
  items.push(value.slice(start));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/**
 * Parses one section's package list (`Upgrade: libc6:amd64 (2.36-9, 2.36-9+deb12u4), ...`).
 * Items that cannot be read are left out and described in `problems`; an item with the wrong
 * number of versions is kept as far as it can be read, and described too.
 */
export function parsePackageList(
  action: PackageAction,
  value: string,
): { changes: PackageChange[]; problems: string[] } {
  const changes: PackageChange[] = [];
  const problems: string[] = [];
  const items = splitItems(value);
  if (items.length === 0) problems.push(`empty ${action} list`);
  for (const item of items) {
    const match = ITEM.exec(item);
    if (match === null) {
      problems.push(`cannot read package '${clip(item)}' (expected 'name:arch (version)')`);
      continue;
    }
    const [, nameWithArch = '', inner = ''] = match;
    const colon = nameWithArch.indexOf(':');
    const name = colon === -1 ? nameWithArch : nameWithArch.slice(0, colon);
    const arch = colon === -1 ? null : nameWithArch.slice(colon + 1);
    if (!NAME.test(name) || (arch !== null && !ARCH.test(arch))) {
      problems.push(`invalid package name '${clip(nameWithArch)}'`);
      continue;
    }
    const parts = inner.split(',').map((part) => part.trim());
    const automatic = parts.length > 1 && parts.at(-1) === 'automatic';
    if (automatic) parts.pop();
    const bad = parts.find((part) => !isValidDebianVersion(part));
    if (bad !== undefined) {
      problems.push(`invalid version '${clip(bad)}' for ${nameWithArch}`);
      continue;
    }
    const two = action === 'upgrade' || action === 'downgrade';
    if (parts.length !== (two ? 2 : 1)) {
      problems.push(`${nameWithArch}: expected ${two ? '(from, to)' : '(version)'}, found (${clip(inner)})`);
    }
    const first = parts[0] ?? null;
    const last = parts.at(-1) ?? null;
    let from: string | null;
    let to: string | null;
    if (two) [from, to] = parts.length >= 2 ? [first, last] : [null, first];
    else if (action === 'install') [from, to] = [null, first];
    else if (action === 'reinstall') [from, to] = [first, first];
    else [from, to] = [first, null];
    changes.push({ action, package: name, arch, from, to, automatic });
  }
  return { changes, problems };
}

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

interface Paragraph {
  record: AptHistoryRecord;
  lines: number;
  chars: number;
  capped: boolean;
  ended: boolean;
  seen: Set<string>;
}

function openHistory(file: string, sink: ParserSink<AptHistoryRecord>): LineParser {
  let current: Paragraph | null = null;

  const close = () => {
    const paragraph: Paragraph | null = current;
    if (paragraph === null) return;
    const { record } = paragraph;
    current = null;
    if (!paragraph.ended) {
      record.truncated = true;
      sink.problem(record.line, 'paragraph has no End-Date: apt did not finish, or the log was cut');
    }
    sink.record(record);
  };

  const begin = (n: number): Paragraph => {
    current = {
      record: {
        source: 'apt-history',
        file,
        line: n,
        time: null,
        end: null,
        commandline: null,
        requestedBy: null,
        tool: 'unknown',
        changes: [],
        error: null,
      },
      lines: 0,
      chars: 0,
      capped: false,
      ended: false,
      seen: new Set(),
    };
    return current;
  };

  const date = (value: string, field: string, n: number): LogTime | null => {
    const time = localTime(value);
    if (time === undefined) sink.problem(n, `${field} '${clip(value)}' is not a date and time`);
    return time ?? null;
  };

  return {
    line(text, n) {
      if (text.trim() === '') {
        close();
        return;
      }
      const field = FIELD.exec(text);
      if (field === null) {
        sink.problem(n, current === null ? 'line outside a history paragraph' : `not a 'Field: value' line`);
        return;
      }
      const key = field[1] ?? '';
      const value = (field[2] ?? '').trim();
      if (key === 'Start-Date') {
        close();
        begin(n).record.time = date(value, 'Start-Date', n);
        return;
      }
      let paragraph: Paragraph | null = current;
      if (paragraph === null) {
        sink.problem(n, `paragraph has no Start-Date (it begins with ${key}:)`);
        paragraph = begin(n);
      }
      paragraph.lines++;
      paragraph.chars += text.length;
      if (paragraph.lines > MAX_PARAGRAPH_LINES || paragraph.chars > MAX_PARAGRAPH_CHARS) {
        if (!paragraph.capped) {
          sink.problem(
            n,
            `paragraph longer than ${MAX_PARAGRAPH_LINES} lines or ${MAX_PARAGRAPH_CHARS} characters, rest ignored`,
          );
        }
        paragraph.capped = true;
        return;
      }
      const { record, seen } = paragraph;
      const action = SECTIONS[key];
      if (action !== undefined) {
        const { changes, problems } = parsePackageList(action, value);
        record.changes.push(...changes);
        for (const problem of problems) sink.problem(n, `${key}: ${problem}`);
        return;
      }
      if (key === 'Error') {
        record.error = record.error === null ? value : `${record.error}\n${value}`;
        return;
      }
      if (key !== 'Commandline' && key !== 'Requested-By' && key !== 'End-Date') {
        sink.problem(n, `unknown field '${clip(key)}'`);
        return;
      }
      if (seen.has(key)) {
        sink.problem(n, `${key} repeated in one paragraph, the first is kept`);
        return;
      }
      seen.add(key);
      if (key === 'Commandline') {
        record.commandline = value;
        record.tool = classifyTool(value);
      } else if (key === 'End-Date') {
        // A malformed End-Date still shows that apt finished: the paragraph is not truncated.
        paragraph.ended = true;
        record.end = date(value, 'End-Date', n);
      } else {
        const by = /^(.*?)[ \t]*\((\d{1,10})\)$/.exec(value);
        const uid = by === null ? NaN : Number(by[2]);
        const valid = uid <= 0xffffffff;
        if (!valid) sink.problem(n, `Requested-By '${clip(value)}' has no valid '(uid)'`);
        record.requestedBy = { user: valid ? (by?.[1] ?? value) : value, uid: valid ? uid : null };
      }
    },
    end() {
      close();
    },
  };
}

const NAME_PATTERN = /(?:^|[._-])history\.log(?:\.\d+)?(?:\.gz)?$/;
const HEAD_FIELD =
  /^(?:Start-Date|Commandline|Requested-By|Install|Upgrade|Downgrade|Remove|Purge|Reinstall|Error|End-Date): /;

/** apt's history: `/var/log/apt/history.log`, one paragraph per apt run. */
const aptHistory: LogParser<AptHistoryRecord> = {
  id: 'apt-history',
  title: 'apt history (/var/log/apt/history.log): one paragraph per apt run, with the packages it changed',
  detect(name, head) {
    if (head.length === 0) return NAME_PATTERN.test(name);
    return (
      head.some((line) => HEAD_FIELD.test(line)) &&
      (NAME_PATTERN.test(name) || head[0]?.startsWith('Start-Date: ') === true)
    );
  },
  open: openHistory,
};

export default aptHistory;
