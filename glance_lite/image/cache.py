"""The image cache of one API node (spec §20): complete copies of image
data on local disk, so repeated downloads do not go back to the store.

Layout under ``image_cache_dir`` (Glance's, which operators know):

* ``<id>``: a complete entry, published by an atomic rename;
* ``incomplete/<id>``: a fill in progress, locked (``flock``) by the
  process filling it for as long as it lives, so a fill left by a dead
  process is recognised at once and never blocks later fills;
* ``invalid/<id>``: a fill whose bytes did not match the image, kept for
  the operator until ``cache clean``;
* ``queue/<id>``: empty markers of the prefetch queue, oldest first;
* the bookkeeping database (SQLite, ``image_cache_sqlite_db``): size,
  hits, times and checksum of every complete entry.

The cache never decides what a client receives: the API checks policy,
visibility and status on every request, hit or miss, and asks the cache
only where the bytes come from. An entry is served only while its size
and checksum match the image record; anything else is dropped and
refilled. No string becomes a path unless it is a valid image id.
"""

import contextlib
import fcntl
import hashlib
import os
import re
import sqlite3
import time
import uuid

from oslo_log import log as logging
from oslo_utils import uuidutils

LOG = logging.getLogger(__name__)

INCOMPLETE = 'incomplete'
INVALID = 'invalid'
QUEUE = 'queue'

