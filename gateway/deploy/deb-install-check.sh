#!/usr/bin/env bash
# Installs a built tidegate .deb into a fresh Debian bookworm root of its
# architecture (debootstrap, cached as a tarball) with the root's own dpkg, and
# checks what the package promises: the service user, the units and their
# enablement, the conffile, the permissions, the gateway starting as that user,
# an upgrade keeping an edited conffile, remove and purge.
#
# arm64 roots run under qemu-user through binfmt_misc (see check-lib.sh).
#
# Usage: bash gateway/deploy/deb-install-check.sh dist/deploy/tidegate_<v>_<arch>.deb
set -euo pipefail
DEB=$(readlink -f "${1:?usage: deb-install-check.sh <deb>}")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=check-lib.sh
. "$HERE/check-lib.sh"

step "fresh root from the cache"
R=$(new_root)
ROOTS+=("$R")
cp "$DEB" "$R/tmp/tidegate.deb"
in_root() { run_in "$R" "$@"; }

step "dpkg -i (the root's own $ARCH dpkg and maintainer scripts)"
in_root dpkg -i /tmp/tidegate.deb
check 'package installed' 'install ok installed' "$(in_root dpkg-query -W -f='${Status}' tidegate)"
check 'root architecture' "$ARCH" "$(in_root dpkg --print-architecture)"

step "checks"
check 'tidegate is a system user with no login shell' 'yes /usr/sbin/nologin /var/lib/tidegate' \
  "$(in_root getent passwd tidegate | awk -F: '{print ($3 < 1000 ? "yes" : "no"), $7, $6}')"
check 'tidegate is in dialout (serial ports)' 'yes' \
  "$(in_root id -nG tidegate | tr ' ' '\n' | grep -qx dialout && echo yes || echo no)"
for u in tidegate.service tidegate-bridge.service; do
  check "unit $u installed" 'root:root 644' "$(stat -c '%U:%G %a' "$R/lib/systemd/system/$u")"
  # systemd-analyze of the root's own systemd (252) parses every directive
  check "unit $u passes systemd-analyze verify" '' \
    "$(in_root systemd-analyze verify --man=no "/lib/systemd/system/$u" 2>&1)"
  # exposure score from 0 (locked down) to 10; systemd calls < 4 "OK"
  SCORE=$(in_root systemd-analyze security --offline=true "/lib/systemd/system/$u" 2>&1 |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  check "unit $u hardening: systemd-analyze security exposure < 3 (got ${SCORE:-none})" 'yes' \
    "$(awk -v s="${SCORE:-99}" 'BEGIN { print (s < 3 ? "yes" : "no") }')"
done
check 'gateway enabled at boot, bridge not' 'enabled disabled' \
  "$([ -L "$R/etc/systemd/system/multi-user.target.wants/tidegate.service" ] && echo enabled || echo disabled) $(
    [ -L "$R/etc/systemd/system/multi-user.target.wants/tidegate-bridge.service" ] && echo enabled || echo disabled)"
check 'conffiles' '/etc/tidegate/tidegate.yaml /etc/tidegate/bridge.yaml' \
  "$(in_root dpkg-query -W -f='${Conffiles}' tidegate | awk 'NF {print $1}' | xargs)"
check '/etc/tidegate' 'root:tidegate 750' "$(in_root stat -c '%U:%G %a' /etc/tidegate)"
check '/etc/tidegate/tidegate.yaml, bridge.yaml' 'root:tidegate 640 root:tidegate 640' \
  "$(in_root stat -c '%U:%G %a' /etc/tidegate/tidegate.yaml /etc/tidegate/bridge.yaml | xargs)"
check '/var/lib/tidegate' 'tidegate:tidegate 750' \
  "$(in_root stat -c '%U:%G %a' /var/lib/tidegate)"
check '/opt/tidegate/bin/node' 'root:root 755' "$(stat -c '%U:%G %a' "$R/opt/tidegate/bin/node")"
check 'nothing under /opt/tidegate is writable by the service' '' \
  "$(find "$R/opt/tidegate" ! -type l \( -perm -o+w -o -perm -g+w -o ! -user root \) -print | head -3)"
check 'tidegate check-config as the service user' '/etc/tidegate/tidegate.yaml: ok (1 sink(s), 1 route(s))' \
  "$(in_root runuser -u tidegate -- tidegate check-config /etc/tidegate/tidegate.yaml 2>&1)"

check 'tidegate-bridge check-config as the service user' '/etc/tidegate/bridge.yaml: ok (1 port entry)' \
  "$(in_root runuser -u tidegate -- tidegate-bridge check-config /etc/tidegate/bridge.yaml 2>&1)"

step "the gateway starts from the installed files as the service user"
LOG=$R/tmp/gw.log
in_root runuser -u tidegate -- /opt/tidegate/bin/tidegate start --config /etc/tidegate/tidegate.yaml \
  --mqtt-port 0 --status-port 0 >"$LOG" 2>&1 &
GW=$!
for _ in $(seq 120); do grep -q '"tidegate started"' "$LOG" && break; sleep 0.5; done
check 'gateway started' 'yes' "$(grep -q '"tidegate started"' "$LOG" && echo yes || echo no)"
check 'queue and token created in /var/lib/tidegate, owned by tidegate' 'tidegate tidegate' \
  "$(in_root stat -c %U /var/lib/tidegate/tidegate.db 2>&1) $(in_root stat -c %U /var/lib/tidegate/status-token 2>&1)"
kill -TERM "$GW" 2>/dev/null || true
wait "$GW" || true
pkill -TERM -P "$GW" 2>/dev/null || true

step "upgrade keeps an edited conffile; remove keeps it; purge removes it and the data"
echo '# edited by the admin' >>"$R/etc/tidegate/tidegate.yaml"
in_root dpkg -i /tmp/tidegate.deb >/dev/null
check 'edited conffile kept on reinstall' '# edited by the admin' "$(tail -1 "$R/etc/tidegate/tidegate.yaml")"
in_root dpkg -r tidegate >/dev/null
check 'remove: bundle gone, conffile and data kept' 'no yes yes' \
  "$([ -e "$R/opt/tidegate/bin/node" ] && echo yes || echo no) $([ -f "$R/etc/tidegate/tidegate.yaml" ] && echo yes || echo no) $(
    [ -d "$R/var/lib/tidegate" ] && echo yes || echo no)"
in_root dpkg -P tidegate >/dev/null
check 'purge: config and data gone' 'no no' \
  "$([ -e "$R/etc/tidegate" ] && echo yes || echo no) $([ -e "$R/var/lib/tidegate" ] && echo yes || echo no)"

step "done"
echo "deb-install: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
