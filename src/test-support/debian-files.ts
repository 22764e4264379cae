// Real files from a Debian bookworm image, shared by the tests that build one.

/** Verbatim from Debian bookworm: /etc/apt/apt.conf.d/20auto-upgrades as unattended-upgrades 2.9.1+nmu3's postinst writes it. */
export const AUTO_UPGRADES =
  'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n';

/** Verbatim from Debian bookworm: /usr/lib/systemd/system/apt-daily.timer from apt 2.6.1. */
export const APT_DAILY_TIMER = `[Unit]
Description=Daily apt download activities

[Timer]
OnCalendar=*-*-* 6,18:00
RandomizedDelaySec=12h
Persistent=true

[Install]
WantedBy=timers.target
`;

/** Verbatim from Debian bookworm: /usr/lib/systemd/system/apt-daily.service from apt 2.6.1. */
export const APT_DAILY_SERVICE = `[Unit]
Description=Daily apt download activities
Documentation=man:apt(8)
ConditionACPower=true
After=network.target network-online.target systemd-networkd.service NetworkManager.service connman.service

[Service]
Type=oneshot
ExecStartPre=-/usr/lib/apt/apt-helper wait-online
ExecStart=/usr/lib/apt/apt.systemd.daily update
`;

/** Verbatim from Debian bookworm: /usr/lib/systemd/system/apt-daily-upgrade.timer from apt 2.6.1. */
export const APT_DAILY_UPGRADE_TIMER = `[Unit]
Description=Daily apt upgrade and clean activities
After=apt-daily.timer

[Timer]
OnCalendar=*-*-* 6:00
RandomizedDelaySec=60m
Persistent=true

[Install]
WantedBy=timers.target
`;

/** Verbatim from Debian bookworm: /usr/lib/systemd/system/apt-daily-upgrade.service from apt 2.6.1. */
export const APT_DAILY_UPGRADE_SERVICE = `[Unit]
Description=Daily apt upgrade and clean activities
Documentation=man:apt(8)
ConditionACPower=true
After=apt-daily.service network.target network-online.target systemd-networkd.service NetworkManager.service connman.service

[Service]
Type=oneshot
ExecStartPre=-/usr/lib/apt/apt-helper wait-online
ExecStart=/usr/lib/apt/apt.systemd.daily install
KillMode=process
TimeoutStopSec=900
`;

/** Verbatim from Debian bookworm: /usr/lib/systemd/system/unattended-upgrades.service from unattended-upgrades 2.9.1+nmu3. */
export const UNATTENDED_UPGRADES_SERVICE = `[Unit]
Description=Unattended Upgrades Shutdown
After=network.target local-fs.target systemd-logind.service
RequiresMountsFor=/run /var/log /var/run /var/lib /boot
Documentation=man:unattended-upgrade(8)

[Service]
ExecStart=/usr/share/unattended-upgrades/unattended-upgrade-shutdown --wait-for-signal
TimeoutStopSec=1800
KillMode=process

[Install]
WantedBy=multi-user.target
`;
