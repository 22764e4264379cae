// What the benchmarks share: the facts of the machine they ran on, and the shared test base.
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

/** The shared test base (src/test-support/test-base.ts): the cache entry the full test tier uses. */
export const TEST_BASE = {
  suite: 'bookworm',
  variant: 'minbase',
  include: ['busybox', 'systemd-sysv', 'unattended-upgrades'],
};

/** The CPU's model name, as /proc/cpuinfo gives it. */
export function cpuModel() {
  try {
    const name = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim();
    if (name !== undefined) return name;
  } catch {
    // not Linux: os.cpus() says it
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** The machine a result was measured on, with the versions of the peers it ran against. */
export function machineFacts(peers = {}) {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    ...peers,
  };
}
