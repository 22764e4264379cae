/**
 * A time as a log wrote it. Logs with a zone (journal, Route 53, cloud-init's UTC lines)
 * give `epochMs`; apt and dpkg logs write local wall-clock time without a zone, kept in
 * `local` for the correlator to place with the instance's time zone.
 */
export interface LogTime {
  /** As written in the log. */
  text: string;
  /** Milliseconds since the epoch, when the log says which zone (or is UTC by definition). */
  epochMs?: number;
  /** Local wall-clock time without a zone, `YYYY-MM-DDTHH:MM:SS[.sss]`, when the log does not say. */
  local?: string;
}

/** What every record has: the parser that made it, where it is, and when it happened. */
export interface LogRecordBase {
  /** The parser's id (`apt-history`, `route53-resolver`, ...). */
  source: string;
  file: string;
  /** 1-based line where the record starts. */
  line: number;
  time: LogTime | null;
}

/** A line that could not be understood; the rest of the file is still read. */
export interface LogProblem {
  file: string;
  line: number;
  reason: string;
}

export interface ParserSink<R> {
  record(record: R): void;
  problem(line: number, reason: string): void;
}

/** One file being parsed: lines in, records out through the sink. Multi-line records are flushed at `end`. */
export interface LineParser {
  line(text: string, lineNumber: number): void;
  end(): void;
}

/**
 * A log format. A plug-in is a folder in `src/logs/parsers/` exporting one of these, and a
 * line in `src/logs/api.ts`.
 */
export interface LogParser<R extends LogRecordBase = LogRecordBase> {
  id: string;
  /** What the format is, for `--help` and docs. */
  title: string;
  /**
   * Whether a file is in this format, from its base name (rotations and `.gz` included:
   * `history.log.1.gz`) and its first non-empty lines (at most 5, decompressed).
   */
  detect(name: string, head: readonly string[]): boolean;
  /** A parser for one file. Never throws on content: what it cannot read is a problem. */
  open(file: string, sink: ParserSink<R>): LineParser;
}
