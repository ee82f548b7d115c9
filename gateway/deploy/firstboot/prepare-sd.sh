#!/bin/bash
# Prepares a freshly flashed Raspberry Pi OS (bookworm or trixie, 64-bit) SD card
# on your computer: copies the .deb, your config files and the first-boot script
# to the boot partition, and makes the Pi run that script once at first boot.
#
# Usage: prepare-sd.sh BOOT_PARTITION tidegate_<v>_arm64.deb [tidegate.yaml] [bridge.yaml] [tidegate.env]
#   BOOT_PARTITION: where the card's first (FAT) partition is mounted, e.g. /media/$USER/bootfs
#   Set ENABLE_BRIDGE=1 to enable tidegate-bridge.service as well.
# Hooks, in this order of preference:
#   - user-data present (trixie, cloud-init): adds a runcmd entry;
#   - firstrun.sh present (bookworm with Raspberry Pi Imager's OS customisation):
#     calls our script just before firstrun.sh removes itself;
#   - otherwise (bookworm, no customisation): a systemd.run= entry in cmdline.txt,
#     which our script removes again.
set -euo pipefail
BOOT=${1:?usage: prepare-sd.sh BOOT_PARTITION DEB [tidegate.yaml] [bridge.yaml] [tidegate.env]}
DEB=${2:?a tidegate_<version>_arm64.deb is needed}
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "$BOOT/cmdline.txt" ] || { echo "prepare-sd.sh: $BOOT/cmdline.txt not found: is $BOOT the boot partition?" >&2; exit 2; }

mkdir -p "$BOOT/tidegate"
cp "$DEB" "$HERE/tidegate-firstboot.sh" "$BOOT/tidegate/"
for f in "$@"; do
  case $(basename "$f") in
    tidegate.yaml | bridge.yaml | tidegate.env) cp "$f" "$BOOT/tidegate/" ;;
    *) echo "prepare-sd.sh: $f: expected tidegate.yaml, bridge.yaml or tidegate.env" >&2; exit 2 ;;
  esac
done
[ "${ENABLE_BRIDGE:-0}" = 1 ] && touch "$BOOT/tidegate/enable-bridge"

# the Pi sees the boot partition at /boot/firmware (bookworm and later)
RUN='bash /boot/firmware/tidegate/tidegate-firstboot.sh'
if [ -f "$BOOT/user-data" ]; then
  if ! grep -q tidegate-firstboot "$BOOT/user-data"; then
    if grep -q '^runcmd:' "$BOOT/user-data"; then
      sed -i "/^runcmd:/a\\  - [bash, /boot/firmware/tidegate/tidegate-firstboot.sh]" "$BOOT/user-data"
    else
      printf '\nruncmd:\n  - [bash, /boot/firmware/tidegate/tidegate-firstboot.sh]\n' >>"$BOOT/user-data"
    fi
  fi
  echo "prepare-sd.sh: hooked into cloud-init user-data (runcmd)"
elif [ -f "$BOOT/firstrun.sh" ]; then
  if ! grep -q tidegate-firstboot "$BOOT/firstrun.sh"; then
    # firstrun.sh ends by deleting itself and its cmdline entry: run ours just before that
    sed -i "0,/^rm -f .*firstrun.sh/s||$RUN\n&|" "$BOOT/firstrun.sh"
    grep -q tidegate-firstboot "$BOOT/firstrun.sh" || { echo "prepare-sd.sh: firstrun.sh has no 'rm -f ...firstrun.sh' line to hook before" >&2; exit 1; }
  fi
  echo "prepare-sd.sh: hooked into Raspberry Pi Imager's firstrun.sh"
else
  if ! grep -q tidegate-firstboot "$BOOT/cmdline.txt"; then
    # cmdline.txt is one line; systemd runs this once instead of the normal boot, then reboots
    sed -i '1 s|$| systemd.run=/boot/firmware/tidegate/tidegate-firstboot.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target|' "$BOOT/cmdline.txt"
  fi
  echo "prepare-sd.sh: added a first-boot entry to cmdline.txt"
fi
sync
echo "prepare-sd.sh: ready; put the card in the Pi and power it on (first boot takes a few minutes)"
