import type { RootFs } from '../../rootfs/types.js';
import type { ManifestProblem } from '../types.js';
import { confFiles } from './files.js';
import type { MachineIdState, PresetRule, UnitPreset } from './types.js';
import { isTemplateName, templateOf, instanceOf } from './names.js';

/**
 * Preset directories, highest priority first (CONF_PATHS("systemd/system-preset"));
 * /lib/… is read on split-/usr systems such as Debian bookworm.
 */
export const PRESET_DIRS = [
  '/etc/systemd/system-preset',
  '/run/systemd/system-preset',
  '/usr/local/lib/systemd/system-preset',
  '/usr/lib/systemd/system-preset',
  '/lib/systemd/system-preset',
];

/**
 * Reads the preset rules as src/shared/install.c does: `*.preset` files from all directories, a
 * file name in a higher-priority directory hides the same name below, files sorted by name (a
 * /dev/null symlink or empty file hides one); lines `enable|disable|ignore <glob>`, `#`/`;`
 * comments. `enable foo@.service a b` lists instances (only for a template name).
 */
export function readPresets(fs: RootFs, problems: ManifestProblem[]): PresetRule[] {
  const rules: PresetRule[] = [];
  for (const path of confFiles(fs, PRESET_DIRS, '.preset')) {
    const text = fs.readText(path);
    if (text === undefined) continue;
    text.split('\n').forEach((raw, index) => {
      const line = raw.trim();
      const source = { path, line: index + 1 };
      if (line === '' || '#;'.includes(line[0] as string)) return;
      const match = /^(enable|disable|ignore)(?:\s+(.*))?$/.exec(line);
      const action = match?.[1] as PresetRule['action'] | undefined;
      const rest = match?.[2]?.trim() ?? '';
      if (action === undefined || rest === '') {
        problems.push({ ...source, reason: `cannot parse preset line '${line}', ignored` });
        return;
      }
      if (action !== 'enable') {
        rules.push({ action, pattern: rest, instances: [], source });
        return;
      }
      const [pattern = '', ...instances] = rest.split(/\s+/);
      if (instances.length > 0 && !isTemplateName(pattern)) {
        problems.push({
          ...source,
          reason: `instances listed for '${pattern}', which is not a template; ignored`,
        });
        return;
      }
      rules.push({ action, pattern, instances, source });
    });
  }
  return rules;
}

/**
 * On a first boot PID 1 runs preset-all (src/core/manager.c, manager_preset_all) in ENABLE_ONLY
 * mode unless systemd was built with -Dfirst-boot-full-preset=true (meson default false since the
 * option appeared in v246, systemd PR #15205): `enable` rules, and units no rule matches, get their
 * [Install] links created; `disable` rules remove links only on full-preset builds. Which build an
 * image has is not visible from its files, so we record the decision and let the audit weigh it.
 *
 * The preset decision for a unit name (query_presets): the first rule that matches wins, either
 * by fnmatch(3) on the name or, for `enable foo@.service a b`, by template and instance. No match
 * means enable (systemd.preset(5): "If no preset files exist, preset operations will enable all
 * units that are installed by default").
 */
export function presetFor(name: string, rules: readonly PresetRule[]): UnitPreset {
  for (const rule of rules) {
    if (rule.instances.length > 0 && templateOf(name) === rule.pattern) {
      const instance = instanceOf(name);
      if (instance === '' || (instance !== null && rule.instances.includes(instance)))
        return { action: rule.action, rule: rule.source };
    }
    if (fnmatch(rule.pattern, name)) return { action: rule.action, rule: rule.source };
  }
  return { action: 'enable', rule: null };
}

/** fnmatch(3) with FNM_NOESCAPE and no flags: `*`, `?`, `[…]`/`[!…]`; `/` and `.` are ordinary. */
export function fnmatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, (m) => `\\${m}`);
  }
  return new RegExp(`${re}$`).test(name);
}

/**
 * Reads /etc/machine-id like PID 1 decides "first boot" (src/core/main.c and machine-id(5)):
 * missing or unreadable, or the first line `uninitialized`, is a first boot; an empty file is not
 * (systemd still generates an ID, but skips preset-all and ConditionFirstBoot). The kernel command
 * line `systemd.condition-first-boot=` overrides this; it is not part of the root filesystem.
 */
export function readMachineId(fs: RootFs): { state: MachineIdState; firstBoot: boolean } {
  const text = fs.readText('/etc/machine-id');
  if (text === undefined) return { state: 'missing', firstBoot: true };
  const firstLine = (text.split('\n')[0] ?? '').replace(/\r$/, '');
  if (firstLine === 'uninitialized') return { state: 'uninitialized', firstBoot: true };
  if (firstLine === '') return { state: 'empty', firstBoot: false };
  return { state: 'set', firstBoot: false };
}
