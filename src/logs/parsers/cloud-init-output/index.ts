import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';
import { bannerDateText, parseBanner } from '../cloud-init/banner.js';

/** What a cloud-init-output.log record shows. */
export type CloudInitOutputKind =
  | 'stage'
  | 'finished'
  | 'setting-up'
  | 'unpacking'
  | 'removing'
  | 'get'
  | 'fetch-error'
  | 'apt-error'
  | 'apt-warning'
  | 'dpkg-lock'
  | 'summary';

/**
 * One line of `/var/log/cloud-init-output.log` worth keeping: cloud-init's banners, and the
 * apt/dpkg output that shows package changes, downloads, fetch failures and lock waits.
 * Everything else (ci-info tables, progress, command output) is counted, not kept: the
 * `summary` record at the end says how many lines that was. Fields a kind does not have are null.
 */
export interface CloudInitOutputRecord extends LogRecordBase {
  source: 'cloud-init-output';
  /**
   * The banner's own time for `stage`/`finished` (it carries a zone); for any other line, the
   * time of the last banner before it (the output has no times of its own); null before any.
   */
  time: LogTime | null;
  /** Where `time` comes from: this `line`, the last banner (`stage`), or `none` before any banner. */
  timeFrom: 'line' | 'stage' | 'none';
  kind: CloudInitOutputKind;
  /** The line as written; for lines apt redrew with `\r`, the last state only. */
  text: string;
  /** Banners: `init-local`, `init`, `modules:config`, `modules:final` (`stage` only). */
  stage: string | null;
  cloudInitVersion: string | null;
  /** Banners: seconds since the kernel booted. */
  upSeconds: number | null;
  /** `finished`: `DataSourceNoCloud [seed=...][dsmode=net]`. */
  datasource: string | null;
  /** Package lines and package downloads: the name without the architecture. */
  package: string | null;
  arch: string | null;
  /** `Setting up`/`Unpacking`/`Removing`: the version; `get`/`fetch-error` of a package: the version fetched. */
  version: string | null;
  /** `Unpacking x (new) over (old)`: the version replaced. */
  fromVersion: string | null;
  /** `Get:N`/`Err:N`: apt's item number N. */
  seq: number | null;
  /** `get`/`fetch-error`, and `E:`/`W:` lines naming one: the URL. */
  url: string | null;
  /** The URL's host (`archive.distro-mirror.example`); null for `file:` and `cdrom:` sources. */
  host: string | null;
  /** `get`/`fetch-error`: what was fetched after the URL (`bookworm InRelease`, `bookworm/main amd64 curl amd64 7.88.1`). */
  item: string | null;
  /** `get`: the size apt printed (`315 kB`). */
  size: string | null;
  /** `fetch-error`: apt's reason, from the indented lines under `Err:N`. `E:`/`W:`/lock lines: the text after `E: `. */
  message: string | null;
  /** `dpkg-lock`: `It is held by process 812 (unattended-upgr)`. */
  lockHolder: { pid: number; program: string | null } | null;
  /** `summary`: lines in the file that made no record. */
  otherLines: number | null;
  /** `summary`: all lines read. */
  lines: number | null;
  /** The log ended right after an `Err:N` line, before its reason. */
  truncated?: true;
}

/** An `Err:N` line keeps at most this many reason lines. */
export const MAX_REASON_LINES = 20;

const SETTING_UP = /^Setting up (\S+) \(([^()]*)\) \.\.\./;
const UNPACKING = /^Unpacking (\S+) \(([^()]*)\)(?: over \(([^()]*)\))? \.\.\./;
const REMOVING = /^Removing (\S+) \(([^()]*)\) \.\.\./;
const FETCH = /^(Get|Err):(\d+) (\S+)(?: (.*?))?(?: \[([^\]]*)\])?$/;
const APT_MESSAGE = /^([EW]): (.*)$/;
const LOCK =
  /Could not get lock |Waiting for cache lock|Unable to acquire the dpkg frontend lock|Unable to lock the administration directory/;
const HELD_BY = /held by process (\d+)(?: \(([^)]*)\))?/;
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/\S+|file:\/\S+)/;
const ARCHES =
  /^(?:all|any|amd64|arm64|armhf|armel|i386|ppc64el|ppc64|s390x|riscv64|mips64el|mipsel|loong64|x32|alpha|hppa|m68k|sh4|sparc64|ia64)$/;

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function hostOf(url: string): string | null {
  try {
    const host = new URL(url).hostname;
    return host === '' ? null : host;
  } catch {
    return null;
  }
}

function splitArch(nameWithArch: string): { name: string; arch: string | null } {
  const colon = nameWithArch.indexOf(':');
  return colon === -1
    ? { name: nameWithArch, arch: null }
    : { name: nameWithArch.slice(0, colon), arch: nameWithArch.slice(colon + 1) || null };
}

/** The state a `\r`-redrawn progress line ended in. */
function lastState(text: string): string {
  if (!text.includes('\r')) return text;
  const parts = text.split('\r').filter((part) => part.trim() !== '');
  return parts.at(-1) ?? '';
}

