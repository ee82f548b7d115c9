#!/bin/bash -e
# pi-gen: bakes Tidegate into the image. Runs on the build host with ROOTFS_DIR
# set; on_chroot runs commands inside the image (arm64, through qemu binfmt).
# Put tidegate_<version>_arm64.deb (npm run package:arm64) and, optionally,
# tidegate.yaml / bridge.yaml in files/ next to this script.
HERE=$(cd "$(dirname "$0")" && pwd)
DEB=$(ls "$HERE"/files/tidegate_*_arm64.deb | sort -V | tail -1)
install -m 0644 "$DEB" "${ROOTFS_DIR}/tmp/tidegate.deb"
install -d -m 0750 "${ROOTFS_DIR}/etc/tidegate"
for f in tidegate.yaml bridge.yaml; do
  if [ -f "$HERE/files/$f" ]; then install -m 0640 "$HERE/files/$f" "${ROOTFS_DIR}/etc/tidegate/$f"; fi
done
on_chroot <<'CHROOT'
DEBIAN_FRONTEND=noninteractive dpkg -i --force-confdef --force-confold /tmp/tidegate.deb
rm -f /tmp/tidegate.deb
install -d /etc/systemd/journald.conf.d
printf '[Journal]\nSystemMaxUse=64M\nSystemMaxFileSize=8M\nMaxRetentionSec=1month\n' >/etc/systemd/journald.conf.d/60-tidegate.conf
CHROOT
