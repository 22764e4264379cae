import type { Manifest } from '../../manifest/manifest.js';
import { printableDeep } from '../../core/printable.js';

/** A one-screen summary of a manifest for people; `--json` has everything. */
export function renderManifest(unsafe: Manifest, unsafeSource: string): string {
  const manifest = printableDeep(unsafe);
  const source = printableDeep(unsafeSource);
  const lines: string[] = [];
  const installed = manifest.packages.filter((p) => p.state === 'installed');
  const units = manifest.systemd.units;
  const timers = units.filter((u) => u.type === 'timer' && u.activeAtBoot);
  lines.push(`manifest of ${source}`);
  lines.push(`  digest    ${manifest.digest}`);
  lines.push(`  os        ${manifest.os?.prettyName ?? 'unknown'}`);
  lines.push(`  packages  ${installed.length} installed (${manifest.packages.length} in the dpkg database)`);
  lines.push(
    `  units     ${units.length} (${units.filter((u) => u.activeAtBoot).length} start at boot, ${units.filter((u) => u.masked).length} masked)`,
  );
  lines.push(`  timers    ${timers.length} active at boot${timers.length > 0 ? ':' : ''}`);
  for (const timer of timers) {
    const info = timer.timer;
    const when =
      info === undefined
        ? ''
        : [
            ...info.onCalendar.map((s) => s.value),
            ...info.onBootSec.map((s) => `boot+${s.text}`),
            ...info.onUnitActiveSec.map((s) => `every ${s.text}`),
          ].join(', ');
    lines.push(
      `            ${timer.name}  ${when}${info?.persistent === true ? '  persistent' : ''}${info?.randomizedDelaySec ? `  delay ${info.randomizedDelaySec.text}` : ''}`,
    );
  }
  const periodic = manifest.apt.config.values.filter((v) => v.lkey.startsWith('apt::periodic::'));
  lines.push(
    `  apt       ${manifest.apt.config.files.length} config files, ${manifest.apt.sources.filter((s) => s.enabled).length} enabled sources`,
  );
  for (const value of periodic)
    lines.push(
      `            ${value.key} "${value.value ?? ''}"  (${value.source.path}:${value.source.line ?? ''})`,
    );
  const ci = manifest.cloudInit;
  lines.push(
    `  cloud-init ${ci.present ? `present, ${ci.files.length} config files, ${ci.userData.length} baked user-data/scripts` : 'absent'}`,
  );
  if (manifest.problems.length > 0) lines.push(`  problems  ${manifest.problems.length} (see warnings)`);
  return `${lines.join('\n')}\n`;
}
