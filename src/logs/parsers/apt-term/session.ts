import { localTime } from '../../time.js';
import type { LineParser, LogParser, LogRecordBase, LogTime, ParserSink } from '../../types.js';

/** A package and version named in dpkg's output (`Setting up libc6:amd64 (2.36-9) ...`). */
export interface SessionPackage {
  /** The name without the architecture. */
  package: string;
  /** The architecture when dpkg printed one (`libc6:i386`), else null. */
  arch: string | null;
  version: string;
}

/**
 * One `Log started:` … `Log ended:` session of dpkg's terminal output, as apt
 * (`/var/log/apt/term.log`) and unattended-upgrades (`unattended-upgrades-dpkg.log`) keep it.
 */
export interface DpkgSessionRecord<S extends string = string> extends LogRecordBase {
  source: S;
  /** The line of `Log started:`. */
  line: number;
  /** `Log started:`, local time. */
  time: LogTime | null;
  /** `Log ended:`, local time; null when the session has none (or it is unreadable). */
  end: LogTime | null;
  /** Lines of output between `Log started:` and `Log ended:`. */
  lines: number;
  /** `Unpacking x (v) ...`; `over` is the version replaced (`Unpacking x (v) over (w) ...`). */
  unpacked: Array<SessionPackage & { over?: string }>;
  /** `Setting up x (v) ...`. */
  setUp: SessionPackage[];
  /** `Removing x (v) ...`. */
  removed: SessionPackage[];
  /** `Purging configuration files for x (v) ...`. */
  purged: SessionPackage[];
  /**
   * `dpkg: error processing ...`, `E: ...`, maintainer script failures, `Errors were encountered
   * while processing:`; the indented lines that follow one are joined to it.
   */
  errors: string[];
  /** Service restarts the output shows: `Restarting ...`, needrestart's `systemctl restart x.service` (not the deferred ones). */
  restarts: string[];
  /** No `Log ended:`: the run was cut off (or is still going). */
  truncated?: true;
}

/** Items (packages, errors, restarts) kept per session; a session of dpkg output rarely has hundreds. */
export const MAX_SESSION_ITEMS = 10_000;
/** Characters of errors and restarts kept per session. */
export const MAX_SESSION_CHARS = 4_000_000;

const STARTED = /^Log started: (.*)$/;
const ENDED = /^Log ended: (.*)$/;
const PACKAGE = /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9][a-z0-9-]*))?$/;
const UNPACKING = /^Unpacking (\S+) \(([^()\s]+)\)(?: over \(([^()\s]+)\))? \.\.\./;
const SETTING_UP = /^Setting up (\S+) \(([^()\s]+)\) \.\.\./;
const REMOVING = /^Removing (\S+) \(([^()\s]+)\) \.\.\./;
const PURGING = /^Purging configuration files for (\S+) \(([^()\s]+)\) \.\.\./;
const ERROR =
  /^(?:dpkg: error|dpkg-deb: error|dpkg: dependency problems|E: |Errors were encountered while processing:)|returned error exit status/;
const RESTART = /^(?:\[[^\]]*\]\s*)?Restarting\b|^systemctl (?:restart|try-restart|daemon-reexec)\b/;

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

interface Session<S extends string> {
  record: DpkgSessionRecord<S>;
  items: number;
  chars: number;
  capped: boolean;
  /** Inside needrestart's "Service restarts being deferred:" block. */
  deferred: boolean;
  /** Right after an error line: indented lines that follow explain it (or list the failed packages). */
  inError: boolean;
}

