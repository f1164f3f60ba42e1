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

They also list the objects of the store's container for
``glance-lite-manage store check`` (:meth:`BoundedRequests.list_objects`),
which glance_store has no call for.

:func:`Store` is loaded by glance_store through the ``glance_lite.swift``
entry point (the facade names it for ``stores = swift``).
"""

import re

from glance_store._drivers import swift as swift_driver
from glance_store import driver as store_driver
from glance_store import exceptions as store_exc
from oslo_config import cfg
import swiftclient

CONF = cfg.CONF
# The probe's object name: only its container and account are looked at.
PROBE_NAME = 'glance-lite-probe'
# The name of a segment of a segmented image (a DLO manifest ``<image
# id>`` over ``<image id>-00001``, ``-00002``...: the driver's chunk
# names).
SEGMENT_NAME = re.compile(r'(?P<image>.+)-[0-9]{5}\Z')


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

    def get_size(self, location, connection=None, context=None):
        """The size of the object (of a segmented image: its segments'
        total, as Swift answers for a manifest).

        :raises NotFound: no object there.
        :raises: swiftclient's other errors. (The driver's answers 0 for
            every failure, which a consistency check would take for data
            of 0 bytes, a store outage for damaged images.)
        """
        loc = location.store_location
        if connection is None:
            connection = self.get_connection(loc, context=context)
        try:
            headers = connection.head_object(loc.container, loc.obj)
        except swiftclient.ClientException as e:
            if e.http_status == 404:
                raise store_exc.NotFound(image=loc.obj)
            raise
        return int(headers.get('content-length', 0))

    def check_access(self):
        """Authenticate and look at the account once (bounded like any
        request); raises what the driver or swiftclient raise."""
        location = self.create_location(PROBE_NAME)
        with self.get_manager(location) as manager:
            manager.get_connection().head_account()

    def list_objects(self):
        """(name, uri, size) of each image the container holds data of.

        ``name`` is the image id, ``uri`` the location the driver writes
        for it (``create_location``, what the catalogue holds) and
        ``size`` the bytes of its object and segments together: a DLO
        manifest lists as 0 bytes, its data is in the segments. Segments
        whose manifest is missing (an upload cut before its last step)
        are listed under their image id too, so their leftovers are seen
        and removable through that location (the facade removes the
        segments with it). A container not created yet holds nothing.

        :raises NotImplementedError: images spread over several
            containers (``swift_store_multiple_containers_seed``): not
            listed.
        :raises: swiftclient's errors (through the bounded connection).
        """
        if self._container_seed():
            raise NotImplementedError(
                "images are spread over several containers "
                "(swift_store_multiple_containers_seed)")
        return self._container_images()

    def _container_seed(self):
        conf = (store_driver.BackendGroupConfiguration(
            self.OPTIONS, self.backend_group, conf=self.conf)
            if self.backend_group else self.conf.glance_store)
        return conf.swift_store_multiple_containers_seed

    def _container_images(self):
        location = self.create_location(PROBE_NAME)
        connection = self.get_connection(location)
        try:
            listed = connection.get_container(location.container,
                                              full_listing=True)[1]
        except swiftclient.ClientException as e:
            if e.http_status == 404:
                return
            raise
        sizes = {}
        for obj in listed:
            segment = SEGMENT_NAME.match(obj['name'])
            name = segment.group('image') if segment else obj['name']
            sizes[name] = sizes.get(name, 0) + obj['bytes']
        for name, size in sizes.items():
            yield name, self.create_location(name).get_uri(), size


class SingleTenantStore(BoundedRequests, swift_driver.SingleTenantStore):
    pass


class MultiTenantStore(BoundedRequests, swift_driver.MultiTenantStore):

    def check_access(self):
        # Each request uses its caller's token: nothing to check alone.
        return None

    def list_objects(self):
        """Never: each image is in a container of its owner's project,
        which the service's own credentials cannot list.

        :raises NotImplementedError: always.
        """
        raise NotImplementedError(
            "each image is in a container of its owner's project "
            "(swift_store_multi_tenant)")


_BOUNDED = {swift_driver.SingleTenantStore: SingleTenantStore,
            swift_driver.MultiTenantStore: MultiTenantStore}


def Store(conf, backend=None):
    """The driver glance_store's own factory would build (single or
    multi-tenant, its checks and option registration included), as the
    bounded subclass."""
    driver = swift_driver.Store(conf, backend=backend)
    return _BOUNDED[type(driver)](conf, backend=backend)


Store.OPTIONS = swift_driver.Store.OPTIONS
