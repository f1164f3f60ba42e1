#!/usr/bin/env bash
# Start glance-lite-api on the embedded defaults (etc/glance-lite.conf):
# http://127.0.0.1:9292, noauth, the SQLite catalogue and the file store
# under ./state. Extra arguments go to glance-lite-api, for example
#   tools/serve.sh --config-file my-overrides.conf
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

tools/setup-venv.sh
exec .venv/bin/glance-lite-api --config-file etc/glance-lite.conf "$@"
