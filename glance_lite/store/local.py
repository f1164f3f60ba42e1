"""The fast path for glance_store's filesystem store: image bytes written
with the md5 computed on another thread, and read back as an open file a
server can send with ``sendfile``.

glance_store's file driver hashes inline, in the thread that reads the
request and writes the file, and computes md5 twice when asked for an md5
multihash (its checksum plus the multihash; it has no way to ask for the
checksum alone). md5 is the one unavoidable cost of an upload, so it is
moved off the read/write path here: ``hashlib`` releases the GIL on large
buffers, and on a second core hashing overlaps reading and writing.

Only the plain layout is handled (one ``filesystem_store_datadir``, no
metadata file, no thin provisioning); any other configuration, and every
other store, goes through the driver (see glance_lite.store.add).
"""

import errno
import hashlib
import os
import queue
import threading

from glance_store._drivers import filesystem
from glance_store import exceptions as store_exc
from oslo_config import cfg
from oslo_log import log as logging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Bytes per read from the request and per write to the file. With at most
# HASH_QUEUE_DEPTH blocks waiting for the hasher, an upload holds about
# (2 + HASH_QUEUE_DEPTH) blocks: 2.5 MiB.
WRITE_BLOCK = 256 * 1024
HASH_QUEUE_DEPTH = 8
# Blocks handed to the server for downloads that cannot use sendfile.
READ_BLOCK = 1024 * 1024


class BackgroundMd5:
    """md5 of a stream of blocks, computed on its own thread.

    ``update`` queues a block (waiting while HASH_QUEUE_DEPTH are already
    queued, so memory stays bounded); ``hexdigest`` waits for the last one.
    Blocks must not change once queued (bytes do not).
    """

    _END = None

    def __init__(self):
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._blocks = queue.Queue(maxsize=HASH_QUEUE_DEPTH)
        self._thread = threading.Thread(target=self._run, name='md5',
                                        daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            block = self._blocks.get()
            if block is self._END:
                return
            self._md5.update(block)

    def update(self, block):
        self._blocks.put(block)

    def hexdigest(self):
        self.close()
        return self._md5.hexdigest()

    def close(self):
        """Stop the thread (idempotent); what was queued is hashed."""
        if self._thread.is_alive():
            self._blocks.put(self._END)
            self._thread.join()


def _conf():
    return CONF.glance_store


def handles(driver):
    """True when ``driver`` is the file store in the layout add() writes."""
    conf = _conf()
    return (isinstance(driver, filesystem.Store)
            and not conf.filesystem_store_datadirs
            and not conf.filesystem_store_metadata_file
            and not conf.filesystem_thin_provisioning)


def add(image_id, data):
    """Write ``data`` (read until b'') to the file of image_id.

    :returns: (location_url, bytes_written, md5_hex, metadata), as the
        driver's add.
    :raises: glance_store's Duplicate, StorageFull or StorageWriteDenied
        as the driver would; anything ``data`` raises passes through. A
        partial file is removed on every failure.
    """
    path = os.path.join(_conf().filesystem_store_datadir, str(image_id))
    md5 = BackgroundMd5()
    written = 0
    try:
        with open(path, 'xb') as f:
            while True:
                block = data.read(WRITE_BLOCK)
                if not block:
                    break
                md5.update(block)
                f.write(block)
                written += len(block)
        checksum = md5.hexdigest()
    except FileExistsError:
        md5.close()
        raise store_exc.Duplicate(image=path)
    except BaseException as error:
        md5.close()
        _remove_partial(path, image_id)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC,
                                                          errno.EFBIG):
            raise store_exc.StorageFull()
        if isinstance(error, OSError) and error.errno == errno.EACCES:
            raise store_exc.StorageWriteDenied()
        raise
    _set_permissions(path)
    return 'file://' + path, written, checksum, {}


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
    """The open image file behind a file store's whole-image iterator
    (glance_store's ChunkedFile), or None for any other iterator."""
    if isinstance(chunks, filesystem.ChunkedFile) and not chunks.partial:
        return chunks.fp
    return None
