import { createSessionParser, startsWithSession } from '../apt-term/session.js';
import type { DpkgSessionRecord } from '../apt-term/session.js';

/** One unattended-upgrades run's dpkg output in `unattended-upgrades-dpkg.log`. */
export type UnattendedUpgradesDpkgRecord = DpkgSessionRecord<'unattended-upgrades-dpkg'>;

const NAME = /(?:^|[._-])unattended-upgrades-dpkg\.log(?:\.\d+)?(?:\.gz)?$/;

/** unattended-upgrades' dpkg log: the same sessions as apt's term.log, for automatic runs. */
const unattendedUpgradesDpkg = createSessionParser({
  id: 'unattended-upgrades-dpkg',
  title:
    "unattended-upgrades dpkg log (/var/log/unattended-upgrades/unattended-upgrades-dpkg.log): dpkg's output for each automatic run",
  detect(name, head) {
    return NAME.test(name) && (head.length === 0 || startsWithSession(head));
  },
});

export default unattendedUpgradesDpkg;
