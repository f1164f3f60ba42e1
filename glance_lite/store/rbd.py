"""glance_store's rbd driver, with uploads that keep their own state and
the clean-up and listing glance_lite needs.

The driver's ``add`` keeps the size of the rbd image it is growing on
the store object itself (``self.size``, ``self.resize_amount``), shared
by every upload of the process: two uploads of unknown size at once
grow each other's images by the wrong amounts, and each upload starts
from where the last one left its growth step. It also logs a WARNING for
every upload of unknown size. :meth:`Store.add` here writes the same rbd
image the driver would (same name, order, features, ``snap`` snapshot,
protected for copy-on-write clones, the same location URI) with the
state of one upload in local variables, and takes the size the client
declared as a hint: the image is created that large, grown if more comes
and trimmed if less does, so the answer to a size mismatch stays the
facade's (spec §6.6).

Beyond the driver contract, as the facade looks them up by name:

- ``remove_pieces(image_id)`` removes the rbd image of an upload that
  died (its snapshot first). A process killed mid-upload leaves the
  image open: its watch on the image lasts until the OSD times it out,
  and with it the exclusive lock. The image's upload is dead in the
  catalogue whenever this is called (killed or deleted), so any client
  still holding the image is fenced: blocklisted by its address, as
  librbd itself does when it breaks a dead owner's lock (``profile rbd``
  allows exactly that).
- ``list_objects()`` lists the pool's images for ``store check``.

Reads are asynchronous too (:class:`ReadAhead`): glance_store's
iterator reads one piece at a time, so the cluster idled while each was
sent to the client.

:func:`Store` is loaded by glance_store through the ``glance_lite.rbd``
entry point (the facade names it for ``stores = rbd``).
"""

import collections
import contextlib
import errno
import json
import math
import os
import time

from glance_store._drivers import rbd as rbd_driver
from glance_store import capabilities
from glance_store.common import utils as store_utils
from glance_store import driver as store_driver
from glance_store import exceptions as store_exc
from oslo_config import cfg
from oslo_log import log as logging

from glance_lite.common import exception

try:
    import rados
    import rbd
except ImportError:  # the driver refuses to configure itself then
    rados = rbd = None

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

SNAPSHOT = rbd_driver.DEFAULT_SNAPNAME
# An image of unknown size grows by as much as it holds (it doubles), at
# least one chunk and at most MAX_GROWTH at a time: a few resizes per
# upload whatever its size.
MAX_GROWTH = 8 * 1024 ** 3
# How long a removal waits for a fenced client's watch to go.
FENCE_WAIT = 30.0
# Chunks (rbd_store_chunk_size each) an upload has being written at once.
WRITES_IN_FLIGHT = 2
# Pieces a download has being read at once: the next ones are on their
# way while the last one is sent.
READS_IN_FLIGHT = 2


