import { createSessionParser, startsWithSession } from './session.js';
import type { DpkgSessionRecord } from './session.js';

export type { DpkgSessionRecord, SessionPackage } from './session.js';

/** One apt run's dpkg output in `/var/log/apt/term.log`. */
export type AptTermRecord = DpkgSessionRecord<'apt-term'>;

const NAME = /(?:^|[._-])term\.log(?:\.\d+)?(?:\.gz)?$/;

/** apt's terminal log: `/var/log/apt/term.log`, dpkg's output per apt run. */
const aptTerm = createSessionParser({
  id: 'apt-term',
  title: "apt terminal log (/var/log/apt/term.log): dpkg's output for each apt run",
  detect(name, head) {
    if (/unattended-upgrades/.test(name)) return false;
    return head.length === 0 ? NAME.test(name) : startsWithSession(head);
  },
});

export default aptTerm;
