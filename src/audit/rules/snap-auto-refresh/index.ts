import { activeTimer } from '../../support/apt.js';
import type { Evidence, Rule } from '../../types.js';

const SNAPD_UNITS = ['snapd.service', 'snapd.socket'];

const rule: Rule = {
  id: 'snap-auto-refresh',
  title: 'snapd refreshes snaps on its own',
  severity: 'high',
  failure:
    'snapd refreshes every installed snap up to four times a day with no hold, so instances from one image run different snap revisions and a broken revision reaches all of them within hours.',
  check(context) {
    const snap = context.manifest.agents.snap;
    if (!snap.present) return [];
    const units = SNAPD_UNITS.map((name) => activeTimer(context, name)).filter((unit) => unit !== undefined);
    if (units.length === 0) return [];
    const hold = snap.hold;
    if (
      hold !== null &&
      (hold.kind === 'forever' || (hold.kind === 'until' && Date.parse(hold.value) > context.now.getTime()))
    )
      return [];
    const expired =
      hold !== null && hold.kind === 'until'
        ? `its refresh hold expired on ${hold.value}`
        : hold !== null
          ? `its refresh hold "${hold.value}" is not one snapd accepts`
          : 'no refresh hold is set';
    const evidence: Evidence[] = [
      ...snap.presence,
      ...units.flatMap((unit) => unit.wantedBy.map((link) => ({ path: link.via }))),
      ...(hold !== null ? [hold.source] : snap.stateSource !== null ? [snap.stateSource] : []),
    ];
    return [
      {
        message: `snapd is installed and ${units.map((u) => u.name).join(' and ')} start${units.length === 1 ? 's' : ''} at boot; ${expired}${snap.seededSnaps.length > 0 ? `; seeded snaps: ${snap.seededSnaps.join(', ')}` : ''}.`,
        evidence,
        remediation: {
          summary:
            'Hold refreshes in the image (snap refresh --hold), or mask snapd if the image needs no snaps.',
          steps: [{ action: 'command', argv: ['snap', 'refresh', '--hold'] }],
        },
      },
    ];
  },
};

export default rule;
