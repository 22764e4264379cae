import { compareDebianVersions, isValidDebianVersion } from '../../../debian/version.js';
import type { PackageAction } from '../../packages.js';
import { localTime } from '../../time.js';
import type { LogParser, LogRecordBase, LogTime } from '../../types.js';

/** One line of `/var/log/dpkg.log`. Fields a kind of line does not have are null. */
export interface DpkgRecord extends LogRecordBase {
  source: 'dpkg';
  time: LogTime | null;
  /** `startup archives unpack`, `upgrade pkg:arch 1.0 1.1`, `status installed pkg:arch 1.1`, `conffile /etc/x keep`. */
  kind: 'startup' | 'action' | 'status' | 'conffile';
  /**
   * The word dpkg wrote: for `startup` lines what dpkg was asked to do (`unpack`, `install`,
   * `configure`, `remove`, ...); for `action` lines `install`, `upgrade`, `configure`,
   * `trigproc`, `remove` or `purge`. dpkg writes `upgrade` for downgrades too: see `change`.
   */
  action: string | null;
  /** `startup` lines only: whether dpkg works on `archives` (.deb files) or `packages` (installed ones). */
  scope: 'archives' | 'packages' | null;
  /** The name without the architecture. */
  package: string | null;
  /** The architecture dpkg wrote (`all` for Architecture: all packages); null when it wrote none. */
  arch: string | null;
  /**
   * `action` lines: the installed version (before an install, upgrade, remove or purge);
   * null for `<none>`.
   */
  from: string | null;
  /**
   * `action` lines: the version being installed; null for `<none>` (removals, and
   * configure/trigproc runs that did not unpack anything).
   */
  to: string | null;
  /** `status` lines: the package state (`half-installed`, `unpacked`, `installed`, `config-files`, ...). */
  state: string | null;
  /** `status` lines: the version the state is about; null for `<none>`. */
  version: string | null;
  /** `conffile` lines: the configuration file. */
  path: string | null;
  /** `conffile` lines: whether the package's new version was installed or the local one kept. */
  decision: 'install' | 'keep' | null;
  /**
   * What an `install`/`upgrade`/`remove`/`purge` line did to the package, from comparing
   * `from` and `to` with dpkg's rules (not from the word: `upgrade x 1.1 1.0` is a
   * downgrade, `upgrade x 1.0 1.0` a reinstall). Null for other lines.
   */
  change: PackageAction | null;
}

const LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (\S+)(?: (.*))?$/;
const ACTIONS = new Set(['install', 'upgrade', 'configure', 'trigproc', 'remove', 'purge']);
const NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const ARCH = /^[a-z0-9][a-z0-9-]*$/;

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const versionOrNone = (text: string): string | null => (text === '<none>' ? null : text);

/**
 * What an action line did, from its versions: dpkg's `install`/`upgrade` word only says
 * whether the package was known before. Undefined when a version is invalid.
 */
export function changeOf(
  action: string,
  from: string | null,
  to: string | null,
): PackageAction | null | undefined {
  if (action === 'remove' || action === 'purge') return action;
  if (action !== 'install' && action !== 'upgrade') return null;
  if (to === null) return undefined;
  if (from === null) return 'install';
  if (!isValidDebianVersion(from) || !isValidDebianVersion(to)) return undefined;
  const order = compareDebianVersions(from, to);
  return order < 0 ? 'upgrade' : order > 0 ? 'downgrade' : 'reinstall';
}

/** dpkg's own log: `/var/log/dpkg.log`, one line per step of every package operation. */
const dpkg: LogParser<DpkgRecord> = {
  id: 'dpkg',
  title: 'dpkg log (/var/log/dpkg.log): every unpack, configure, remove and state change dpkg made',
  detect(name, head) {
    if (head.length === 0) return /(?:^|[._-])dpkg\.log(?:\.\d+)?(?:\.gz)?$/.test(name);
    return head.some((line) => {
      const match = LINE.exec(line);
      return (
        match !== null &&
        (match[2] === 'startup' ||
          match[2] === 'status' ||
          match[2] === 'conffile' ||
          ACTIONS.has(match[2] ?? ''))
      );
    });
  },
  open(file, sink) {
    return {
      line(text, n) {
        if (text.trim() === '') return;
        const match = LINE.exec(text);
        if (match === null) {
          sink.problem(n, `not a dpkg.log line: '${clip(text)}'`);
          return;
        }
        const [, stamp = '', word = '', rest = ''] = match;
        const time = localTime(stamp);
        if (time === undefined) sink.problem(n, `'${stamp}' is not a valid date and time`);
        const record: DpkgRecord = {
          source: 'dpkg',
          file,
          line: n,
          time: time ?? null,
          kind: 'action',
          action: null,
          scope: null,
          package: null,
          arch: null,
          from: null,
          to: null,
          state: null,
          version: null,
          path: null,
          decision: null,
          change: null,
        };
        const args = rest === '' ? [] : rest.split(' ');
        const pkg = (nameWithArch: string): boolean => {
          const colon = nameWithArch.indexOf(':');
          const name = colon === -1 ? nameWithArch : nameWithArch.slice(0, colon);
          const arch = colon === -1 ? null : nameWithArch.slice(colon + 1);
          if (!NAME.test(name) || (arch !== null && !ARCH.test(arch))) {
            sink.problem(n, `invalid package name '${clip(nameWithArch)}'`);
            return false;
          }
          record.package = name;
          record.arch = arch;
          return true;
        };
        if (word === 'startup') {
          const [scope, action] = args;
          if (args.length !== 2 || (scope !== 'archives' && scope !== 'packages')) {
            sink.problem(n, `expected 'startup archives|packages <action>', found '${clip(text)}'`);
            return;
          }
          record.kind = 'startup';
          record.scope = scope;
          record.action = action ?? null;
        } else if (word === 'status') {
          const [state = '', nameWithArch = '', version = ''] = args;
          if (args.length !== 3) {
            sink.problem(n, `expected 'status <state> <package> <version>', found '${clip(text)}'`);
            return;
          }
          if (!pkg(nameWithArch)) return;
          record.kind = 'status';
          record.state = state;
          record.version = versionOrNone(version);
        } else if (word === 'conffile') {
          const decision = args.at(-1);
          // The path may hold spaces; the decision is the last word.
          if (args.length < 2 || (decision !== 'install' && decision !== 'keep')) {
            sink.problem(n, `expected 'conffile <path> install|keep', found '${clip(text)}'`);
            return;
          }
          record.kind = 'conffile';
          record.path = args.slice(0, -1).join(' ');
          record.decision = decision;
        } else if (ACTIONS.has(word)) {
          const [nameWithArch = '', from = '', to = ''] = args;
          if (args.length !== 3) {
            sink.problem(n, `expected '${word} <package> <from> <to>', found '${clip(text)}'`);
            return;
          }
          if (!pkg(nameWithArch)) return;
          record.action = word;
          record.from = versionOrNone(from);
          record.to = versionOrNone(to);
          const change = changeOf(word, record.from, record.to);
          if (change === undefined)
            sink.problem(n, `cannot tell what '${word}' did: versions '${clip(from)}' → '${clip(to)}'`);
          record.change = change ?? null;
        } else {
          sink.problem(n, `unknown dpkg.log entry '${clip(word)}'`);
          return;
        }
        sink.record(record);
      },
      end() {},
    };
  },
};

export default dpkg;
