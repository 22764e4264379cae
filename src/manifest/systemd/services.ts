import type { KeyedSetting, ServiceInfo, Setting } from './types.js';
import { effectiveList, effectiveValue } from './unit-file.js';
import type { Assignment } from './unit-file.js';

const setting = (a: Assignment): Setting => ({ value: a.value, source: a.source });

/**
 * The effective [Service] settings that run code when the service starts. Each `Exec*=`,
 * `Environment=` and `EnvironmentFile=` accumulates; an empty assignment resets that one list
 * (config_parse_exec, config_parse_strv). `Type=`: the last one wins.
 */
export function serviceInfo(assignments: readonly Assignment[]): ServiceInfo {
  const list = (key: string): Setting[] => effectiveList(assignments, 'Service', [key]).map(setting);
  const type = effectiveValue(assignments, 'Service', 'Type');
  return {
    type: type === null ? null : setting(type),
    execCondition: list('ExecCondition'),
    execStartPre: list('ExecStartPre'),
    execStart: list('ExecStart'),
    execStartPost: list('ExecStartPost'),
    environment: list('Environment'),
    environmentFile: list('EnvironmentFile'),
  };
}

/**
 * `Condition*=` and `Assert*=` of [Unit], as written. systemd.unit(5): assigning the empty string
 * to any condition resets the whole list of conditions (likewise for asserts).
 */
export function unitConditions(assignments: readonly Assignment[]): KeyedSetting[] {
  let conditions: KeyedSetting[] = [];
  let asserts: KeyedSetting[] = [];
  for (const a of assignments) {
    if (a.section !== 'Unit') continue;
    const isCondition = a.key.startsWith('Condition');
    if (!isCondition && !a.key.startsWith('Assert')) continue;
    if (a.value === '') {
      if (isCondition) conditions = [];
      else asserts = [];
      continue;
    }
    const item = { key: a.key, value: a.value, source: a.source };
    if (isCondition) conditions.push(item);
    else asserts.push(item);
  }
  return [...conditions, ...asserts];
}
