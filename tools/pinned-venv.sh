# Sourced by tools/*/setup.sh: install a server the tests run into its own
# virtualenv, every dependency pinned. The caller sets:
#   label        prefix of the messages ("swift-setup")
#   venv         the virtualenv's directory (relative to the repository)
#   packages     array of the packages to install ("name==version")
#   constraints  the pins of every dependency, one per line
#   binaries     array of programs that must exist in $venv/bin
#   import_check Python code that imports what the tests will use
# then calls install_pinned_venv. When the stamp in the virtualenv matches
# the packages and pins and the binaries exist, it returns at once; set
# GLANCE_LITE_FORCE_INSTALL=1 to reinstall anyway.

install_pinned_venv() {
    local python=${PYTHON:-python3}
    local stamp=$venv/.pinned-install want bin start constraints_file
    want=$( (printf '%s\n' "${packages[@]}"; printf '%s' "$constraints") \
           | sha256sum | cut -d' ' -f1)
    if [ "${GLANCE_LITE_FORCE_INSTALL:-0}" != 1 ] && [ -f "$stamp" ] \
            && [ "$(cat "$stamp")" = "$want" ]; then
        for bin in "${binaries[@]}"; do
            [ -x "$venv/bin/$bin" ] || break
        done
        [ -x "$venv/bin/$bin" ] && return 0
    fi
    start=$(date +%s)
    if [ ! -x "$venv/bin/python" ]; then
        echo "$label: creating $venv with $("$python" --version 2>&1)" >&2
        "$python" -m venv "$venv"
    fi
    rm -f "$stamp"
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    local pip=("$venv/bin/python" -m pip -qq)
    echo "$label: installing ${packages[*]} into $venv" >&2
    "${pip[@]}" install --upgrade pip
    constraints_file=$(mktemp)
    printf '%s' "$constraints" > "$constraints_file"
    "${pip[@]}" install -c "$constraints_file" "${packages[@]}" \
        || { rm -f "$constraints_file"; return 1; }
    rm -f "$constraints_file"
    # Fail here, not in the first test, when the install is unusable.
    "$venv/bin/python" -W ignore -c "$import_check"
    echo "$want" > "$stamp"
    echo "$label: installed in $(( $(date +%s) - start ))s" >&2
}
