#!/usr/bin/env bash
# Set up the virtualenv and run every check: flake8, the import layers
# contract, the sample configuration, then every test tier: the fast tier
# (unit and in-process tests, what `tox -e py3` runs), then the system tier
# (`tox -e system`: real servers, Keystone, Swift, Ceph, Apache, uWSGI,
# PostgreSQL and MariaDB, root-only faults, the soak), and the tests that
# start real servers again on PostgreSQL and on MariaDB, and through Apache
# and uWSGI. The tiers are defined once, by directory, in
# tests/conftest.py. Arguments are passed to every pytest run (for example:
# tools/run-tests.sh -k members -n 0); GLANCE_LITE_TEST_SERVER_DBS="" leaves
# out the extra engine runs, GLANCE_LITE_TEST_SERVER_DBS=postgresql keeps
# only that one; GLANCE_LITE_TEST_FRONTS="" leaves out the runs through
# Apache and uWSGI.
#
# Every check runs even when an earlier one failed, so one run shows all
# problems; the exit status is non-zero if any check failed (a pytest run
# that collects no test counts as a failure).
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

tools/setup-venv.sh || { echo "run-tests: setup-venv.sh failed" >&2; exit 1; }

# The database tests create and drop their own databases through these
# admin URLs (the servers .ci/run starts, or a developer's own).
export GLANCE_LITE_TEST_PG_URL=${GLANCE_LITE_TEST_PG_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/test}
export GLANCE_LITE_TEST_MYSQL_URL=${GLANCE_LITE_TEST_MYSQL_URL:-mysql+pymysql://root@127.0.0.1:3306/test}

failed=()

step() {
    echo "==> $1" >&2
}

# pytest "$@" as check $1; exit status 5 (no test collected) is a failure
# unless arguments (-k ..., a path) were given, which may select none of a
# run's tests.
pytest_check() {
    local name=$1 rc start=$SECONDS
    shift
    .venv/bin/python -m pytest "$@"
    rc=$?
    echo "run-tests: $name took $((SECONDS - start))s" >&2
    case $rc in
        0) ;;
        5) if [ "$user_args" -eq 0 ]; then
               echo "run-tests: $name collected no tests" >&2
               failed+=("$name")
           fi ;;
        *) failed+=("$name") ;;
    esac
}
user_args=$#

step flake8
lint_paths=()
for path in glance_lite tests bench; do
    [ -e "$path" ] && lint_paths+=("$path")
done
.venv/bin/flake8 "${lint_paths[@]}" || failed+=(flake8)

step lint-imports
.venv/bin/lint-imports --no-logo --no-cache || failed+=(lint-imports)

step "bandit (medium and high severity) on glance_lite"
.venv/bin/bandit -q -c tools/bandit.yaml -r glance_lite \
    --severity-level medium || failed+=(bandit)

step "etc/glance-lite.conf.sample is up to date"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# pytest's temporary directories of this run, apart from those of any
# other pytest on the machine: each pytest that starts takes the others'
# right to cross /tmp/pytest-of-<user> away (chmod 0700), and the services
# that tests run as another user (Apache, uWSGI) read files the tests put
# under their tmp_path (tests/server.py, _share_test_files).
export PYTEST_DEBUG_TEMPROOT="$tmp/pytest"
mkdir "$PYTEST_DEBUG_TEMPROOT"
# The generator logs (to stderr) every store driver it cannot load; show
# that only when it fails.
if .venv/bin/oslo-config-generator \
        --config-file etc/config-generator.conf \
        --output-file "$tmp/glance-lite.conf.sample" 2>"$tmp/generator.log"
then
    if ! diff -u etc/glance-lite.conf.sample "$tmp/glance-lite.conf.sample"
    then
        echo "run-tests: etc/glance-lite.conf.sample is stale; regenerate" \
             "it with: .venv/bin/oslo-config-generator" \
             "--config-file etc/config-generator.conf" >&2
        failed+=(sample-config)
    fi
else
    cat "$tmp/generator.log" >&2
    failed+=(sample-config)
fi

step "etc/policy.yaml.sample is up to date"
if .venv/bin/oslopolicy-sample-generator \
        --config-file etc/policy-generator.conf \
        --output-file "$tmp/policy.yaml.sample"
