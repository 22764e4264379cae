import { posix } from 'node:path';
import { findUnit, parseUnitFile } from '../../../manifest/systemd/index.js';
import type { UnitFileEntry } from '../../../manifest/systemd/index.js';
import { judgeImage } from '../../shell/image.js';
import { bootFindings } from '../../support/boot-findings.js';
import { evidenceAt } from '../../support/evidence.js';
import type { AuditContext, Evidence, Rule, RuleFinding } from '../../types.js';

/** Podman quadlet directories, highest priority first: `.container` files become services that pull `Image=` at boot. */
const QUADLET_DIRS = ['/etc/containers/systemd', '/usr/share/containers/systemd'];
const INSTALL_KEYS = new Set(['WantedBy', 'RequiredBy', 'UpheldBy']);

/** The last assignment of a key in a section, as quadlet's `Lookup` reads it. */
function lastOf(entries: readonly UnitFileEntry[], section: string, key: string): UnitFileEntry | undefined {
  return entries.findLast((entry) => entry.section === section && entry.key === key);
}

/** A quadlet file by name, from the directory that wins (/etc over /usr/share). */
function quadletFile(context: AuditContext, name: string): string | undefined {
  return QUADLET_DIRS.map((dir) => `${dir}/${name}`).find((path) => context.fs.stat(path)?.kind === 'file');
}

function quadletFindings(context: AuditContext): RuleFinding[] {
  const findings: RuleFinding[] = [];
  const seen = new Set<string>();
  for (const dir of QUADLET_DIRS) {
    for (const entry of context.fs.readdir(dir)) {
      if (!entry.name.endsWith('.container') || seen.has(entry.name)) continue;
      seen.add(entry.name);
      if (context.fs.stat(entry.path)?.kind !== 'file') continue;
      const parsed = parseUnitFile(context.fs.readText(entry.path) ?? '', entry.path);
      // The generator links a quadlet only from its [Install] section: without one it is not started at boot.
      const installed = parsed.entries.some(
        (e) => e.section === 'Install' && INSTALL_KEYS.has(e.key) && e.value.trim() !== '',
      );
      const service =
        lastOf(parsed.entries, 'Container', 'ServiceName')?.value.trim() ||
        entry.name.replace(/\.container$/, '');
      if (
        !parsed.loadable ||
        !installed ||
        findUnit(context.manifest.systemd, `${service}.service`)?.masked === true
      )
        continue;
      const image = lastOf(parsed.entries, 'Container', 'Image');
      if (image === undefined) continue;
      const evidence: Evidence[] = [evidenceAt(context.fs, { path: entry.path, line: image.line })];
      let ref = image.value.trim();
      // `Image=web.image` names a .image quadlet, whose own Image= is what podman pulls.
      if (ref.endsWith('.image')) {
        const imagePath = quadletFile(context, posix.basename(ref));
        const imageParsed =
          imagePath === undefined
            ? undefined
            : parseUnitFile(context.fs.readText(imagePath) ?? '', imagePath);
        const pulled = imageParsed === undefined ? undefined : lastOf(imageParsed.entries, 'Image', 'Image');
        if (imagePath === undefined || pulled === undefined) continue;
        ref = pulled.value.trim();
        evidence.push(evidenceAt(context.fs, { path: imagePath, line: pulled.line }));
      }
      const verdict = judgeImage(ref, false);
      if (verdict.pinned) continue;
      findings.push({
        message: `quadlet ${entry.name} runs ${ref}: ${verdict.reason}; podman pulls it when the service starts.`,
        evidence,
        remediation: {
          summary: 'Pin Image= to a digest (image@sha256:…) and pull it into the image at bake time.',
          steps: [],
        },
      });
    }
  }
  return findings;
}

const rule: Rule = {
  id: 'container-mutable-tag',
  title: 'A container image is pulled at boot by a tag that can move',
  severity: 'high',
  failure:
    'A tag (and :latest above all) can be pushed again at any time, so instances of one image run different containers, and a bad push reaches every instance that boots after it.',
  check(context) {
    return [
      ...bootFindings(
        context,
        'container-mutable',
        (hit) =>
          `${hit.tool} ${hit.action} ${hit.target ?? ''} (${hit.detail ?? 'no digest'}, line ${hit.line})`,
        () =>
          'Refer to each image by digest (name@sha256:…), and pull it when the image is baked, not at boot.',
      ).map((finding) => ({ ...finding, remediation: { ...finding.remediation, steps: [] } })),
      ...quadletFindings(context),
    ];
  },
};

export default rule;
