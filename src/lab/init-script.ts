/**
 * The fixed shell script that becomes an instance's PID 1 before exec'ing systemd.
 * It runs in the new mount/pid/net/uts/ipc namespaces made by `unshare`. Data reaches it
 * only as positional arguments ("$1".."$6"); nothing is ever interpolated into this text.
 *
 *   $1 lower (the image's root filesystem)  $2 upper  $3 work  $4 merged
 *   $5 hostname                              $6 a file holding the hostname (bound over /etc/hostname)
 */
export const INIT_SCRIPT = `set -eu
root="$4"
mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
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
  mount --bind -o ro "$6" "$root/etc/hostname"
fi
printf '%s' "$5" > /proc/sys/kernel/hostname
exec chroot "$root" /lib/systemd/systemd
`;

/** argv[0] of the init script, so that its processes are recognisable in `ps`. */
export const INIT_NAME = 'goldgate-lab-init';
