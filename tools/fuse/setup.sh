#!/usr/bin/env bash
# Install what tests/reliability/test_store_errors.py needs for a real I/O
# error (EIO) under the file store: FUSE (libfuse2) and its Python binding
# for the system Python (Debian's python3-fusepy), which runs
# tests/reliability/eio_fs.py. The kernel side is /dev/fuse.
#
# Safe to run again: nothing is done when the binding is already there.
# Run by tools/run-tests.sh, as root (apt-get).
set -euo pipefail

say() {
    echo "fuse-setup: $*" >&2
}

if /usr/bin/python3 -c 'import fusepy' 2>/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "python3-fusepy is missing; as root: apt-get install python3-fusepy"
    exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
say "installing python3-fusepy (apt-get)"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update && apt-get install -y --no-install-recommends \
        python3-fusepy; } >"$log" 2>&1; then
    cat "$log" >&2
    say "apt-get failed"
    exit 1
fi
/usr/bin/python3 -c 'import fusepy'
if [ ! -c /dev/fuse ]; then
    say "/dev/fuse is missing: the EIO test will fail"
    exit 1
fi
