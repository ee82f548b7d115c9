#!/usr/bin/env bash
# Checks the ways onto an SD card, in debootstrapped Debian roots of the .deb's
# architecture (emulated for arm64), as far as they can be without a Pi:
#  1. prepare-sd.sh on a fake boot partition with the three hooks it knows
#     (cmdline.txt systemd.run=, Imager's firstrun.sh, cloud-init user-data);
#  2. tidegate-firstboot.sh run inside a root with that boot partition at
#     /boot/firmware: package installed, our config in place, secrets and the
#     .deb deleted from the boot partition, cmdline.txt restored;
#  3. the pi-gen stage's 00-run.sh with ROOTFS_DIR and an on_chroot like pi-gen's.
# What needs a real Pi (the boot itself, systemd.run, cloud-init) is in README.md.
#
# Usage: bash gateway/deploy/image-hooks-check.sh dist/deploy/tidegate_<v>_arm64.deb
set -euo pipefail
DEB=$(readlink -f "${1:?usage: image-hooks-check.sh <deb>}")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=check-lib.sh
. "$HERE/check-lib.sh"
W=$(mktemp -d /tmp/tidegate-hooks-XXXXXX)
ROOTS+=("$W")

step "prepare-sd.sh hooks on fake boot partitions"
CMDLINE='console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait'
printf 'gatewayId: pi-firstboot\ndataDir: /var/lib/tidegate\nmqtt: { port: 1883 }\nsinks: { local: { type: file } }\nroutes: { all: { from: "#", to: local } }\n' >"$W/tidegate.yaml"
printf 'UPSTREAM_PASSWORD=not-on-the-boot-partition\n' >"$W/tidegate.env"
# the tail of the firstrun.sh that Raspberry Pi Imager writes for bookworm
FIRSTRUN='#!/bin/bash
set +e
echo pi > /etc/hostname
rm -f /boot/firmware/firstrun.sh
sed -i '"'"'s| systemd.run.*||g'"'"' /boot/firmware/cmdline.txt
exit 0'
mkdir -p "$W/b1" "$W/b2" "$W/b3"
for b in b1 b2 b3; do echo "$CMDLINE" >"$W/$b/cmdline.txt"; done
echo "$FIRSTRUN" >"$W/b2/firstrun.sh"
printf '#cloud-config\nhostname: pi\nruncmd:\n  - [echo, hello]\n' >"$W/b3/user-data"
bash "$HERE/firstboot/prepare-sd.sh" "$W/b1" "$DEB" "$W/tidegate.yaml" "$W/tidegate.env" >/dev/null
bash "$HERE/firstboot/prepare-sd.sh" "$W/b2" "$DEB" >/dev/null
bash "$HERE/firstboot/prepare-sd.sh" "$W/b3" "$DEB" >/dev/null
check 'bookworm without customisation: systemd.run entry in cmdline.txt' \
  "$CMDLINE systemd.run=/boot/firmware/tidegate/tidegate-firstboot.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target" \
  "$(cat "$W/b1/cmdline.txt")"
check 'bookworm with Imager customisation: called before firstrun.sh removes itself' \
  'bash /boot/firmware/tidegate/tidegate-firstboot.sh|rm -f /boot/firmware/firstrun.sh' \
  "$(grep -A1 tidegate-firstboot "$W/b2/firstrun.sh" | paste -sd '|')"
check 'trixie: runcmd entry in user-data, which stays valid YAML' \
  '["hostname","runcmd"] [["bash","/boot/firmware/tidegate/tidegate-firstboot.sh"],["echo","hello"]]' \
  "$(cd "$REPO" && node -e "const y=require('yaml').parse(require('fs').readFileSync('$W/b3/user-data','utf8'));
    console.log(JSON.stringify(Object.keys(y)), JSON.stringify(y.runcmd))")"
check 'shipped cloud-init/user-data is valid YAML with the runcmd entry' \
  '#cloud-config [["bash","/boot/firmware/tidegate/tidegate-firstboot.sh"]]' \
  "$(head -1 "$HERE/cloud-init/user-data") $(cd "$REPO" && node -e "const y=require('yaml').parse(require('fs').readFileSync('$HERE/cloud-init/user-data','utf8'));
    console.log(JSON.stringify(y.runcmd))")"

