import { bootFindings } from '../../support/boot-findings.js';
import type { Rule } from '../../types.js';

const rule: Rule = {
  id: 'boot-network-fetch',
  title: 'A boot script fetches code or data from the network',
  severity: 'medium',
  failure:
    'What a boot script downloads can change without the image changing (a moved URL, a new release, `curl | sh` of a script someone edited), and boot fails when the remote end is slow or gone.',
  check(context) {
    return bootFindings(
      context,
      'network-fetch',
      (hit) =>
        `${hit.tool} ${hit.action}${hit.target !== undefined ? ` ${hit.target}` : ''} (line ${hit.line})`,
      (hits) =>
        hits.some((h) => h.action === 'pipe-to-shell')
          ? 'Bake what the script downloads into the image with a checksum; never pipe a download into a shell at boot.'
          : 'Bake what the script downloads into the image (with a checksum) instead of fetching it at boot.',
    );
  },
};

export default rule;