# Hex digits and dashes only: an id that names a file can never climb out
# of the cache directory or name one of its subdirectories.
_ID_CHARACTERS = re.compile(r'[0-9a-fA-F-]{32,36}\Z')
# Seconds a bookkeeping query waits for another process's write.
_DB_TIMEOUT = 30
READ_BLOCK = 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cached_images (
    image_id TEXT PRIMARY KEY,
    last_accessed REAL NOT NULL,
    last_modified REAL NOT NULL,
    size INTEGER NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    checksum TEXT
)
"""


class CacheUnusable(Exception):
    """The cache directory cannot be created or written."""


def is_image_id(value):
    """Whether ``value`` may name a file of the cache: a syntactically
    valid image id (spec §5.1)."""
    return (isinstance(value, str) and bool(_ID_CHARACTERS.match(value)) and
            uuidutils.is_uuid_like(value))


class ImageCache:
    """The cache in ``directory``; every process of a node may open it at
    once (each call opens its own bookkeeping connection).

    :raises CacheUnusable: the directory or its database cannot be made or
        written.
    """

    def __init__(self, directory, max_size, stall_time, db_name='cache.db'):
        self.directory = os.path.abspath(directory)
        self.max_size = max_size
        self.stall_time = stall_time
        self._db_path = os.path.join(self.directory, db_name)
        try:
            for sub in ('', INCOMPLETE, INVALID, QUEUE):
                os.makedirs(os.path.join(self.directory, sub), exist_ok=True)
            probe = os.path.join(self.directory, INCOMPLETE,
                                 '.probe-%s' % uuid.uuid4().hex)
            with open(probe, 'wb'):
                pass
            os.unlink(probe)
            with self._db() as db:
                db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise CacheUnusable('%s: %s' % (self.directory, e))

    # -- bookkeeping ---------------------------------------------------

    @contextlib.contextmanager
    def _db(self):
        db = sqlite3.connect(self._db_path, timeout=_DB_TIMEOUT,
                             isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def _path(self, image_id, sub=''):
        return os.path.join(self.directory, sub, image_id)

    def _record(self, image_id):
        with self._db() as db:
            return db.execute(
                'SELECT size, checksum FROM cached_images WHERE image_id = ?',
                (image_id,)).fetchone()

    def entries(self):
        """Complete entries ordered by image id: dicts of image_id, hits,
        last_accessed, last_modified (seconds since the epoch) and size."""
        with self._db() as db:
            rows = db.execute(
                'SELECT image_id, hits, last_accessed, last_modified, size '
                'FROM cached_images ORDER BY image_id').fetchall()
        return [{'image_id': row[0], 'hits': row[1], 'last_accessed': row[2],
                 'last_modified': row[3], 'size': row[4]}
                for row in rows if os.path.exists(self._path(row[0]))]

    def total_size(self):
        """Bytes held by complete entries."""
        return sum(entry['size'] for entry in self.entries())

    def is_cached(self, image_id):
        return (is_image_id(image_id) and
                os.path.exists(self._path(image_id)) and
                self._record(image_id) is not None)

    def _record_hit(self, image_id):
        with self._db() as db:
            db.execute('UPDATE cached_images SET hits = hits + 1, '
                       'last_accessed = ? WHERE image_id = ?',
                       (time.time(), image_id))

    # -- reading ---------------------------------------------------------

    def open_entry(self, image):
        """The complete entry of ``image`` opened for reading, or None.

        An entry whose size or checksum differs from the image record
        (an admin changed them, or the file was damaged) is removed and
        None returned: the caller serves a miss and refills it.

        :returns: a :class:`CachedData`; its ``sent(count)`` counts a hit
            when ``count`` is the whole entry.
        """
        image_id = image['id']
        if not is_image_id(image_id):
            return None
        record = self._record(image_id)
        if record is None:
            return None
        try:
            f = open(self._path(image_id), 'rb')
        except FileNotFoundError:
            self.remove(image_id)
            return None
        size = os.fstat(f.fileno()).st_size
        stale = (size != record[0] or size != (image.get('size') or 0) or
                 (image.get('checksum') and
                  record[1] != image['checksum']))
        if stale:
            f.close()
            LOG.info('Cached data of image %s no longer matches the image; '
                     'dropped', image_id)
            self.remove(image_id)
            return None
        return CachedData(self, image_id, f, size)

    # -- filling ---------------------------------------------------------

    def begin_fill(self, image):
        """Start filling the entry of ``image``, or None when it must not
        be filled now: already cached, being filled by another request or
        process, or the cache already holds more than image_cache_max_size.

        At most one fill per image exists across every process sharing the
        directory: the staging file is locked before it gets its name, so
        a name without a live lock is a fill whose process died.
        """
        image_id = image['id']
        if not is_image_id(image_id) or not image.get('size'):
            return None
        if self.is_cached(image_id):
            return None
        if self.total_size() >= self.max_size:
            LOG.debug('Image cache full (%d bytes or more); image %s not '
                      'cached', self.max_size, image_id)
            return None
        staging = self._path('.%s.%s' % (image_id, uuid.uuid4().hex),
                             INCOMPLETE)
        target = self._path(image_id, INCOMPLETE)
        try:
            f = open(staging, 'xb')
        except OSError as e:
            LOG.warning('Cannot start caching image %s: %s', image_id, e)
            return None
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            for _attempt in range(2):
                try:
                    os.link(staging, target)
                    break
                except FileExistsError:
                    if not self._remove_abandoned(target):
                        f.close()
                        return None
            else:
                f.close()
                return None
        except OSError as e:
            LOG.warning('Cannot start caching image %s: %s', image_id, e)
            f.close()
            return None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(staging)
        return Fill(self, image, f, target)

    def _remove_abandoned(self, path):
        """Remove the fill at ``path`` if no live process holds it.

        :returns: True when the name is free now, False when a live fill
            holds it.
        """
        try:
            f = open(path, 'rb')
        except FileNotFoundError:
            return True
        with f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            try:
                same = os.stat(path).st_ino == os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                return True
            if same:
                LOG.info('Removing the cache fill of image %s left by a '
                         'process that ended', os.path.basename(path))
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            return True

    def _publish(self, image_id, staged, size, checksum):
        now = time.time()
        os.replace(staged, self._path(image_id))
        with self._db() as db:
            db.execute('INSERT OR REPLACE INTO cached_images (image_id, '
                       'last_accessed, last_modified, size, hits, checksum) '
                       'VALUES (?, ?, ?, ?, 0, ?)',
                       (image_id, now, now, size, checksum))
        self.dequeue(image_id)

    def _invalidate(self, image_id, staged):
        with contextlib.suppress(OSError):
            os.replace(staged, self._path(image_id, INVALID))

    def filling(self, image, chunks):
        """``chunks`` of the store, also written into a new entry of
        ``image`` when one may be filled now (see :meth:`begin_fill`).

        The client gets exactly the store's chunks whatever happens to the
        fill: a failing write abandons the entry, not the download. The
        entry is published only if the stream went to its end with the
        image's size and checksum.
        """
        fill = self.begin_fill(image)
        if fill is None:
            return chunks
        return FillingIterator(fill, chunks)

    # -- removal and the queue -------------------------------------------

    def remove(self, image_id):
        """Remove the complete entry of ``image_id`` (no error when there
        is none). :returns: True if a file was removed."""
        if not is_image_id(image_id):
            return False
        with self._db() as db:
            db.execute('DELETE FROM cached_images WHERE image_id = ?',
                       (image_id,))
        try:
            os.unlink(self._path(image_id))
        except FileNotFoundError:
            return False
        return True

    def remove_all(self):
        """Remove every complete entry. :returns: the number removed."""
        return sum(self.remove(entry['image_id'])
                   for entry in self.entries())

    def forget(self, image_id):
        """Remove the entry and any queue marker of a deleted image."""
        self.remove(image_id)
        self.dequeue(image_id)

    def queued(self):
        """Queued image ids, oldest first."""
        directory = self._path('', QUEUE)
        names = [name for name in os.listdir(directory) if is_image_id(name)]
        stamps = {}
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                stamps[name] = os.stat(os.path.join(directory, name)).st_mtime
        return sorted(stamps, key=lambda name: (stamps[name], name))

    def is_filling(self, image_id):
        return os.path.exists(self._path(image_id, INCOMPLETE))

    def queue(self, image_id):
        """Queue ``image_id`` for prefetching unless it is already cached,
        being filled or queued. :returns: True if it was queued now."""
        if not is_image_id(image_id):
            return False
        if self.is_cached(image_id) or self.is_filling(image_id):
            return False
        try:
            with open(self._path(image_id, QUEUE), 'x'):
                pass
        except FileExistsError:
            return False
        return True

    def dequeue(self, image_id):
        """:returns: True if ``image_id`` was queued."""
        if not is_image_id(image_id):
            return False
        try:
            os.unlink(self._path(image_id, QUEUE))
        except FileNotFoundError:
            return False
        return True

    def dequeue_all(self):
        return sum(self.dequeue(image_id) for image_id in self.queued())

    # -- maintenance -----------------------------------------------------

    def prune(self):
        """Remove the least recently accessed entries until the complete
        entries fit in image_cache_max_size.

        :returns: [(image_id, size)] removed, in the order removed.
        """
        entries = sorted(self.entries(),
                         key=lambda e: (e['last_accessed'], e['image_id']))
        total = sum(entry['size'] for entry in entries)
        removed = []
        for entry in entries:
            if total <= self.max_size:
                break
            if self.remove(entry['image_id']):
                removed.append((entry['image_id'], entry['size']))
            total -= entry['size']
        return removed

    def clean(self, stall_time=None):
        """Remove failed fills, fills of processes that died and fills in
        progress for longer than ``stall_time`` seconds (default
        image_cache_stall_time), and stray files of the cache's own
        subdirectories.

        :returns: [(what, image_id)] removed; ``what`` is "invalid",
            "abandoned" or "stalled".
        """
        stall_time = self.stall_time if stall_time is None else stall_time
        removed = []
        invalid_dir = self._path('', INVALID)
        for name in sorted(os.listdir(invalid_dir)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(invalid_dir, name))
                removed.append(('invalid', name))
        incomplete_dir = self._path('', INCOMPLETE)
        now = time.time()
        for name in sorted(os.listdir(incomplete_dir)):
            path = os.path.join(incomplete_dir, name)
            try:
                age = now - os.stat(path).st_mtime
            except FileNotFoundError:
                continue
            if name.startswith('.'):
                # A staging name lives only while begin_fill runs.
                if age > 60:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                continue
            if self._is_abandoned(path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                removed.append(('abandoned', name))
            elif age >= stall_time:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                removed.append(('stalled', name))
        return removed

    def _is_abandoned(self, path):
        try:
            with open(path, 'rb') as f:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                return True
        except FileNotFoundError:
            return False


class CachedData:
    """A complete entry opened for one download."""

    def __init__(self, cache, image_id, f, size):
        self._cache = cache
        self.image_id = image_id
        self.file = f
        self.size = size

    def sent(self, count):
        """The download ended after ``count`` bytes: a whole one is a hit
        (a download cut short is not counted)."""
        if count == self.size:
            try:
                self._cache._record_hit(self.image_id)
            except sqlite3.Error as e:
                LOG.warning('Could not count a cache hit of image %s: %s',
                            self.image_id, e)


class Fill:
    """One entry being written: ``write`` every chunk, then ``finish``, or
    ``abandon``. Write errors abandon the entry, never raise."""

    def __init__(self, cache, image, f, path):
        self._cache = cache
        self.image_id = image['id']
        self._size = image.get('size') or 0
        self._checksum = image.get('checksum')
        self._file = f
        self._path = path
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._count = 0
        self._failed = False
        self.closed = False

    def write(self, chunk):
        if self._failed or self.closed:
            return
        try:
            self._file.write(chunk)
        except OSError as e:
            LOG.warning('Caching image %s failed: %s', self.image_id, e)
            self._failed = True
            return
        self._md5.update(chunk)
        self._count += len(chunk)

    def finish(self):
        """Publish the entry if it holds the whole image with its checksum.

        :returns: True if published.
        """
        if self.closed:
            return False
        checksum = self._md5.hexdigest()
        if self._failed:
            self.abandon()
            return False
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as e:
            LOG.warning('Caching image %s failed: %s', self.image_id, e)
            self.abandon()
            return False
        if self._count != self._size or (self._checksum and
                                         checksum != self._checksum):
            LOG.error('Image %s read from its store does not match the image '
                      '(%d bytes, checksum %s; expected %d bytes, checksum '
                      '%s): not cached', self.image_id, self._count,
                      checksum, self._size, self._checksum)
            self._cache._invalidate(self.image_id, self._path)
            self._close()
            return False
        try:
            self._cache._publish(self.image_id, self._path, self._count,
                                 self._checksum or checksum)
        except (OSError, sqlite3.Error) as e:
            LOG.warning('Caching image %s failed: %s', self.image_id, e)
            with contextlib.suppress(OSError):
                os.unlink(self._path)
            self._close()
            return False
        self._close()
        return True

    def abandon(self):
        """Drop the partial entry (the download ended early or failed)."""
        if self.closed:
            return
        with contextlib.suppress(OSError):
            os.unlink(self._path)
        self._close()

    def _close(self):
        self.closed = True
        with contextlib.suppress(OSError):
            self._file.close()


class FillingIterator:
    """The store's chunks for the client, each also written to a Fill; the
    entry is published when the chunks run out, abandoned when the server
    closes the body before that."""

    def __init__(self, fill, chunks):
        self._fill = fill
        self._chunks = chunks

    def __iter__(self):
        for chunk in self._chunks:
            self._fill.write(chunk)
            yield chunk
        self._fill.finish()

    def close(self):
        try:
            if hasattr(self._chunks, 'close'):
                self._chunks.close()
        finally:
            self._fill.abandon()
