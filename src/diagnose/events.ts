import type { PackageChange } from '../logs/packages.js';

/** Where an event was read: a bundle file and line, and the text worth quoting. */
export interface EventRef {
  file: string;
  line: number;
  text?: string;
}

interface Base {
  /** Milliseconds since the epoch, clocks normalised. */
  at: number;
  /** The instance it happened on; null for group-level events. */
  instance: string | null;
  ref: EventRef;
}

/**
 * What diagnose reasons about, whatever log it came from. Adapters (`adapters.ts`) turn
 * each parser's records into these; the correlator never sees a raw record.
 */
export type DiagEvent =
  | (Base & {
      kind: 'boot';
      detail: string;
      /** The journal's `_MACHINE_ID`: a boot on another machine id is another machine's life (the bake's). */
      machine?: string;
    })
  | (Base & { kind: 'launch'; detail: string })
  | (Base & {
      kind: 'package';
      change: PackageChange;
      by: string;
      /** The log had no time of its own (cloud-init-output: the last banner's): the change happened at or after `at`. */
      approximate?: true;
    })
  | (Base & { kind: 'health'; ok: boolean; check: string; detail: string })
  | (Base & { kind: 'unit-failed'; unit: string; detail: string })
  | (Base & { kind: 'service-restart'; unit: string; detail: string })
  | (Base & { kind: 'reboot'; detail: string })
  | (Base & { kind: 'dpkg-lock'; detail: string })
  | (Base & { kind: 'out-of-service'; detail: string; reason: string })
  | (Base & { kind: 'package-error'; detail: string });

export type DiagEventKind = DiagEvent['kind'];

/** A DNS query, kept aggregated (logs can hold millions). */
export interface DnsQuery {
  at: number | null;
  instance: string | null;
  name: string;
  rcode: string | null;
  ref: EventRef;
}