step "tidegate-firstboot.sh inside a fresh $ARCH root (boot partition b1 at /boot/firmware)"
R=$(new_root)
ROOTS+=("$R")
mkdir -p "$R/boot/firmware" && cp -r "$W/b1/." "$R/boot/firmware/"
run_in "$R" bash /boot/firmware/tidegate/tidegate-firstboot.sh >"$W/firstboot.out" 2>&1 ||
  { tail -20 "$W/firstboot.out"; }
check 'firstboot: package installed' 'install ok installed' "$(run_in "$R" dpkg-query -W -f='${Status}' tidegate)"
check 'firstboot: our config kept over the package default, readable by the service only' \
  'gatewayId: pi-firstboot root:tidegate 640' \
  "$(head -1 "$R/etc/tidegate/tidegate.yaml") $(run_in "$R" stat -c '%U:%G %a' /etc/tidegate/tidegate.yaml)"
check 'firstboot: tidegate.env installed root:tidegate 640' 'root:tidegate 640' \
  "$(run_in "$R" stat -c '%U:%G %a' /etc/tidegate/tidegate.env)"
check 'firstboot: config valid for the installed gateway' \
  '/etc/tidegate/tidegate.yaml: ok (1 sink(s), 1 route(s))' \
  "$(run_in "$R" runuser -u tidegate -- tidegate check-config /etc/tidegate/tidegate.yaml 2>&1)"
check 'firstboot: .deb and secrets deleted from the boot partition' 'tidegate-firstboot.sh tidegate.yaml' \
  "$(ls -A "$R/boot/firmware/tidegate" | xargs)"
check 'firstboot: cmdline.txt restored' "$CMDLINE" "$(cat "$R/boot/firmware/cmdline.txt")"
check 'firstboot: gateway enabled, journald capped' 'enabled SystemMaxUse=64M' \
  "$([ -L "$R/etc/systemd/system/multi-user.target.wants/tidegate.service" ] && echo enabled || echo disabled) $(
    grep -h SystemMaxUse= "$R/etc/systemd/journald.conf.d/60-tidegate.conf")"
check 'firstboot: log written' 'yes' "$(grep -q 'tidegate-firstboot: done' "$R/var/log/tidegate-firstboot.log" && echo yes || echo no)"

if [ "$ARCH" != arm64 ]; then
  echo "image-hooks: $PASS passed, $FAIL failed (pi-gen builds Raspberry Pi images: arm64 only)"
  [ "$FAIL" = 0 ]
  exit
fi
step "pi-gen stage 00-run.sh with ROOTFS_DIR and on_chroot (as pi-gen defines them)"
R2=$(new_root)
ROOTS+=("$R2")
cp -r "$HERE/pi-gen/stage-tidegate" "$W/stage"
cp "$DEB" "$W/stage/00-tidegate/files/"
ROOTFS_DIR=$R2 bash -e -c '
  on_chroot() { chroot "$ROOTFS_DIR" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /bin/bash -e -; }
  export -f on_chroot
  bash -e "$0"' "$W/stage/00-tidegate/00-run.sh" >"$W/pigen.out" 2>&1 || tail -20 "$W/pigen.out"
check 'pi-gen: package installed' 'install ok installed' "$(run_in "$R2" dpkg-query -W -f='${Status}' tidegate)"
check 'pi-gen: package default config, gateway enabled, journald capped' \
  'gatewayId: tidegate enabled SystemMaxUse=64M' \
  "$(grep -h '^gatewayId:' "$R2/etc/tidegate/tidegate.yaml") $(
    [ -L "$R2/etc/systemd/system/multi-user.target.wants/tidegate.service" ] && echo enabled || echo disabled) $(
    grep -ho 'SystemMaxUse=64M' "$R2/etc/systemd/journald.conf.d/60-tidegate.conf")"
check 'pi-gen: nothing left in /tmp' 'empty' "$(ls -A "$R2/tmp" && echo empty)"

step "done"
echo "image-hooks: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
