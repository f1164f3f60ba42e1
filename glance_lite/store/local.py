"""The fast path for glance_store's filesystem store: image bytes written
with the md5 checksum and the multihash computed on another thread, and
read back as an open file a server can send with ``sendfile``.

glance_store's file driver hashes inline, in the thread that reads the
request and writes the file. Hashing is the one unavoidable cost of an
upload, so it is moved off the read/write path here: ``hashlib`` releases
the GIL on large buffers, and on a second core hashing overlaps reading
and writing.

:class:`Store` is glance_store's filesystem driver with that writer and
that reader: glance_store loads it through the ``glance_lite.file``
entry point (the facade names it for ``stores = file``, see
docs/stores.md). Only the plain layout is written here (one
``filesystem_store_datadir``, no metadata file, no thin provisioning);
any other configuration, or a signature verifier, goes to the driver's
own add.
"""

import errno
import hashlib
import os
import queue
import threading

from glance_store._drivers import filesystem
from glance_store import capabilities
from glance_store import driver as store_driver
from glance_store import exceptions as store_exc
from oslo_config import cfg
from oslo_log import log as logging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Bytes per read from the request and per write to the file. With at most
# HASH_QUEUE_DEPTH blocks waiting for the hashers (their queues share the
# blocks), an upload holds about (2 + HASH_QUEUE_DEPTH) blocks: 2.5 MiB.
WRITE_BLOCK = 256 * 1024
HASH_QUEUE_DEPTH = 8
# Blocks handed to the server for downloads that cannot use sendfile.
READ_BLOCK = 1024 * 1024


class BackgroundHashes:
    """The md5 checksum and the multihash of a stream of blocks, each
    computed on a thread of its own.

    hashlib releases the GIL while it hashes a block, so the two digests
    (md5 and sha512 by default) and the request thread's reading and
    writing run on different cores; one thread hashing both would make
    every upload wait for the sum of the two.

    ``update`` queues a block for each digest (waiting while
    HASH_QUEUE_DEPTH are already queued for one, so memory stays bounded:
    the queues share the blocks); ``hexdigests`` waits for the last one.
    Blocks must not change once queued (bytes do not).

    :param hashing_algo: the multihash's hashlib name; ``md5`` hashes once.
    """

    _END = None

    def __init__(self, hashing_algo='md5'):
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._multihash = (self._md5 if hashing_algo == 'md5' else
                           hashlib.new(hashing_algo))
        digests = [self._md5]
        if self._multihash is not self._md5:
            digests.append(self._multihash)
        self._hashers = []
        for digest in digests:
            blocks = queue.Queue(maxsize=HASH_QUEUE_DEPTH)
            thread = threading.Thread(target=self._run, args=(digest, blocks),
                                      name='hashes', daemon=True)
            thread.start()
            self._hashers.append((thread, blocks))

    def _run(self, digest, blocks):
        while True:
            block = blocks.get()
            if block is self._END:
                return
            digest.update(block)

    def update(self, block):
        for _thread, blocks in self._hashers:
            blocks.put(block)

    def hexdigests(self):
        """(md5 hex, multihash hex) of every block queued."""
        self.close()
        return self._md5.hexdigest(), self._multihash.hexdigest()

    def close(self):
        """Stop the threads (idempotent); what was queued is hashed."""
        for thread, blocks in self._hashers:
            if thread.is_alive():
                blocks.put(self._END)
                thread.join()


def _conf():
    return CONF.glance_store


