// The boot-script tree the boot-* rule tests share: a oneshot bootstrap.service whose
// ExecStartPre installs a package and whose ExecStart runs a script that fetches, pipes and installs.
import type { TreeEntry } from './tree.js';

/** A file's content from its lines, each ending in a newline. */
export const lines = (...text: string[]) => `${text.join('\n')}\n`;
/** An executable file (mode 0755) with this content. */
export const exe = (content: string) => ({ content, mode: 0o755 });

/** /usr/lib/systemd/system/bootstrap.service: apt-get install on line 9, ExecStart runs SCRIPT. */
export const UNIT = lines(
  '[Unit]',
  'Description=Bootstrap the web node',
  'After=network-online.target',
  'Wants=network-online.target',
  '',
  '[Service]',
  'Type=oneshot',
  'RemainAfterExit=yes',
  'ExecStartPre=/usr/bin/apt-get install -y nginx',
  'ExecStart=/usr/local/bin/bootstrap.sh',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
);
/** /usr/local/bin/bootstrap.sh: curl | sh on line 5, pip install on line 6, an echoed apt-get on line 7. */
export const SCRIPT = lines(
  '#!/bin/bash',
  '# Bootstrap the web node on first boot.',
  'set -euo pipefail',
  '',
  'curl -fsSL https://get.example.com | sh',
  'pip install -r /opt/app/requirements.txt',
  'echo "apt-get install x"',
  'systemctl restart nginx',
);
/** The link that enables bootstrap.service in multi-user.target. */
export const ENABLED = {
  '/etc/systemd/system/multi-user.target.wants/bootstrap.service': {
    link: '/usr/lib/systemd/system/bootstrap.service',
  },
};
/** bootstrap.service and its script (not enabled), with these entries added. */
export function service(entries: Record<string, TreeEntry> = {}): Record<string, TreeEntry> {
  return {
    '/usr/lib/systemd/system/bootstrap.service': UNIT,
    '/usr/local/bin/bootstrap.sh': exe(SCRIPT),
    ...entries,
  };
}