class Store(rbd_driver.Store):
    """glance_store's rbd driver, with :meth:`add`, :meth:`remove_pieces`
    and :meth:`list_objects` of glance_lite's."""

    # The facade passes the size a client declared: a hint here, never a
    # limit (see add).
    takes_size_hint = True

    def get_store_location_class(self):
        # The driver finds its location class in its own module by name.
        return rbd_driver.StoreLocation

    @contextlib.contextmanager
    def get_connection(self, conffile, rados_id):
        """A connected rados client, as the driver's, but bounded:
        without ``rados_connect_timeout`` librados waits 300 s for a
        monitor that does not answer; the monitor requests then wait at
        most ``[store_requests] timeout``. A cluster that cannot be
        reached (or a ceph.conf or keyring that cannot be read) is the
        store being unavailable, logged without the cluster's
        details."""
        timeout = self.store_conf.rados_connect_timeout
        options = ('rados_mon_op_timeout', 'client_mount_timeout')
        if timeout >= 0:
            # The operator's setting, applied as the driver does (0: no
            # timeout).
            options += ('rados_osd_op_timeout',)
            value = str(timeout)
        else:
            # Whole seconds: librados refuses "4.0".
            value = str(max(1, math.ceil(CONF.store_requests.timeout)))
        try:
            client = rados.Rados(conffile=conffile, rados_id=rados_id)
            for option in options:
                client.conf_set(option, value)
            client.connect()
        except rados.Error as e:
            LOG.error("Cannot connect to the Ceph cluster as client.%s: "
                      "%s", rados_id, type(e).__name__)
            raise exception.StoreUnavailable(
                "The image store is unavailable; try again later.")
        try:
            yield client
        finally:
            client.shutdown()

    @contextlib.contextmanager
    def _pool(self):
        """A connection to the cluster and an I/O context on the pool,
        as the driver opens them."""
        with self.get_connection(conffile=self.conf_file,
                                 rados_id=self.user) as conn:
            with conn.open_ioctx(self.pool) as ioctx:
                yield conn, ioctx

    def _location(self, fsid, name):
        return rbd_driver.StoreLocation({
            'fsid': fsid, 'pool': self.pool, 'image': name,
            'snapshot': SNAPSHOT}, self.conf)

    @capabilities.check
    def get(self, location, offset=0, chunk_size=None, context=None):
        """The driver contract's get: (the data in pieces of
        ``chunk_size``, rbd_store_chunk_size by default, read ahead
        READS_IN_FLIGHT at a time; the size).

        :raises NotFound: no such rbd image or snapshot.
        """
        size = self.get_size(location)
        return (ReadAhead(self, location.store_location,
                          chunk_size or self.READ_CHUNKSIZE), size)

    @store_driver.back_compat_add
    @capabilities.check
    def add(self, image_id, image_file, image_size, hashing_algo,
            context=None, verifier=None):
        """The driver contract's add: the data of ``image_file`` (read
        until b'') as the rbd image ``image_id`` with its protected
        ``snap`` snapshot. ``image_size`` (0 if unknown) is the size the
        image is created with; the data decides its final size.

        :raises Duplicate: the rbd image exists. Anything ``image_file``
            raises, and rbd errors (NoSpace as StorageFull), after the
            image is removed.
        """
        name = str(image_id)
        md5 = store_utils.get_hasher('md5', False)
        # The facade asks for md5 as the multihash too: hash once then.
        multihash = (md5 if hashing_algo == 'md5' else
                     store_utils.get_hasher(hashing_algo, False))
        hashers = [h for h in {id(md5): md5, id(multihash): multihash,
                               id(verifier): verifier}.values()
                   if h is not None]
        with self._pool() as (conn, ioctx):
            features = int(conn.conf_get('rbd_default_features') or 0)
            try:
                rbd.RBD().create(
                    ioctx, name, image_size,
                    int(math.log(self.WRITE_CHUNKSIZE, 2)),
                    old_format=False,
                    features=features or rbd.RBD_FEATURE_LAYERING)
            except rbd.ImageExists:
                raise store_exc.Duplicate(
                    message='RBD image %s already exists' % name)
            try:
                with rbd.Image(ioctx, name) as image:
                    written = self._write(image, image_file, image_size,
                                          hashers)
                    image.create_snap(SNAPSHOT)
                    image.protect_snap(SNAPSHOT)
            except BaseException as e:
                self._remove_quietly(conn, ioctx, name)
                if rbd is not None and isinstance(e, rbd.NoSpace):
                    raise store_exc.StorageFull()
                raise
            location = self._location(conn.get_fsid(), name)
        metadata = ({'store': self.backend_group} if self.backend_group
                    else {})
        return (location.get_uri(), written, md5.hexdigest(),
                multihash.hexdigest(), metadata)

    def _write(self, image, data, allocated, hashers):
        """Write ``data`` into ``image`` (``allocated`` bytes large now),
        growing it as needed, then trim it to what was written.

        Writes are asynchronous, at most WRITES_IN_FLIGHT chunks at a
        time: the next chunk is read and hashed while the cluster stores
        the last ones, and memory stays bounded by those chunks.
        """
        written = 0
        in_flight = collections.deque()
        try:
            for chunk in store_utils.chunkreadable(data,
                                                   self.WRITE_CHUNKSIZE):
                end = written + len(chunk)
                if end > allocated:
                    allocated = end + min(max(end, self.WRITE_CHUNKSIZE),
                                          MAX_GROWTH)
                    image.resize(allocated)
                for hasher in hashers:
                    hasher.update(chunk)
                if not (self.thin_provisioning and not any(chunk)):
                    while len(in_flight) >= WRITES_IN_FLIGHT:
                        _finished(in_flight.popleft())
                    in_flight.append(image.aio_write(chunk, written, None))
                written = end
            while in_flight:
                _finished(in_flight.popleft())
        finally:
            # On an error the image is removed: wait for what is still
            # being written to it first.
            for completion in in_flight:
                completion.wait_for_complete_and_cb()
        if allocated != written:
            image.resize(written)
        return written

    def remove_pieces(self, image_id):
        """Remove the rbd image of an upload that did not finish (and its
        snapshot), fencing any client that still has it open. True if
        it was removed; an image whose snapshot has clones is kept."""
        name = str(image_id)
        with self._pool() as (conn, ioctx):
            return self._remove(conn, ioctx, name)

    def _remove(self, conn, ioctx, name):
        deadline = time.monotonic() + FENCE_WAIT
        while True:
            try:
                self._fence_others(conn, ioctx, name)
                with rbd.Image(ioctx, name) as image:
                    if SNAPSHOT in {s['name'] for s in image.list_snaps()}:
                        if image.is_protected_snap(SNAPSHOT):
                            image.unprotect_snap(SNAPSHOT)
                        image.remove_snap(SNAPSHOT)
                rbd.RBD().remove(ioctx, name)
                return True
            except rbd.ImageNotFound:
                return False
            except rbd.ImageBusy:
                # A clone of the snapshot (unprotect), or a watch not yet
                # gone after the fence.
                if self._has_clones(ioctx, name):
                    LOG.warning("The rbd image of image %s has clones; "
                                "kept", name)
                    return False
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _remove_quietly(self, conn, ioctx, name):
        try:
            self._remove(conn, ioctx, name)
        except Exception as e:  # noqa: BLE001 - on an error path already
            LOG.warning("Could not remove the rbd image of a failed upload "
                        "of image %s: %s", name, type(e).__name__)

    @staticmethod
    def _has_clones(ioctx, name):
        try:
            with rbd.Image(ioctx, name, snapshot=SNAPSHOT,
                           read_only=True) as snap:
                return bool(list(snap.list_children2()))
        except (rbd.ImageNotFound, rbd.InvalidArgument):
            return False

    @staticmethod
    def _fence_others(conn, ioctx, name):
        """Blocklist every client but this one that watches the image."""
        with rbd.Image(ioctx, name, read_only=True) as image:
            watchers = list(image.watchers_list())
        mine = conn.get_instance_id()
        for watcher in watchers:
            if watcher.get('id') == mine:
                continue
            ret, _out, status = conn.mon_command(json.dumps({
                'prefix': 'osd blocklist', 'blocklistop': 'add',
                'addr': watcher['addr']}), b'')
            if ret != 0:
                LOG.warning("Could not fence the rbd client holding the "
                            "image of image %s: %s", name, status)
            else:
                LOG.info("Fenced a dead rbd client holding the image of "
                         "image %s", name)

    def data_uris(self, image_id):
        """No URI to look at: :meth:`remove_pieces` removes the image,
        snapshot included, by its name."""
        return []

    def list_objects(self):
        """(name, uri, size) of every image of the pool, its uri the
        location an upload of that name gets."""
        with self._pool() as (conn, ioctx):
            fsid = conn.get_fsid()
            for name in rbd.RBD().list(ioctx):
                try:
                    with rbd.Image(ioctx, name, read_only=True) as image:
                        size = image.size()
                except rbd.ImageNotFound:
                    continue  # removed since the listing
                yield name, self._location(fsid, name).get_uri(), size


