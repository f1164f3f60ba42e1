"""glance_store's swift driver with bounded requests.

The driver builds its swiftclient connections and Keystone sessions with
the libraries' defaults: five retries with a back-off of 1 + 2 + 4 + 8 +
16 s and no socket timeout, so a Swift that refuses connections held
each request 31 s (62 s for an upload, whose clean-up waits as long), and
one that accepts and never answers held it for ever, a server thread each.
glance_store has no option for either. The subclasses here take the
connections and sessions the driver builds and bound them with
``[store_requests] timeout`` and ``retries`` (swiftclient's public
``Connection.retries`` / ``timeout`` and keystoneauth's
``Session.timeout`` attributes, which the libraries read on every
request); everything else is the driver's.

:func:`Store` is loaded by glance_store through the ``glance_lite.swift``
entry point (the facade names it for ``stores = swift``).
"""

from glance_store._drivers import swift as swift_driver
from oslo_config import cfg

CONF = cfg.CONF
# The probe's object name: only its container and account are looked at.
PROBE_NAME = 'glance-lite-probe'


def bound(connection):
    """``connection`` (a swiftclient Connection) with the configured
    timeout and retries."""
    connection.retries = CONF.store_requests.retries
    connection.timeout = CONF.store_requests.timeout
    return connection


class BoundedRequests:
    """The driver's connections, with bounded timeout and retries."""

    def get_connection(self, location, context=None):
        # Used by delete and get_size: swiftclient authenticates itself.
        return bound(super().get_connection(location, context=context))

    def get_store_connection(self, auth_token, storage_url):
        # Used by add and get, through the driver's connection manager.
        return bound(super().get_store_connection(auth_token, storage_url))

    def init_client(self, location, context=None):
        # The Keystone client the connection manager authenticates with.
        client = super().init_client(location, context=context)
        client.session.timeout = CONF.store_requests.timeout
        return client

    def get_store_location_class(self):
        # The driver finds its location class in its own module by name.
        return swift_driver.StoreLocation

    def check_access(self):
        """Authenticate and look at the account once (bounded like any
        request); raises what the driver or swiftclient raise."""
        location = self.create_location(PROBE_NAME)
        with self.get_manager(location) as manager:
            manager.get_connection().head_account()


class SingleTenantStore(BoundedRequests, swift_driver.SingleTenantStore):
    pass


class MultiTenantStore(BoundedRequests, swift_driver.MultiTenantStore):

    def check_access(self):
        # Each request uses its caller's token: nothing to check alone.
        return None


_BOUNDED = {swift_driver.SingleTenantStore: SingleTenantStore,
            swift_driver.MultiTenantStore: MultiTenantStore}


def Store(conf, backend=None):
    """The driver glance_store's own factory would build (single or
    multi-tenant, its checks and option registration included), as the
    bounded subclass."""
    driver = swift_driver.Store(conf, backend=backend)
    return _BOUNDED[type(driver)](conf, backend=backend)


Store.OPTIONS = swift_driver.Store.OPTIONS
