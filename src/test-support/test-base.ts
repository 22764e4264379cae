import type { BootstrapRequest } from '../bake/mmdebstrap.js';

/** Debian's default with unattended-upgrades installed (the incident's configuration), and busybox
 * for the example app's httpd: the example specs bake on this very base. */
export const TEST_BASE: BootstrapRequest = {
  suite: 'bookworm',
  variant: 'minbase',
  include: ['busybox', 'systemd-sysv', 'unattended-upgrades'],
};
