#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
# System packages need root (CI runs as root); pip packages go to the current
# Python environment.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium renders the HTML report in a test (a screenshot); fonts-dejavu-core
# gives it fonts to draw text with.
apt_packages=(openvswitch-switch chromium fonts-dejavu-core)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
        || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    # Debian starts a package's services on install; the tests run their own
    # private daemons, so a policy-rc.d that denies every start (exit 101) is
    # in place during the install, even if the install fails, and whatever
    # policy was there before is put back afterwards.
    policy=/usr/sbin/policy-rc.d
    saved=""
    if [ -e "$policy" ]; then
        saved=$(mktemp)
        cp -p "$policy" "$saved"
    fi
    restore_policy() {
        if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi
    }
    trap restore_policy EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    restore_policy
    trap - EXIT
fi

python -m pip install -q -e '.[test]'
python -m pytest "$@"