function openOutput(file: string, sink: ParserSink<CloudInitOutputRecord>): LineParser {
  let stageTime: LogTime | null = null;
  let seenBanner = false;
  let otherLines = 0;
  let lastLine = 0;
  let pendingErr: { record: CloudInitOutputRecord; reasons: string[] } | null = null;

  const make = (n: number, kind: CloudInitOutputKind, text: string): CloudInitOutputRecord => ({
    source: 'cloud-init-output',
    file,
    line: n,
    time: stageTime === null ? null : { ...stageTime },
    timeFrom: seenBanner ? 'stage' : 'none',
    kind,
    text,
    stage: null,
    cloudInitVersion: null,
    upSeconds: null,
    datasource: null,
    package: null,
    arch: null,
    version: null,
    fromVersion: null,
    seq: null,
    url: null,
    host: null,
    item: null,
    size: null,
    message: null,
    lockHolder: null,
    otherLines: null,
    lines: null,
  });

  const flushErr = (truncated: boolean) => {
    if (pendingErr === null) return;
    const { record, reasons } = pendingErr;
    pendingErr = null;
    record.message = reasons.length === 0 ? null : reasons.join('\n');
    if (truncated && reasons.length === 0) {
      record.truncated = true;
      sink.problem(record.line, `the log ends after 'Err:${record.seq}' and before its reason`);
    }
    sink.record(record);
  };

  const holderOf = (text: string) => {
    const match = HELD_BY.exec(text);
    const pid = Number(match?.[1]);
    return match === null || !Number.isSafeInteger(pid) ? null : { pid, program: match[2] ?? null };
  };

  /** `Get:`/`Err:` items: a package download ends `<pkg> <arch> <version>`, an index fetch does not. */
  const readItem = (record: CloudInitOutputRecord, item: string) => {
    record.item = item === '' ? null : item;
    const words = item.split(' ').filter((word) => word !== '');
    if (words.length < 4) return;
    const [name = '', arch = '', version = ''] = words.slice(-3);
    if (
      ARCHES.test(arch) &&
      /^[0-9]/.test(version.replace(/^\d+:/, '')) &&
      /^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?$/.test(name)
    ) {
      record.package = splitArch(name).name;
      record.arch = arch;
      record.version = version;
    }
  };

  const classify = (raw: string, n: number): CloudInitOutputRecord | null => {
    const text = lastState(raw);
    const banner = parseBanner(text);
    if (banner !== null) {
      const record = make(n, banner.kind === 'start' ? 'stage' : 'finished', text);
      if (banner.at === null)
        sink.problem(n, `banner date '${clip(bannerDateText(text) ?? '')}' is not a date`);
      stageTime = banner.at;
      seenBanner = true;
      record.time = banner.at === null ? null : { ...banner.at };
      record.timeFrom = 'line';
      record.cloudInitVersion = banner.cloudInitVersion;
      record.upSeconds = banner.upSeconds;
      if (banner.kind === 'start') record.stage = banner.stage;
      else record.datasource = banner.datasource;
      return record;
    }
    const setting = SETTING_UP.exec(text) ?? REMOVING.exec(text);
    if (setting !== null) {
      const record = make(n, text.startsWith('Setting') ? 'setting-up' : 'removing', text);
      const { name, arch } = splitArch(setting[1] ?? '');
      record.package = name;
      record.arch = arch;
      record.version = setting[2] ?? null;
      return record;
    }
    const unpacking = UNPACKING.exec(text);
    if (unpacking !== null) {
      const record = make(n, 'unpacking', text);
      const { name, arch } = splitArch(unpacking[1] ?? '');
      record.package = name;
      record.arch = arch;
      record.version = unpacking[2] ?? null;
      record.fromVersion = unpacking[3] ?? null;
      return record;
    }
    const fetch = FETCH.exec(text);
    if (fetch !== null) {
      const [, word, seq = '', url = '', item = '', size] = fetch;
      const record = make(n, word === 'Get' ? 'get' : 'fetch-error', text);
      record.seq = Number(seq);
      record.url = url;
      record.host = hostOf(url);
      readItem(record, item);
      record.size = size ?? null;
      return record;
    }
    if (LOCK.test(text)) {
      const record = make(n, 'dpkg-lock', text);
      record.message = text.replace(/^[EW]: /, '');
      record.lockHolder = holderOf(text);
      return record;
    }
    const apt = APT_MESSAGE.exec(text);
    if (apt !== null) {
      const record = make(n, apt[1] === 'E' ? 'apt-error' : 'apt-warning', text);
      record.message = apt[2] ?? '';
      const url = URL_IN_TEXT.exec(record.message)?.[1] ?? null;
      record.url = url;
      record.host = url === null ? null : hostOf(url);
      return record;
    }
    return null;
  };

  return {
    line(raw, n) {
      lastLine = n;
      if (pendingErr !== null) {
        if (/^\s+\S/.test(raw)) {
          if (pendingErr.reasons.length < MAX_REASON_LINES) pendingErr.reasons.push(raw.trim());
          return;
        }
        flushErr(false);
      }
      const record = classify(raw, n);
      if (record === null) {
        otherLines++;
        return;
      }
      if (record.kind === 'fetch-error') pendingErr = { record, reasons: [] };
      else sink.record(record);
    },
    end() {
      flushErr(true);
      if (lastLine === 0) return;
      const summary = make(lastLine, 'summary', '');
      summary.otherLines = otherLines;
      summary.lines = lastLine;
      sink.record(summary);
    },
  };
}

const NAME_PATTERN = /(?:^|[._-])cloud-init-output\.log(?:\.\d+)?(?:\.gz)?$/;

/** What cloud-init and the commands it ran printed: `/var/log/cloud-init-output.log`. */
const cloudInitOutput: LogParser<CloudInitOutputRecord> = {
  id: 'cloud-init-output',
  title:
    'cloud-init output (/var/log/cloud-init-output.log): stage banners, and the package changes, downloads, fetch errors and lock waits apt printed',
  detect(name, head) {
    if (NAME_PATTERN.test(name)) return true;
    // The first thing cloud-init writes to its output is a banner; its own log starts with a timestamp.
    return head.length > 0 && parseBanner(head[0] ?? '')?.kind === 'start';
  },
  open: openOutput,
};

export default cloudInitOutput;
