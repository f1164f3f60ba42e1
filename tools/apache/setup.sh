#!/usr/bin/env bash
# Set up what the deployment tests (tests/deploy) need to serve glance_lite
# through Apache httpd + mod_wsgi, and through uWSGI as an unprivileged
# user:
#
#   1. Debian's apache2 and apache2-dev (apxs, to build mod_wsgi);
#   2. mod_wsgi, built by pip into <repo>/.venv against the virtualenv's
#      own Python (the version pinned in constraints.txt);
#   3. as root only: the system user the servers run as (Apache refuses to
#      run its workers as root), glance-lite-test unless
#      GLANCE_LITE_TEST_USER names another, and read access for that user
#      to the Python installation, the virtualenv and the source tree.
#
# Prints the `mod_wsgi-express module-config` lines (LoadModule and
# WSGIPythonHome) at the end. Safe to run again: each step is skipped when
# already done. Run by tools/run-tests.sh; as a non-root user it only checks
# the packages (Apache then runs as that user).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"

venv=.venv
user=${GLANCE_LITE_TEST_USER:-glance-lite-test}
start=$(date +%s)

say() {
    echo "apache-setup: $*" >&2
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Run a command with its output in $log, shown only when it fails.
quietly() {
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        say "failed: $*"
        return 1
    fi
}

is_root() {
    [ "$(id -u)" = 0 ]
}

# -- 1. Apache httpd and apxs --------------------------------------------------
if ! command -v apache2 >/dev/null || ! command -v apxs >/dev/null; then
    if ! is_root; then
        say "apache2 or apxs is missing; as root: apt-get update &&" \
            "apt-get install apache2 apache2-dev"
        exit 1
    fi
    say "installing apache2 and apache2-dev (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # Once per install: a fresh machine has no package lists.
    quietly apt-get update
    quietly apt-get install -y --no-install-recommends apache2 apache2-dev
fi

# -- 2. mod_wsgi in the virtualenv ---------------------------------------------
if [ ! -x "$venv/bin/python" ]; then
    tools/setup-venv.sh
fi
pin=$(grep -i '^mod[-_]wsgi==' constraints.txt || true)
if [ -z "$pin" ]; then
    say "constraints.txt pins no mod_wsgi version"
    exit 1
fi
stamp=$venv/.glance-lite-mod_wsgi
if [ "${GLANCE_LITE_FORCE_INSTALL:-0}" = 1 ] || [ ! -f "$stamp" ] \
        || [ "$(cat "$stamp")" != "$pin" ] \
        || [ ! -x "$venv/bin/mod_wsgi-express" ]; then
    say "building $pin into $venv (pip, apxs)"
    rm -f "$stamp"
    # --no-cache-dir: build it here, linked to this Python's libpython; a
    # wheel cached from another Python 3.11 has the same name.
    PIP_DISABLE_PIP_VERSION_CHECK=1 quietly "$venv/bin/python" -m pip \
        install --no-cache-dir -c constraints.txt "$pin"
    echo "$pin" > "$stamp"
fi

# -- 3. the unprivileged user and what it must read ----------------------------
if is_root; then
    if ! getent passwd "$user" >/dev/null; then
        say "creating the system user $user"
        useradd --system --user-group --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
    fi

    # What the servers load as $user: the Python installation the
    # virtualenv was made from (pyenv keeps it under /root), the virtualenv
    # and the source tree (glance_lite is installed editable; the .wsgi
    # script, api-paste.ini and the uWSGI sample are read from it).
    base=$("$venv/bin/python" -c 'import sys; print(sys.base_prefix)')
    trees=("$(readlink -f "$base")" "$(readlink -f "$venv")"
           "$top/glance_lite" "$top/etc" "$top/api-paste.ini")

    # Every directory above them must be searchable by $user. Only the
    # search bit is added (o+x: no listing), and only where it is missing:
    # typically /root, which is drwx------ on Debian. That lets other users
    # open paths below /root that they already have permission for, without
    # showing what /root holds.
    # From / down, as $user can only test a directory it can reach.
    for tree in "${trees[@]}"; do
        dir=
        IFS=/ read -ra parts <<< "$(dirname "$tree")"
        for part in "${parts[@]}"; do
            [ -n "$part" ] || continue
            dir=$dir/$part
            if ! runuser -u "$user" -- test -x "$dir"; then
                say "chmod o+x $dir (so $user can reach $tree)"
                chmod o+x "$dir"
            fi
        done
    done

    # Inside the trees: others may read files and enter directories. pip,
    # pyenv and git honour the umask, so with the usual 022 nothing changes
    # here; under a stricter umask only the entries lacking it get o+rX.
    for tree in "${trees[@]}"; do
        changed=$(find "$tree" \( \( -type d ! -perm -o=rx \) \
                    -o \( -type f ! -perm -o=r \) \) \
                    -exec chmod o+rX {} + -print | wc -l)
        if [ "$changed" != 0 ]; then
            say "chmod o+rX on $changed entries under $tree"
        fi
    done

    # Fail here, not in the first test, when $user still cannot load
    # glance_lite and mod_wsgi.
    if ! runuser -u "$user" -- "$venv/bin/python" -c \
            'import glance_lite.api.app, mod_wsgi.server' 2>"$log"; then
        cat "$log" >&2
        say "$user cannot import glance_lite and mod_wsgi from $venv"
        exit 1
    fi
fi

"$venv/bin/mod_wsgi-express" module-config
say "ready in $(( $(date +%s) - start ))s"
