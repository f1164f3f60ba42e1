#!/usr/bin/env bash
# Install Debian's HAProxy for tests/reliability/test_two_nodes.py, which
# starts it (tests/haproxy.py) on loopback in front of two glance-lite-api
# nodes. Only the binary is used: the package's own service is never
# started by the tests (and is stopped here if the package started it).
#
# Safe to run again: nothing is done when haproxy is installed.
# Run by tools/run-tests.sh, as root (apt-get).
set -euo pipefail

say() {
    echo "haproxy-setup: $*" >&2
}

if command -v haproxy >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "haproxy is missing; as root: apt-get install haproxy"
    exit 1
fi
start=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT
say "installing haproxy (apt-get)"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package must not start its own service here.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    made_policy=1
fi
status=0
{ apt-get update && apt-get install -y --no-install-recommends haproxy; } \
    >"$log" 2>&1 || status=$?
if [ "$made_policy" = 1 ]; then
    rm -f "$policy"
fi
if [ "$status" != 0 ]; then
    cat "$log" >&2
    say "apt-get failed"
    exit 1
fi
haproxy -v | head -1 >&2
say "installed in $((SECONDS - start))s"
