"""What this process knows of each remote store's health: whether it was
reached and accepted the service's credentials, at start-up (``probe``)
and on every request since (``record``).

A store is ``ok``, ``unreachable`` (connections refused, lost or timed
out, or 5xx answers) or ``cannot authenticate`` (its credentials are
refused); each state comes with the option an operator should look at.
/healthcheck's detail view shows them (glance_lite.api.middleware.
healthcheck); the messages never carry a credential or a store URI.
"""

import socket
import threading
import time

from botocore import exceptions as boto_exceptions
from keystoneauth1 import exceptions as ks_exceptions
from oslo_log import log as logging
import requests
import swiftclient

LOG = logging.getLogger(__name__)

OK = 'ok'
UNREACHABLE = 'unreachable'
CANNOT_AUTHENTICATE = 'cannot authenticate'
UNKNOWN = 'not checked yet'

# The options that say where and as whom each store connects, by what
# failed: named in log lines and in the healthcheck's details.
_OPTIONS = {
    ('swift', CANNOT_AUTHENTICATE): 'swift_store_user / swift_store_key '
                                    '(or the key of default_swift_reference '
                                    'in swift_store_config_file)',
    ('swift', 'keystone'): 'swift_store_auth_address',
    ('swift', UNREACHABLE): 'swift_store_endpoint (or the object-store '
                            'endpoint of the Keystone catalog)',
    ('s3', CANNOT_AUTHENTICATE): 's3_store_access_key / '
                                 's3_store_secret_key',
    ('s3', UNREACHABLE): 's3_store_host',
}
# How deep an exception's chain (__cause__ / __context__) is searched for
# the failure under the drivers' own exceptions.
_CHAIN_DEPTH = 8

_lock = threading.Lock()
_states = {}


class Failure:
    """A store failure taken for the store's health, not the request's
    fault: ``state`` is UNREACHABLE or CANNOT_AUTHENTICATE, ``option``
    the option to check."""

    def __init__(self, state, option):
        self.state = state
        self.option = option


def _chain(error):
    seen = 0
    while error is not None and seen < _CHAIN_DEPTH:
        yield error
        seen += 1
        error = error.__cause__ or error.__context__


def classify(scheme, error):
    """The Failure behind ``error`` (raised by a swift or s3 store call,
    possibly wrapped by glance_store), or None when it is not the store
    being down or refusing the credentials (a bad request, a full store).
    """
    store = 's3' if scheme.startswith('s3') else 'swift'
    for cause in _chain(error):
        if isinstance(cause, ks_exceptions.Unauthorized):
            return Failure(CANNOT_AUTHENTICATE,
                           _OPTIONS[store, CANNOT_AUTHENTICATE])
        if isinstance(cause, ks_exceptions.ConnectionError):
            return Failure(UNREACHABLE, _OPTIONS[store, 'keystone'])
        if isinstance(cause, boto_exceptions.ClientError):
            status = cause.response.get('ResponseMetadata', {}).get(
                'HTTPStatusCode') or 0
            code = cause.response.get('Error', {}).get('Code', '')
            if code in ('InvalidAccessKeyId', 'SignatureDoesNotMatch',
                        'AccessDenied') or status == 403:
                return Failure(CANNOT_AUTHENTICATE,
                               _OPTIONS[store, CANNOT_AUTHENTICATE])
            if status >= 500:
                return Failure(UNREACHABLE, _OPTIONS[store, UNREACHABLE])
            return None
        if isinstance(cause, swiftclient.ClientException):
            if cause.http_status == 401:
                return Failure(CANNOT_AUTHENTICATE,
                               _OPTIONS[store, CANNOT_AUTHENTICATE])
            if cause.http_status is not None and cause.http_status >= 500:
                return Failure(UNREACHABLE, _OPTIONS[store, UNREACHABLE])
            # No status: a connection failure, maybe further down.
            continue
        if isinstance(cause, (boto_exceptions.HTTPClientError,
                              boto_exceptions.ConnectionError,
                              requests.ConnectionError, requests.Timeout,
                              ConnectionError, socket.timeout)):
            return Failure(UNREACHABLE, _OPTIONS[store, UNREACHABLE])
    return None


def record(name, state, option=None):
    """Note what a call to store ``name`` (``swift``, ``s3``) found."""
    with _lock:
        _states[name] = (state, option, time.time())


def record_failure(name, failure):
    record(name, failure.state, failure.option)


def states():
    """{store name: (state, option or None, seconds since the epoch)}."""
    with _lock:
        return dict(_states)


def forget():
    """Drop every recorded state (tests, a reconfiguration)."""
    with _lock:
        _states.clear()


def probe(checks, wait):
    """Run each ``checks[name]()`` (a callable that reaches its store and
    authenticates, raising on failure) on a thread of its own, and wait
    at most ``wait`` seconds for them all: a store that is down never
    holds the start-up longer, and never fails it. Each outcome is
    recorded, and a failure logged as an ERROR naming the option."""
    threads = []
    for name, check in sorted(checks.items()):
        record(name, UNKNOWN)
        thread = threading.Thread(target=_probe_one, args=(name, check),
                                  name='store-probe-%s' % name, daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + wait
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def _probe_one(name, check):
    try:
        check()
    except Exception as e:  # noqa: BLE001 - reported, start-up goes on
        failure = classify(name, e) or Failure(
            UNREACHABLE, _OPTIONS[name, UNREACHABLE])
        record_failure(name, failure)
        LOG.error("Store %s: %s at start-up (%s); check %s. Requests "
                  "that need it answer 503 until it is fixed.", name,
                  failure.state, type(e).__name__, failure.option)
        return
    record(name, OK)
    LOG.info("The %s store is reachable and accepts the service's "
             "credentials.", name)
