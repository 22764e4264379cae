/**
 * The fixed shell script that becomes an instance's PID 1 before exec'ing systemd.
 * It runs in the new mount/pid/net/uts/ipc namespaces made by `unshare`. Data reaches it
 * only as positional arguments ("$1".."${11}"); nothing is ever interpolated into this text.
 *
 *   $1 lower (the image's root filesystem)  $2 upper  $3 work  $4 merged
 *   $5 hostname                              $6 a file holding the hostname (bound over /etc/hostname, writable: cloud-init sets it)
 *   $7 a FIFO: one line on it means the lab has attached the instance's network
 *   $8 the instance's resolv.conf (bound over /etc/resolv.conf)
 *   $9 a NoCloud seed directory for cloud-init, or "" (bound over /var/lib/cloud/seed/nocloud)
 *   ${10} where /etc/resolv.conf is in the image, or "" when a link there leaves it to the image
 *   ${11} where the image's NoCloud seed directory is
 *
 * ${10} and ${11} are link-free in-image paths, resolved and made in the upper layer by
 * `prepareBindTargets`: the mounts follow no link of the image to a host path.
 */
export const INIT_SCRIPT = `set -eu
root="$4"
mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
# The instance's own cgroup2 subtree (this cgroup namespace's root): systemd runs it in unified mode.
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$root/sys/fs/cgroup"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
mount -t tmpfs -o mode=0755,nosuid,size=4m tmpfs "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3
mknod -m 666 "$root/dev/zero" c 1 5
mknod -m 666 "$root/dev/full" c 1 7
mknod -m 666 "$root/dev/random" c 1 8
mknod -m 666 "$root/dev/urandom" c 1 9
mknod -m 666 "$root/dev/tty" c 5 0
mkdir -m 0755 "$root/dev/pts"
mkdir -m 1777 "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
if [ -f "$root/etc/hostname" ] && [ ! -L "$root/etc/hostname" ]; then
  mount --bind "$6" "$root/etc/hostname"
fi
printf '%s' "$5" > /proc/sys/kernel/hostname
# A symlinked resolv.conf belongs to a resolver manager inside the image (systemd-resolved): left to it.
if [ -n "\${10}" ]; then
  mount --bind "$8" "$root\${10}"
fi
if [ -n "$9" ]; then
  mount --bind -o ro "$9" "$root\${11}"
fi
# systemd starts only once the network is attached, as on a cloud instance.
read -r go < "$7"
exec chroot "$root" /lib/systemd/systemd
`;

/** argv[0] of the init script, so that its processes are recognisable in `ps`. */
export const INIT_NAME = 'goldgate-lab-init';

/**
 * Moves itself into a cgroup, then execs the rest of its arguments: `unshare --cgroup` (or
 * `nsenter`) started this way is rooted in, or joins, the instance's cgroup.
 *
 *   $1 the cgroup's cgroup.procs   $2... the command
 */
export const CGROUP_ENTER_SCRIPT = `echo $$ > "$1"
shift
exec "$@"
`;

export const CGROUP_ENTER_NAME = 'goldgate-lab-cgroup';
