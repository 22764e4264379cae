// Plants one instance of each of the 13 sources of change at boot into a copy of a Debian
// root filesystem, the way real images carry them, for the coverage benchmark.
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function put(root, path, content, mode = 0o644) {
  const host = join(root, path);
  mkdirSync(dirname(host), { recursive: true });
  rmSync(host, { force: true });
  writeFileSync(host, content);
  chmodSync(host, mode);
}

function link(root, path, target) {
  const host = join(root, path);
  mkdirSync(dirname(host), { recursive: true });
  rmSync(host, { force: true });
  symlinkSync(target, host);
}

function unit(root, name, body, wantedBy = 'multi-user.target') {
  put(root, `/usr/lib/systemd/system/${name}`, body);
  link(root, `/etc/systemd/system/${wantedBy}.wants/${name}`, `/usr/lib/systemd/system/${name}`);
}

/** The sources, each with the rule that should report it. The base image already has the first three. */
export const SOURCES = [
  { rule: 'apt-unattended-upgrades', planted: 'Debian default: unattended-upgrades with 20auto-upgrades' },
  { rule: 'apt-periodic-update', planted: 'Debian default: APT::Periodic::Update-Package-Lists "1"' },
  { rule: 'apt-timers-enabled', planted: 'Debian default: apt-daily and apt-daily-upgrade timers enabled' },
  { rule: 'cloud-init-package-upgrade', planted: 'cloud.cfg.d with package_upgrade: true' },
  { rule: 'boot-script-package-install', planted: 'an enabled service whose script runs apt-get install' },
  { rule: 'boot-network-fetch', planted: 'the same script pipes curl into sh' },
  { rule: 'container-mutable-tag', planted: 'an enabled service running docker run app:latest' },
  { rule: 'dnf-automatic', planted: 'dnf-automatic-install.timer enabled' },
  {
    rule: 'dnf-release-unlocked',
    planted: '/etc/dnf/vars/releasever = latest, os-release of Amazon Linux 2023',
  },
  { rule: 'snap-auto-refresh', planted: 'snapd installed and enabled, no refresh hold' },
  { rule: 'needrestart-auto', planted: "needrestart with $nrconf{restart} = 'a'" },
  { rule: 'auto-reboot', planted: 'Unattended-Upgrade::Automatic-Reboot "true"' },
  { rule: 'os-update-agent', planted: 'Flatcar update-engine.service enabled' },
];

export function plantAll(root) {
  put(root, '/usr/bin/cloud-init', '#!/usr/bin/python3\n', 0o755);
  put(
    root,
    '/etc/cloud/cloud.cfg',
    'cloud_config_modules:\n  - package-update-upgrade-install\n  - runcmd\ncloud_final_modules:\n  - scripts-user\n',
  );
  put(root, '/etc/cloud/cloud.cfg.d/50-upgrade.cfg', 'package_update: true\npackage_upgrade: true\n');
  put(
    root,
    '/usr/local/bin/bootstrap.sh',
    '#!/bin/bash\nset -euo pipefail\napt-get install -y nginx\ncurl -fsSL https://get.example.com/install.sh | sh\n',
    0o755,
  );
  unit(
    root,
    'bootstrap.service',
    '[Unit]\nDescription=Bootstrap\n\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/bootstrap.sh\n\n[Install]\nWantedBy=multi-user.target\n',
  );
  unit(
    root,
    'app.service',
    '[Unit]\nDescription=App\n\n[Service]\nExecStartPre=/usr/bin/docker pull registry.example.com/app:latest\nExecStart=/usr/bin/docker run --rm --name app registry.example.com/app:latest\n\n[Install]\nWantedBy=multi-user.target\n',
  );
  put(root, '/usr/bin/dnf', '#!/usr/bin/python3\n', 0o755);
  put(root, '/usr/bin/dnf-automatic', '#!/usr/bin/python3\n', 0o755);
  put(root, '/etc/dnf/automatic.conf', '[commands]\napply_updates = yes\nreboot = when-needed\n');
  unit(
    root,
    'dnf-automatic-install.timer',
    '[Timer]\nOnCalendar=*-*-* 6:00\nRandomizedDelaySec=60m\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n',
    'timers.target',
  );
  put(
    root,
    '/usr/lib/systemd/system/dnf-automatic-install.service',
    '[Service]\nType=oneshot\nExecStart=/usr/bin/dnf-automatic /etc/dnf/automatic.conf --timer --installupdates\n',
  );
  put(root, '/etc/dnf/vars/releasever', 'latest\n');
  // dnf's releasever lock is an Amazon Linux 2023 feature: this one image says it is AL2023.
  rmSync(join(root, '/etc/os-release'), { force: true });
  put(
    root,
    '/etc/os-release',
    'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\nPRETTY_NAME="Amazon Linux 2023.6.20241010"\n',
  );
  put(root, '/usr/lib/snapd/snapd', '', 0o755);
  put(root, '/usr/bin/snap', '', 0o755);
  unit(
    root,
    'snapd.service',
    '[Service]\nExecStart=/usr/lib/snapd/snapd\n\n[Install]\nWantedBy=multi-user.target\n',
  );
  put(root, '/usr/sbin/needrestart', '#!/usr/bin/perl\n', 0o755);
  put(
    root,
    '/etc/needrestart/needrestart.conf',
    "# Restart mode: (l)ist only, (i)nteractive or (a)utomatically.\n#$nrconf{restart} = 'i';\n",
  );
  put(root, '/etc/needrestart/conf.d/50-auto.conf', "$nrconf{restart} = 'a';\n");
  put(root, '/etc/apt/apt.conf.d/60reboot', 'Unattended-Upgrade::Automatic-Reboot "true";\n');
  put(
    root,
    '/usr/share/flatcar/update.conf',
    'GROUP=stable\nSERVER=https://public.update.flatcar-linux.net/v1/update/\n',
  );
  unit(
    root,
    'update-engine.service',
    '[Service]\nExecStart=/usr/sbin/update_engine -foreground -logtostderr\n\n[Install]\nWantedBy=multi-user.target\n',
  );
}
