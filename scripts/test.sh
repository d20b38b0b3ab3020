#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
# System packages need root (CI runs as root); pip packages go to the current
# Python environment.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium renders the HTML report in a test (a screenshot); fonts-dejavu-core
# gives it fonts to draw text with. gcc builds the compiled extension
# ovsflow._speedups, libc6-dev (only recommended by gcc) its C headers.
apt_packages=(openvswitch-switch chromium fonts-dejavu-core gcc libc6-dev)
# Python.h comes with a pyenv or python.org Python; Debian's own Python keeps
# it in libpython3.X-dev.
include=$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
if [ ! -f "$include/Python.h" ]; then
    apt_packages+=("libpython$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')-dev")
fi
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

# The extension is optional for users; here a failed build is an error, so
# the tests always run against the compiled module.
OVSFLOW_REQUIRE_SPEEDUPS=1 python -m pip install -q -e '.[test]'
python -m pytest "$@"
