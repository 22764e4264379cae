import { aptPeriodicEnabled, aptPeriodicInterval, aptValue } from '../../manifest/apt/config.js';
import type { AptConfigValue } from '../../manifest/apt/config.js';
import { findUnit } from '../../manifest/systemd/index.js';
import type { Unit } from '../../manifest/systemd/index.js';
import type { AuditContext, Evidence } from '../types.js';
import { evidenceAt } from './evidence.js';

/** An `APT::Periodic::*` job that apt.systemd.daily would run with the image's configuration. */
export interface ActivePeriodic {
  value: AptConfigValue;
  /** Files where the option was set, in order, for choosing where an override must go. */
  setIn: string[];
  evidence: Evidence[];
}

/**
 * The periodic job `key`, when the effective configuration makes apt.systemd.daily run it:
 * `APT::Periodic::Enable` is not 0 and the interval is not 0 or absent.
 */
export function activePeriodic(context: AuditContext, key: string): ActivePeriodic | undefined {
  const config = context.manifest.apt.config;
  if (!aptPeriodicEnabled(aptValue(config, 'APT::Periodic::Enable')?.value)) return undefined;
  const value = aptValue(config, key);
  if (value === undefined || aptPeriodicInterval(value.value).runs === 'never') return undefined;
  return {
    value,
    setIn: [...new Set(value.history.map((event) => event.path))],
    evidence: [evidenceAt(context.fs, value.source)],
  };
}

/**
 * The unit if it starts at boot (present, not masked, pulled in by a link). A timer, socket or
 * path unit whose unit to trigger is masked does not count: systemd refuses to start it
 * ("Refusing to start, unit ... to trigger not loaded").
 */
export function activeTimer(context: AuditContext, name: string): Unit | undefined {
  const systemd = context.manifest.systemd;
  const unit = findUnit(systemd, name);
  if (unit === undefined || !unit.activeAtBoot || unit.masked) return undefined;
  const triggered = systemd.units.filter((u) => u.triggeredBy.includes(unit.name));
  if (triggered.length > 0 && triggered.every((u) => u.masked)) return undefined;
  return unit;
}
