#!/usr/bin/env bash
# Lays out the .deb tree around an already staged /opt/tidegate:
# links in /usr/bin, systemd units, the conffiles, docs and DEBIAN/.
# Usage: layout.sh <deploy-dir> <root> <arch> <version> <node-version>
set -euo pipefail
HERE=$1 ROOT=$2 ARCH=$3 VERSION=$4 NODE_VERSION=$5

install -d "$ROOT/DEBIAN" "$ROOT/usr/bin" "$ROOT/lib/systemd/system" "$ROOT/etc/tidegate" \
  "$ROOT/usr/share/doc/tidegate"
ln -sf /opt/tidegate/bin/tidegate "$ROOT/usr/bin/tidegate"
ln -sf /opt/tidegate/bin/tidegate-bridge "$ROOT/usr/bin/tidegate-bridge"
install -m 0644 "$HERE/systemd/tidegate.service" "$HERE/systemd/tidegate-bridge.service" "$ROOT/lib/systemd/system/"
install -m 0644 "$HERE/etc/tidegate.yaml" "$ROOT/etc/tidegate/tidegate.yaml"
install -m 0644 "$HERE/etc/bridge.yaml" "$ROOT/etc/tidegate/bridge.yaml"
cat >"$ROOT/usr/share/doc/tidegate/copyright" <<EOF
Tidegate $VERSION: Apache-2.0.
Bundled Node.js $NODE_VERSION: MIT and others, see /opt/tidegate/NODE_LICENSE.
Bundled npm packages: each under its own license, in /opt/tidegate/app/node_modules/*/LICENSE*.
EOF

# /etc files are conffiles: dpkg keeps the admin's edits on upgrade and asks about conflicts
printf '%s\n' /etc/tidegate/tidegate.yaml /etc/tidegate/bridge.yaml >"$ROOT/DEBIAN/conffiles"
install -m 0755 "$HERE/debian/postinst" "$HERE/debian/prerm" "$HERE/debian/postrm" "$ROOT/DEBIAN/"
SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$SIZE/" \
  -e "s/@NODE_VERSION@/$NODE_VERSION/" "$HERE/debian/control.in" >"$ROOT/DEBIAN/control"
# the bundle: directories 0755, files 0644 unless executable
find "$ROOT/opt" -type d -exec chmod 0755 {} +
find "$ROOT/opt" -type f -perm /111 -exec chmod 0755 {} +
find "$ROOT/opt" -type f ! -perm /111 -exec chmod 0644 {} +