class Store(filesystem.Store):
    """glance_store's filesystem driver, writing through :func:`add`
    (hashing off the write path) and reading whole images as a
    :class:`WholeFile` (which :func:`open_file` hands to sendfile)."""

    def get_store_location_class(self):
        # The driver finds its location class in its own module by name.
        return filesystem.StoreLocation

    @store_driver.back_compat_add
    @capabilities.check
    def add(self, image_id, image_file, image_size, hashing_algo,
            context=None, verifier=None):
        """The driver contract's add: the fast writer in the plain layout,
        the driver's own add otherwise."""
        if verifier is not None or not handles(self):
            return super().add(image_id, image_file, image_size,
                               hashing_algo, context=context,
                               verifier=verifier)
        return add(image_id, image_file, hashing_algo)

    @capabilities.check
    def get(self, location, offset=0, chunk_size=None, context=None):
        """The driver contract's get; a whole image (no offset, no
        length) comes as a :class:`WholeFile`.

        :raises: NotFound if the file does not exist, as the driver.
        """
        if offset or chunk_size is not None:
            return super().get(location, offset=offset,
                               chunk_size=chunk_size, context=context)
        # The driver's size check (with its file system timeout) first.
        size = self.get_size(location, context=context)
        path = location.store_location.path
        try:
            f = open(path, 'rb')
        except FileNotFoundError:
            raise store_exc.NotFound(image=path)
        return WholeFile(f, self.READ_CHUNKSIZE), size

    def datadirs(self):
        """Every directory this store writes images in, from its options:
        ``filesystem_store_datadir``, or the paths of
        ``filesystem_store_datadirs`` (``path[:priority]``)."""
        options = self.store_conf
        if not options.filesystem_store_datadirs:
            return [options.filesystem_store_datadir]
        dirs = []
        for entry in options.filesystem_store_datadirs:
            # Split as the driver does: the last ':' separates a priority.
            path = entry.rsplit(':', 1)[0].strip()
            if path not in dirs:
                dirs.append(path)
        return dirs

    def data_uris(self, image_id):
        """Every URI at which this store may have written ``image_id``:
        the driver picks the datadir with the most room per upload."""
        return ['file://%s' % os.path.join(d, image_id)
                for d in self.datadirs()]

    def list_objects(self):
        """(name, uri, size) of every regular file of the datadirs."""
        for datadir in self.datadirs():
            with os.scandir(datadir) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        yield (entry.name, 'file://%s' % entry.path,
                               entry.stat(follow_symlinks=False).st_size)


class WholeFile:
    """A whole image file, iterated in blocks and closed at its end;
    ``file`` is the open file itself."""

    def __init__(self, f, block_size):
        self.file = f
        self._block_size = block_size

    def __iter__(self):
        try:
            while True:
                block = self.file.read(self._block_size)
                if not block:
                    break
                yield block
        finally:
            self.close()

    def close(self):
        self.file.close()


def handles(driver):
    """True when ``driver`` is glance_lite's file store in the layout
    add() writes."""
    conf = _conf()
    return (isinstance(driver, Store)
            and not conf.filesystem_store_datadirs
            and not conf.filesystem_store_metadata_file
            and not conf.filesystem_thin_provisioning)


def add(image_id, data, hashing_algo='md5'):
    """Write ``data`` (read until b'') to the file of image_id.

    :returns: (location_url, bytes_written, md5_hex, multihash_hex,
        metadata), as the driver's add.
    :raises: glance_store's Duplicate, StorageFull or StorageWriteDenied
        as the driver would; anything ``data`` raises passes through. A
        partial file is removed on every failure.
    """
    path = os.path.join(_conf().filesystem_store_datadir, str(image_id))
    hashes = BackgroundHashes(hashing_algo)
    written = 0
    try:
        with open(path, 'xb') as f:
            while True:
                block = data.read(WRITE_BLOCK)
                if not block:
                    break
                hashes.update(block)
                f.write(block)
                written += len(block)
        checksum, multihash = hashes.hexdigests()
    except FileExistsError:
        hashes.close()
        raise store_exc.Duplicate(image=path)
    except BaseException as error:
        hashes.close()
        _remove_partial(path, image_id)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC,
                                                          errno.EFBIG):
            raise store_exc.StorageFull()
        if isinstance(error, OSError) and error.errno == errno.EACCES:
            raise store_exc.StorageWriteDenied()
        raise
    _set_permissions(path)
    return 'file://' + path, written, checksum, multihash, {}


def _remove_partial(path, image_id):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        LOG.error("Could not remove the partial data of image %s: %s",
                  image_id, e.strerror)


def _set_permissions(path):
    # filesystem_store_file_perm is octal digits written as a decimal
    # number (644), as the driver reads it.
    perm = _conf().filesystem_store_file_perm
    if perm > 0:
        try:
            os.chmod(path, int(str(perm), 8))
        except OSError:
            LOG.warning("Unable to set the permissions of an image file")


def open_file(chunks):
    """The open image file behind a whole-image iterator of
    :meth:`Store.get`, or None for any other iterator (or once closed)."""
    if isinstance(chunks, WholeFile) and not chunks.file.closed:
        return chunks.file
    return None