def _finished(completion):
    """Wait for an asynchronous write; raise its error as an OSError
    (ENOSPC is the facade's "storage full")."""
    completion.wait_for_complete_and_cb()
    result = completion.get_return_value()
    if result < 0:
        raise OSError(-result, os.strerror(-result))


class ReadAhead:
    """The data of an rbd image (its snapshot, for a location that names
    one) from start to end, in pieces of ``piece`` bytes, with up to
    READS_IN_FLIGHT of them being read at once. The connection and the
    image stay open while it is iterated and are closed at its end, also
    when the iteration is abandoned (a client gone mid-download)."""

    def __init__(self, store, location, piece):
        self._store = store
        self._location = location
        self._piece = piece

    def __iter__(self):
        store, location = self._store, self._location
        with store.get_connection(conffile=store.conf_file,
                                  rados_id=store.user) as conn:
            with conn.open_ioctx(location.pool or store.pool) as ioctx:
                with rbd.Image(ioctx, location.image,
                               snapshot=location.snapshot,
                               read_only=True) as image:
                    yield from self._pieces(image)

    def _pieces(self, image):
        size = image.size()
        offset = 0
        pending = collections.deque()
        try:
            while offset < size or pending:
                while offset < size and len(pending) < READS_IN_FLIGHT:
                    length = min(self._piece, size - offset)
                    pending.append(_Read(image, offset, length))
                    offset += length
                yield pending.popleft().data()
        finally:
            # The image closes after this: let its reads end first.
            for read in pending:
                read.wait()
                read.discard()


class _Read:
    """One asynchronous read of an rbd image."""

    def __init__(self, image, offset, length):
        self._length = length
        self._data = None
        self._completion = image.aio_read(offset, length, self._done)

    def _done(self, _completion, data):
        # Called on one of librbd's threads.
        self._data = data

    def wait(self):
        if self._completion is not None:
            self._completion.wait_for_complete_and_cb()

    def discard(self):
        """Drop what was read (and the cycle through the completion)."""
        self._data = self._completion = None

    def data(self):
        """The bytes read (once); an error of the read as an OSError."""
        self.wait()
        result = self._completion.get_return_value()
        # The completion holds this object (its callback) and this object
        # the completion: without the cycle broken, every piece read
        # would wait for the garbage collector (a 1 GiB download held
        # 1 GiB).
        data, self._data, self._completion = self._data, None, None
        if result < 0:
            raise OSError(-result, os.strerror(-result))
        if data is None or len(data) != self._length:
            raise OSError(errno.EIO, 'Short read from the rbd image')
        return data
