#!/usr/bin/env bash
# Install a real OpenStack Swift for the store tests (tests/stores): the
# `swift` package into its own virtualenv, <repo>/.swift-venv (kept apart
# from .venv: Swift pins eventlet and its own libraries; its pyeclib wheel
# carries the erasure-code library), and memcached from Debian, which
# Swift's tempauth needs. tests/swift_server.py starts them.
#
# Safe to run again: when the stamp matches the pinned versions and
# memcached is installed it exits at once. Set GLANCE_LITE_FORCE_INSTALL=1
# to reinstall anyway.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"

venv=.swift-venv
# Swift 2.38.x installs and runs on Python 3.11; keystonemiddleware is the
# proxy's authtoken filter (glance_store's swift driver speaks Keystone v3).
packages=(swift==2.38.3 keystonemiddleware==13.0.1)
# Every dependency pinned to the versions tested together (pip freeze of
# a working install).
constraints='certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
cryptography==50.0.2
debtcollector==3.1.0
decorator==5.3.1
dnspython==2.9.2
dogpile.cache==1.5.0
eventlet==0.41.3
greenlet==3.5.6
idna==3.20
iso8601==2.1.0
keystoneauth1==5.18.1
lxml==6.1.3
msgpack==1.2.4
netaddr==1.3.0
os-service-types==1.9.0
oslo.cache==4.3.0
oslo.config==10.7.0
oslo.context==6.5.0
oslo.i18n==6.9.0
oslo.log==8.3.2
oslo.serialization==5.11.0
oslo.utils==10.2.0
packaging==26.4
PasteDeploy==3.1.0
pbr==7.1.3
psutil==7.2.2
pycadf==4.1.0
pycparser==3.12
pyeclib==1.8.0
PyJWT==2.15.1
pyparsing==3.3.3
python-dateutil==4.0.0
python-keystoneclient==6.0.0
PyYAML==6.0.4
requests==2.34.2
rfc3986==2.0.0
stevedore==5.10.0
typing_extensions==4.16.0
tzdata==2026.6
urllib3==2.8.0
WebOb==1.8.11
wrapt==2.5.2
xattr==1.3.0
'

if ! command -v memcached >/dev/null; then
    echo "swift-setup: installing memcached (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends memcached >/dev/null
fi

label=swift-setup
binaries=(swift-proxy-server swift-object-server)
# pyeclib loads its erasure-code library when imported.
import_check='import pyeclib.ec_iface, swift.proxy.server
import swift.common.middleware.s3api.s3api, swift.common.ring
import keystonemiddleware.auth_token'
. tools/pinned-venv.sh
install_pinned_venv
