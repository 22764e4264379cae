import type { RootFs } from '../rootfs/types.js';
import type { Manifest } from '../manifest/manifest.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** How much a severity weighs: higher is worse. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

/** A place in the image that proves a finding: a path inside the image and, where there is one, a line. */
export interface Evidence {
  path: string;
  line?: number;
  /** What is there, quoted (`APT::Periodic::Unattended-Upgrade "1";`). */
  text?: string;
}

/**
 * One change that removes the cause, precise enough to apply by hand or by `bake`:
 * - `write-file`: create or replace the file with this content;
 * - `set-line`: in the file (created if missing), replace the first line that starts with
 *   `match` (after leading blanks) by `line`, or append `line` when none does; steps of
 *   several findings on one file compose;
 * - `remove-line`: delete that line (it must still read `text`);
 * - `mask-units`: `systemctl mask` the units (a /dev/null link in /etc/systemd/system);
 * - `command`: run this argv inside the image (chroot), for changes no file edit expresses.
 */
export type RemediationStep =
  | { action: 'write-file'; path: string; content: string }
  | { action: 'set-line'; path: string; match: string; line: string }
  | { action: 'mask-units'; units: string[] }
  | { action: 'remove-line'; path: string; line: number; text: string }
  | { action: 'command'; argv: string[] };

export interface Remediation {
  /** One sentence a person can act on. */
  summary: string;
  steps: RemediationStep[];
}

export interface Finding {
  rule: string;
  severity: Severity;
  title: string;
  message: string;
  evidence: Evidence[];
  remediation: Remediation;
}

/** What a rule returns: the rule's id, title and default severity are filled in by the engine. */
export interface RuleFinding {
  message: string;
  evidence: Evidence[];
  remediation: Remediation;
  /** Only where the effective configuration makes it worse or milder than the rule's default. */
  severity?: Severity;
}

export interface AuditContext {
  manifest: Manifest;
  fs: RootFs;
  /** The audit's clock, for ages (timer stamps); fixed per audit so results are reproducible. */
  now: Date;
  /** Work shared by several rules (boot-time commands), computed once per audit. */
  memo<T>(key: string, compute: () => T): T;
}

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  /** One sentence: the real-world failure this source of change causes. */
  failure: string;
  check(context: AuditContext): RuleFinding[];
}
