#!/bin/sh
# Installs the Debian packages healerd needs to build and test, if missing.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again. A caller
# that needs more (the tests' real workloads) names them in HEAL_EXTRA_PACKAGES.
set -eu
HEAL_PACKAGES="${HEAL_EXTRA_PACKAGES:-} g++ cmake make pkg-config libsystemd-dev libsqlite3-dev libeigen3-dev \
libcli11-dev libfmt-dev nlohmann-json3-dev catch2 libbenchmark-dev \
dbus-daemon systemd systemd-container clang-14 libclang-rt-14-dev libfuzzer-14-dev"
missing=""
for pkg in $HEAL_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "healerd: installing missing Debian packages:$missing"
  [ "$(id -u)" -eq 0 ] || { echo "healerd: run as root to install packages" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
fi