then
    if ! diff -u etc/policy.yaml.sample "$tmp/policy.yaml.sample"; then
        echo "run-tests: etc/policy.yaml.sample is stale; regenerate it" \
             "with: .venv/bin/oslopolicy-sample-generator" \
             "--config-file etc/policy-generator.conf" >&2
        failed+=(sample-policy)
    fi
else
    failed+=(sample-policy)
fi

step "release notes (reno lint)"
.venv/bin/reno lint >/dev/null || failed+=(reno-lint)

# Two workers (the machine has two cores): every test picks its own ports,
# temporary directories and databases. Pass -n 0 to run in one process.
# loadgroup keeps tests marked xdist_group (the Keystone ones, which share
# one catalog endpoint; the Apache and uWSGI ones, so that each module
# starts one server) on one worker.
pytest_args=(-q -n 2 --dist loadgroup)

# The fast tier first: it needs none of what the steps below install.
step "pytest: fast tier (unit, in-process)"
pytest_check pytest-fast "${pytest_args[@]}" --tier fast tests "$@"

# A real Keystone for tests/integration, in its own virtualenv.
step keystone-setup
tools/keystone/setup.sh || failed+=(keystone-setup)

# A real Swift (and memcached) for tests/stores, in its own virtualenv.
step swift-setup
tools/swift/setup.sh || failed+=(swift-setup)

# Debian's Ceph daemons and rados/rbd bindings (apt-get, as root; the
# bindings linked into .venv) for tests/stores/test_rbd.py, which starts
# one cluster for the run (tests/ceph_cluster.py).
step ceph-setup
tools/ceph/setup.sh || failed+=(ceph-setup)

# Apache httpd and mod_wsgi for tests/deploy (apt-get and pip, as root:
# also the unprivileged user the servers run as). Its stdout is the
# mod_wsgi-express module-config lines the tests render themselves.
step apache-setup
tools/apache/setup.sh >/dev/null || failed+=(apache-setup)

# FUSE and python3-fusepy (apt-get, as root) for the real I/O error of
# tests/reliability/test_store_errors.py.
step fuse-setup
tools/fuse/setup.sh || failed+=(fuse-setup)

# Debian's HAProxy (apt-get, as root) for the two-node test of
# tests/reliability/test_two_nodes.py.
step haproxy-setup
tools/haproxy/setup.sh || failed+=(haproxy-setup)

step "pytest: system tier"
pytest_check pytest-system "${pytest_args[@]}" --tier system tests "$@"

# The tests that start real servers (tests/server.py, all of the system
# tier) once more with the catalogue in PostgreSQL, then in MariaDB: each
# server gets its own fresh database, migrated by glance-lite-manage db
# sync. The fast tier, the database tests (already on all three engines)
# and the Keystone integration tests run once, above.
# GLANCE_LITE_TEST_SERVER_DBS="" skips these runs.
server_tests=(tests/functional tests/clients tests/property)
for engine in ${GLANCE_LITE_TEST_SERVER_DBS-postgresql mysql}; do
    step "pytest: servers with the catalogue in $engine"
    GLANCE_LITE_TEST_DB=$engine pytest_check "pytest-$engine" \
        "${pytest_args[@]}" --tier system "${server_tests[@]}" "$@"
done

# The functional and client suites once more through each deployment the
# project ships (catalogue in SQLite): Debian's Apache with the shipped
# site (tests/apache.py) and uWSGI from the shipped sample
# (tests/uwsgi_server.py), instead of glance-lite-api. Tests that need
# the standalone process itself skip. GLANCE_LITE_TEST_FRONTS="" skips
# these runs, GLANCE_LITE_TEST_FRONTS=apache keeps only that one.
front_tests=(tests/functional tests/clients)
for front in ${GLANCE_LITE_TEST_FRONTS-apache uwsgi}; do
    step "pytest: servers behind $front (SQLite)"
    GLANCE_LITE_TEST_SERVER=$front GLANCE_LITE_TEST_DB=sqlite \
        pytest_check "pytest-$front" "${pytest_args[@]}" --tier system \
        "${front_tests[@]}" "$@"
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "run-tests: FAILED: ${failed[*]}" >&2
    exit 1
fi
