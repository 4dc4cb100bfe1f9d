#!/bin/sh
# Builds healerd and healctl, then runs healerd on this machine and walks
# through healctl: status, simulate-failure, detect, recover, actions,
# summary, train, policy. It uses a private D-Bus session bus, a temporary
# state directory and the simulated recovery backend, so it changes nothing
# on the machine. Run as root on Debian 12 (to install missing packages).
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh

cmake -S . -B build -DHEAL_BUILD_TESTS=OFF
cmake --build build -j"$(nproc)" --target healerd healctl
exec dbus-run-session -- sh scripts/walkthrough.sh build
