import type { UnitType } from './types.js';

const UNIT_TYPES: readonly UnitType[] = [
  'service',
  'socket',
  'device',
  'mount',
  'automount',
  'swap',
  'target',
  'path',
  'timer',
  'slice',
  'scope',
];

// unit_name_is_valid(): [A-Za-z0-9:_.\\-] plus at most one `@`, a known suffix, 255 characters at most.
const UNIT_NAME = /^([A-Za-z0-9:_.\\-]+)(@[A-Za-z0-9:_.\\-]*)?\.([a-z]+)$/;

/** Whether systemd would accept `name` as a unit name (plain, template or instance). */
export function isUnitName(name: string): boolean {
  const m = UNIT_NAME.exec(name);
  return m !== null && name.length <= 255 && UNIT_TYPES.includes(m[3] as UnitType);
}

/** The unit type from a valid name's suffix. */
export function unitTypeOf(name: string): UnitType {
  return name.slice(name.lastIndexOf('.') + 1) as UnitType;
}

/** `foo@.service`. */
export function isTemplateName(name: string): boolean {
  return isUnitName(name) && instanceOf(name) === '';
}

/** The instance part: `tty1` for `getty@tty1.service`, '' for a template, null for a plain name. */
export function instanceOf(name: string): string | null {
  const at = name.indexOf('@');
  if (at < 0) return null;
  return name.slice(at + 1, name.lastIndexOf('.'));
}

/** `getty@.service` for `getty@tty1.service` (and for the template itself); null for a plain name. */
export function templateOf(name: string): string | null {
  const at = name.indexOf('@');
  if (at < 0) return null;
  return `${name.slice(0, at + 1)}${name.slice(name.lastIndexOf('.'))}`;
}

/** `getty@tty1.service` from `getty@.service` and `tty1`. */
export function withInstance(template: string, instance: string): string {
  const at = template.indexOf('@');
  return `${template.slice(0, at + 1)}${instance}${template.slice(template.lastIndexOf('.'))}`;
}

/**
 * Drop-in directory names for one unit name, in systemd's order (src/shared/dropin.c,
 * unit_file_find_dirs): the name itself, then for an instance its template, then the dash
 * prefixes (`foo-bar-baz.service` → `foo-bar-.service` → `foo-.service`), each recursively.
 */
export function dropInNames(name: string): string[] {
  const out = [name];
  const instance = instanceOf(name);
  if (instance !== null && instance !== '') out.push(...dropInNames(templateOf(name) as string));

  const at = name.indexOf('@');
  let prefix = at >= 0 ? name.slice(0, at) : name.slice(0, name.lastIndexOf('.'));
  let chopped = false;
  for (;;) {
    const dash = prefix.lastIndexOf('-');
    if (dash <= 0) return out;
    if (dash !== prefix.length - 1 || chopped) {
      prefix = prefix.slice(0, dash + 1);
      break;
    }
    // A trailing dash: chop it off and look for the previous one, once.
    prefix = prefix.slice(0, dash);
    chopped = true;
  }
  const built = `${prefix}${instance !== null && instance !== '' ? `@${instance}` : ''}.${unitTypeOf(name)}`;
  out.push(...dropInNames(built));
  return out;
}
