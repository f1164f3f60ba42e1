"""uWSGI's chunked request bodies as wsgi.input.

uWSGI 2.0 leaves wsgi.input empty for a chunked request (python-
glanceclient always uploads chunked): the body has to be pulled chunk by
chunk with ``uwsgi.chunked_read()``. ``glance_lite.wsgi`` hands the
pipeline a :class:`ChunkedInput` over those chunks.
"""


class ChunkedInput:
    """A request body that a server hands over chunk by chunk (uWSGI's
    ``uwsgi.chunked_read``), as a wsgi.input file: ``read(n)`` returns n
    bytes (fewer only at the end), ``read()`` the rest, b'' at the end.

    :param chunks: an iterator of non-empty byte strings.
    """

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buffer = bytearray()
        self._ended = False

    def _fill(self, size):
        """Buffer at least size bytes (all of them for None) unless the
        body ends first."""
        while not self._ended and (size is None or len(self._buffer) < size):
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                self._ended = True

    def read(self, size=-1):
        if size is None or size < 0:
            size = None
        self._fill(size)
        size = len(self._buffer) if size is None else size
        data = bytes(self._buffer[:size])
        # Deleting from the front of a bytearray does not move the rest.
        del self._buffer[:size]
        return data

    def readline(self, size=-1):
        while b'\n' not in self._buffer and not self._ended and (
                size is None or size < 0 or len(self._buffer) < size):
            self._fill(len(self._buffer) + 1)
        end = self._buffer.find(b'\n') + 1 or len(self._buffer)
        if size is not None and size >= 0:
            end = min(end, size)
        return self.read(end)

    def readlines(self, hint=-1):
        return list(self)

    def __iter__(self):
        return iter(self.readline, b'')
