#!/bin/bash
# Runs once on the Pi at first boot, as root: installs the Tidegate .deb that
# prepare-sd.sh (or you) put in <boot partition>/tidegate/, puts the config
# files found there in /etc/tidegate, caps journald's disk use, then deletes
# the copies on the boot partition (a FAT partition anyone with the card can
# read: tidegate.env may hold secrets). Everything it does is logged to
# /var/log/tidegate-firstboot.log.
#
# Started by: Raspberry Pi Imager's firstrun.sh (bookworm; prepare-sd.sh adds
# the call), the kernel command line (systemd.run=, bookworm without Imager
# customisation), or cloud-init runcmd (trixie, see ../cloud-init/user-data).
# TIDEGATE_BOOT overrides where the boot partition is (tests use it).
set -euo pipefail
BOOT=${TIDEGATE_BOOT:-}
if [ -z "$BOOT" ]; then
  for d in /boot/firmware /boot; do
    [ -d "$d/tidegate" ] && BOOT=$d && break
  done
fi
SRC=$BOOT/tidegate
LOG=/var/log/tidegate-firstboot.log
exec > >(tee -a "$LOG") 2>&1
echo "tidegate-firstboot: $(date -Is) from ${SRC:-nowhere}"
if [ -z "$BOOT" ] || [ ! -d "$SRC" ]; then
  echo "tidegate-firstboot: no tidegate/ folder on the boot partition; nothing to do"
  exit 0
fi

DEB=$(ls "$SRC"/tidegate_*_"$(dpkg --print-architecture)".deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$DEB" ]; then
  echo "tidegate-firstboot: no tidegate_*_$(dpkg --print-architecture).deb in $SRC" >&2
  exit 1
fi

# Config first, so the service starts on it: a file already in /etc/tidegate and
# not from the package makes dpkg ask, and --force-confold keeps ours.
install -d -m 0750 /etc/tidegate
for f in tidegate.yaml bridge.yaml tidegate.env; do
  if [ -f "$SRC/$f" ]; then
    install -m 0640 "$SRC/$f" "/etc/tidegate/$f"
    echo "tidegate-firstboot: installed /etc/tidegate/$f"
  fi
done
DEBIAN_FRONTEND=noninteractive dpkg -i --force-confdef --force-confold "$DEB"

# journald: keep logs across reboots but cap them (the gateway logs to the journal, not files)
install -d /etc/systemd/journald.conf.d
cat >/etc/systemd/journald.conf.d/60-tidegate.conf <<'CONF'
# written by tidegate-firstboot: bounded persistent journal on the SD card
[Journal]
SystemMaxUse=64M
SystemMaxFileSize=8M
MaxRetentionSec=1month
CONF

if [ -f "$SRC/enable-bridge" ]; then
  systemctl enable tidegate-bridge.service
  echo "tidegate-firstboot: enabled tidegate-bridge.service"
fi

rm -f "$SRC"/tidegate.env "$SRC"/*.deb
# remove our kernel command line entry, if prepare-sd.sh added one (Imager's firstrun.sh cleans its own)
if grep -q 'systemd.run=[^ ]*tidegate-firstboot.sh' "$BOOT/cmdline.txt" 2>/dev/null; then
  sed -i 's| systemd.run=[^ ]*tidegate-firstboot.sh||; s| systemd.run_success_action=reboot||; s| systemd.unit=kernel-command-line.target||' \
    "$BOOT/cmdline.txt"
fi
echo "tidegate-firstboot: done; tidegate.service is $(systemctl is-enabled tidegate.service 2>/dev/null || echo unknown)"
