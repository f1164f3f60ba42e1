#!/usr/bin/env bash
# Install Debian 12's Ceph daemons and Python bindings for the rbd store
# tests (issue 17): ceph-mon, ceph-osd, ceph-mgr, the ceph CLI and the
# rados/rbd extension modules. Nothing else is changed system-wide.
#
# The bindings live in /usr/lib/python3/dist-packages, which the project's
# venv does not see (no --system-site-packages, which would leak every
# Debian module into it). So this links only rados*.so and rbd*.so into
# <repo>/.ceph-bindings and adds that folder to the venv with a .pth file.
#
# Usage: tools/ceph/setup.sh [PYTHON]. Safe to run again: skips apt-get
# when every binary is installed.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"

packages=(ceph-mon ceph-osd ceph-mgr ceph-common python3-rados python3-rbd)
dist=/usr/lib/python3/dist-packages

have_all() {
    command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null \
        && command -v ceph-mgr >/dev/null && command -v ceph >/dev/null \
        && compgen -G "$dist/rados*.so" >/dev/null \
        && compgen -G "$dist/rbd*.so" >/dev/null
}

if ! have_all; then
    echo "ceph-setup: installing ${packages[*]} (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# Only the two extension modules: a folder of symlinks, nothing more.
links=$top/.ceph-bindings
rm -rf "$links"
mkdir -p "$links"
for so in "$dist"/rados*.so "$dist"/rbd*.so; do
    ln -s "$so" "$links/"
done

# The virtualenv to link them into: the one of the Python given as the
# first argument (the test run's own, which may be tox's), else .venv.
python=${1:-.venv/bin/python}
if [ -x "$python" ]; then
    site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$links" > "$site/glance-lite-ceph.pth"
    "$python" -c 'import rados, rbd' \
        || { echo "ceph-setup: rados/rbd do not import with $python" >&2; exit 1; }
    echo "ceph-setup: rados and rbd import with $python" >&2
else
    echo "ceph-setup: no $python yet; run tools/setup-venv.sh, then this again" >&2
fi
