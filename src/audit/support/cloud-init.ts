import { posix } from 'node:path';
import type { CloudInitSection, CloudInitSetting } from '../../manifest/cloud-init/index.js';
import { findUnit } from '../../manifest/systemd/index.js';
import type { SystemdSection } from '../../manifest/systemd/index.js';
import type { RemediationStep } from '../types.js';

export const CLOUD_CFG_D = '/etc/cloud/cloud.cfg.d';

/** A cloud-init setting as it wins, and which layer it came from. */
export interface EffectiveCloudSetting extends CloudInitSetting {
  layer: 'config' | 'vendor-data' | 'user-data';
  /** The part is base64/gzip-encoded: its line cannot be edited in place. */
  encoded: boolean;
}

/** The units that run cloud-init's stages (24.x adds cloud-init-main and cloud-init-network). */
const CLOUD_INIT_UNITS = [
  'cloud-init-local.service',
  'cloud-init.service',
  'cloud-init-main.service',
  'cloud-init-network.service',
  'cloud-config.service',
  'cloud-final.service',
];

/**
 * Whether cloud-init runs at boot in this image: installed, not disabled by
 * /etc/cloud/cloud-init.disabled, and neither
 * cloud-init.target nor every one of its stage services masked.
 */
export function cloudInitActive(section: CloudInitSection, systemd: SystemdSection): boolean {
  if (!section.present || section.disabled !== null) return false;
  if (findUnit(systemd, 'cloud-init.target')?.masked === true) return false;
  const stages = CLOUD_INIT_UNITS.map((name) => findUnit(systemd, name)).filter((unit) => unit !== undefined);
  return stages.length === 0 || stages.some((unit) => !unit.masked);
}

/** Whether a config module runs: listed in a stage, or no stage lists at all (nothing can be told). */
export function moduleRuns(section: CloudInitSection, name: keyof CloudInitSection['enabled']): boolean {
  const listed = Object.values(section.modules).some((entries) => entries.length > 0);
  return !listed || section.enabled[name] !== null;
}

/**
 * The winning value of the first of `keys` that is set, layering the image's configuration,
 * then baked vendor-data, then baked user-data (each later part wins), as cloud-init merges them.
 */
export function effectiveCloudSetting(
  section: CloudInitSection,
  keys: readonly string[],
): EffectiveCloudSetting | undefined {
  const layers: EffectiveCloudSetting[][] = [
    section.settings.map((s) => ({ ...s, layer: 'config', encoded: false })),
  ];
  for (const kind of ['vendor-data', 'user-data'] as const) {
    for (const file of section.userData.filter((u) => u.kind === kind)) {
      for (const part of file.parts) {
        layers.push(
          (part.settings ?? []).map((s) => ({ ...s, layer: kind, encoded: part.encoded || file.gzip })),
        );
      }
    }
  }
  for (const key of keys) {
    let winner: EffectiveCloudSetting | undefined;
    for (const layer of layers) winner = layer.find((s) => s.key === key) ?? winner;
    if (winner !== undefined) return winner;
  }
  return undefined;
}

/** A cloud.cfg.d file that sorts after every existing one, so its values win over the image's configuration. */
export function cloudCfgOverrideFile(section: CloudInitSection): string {
  let name = '99-goldgate-immutable.cfg';
  const last = section.files
    .filter((f) => posix.dirname(f) === CLOUD_CFG_D)
    .map((f) => posix.basename(f))
    .sort()
    .at(-1);
  while (last !== undefined && last !== name && Buffer.compare(Buffer.from(name), Buffer.from(last)) < 0)
    name = `z${name}`;
  return `${CLOUD_CFG_D}/${name}`;
}

/**
 * The step that turns a top-level cloud-config key to `value` where it was set (or in an
 * override file); undefined for an encoded user-data part, which has to be decoded by hand.
 */
export function cloudSetStep(
  section: CloudInitSection,
  setting: EffectiveCloudSetting,
  value: string,
): RemediationStep | undefined {
  const key = setting.key.split('.')[0] ?? setting.key;
  if (setting.layer === 'config')
    return {
      action: 'set-line',
      path: cloudCfgOverrideFile(section),
      match: `${key}:`,
      line: `${key}: ${value}`,
    };
  if (setting.encoded) return undefined;
  return { action: 'set-line', path: setting.source.path, match: `${key}:`, line: `${key}: ${value}` };
}
