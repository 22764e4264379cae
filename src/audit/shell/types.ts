/** What a boot-time command does to the instance that runs it. */
export type CommandCategory = 'package-install' | 'network-fetch' | 'container-mutable';

/** One command in a script or command line that makes a booting instance change itself. */
export interface CommandHit {
  category: CommandCategory;
  /** The program, by its base name: `apt-get`, `pip`, `curl`, `docker`. */
  tool: string;
  /** What it does, normalised: `install`, `upgrade`, `update`, `download`, `clone`, `pipe-to-shell`, `pull`, `run`. */
  action: string;
  /** The simple command's text as written, trimmed (for a pipe-to-shell: the pipeline from the fetch to the shell). */
  command: string;
  /** 1-based line where the command starts, offset by the caller's start line. */
  line: number;
  /** Why it counts, where the category alone does not say (an image's missing digest, the interpreter run). */
  detail?: string;
  /** The URL, repository, bucket path or image reference acted on, as written. */
  target?: string;
}

/** Options of `scanShell`. */
export interface ScanShellOptions {
  /** Line number of the text's first line in its file (default 1). */
  startLine?: number;
}

/** Options of `scanArgv` and `scanSystemdExec`. */
export interface ScanArgvOptions {
  /** The line every hit reports (default 1): where the argv was written. */
  line?: number;
}
