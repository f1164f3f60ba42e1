"""Where an upload's bytes come from: bounded readers over a request
body or a store's chunks, for every API's upload, copy-from and future
import. Each counts what it read and enforces the size cap and the storage
quota while reading, so no store ever receives more than is allowed."""

import socket
import time

from oslo_log import log as logging

from glance_lite.common import exception

LOG = logging.getLogger(__name__)

READ_CHUNK_SIZE = 1024 * 1024


class _BoundedReader:
    """Counts the bytes read and enforces the size cap and, once
    ``limit_to_quota`` was called, the remaining storage quota."""

    def __init__(self, limit):
        self._limit = limit
        self._quota = None
        self._heartbeat = None
        self._next_heartbeat = None
        self.bytes_read = 0
        self.over_cap = False

    def limit_to_quota(self, remaining):
        self._quota = remaining

    def beat_while_reading(self, heartbeat, interval):
        """Call ``heartbeat()`` at most every ``interval`` seconds while
        data flows, to show the upload is alive."""
        self._heartbeat = heartbeat
        self._interval = interval
        self._next_heartbeat = time.monotonic() + interval

    def read(self, size=-1):
        if size is None or size < 0:
            size = READ_CHUNK_SIZE
        return self._account(self._read(size))

    def drain(self):
        """Read on without storing, to count the real size once the cap was
        crossed. Reading stops at twice the cap, so an endless body cannot
        hold the request forever.

        :returns: the byte count, or "more than N" when reading stopped.
        """
        try:
            while self.bytes_read <= 2 * self._limit:
                data = self._read(READ_CHUNK_SIZE)
                if not data:
                    return self.bytes_read
                self.bytes_read += len(data)
        except exception.ClientDisconnected:
            return self.bytes_read
        return 'more than %d' % (2 * self._limit)

    def _account(self, data):
        self.bytes_read += len(data)
        if (self._heartbeat is not None and
                time.monotonic() >= self._next_heartbeat):
            self._heartbeat()
            self._next_heartbeat = time.monotonic() + self._interval
        if self.bytes_read > self._limit:
            self.over_cap = True
            raise exception.SizeCapExceeded(
                "Denying attempt to upload image larger than %d bytes."
                % self._limit)
        if self._quota is not None and self.bytes_read > self._quota:
            raise exception.StorageQuotaExceeded(
                "Denying attempt to upload image because it exceeds the "
                "quota: the remaining storage quota is %d bytes."
                % self._quota)
        return data


class RequestBodyReader(_BoundedReader):
    """The request body as a file for the store: bounded reads, limits
    enforced while reading, and short bodies reported as disconnects.

    :param stream: wsgi.input.
    :param content_length: the framed length, or None for a chunked body
        (read until it ends).
    :param limit: most bytes accepted; crossing it raises LimitExceeded.
    """

    def __init__(self, stream, content_length, limit):
        super().__init__(limit)
        self._stream = stream
        self._remaining = content_length

    def _read(self, size):
        if self._remaining == 0:
            return b''
        if self._remaining is not None:
            size = min(size, self._remaining)
        try:
            data = self._stream.read(size)
        except ValueError as e:
            # The server found the body's framing broken (a chunk size
            # that is not 1-16 hex digits, a chunk cut short): its own
            # message says what, and nothing of the body is kept.
            LOG.info("Upload body read failed: %s", type(e).__name__)
            raise exception.ClientDisconnected(
                "Malformed request body, or the client went away before "
                "sending all of it: %s" % e)
        except (OSError, socket.timeout) as e:
            # Socket errors and timeouts mean the client stopped sending
            # before the body was complete.
            LOG.info("Upload body read failed: %s", type(e).__name__)
            raise exception.ClientDisconnected()
        if self._remaining is not None:
            if not data:
                raise exception.ClientDisconnected()
            self._remaining -= len(data)
        return data


class IteratorReader(_BoundedReader):
    """A chunk iterator (a store's read side) as a bounded file."""

    def __init__(self, chunks, limit):
        super().__init__(limit)
        self._chunks = iter(chunks)
        self._buffer = b''

    def _read(self, size):
        while len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                break
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
