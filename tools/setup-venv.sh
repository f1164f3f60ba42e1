#!/usr/bin/env bash
# Create (if missing) and fill the project's virtualenv at <repo>/.venv:
# the runtime and test requirements, and glance_lite itself in editable
# mode. Safe to run again: it only installs what changed.
#
# Set GLANCE_LITE_FORCE_INSTALL=1 to reinstall even when the requirement
# files have not changed since the last successful run.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

venv=.venv
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
    echo "setup-venv: creating $venv with $("$python" --version 2>&1)" >&2
    "$python" -m venv "$venv"
fi

# Skip the (slow) resolver when nothing it depends on changed since the
# last complete install. The stamp is written only after pip succeeded.
stamp=$venv/.glance-lite-installed
want=$(cat requirements.txt test-requirements.txt constraints.txt setup.py \
       | sha256sum | cut -d' ' -f1)
if [ "${GLANCE_LITE_FORCE_INSTALL:-0}" != 1 ] && [ -f "$stamp" ] \
        && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

rm -f "$stamp"
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip=("$venv/bin/python" -m pip -qq)
echo "setup-venv: installing requirements into $venv" >&2
"${pip[@]}" install --upgrade pip
"${pip[@]}" install -c constraints.txt -r requirements.txt \
    -r test-requirements.txt -e .
echo "$want" > "$stamp"
