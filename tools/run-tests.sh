#!/usr/bin/env bash
# Set up the virtualenv and run every check: flake8, the import layers
# contract, the sample configuration, then the test suite, and the tests
# that start real servers again on PostgreSQL and on MariaDB. Arguments are
# passed to every pytest run (for example: tools/run-tests.sh -k members
# -n 0); GLANCE_LITE_TEST_SERVER_DBS="" leaves out the extra engine runs,
# GLANCE_LITE_TEST_SERVER_DBS=postgresql keeps only that one.
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

# A real Keystone for tests/integration, in its own virtualenv.
step keystone-setup
tools/keystone/setup.sh || failed+=(keystone-setup)

# A real Swift (and memcached) for tests/stores, in its own virtualenv.
step swift-setup
tools/swift/setup.sh || failed+=(swift-setup)

# Apache httpd and mod_wsgi for tests/deploy (apt-get and pip, as root:
# also the unprivileged user the servers run as). Its stdout is the
# mod_wsgi-express module-config lines the tests render themselves.
step apache-setup
tools/apache/setup.sh >/dev/null || failed+=(apache-setup)

# FUSE and python3-fusepy (apt-get, as root) for the real I/O error of
# tests/reliability/test_store_errors.py.
step fuse-setup
tools/fuse/setup.sh || failed+=(fuse-setup)

step pytest
# Two workers (the machine has two cores): every test picks its own ports,
# temporary directories and databases. Pass -n 0 to run in one process.
# loadgroup keeps tests marked xdist_group (the Keystone ones, which share
# one catalog endpoint; the Apache and uWSGI ones, so that each module
# starts one server) on one worker.
.venv/bin/python -m pytest -q -n 2 --dist loadgroup tests "$@"
rc=$?
case $rc in
    0) ;;
    5) echo "run-tests: pytest collected no tests" >&2
       failed+=(pytest) ;;
    *) failed+=(pytest) ;;
esac

# The tests that start real servers (tests/server.py) once more with the
# catalogue in PostgreSQL, then in MariaDB: each server gets its own fresh
# database, migrated by glance-lite-manage db sync. The unit, database
# (already on all three engines) and Keystone integration tests run once,
# above. GLANCE_LITE_TEST_SERVER_DBS="" skips these runs.
server_tests=(tests/functional tests/clients tests/property)
for engine in ${GLANCE_LITE_TEST_SERVER_DBS-postgresql mysql}; do
    step "pytest: servers with the catalogue in $engine"
    start=$SECONDS
    GLANCE_LITE_TEST_DB=$engine .venv/bin/python -m pytest -q -n 2 \
        --dist loadgroup "${server_tests[@]}" "$@"
    rc=$?
    echo "run-tests: servers on $engine took $((SECONDS - start))s" >&2
    case $rc in
        0) ;;
        # Arguments (-k ..., a path) may select none of the server tests.
        5) if [ $# -eq 0 ]; then
               echo "run-tests: pytest collected no tests" >&2
               failed+=("pytest-$engine")
           fi ;;
        *) failed+=("pytest-$engine") ;;
    esac
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "run-tests: FAILED: ${failed[*]}" >&2
    exit 1
fi
