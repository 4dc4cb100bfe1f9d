#!/bin/sh
# Builds healerd and healctl, then runs healerd and walks through one story
# with healctl (scripts/walkthrough.sh): healthy, a failure injected,
# detected with its reason, the policy's choice and why, the recovery, the
# incident resolved, the figures, a training run. It uses a private D-Bus
# session bus, a temporary state directory, a simulated machine and the
# simulated recovery backend, so the story is the same on any host and
# nothing on this one is touched. Run as root on Debian 12 (to install
# missing packages).
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh

cmake -S . -B build -DHEAL_BUILD_TESTS=OFF
cmake --build build -j"$(nproc)" --target healerd healctl
exec dbus-run-session -- sh scripts/walkthrough.sh build
