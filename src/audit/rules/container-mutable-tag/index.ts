import { judgeImage } from '../../shell/image.js';
import { bootFindings } from '../../support/boot-findings.js';
import type { Evidence, Rule, RuleFinding } from '../../types.js';

/** Podman quadlet directories: `.container` files become services that pull `Image=` at boot. */
const QUADLET_DIRS = ['/etc/containers/systemd', '/usr/share/containers/systemd'];

function quadletFindings(context: Parameters<Rule['check']>[0]): RuleFinding[] {
  const findings: RuleFinding[] = [];
  for (const dir of QUADLET_DIRS) {
    for (const entry of context.fs.readdir(dir)) {
      if (!entry.name.endsWith('.container') || entry.kind === 'dir') continue;
      const lines = context.fs.readText(entry.path)?.split('\n') ?? [];
      const evidence: Evidence[] = [];
      const reasons: string[] = [];
      lines.forEach((line, index) => {
        const match = /^\s*Image\s*=\s*(\S+)\s*$/.exec(line);
        if (match === null) return;
        const verdict = judgeImage(match[1] ?? '', false);
        if (verdict.pinned) return;
        evidence.push({ path: entry.path, line: index + 1, text: line.trim() });
        reasons.push(`${match[1] ?? ''}: ${verdict.reason}`);
      });
      if (evidence.length === 0) continue;
      findings.push({
        message: `quadlet ${entry.name} runs ${reasons.join('; ')}; podman pulls it when the service starts.`,
        evidence,
        remediation: { summary: 'Pin Image= to a digest (image@sha256:…) and pull it into the image at bake time.', steps: [] },
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
        (hit) => `${hit.tool} ${hit.action} ${hit.target ?? ''} (${hit.detail ?? 'no digest'}, line ${hit.line})`,
        () => 'Refer to each image by digest (name@sha256:…), and pull it when the image is baked, not at boot.',
      ).map((finding) => ({ ...finding, remediation: { ...finding.remediation, steps: [] } })),
      ...quadletFindings(context),
    ];
  },
};

export default rule;
