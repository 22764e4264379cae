import type { BootstrapRequest } from '../bake/mmdebstrap.js';

/** Debian's default with unattended-upgrades installed: the incident's configuration. */
export const TEST_BASE: BootstrapRequest = {
  suite: 'bookworm',
  variant: 'minbase',
  include: ['systemd-sysv', 'unattended-upgrades'],
};