function openSessions<S extends string>(
  source: S,
  file: string,
  sink: ParserSink<DpkgSessionRecord<S>>,
): LineParser {
  let current: Session<S> | null = null;

  const close = (ended: boolean) => {
    const session: Session<S> | null = current;
    if (session === null) return;
    current = null;
    if (!ended) {
      session.record.truncated = true;
      sink.problem(session.record.line, 'session has no "Log ended:": the run was cut off, or the log was');
    }
    sink.record(session.record);
  };

  const add = (session: Session<S>, n: number, chars: number, push: () => void): boolean => {
    if (session.items >= MAX_SESSION_ITEMS || session.chars + chars > MAX_SESSION_CHARS) {
      if (!session.capped) {
        sink.problem(
          n,
          `session holds more than ${MAX_SESSION_ITEMS} packages, errors and restarts or ${MAX_SESSION_CHARS} characters; rest ignored`,
        );
      }
      session.capped = true;
      return false;
    }
    session.items++;
    session.chars += chars;
    push();
    return true;
  };

  const named = (text: string, version: string, n: number): SessionPackage | null => {
    const match = PACKAGE.exec(text);
    if (match === null) {
      sink.problem(n, `invalid package name '${clip(text)}'`);
      return null;
    }
    return { package: match[1] ?? '', arch: match[2] ?? null, version };
  };

  const segment = (session: Session<S>, text: string, n: number) => {
    const { record } = session;
    const trimmed = text.trim();
    if (trimmed === '') {
      session.deferred = false;
      session.inError = false;
      return;
    }
    if (session.inError && /^\s/.test(text)) {
      const last = record.errors.length - 1;
      session.inError = add(session, n, trimmed.length, () => (record.errors[last] += ` ${trimmed}`));
      return;
    }
    session.inError = false;
    let match: RegExpExecArray | null;
    if ((match = UNPACKING.exec(trimmed)) !== null) {
      const [, name = '', version = '', over] = match;
      const pkg = named(name, version, n);
      if (pkg !== null)
        add(session, n, text.length, () => record.unpacked.push(over === undefined ? pkg : { ...pkg, over }));
    } else if ((match = SETTING_UP.exec(trimmed)) !== null) {
      const pkg = named(match[1] ?? '', match[2] ?? '', n);
      if (pkg !== null) add(session, n, text.length, () => record.setUp.push(pkg));
    } else if ((match = REMOVING.exec(trimmed)) !== null) {
      const pkg = named(match[1] ?? '', match[2] ?? '', n);
      if (pkg !== null) add(session, n, text.length, () => record.removed.push(pkg));
    } else if ((match = PURGING.exec(trimmed)) !== null) {
      const pkg = named(match[1] ?? '', match[2] ?? '', n);
      if (pkg !== null) add(session, n, text.length, () => record.purged.push(pkg));
    } else if (ERROR.test(trimmed)) {
      session.inError = add(session, n, trimmed.length, () => record.errors.push(trimmed));
    } else if (trimmed.startsWith('Service restarts being deferred:')) {
      session.deferred = true;
    } else if (RESTART.test(trimmed) && !session.deferred) {
      add(session, n, trimmed.length, () => record.restarts.push(trimmed));
    }
  };

  return {
    line(text, n) {
      const started = STARTED.exec(text);
      if (started !== null) {
        if (current !== null) close(false);
        const time = localTime(started[1] ?? '');
        if (time === undefined)
          sink.problem(n, `"Log started:" '${clip(started[1] ?? '')}' is not a date and time`);
        current = {
          record: {
            source,
            file,
            line: n,
            time: time ?? null,
            end: null,
            lines: 0,
            unpacked: [],
            setUp: [],
            removed: [],
            purged: [],
            errors: [],
            restarts: [],
          },
          items: 0,
          chars: 0,
          capped: false,
          deferred: false,
          inError: false,
        };
        return;
      }
      const session: Session<S> | null = current;
      const ended = ENDED.exec(text);
      if (ended !== null) {
        if (session === null) {
          sink.problem(n, '"Log ended:" without "Log started:"');
          return;
        }
        const time = localTime(ended[1] ?? '');
        if (time === undefined)
          sink.problem(n, `"Log ended:" '${clip(ended[1] ?? '')}' is not a date and time`);
        session.record.end = time ?? null;
        close(true);
        return;
      }
      if (session === null) {
        if (text.trim() !== '') sink.problem(n, `line outside a "Log started:" session: '${clip(text)}'`);
        return;
      }
      session.record.lines++;
      // Progress output overwrites itself with carriage returns: each piece is a line of its own.
      for (const piece of text.split('\r')) segment(session, piece, n);
    },
    end() {
      close(false);
    },
  };
}

/** A parser for a file of dpkg output sessions; `source` is the id its records carry. */
export function createSessionParser<S extends string>(options: {
  id: S;
  title: string;
  detect: (name: string, head: readonly string[]) => boolean;
}): LogParser<DpkgSessionRecord<S>> {
  return {
    id: options.id,
    title: options.title,
    detect: options.detect,
    open: (file, sink) => openSessions(options.id, file, sink),
  };
}

/** Whether the first non-empty line opens a session. */
export const startsWithSession = (head: readonly string[]): boolean =>
  head[0]?.startsWith('Log started: ') === true;
