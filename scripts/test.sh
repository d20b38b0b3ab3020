#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
# System packages need root (CI runs as root); pip packages go to the current
# Python environment.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(openvswitch-switch)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
        || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    # Debian starts a package's services on install; the tests run their own
    # private daemons, so keep the system's copies from ever starting.
    policy=/usr/sbin/policy-rc.d
    restore=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && restore=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    [ "$restore" = 1 ] && rm -f "$policy"
fi

python -m pip install -q -e '.[test]'
python -m pytest "$@"
