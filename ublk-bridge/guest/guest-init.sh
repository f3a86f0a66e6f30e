#!/bin/busybox sh
# /init of the jmpio test guest: load modules, mount the host's root read-only under a tmpfs overlay,
# chroot into it and run /share/.cmd; its exit status goes to /share/.exit; then power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in overlay netfs 9pnet 9p 9pnet_virtio ublk_drv loop jbd2 crc16 mbcache ext4 crc32c_generic \
    configfs nvme_keyring nvme_auth nvme_core nvme_fabrics nvme_tcp nvmet nvmet_tcp; do
  [ -f /modules/$m.ko ] && insmod /modules/$m.ko 2>/dev/null
done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro,cache=loose hostroot /host || { echo "guest: no host root"; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /share || { echo "guest: no share"; poweroff -f; }
mount -t tmpfs -o size=75% tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/host,upperdir=/upper/u,workdir=/upper/w /newroot || { echo "guest: overlay failed"; poweroff -f; }
for d in proc sys dev; do mount --move /$d /newroot/$d 2>/dev/null || mount --bind /$d /newroot/$d; done
# /tmp and /run stay the overlay's (writes land in its tmpfs upper layer): a checkout under the host's /tmp
# must stay visible.
mkdir -p /newroot/share
mount --move /share /newroot/share
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts 2>/dev/null
mount -t tmpfs tmpfs /newroot/dev/shm
# devtmpfs has no /dev/fd links (bash process substitution and many tools need them).
ln -sf /proc/self/fd /newroot/dev/fd
ln -sf /proc/self/fd/0 /newroot/dev/stdin
ln -sf /proc/self/fd/1 /newroot/dev/stdout
ln -sf /proc/self/fd/2 /newroot/dev/stderr
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
echo "guest: $(uname -r) up; running the command"
chroot /newroot /bin/bash /share/.cmd
echo $? > /newroot/share/.exit
sync
echo "guest: done ($(cat /newroot/share/.exit))"
poweroff -f
