"""Chunked request bodies (RFC 9112 section 7.1) read straight from the
connection.

cheroot's own reader (``cheroot.server.ChunkedRFile``) grows each answer
with ``data += ...`` one client chunk at a time and re-slices its buffer,
so an upload read in blocks larger than the client's chunks (1 MiB reads
over curl's 64 KiB chunks) copied every block several times over: chunked
uploads ran at 70-80 % of Content-Length ones. This reader parses the
framing itself over the connection's buffered socket file (cheroot has
no public hook into its reader's buffer) and copies each byte at most
once. Its limits and errors are cheroot's, so the server answers as it
would with its own reader; its framing is strict where cheroot's is not
(RFC 9112 section 7.1): a chunk size is 1 to 16 hex digits, nothing
else (``int(x, 16)`` takes ``-5``, ``+5``, ``0x5`` and ``5_0``, and a
size of 40 ``f`` overflowed cheroot's read), and a large chunk is read
piece by piece, never whole into memory.
"""

import re

from cheroot import errors

CRLF = b'\r\n'
DISCARD_BLOCK = 64 * 1024
# Most of an unread body discarded to keep the connection: a longer (or
# endless) one closes it instead.
DISCARD_LIMIT = 4 * 1024 * 1024
# Most bytes taken from the connection at once for a read without a size
# (or a larger one) inside a large chunk.
MAX_PIECE = 1024 * 1024
# Most bytes of a size line, extensions included: an endless line is
# refused, not held in memory.
MAX_SIZE_LINE = 4096
# chunk-size [ chunk-ext ] CRLF, chunk-ext = *( BWS ";" BWS name [ ... ] ):
# 16 hex digits hold any 64-bit size; a longer size is refused, not read.
SIZE_LINE = re.compile(rb'([0-9A-Fa-f]{1,16})(?:[ \t]*;[^\r\n]*)?\r\n\Z')


class MalformedChunk(ValueError):
    """The chunked framing of the body is broken (or cut short): the body
    cannot be read on, nor the connection used for another request."""


class ChunkedBody:
    """A chunked request body as a wsgi.input file.

    ``read(n)`` returns n bytes (fewer only at the end of the body),
    ``read()`` the rest, b'' once the body ended; ``readline`` and
    iteration give lines. Chunk extensions are ignored; trailers are left
    on the connection, as cheroot leaves them.

    :param rfile: the connection's file, positioned at the first chunk.
    :param maxlen: most bytes of framing and data read, 0 for no limit;
        crossing it raises ``cheroot.errors.MaxSizeExceeded`` (a size
        line) or ``IOError`` (a chunk), as cheroot's reader does.
    :raises MalformedChunk: (a ValueError) on broken framing, which
        includes a client that went away mid-chunk; every later read
        raises it again.
    """

    def __init__(self, rfile, maxlen=0):
        self._rfile = rfile
        self._maxlen = maxlen
        self.bytes_read = 0
        # Bytes of the current chunk not read yet.
        self._left = 0
        self._ended = False
        self._broken = None

    @property
    def ended(self):
        """Whether the whole body was read, its last chunk included."""
        return self._ended

    def _fail(self, message):
        self._broken = MalformedChunk(message)
        raise self._broken

    def _next_chunk(self):
        """Start the next chunk; False once the last chunk was read."""
        if self._broken is not None:
            raise self._broken
        if self._ended:
            return False
        line = self._rfile.readline(MAX_SIZE_LINE)
        self.bytes_read += len(line)
        if self._maxlen and self.bytes_read > self._maxlen:
            raise errors.MaxSizeExceeded('Request Entity Too Large',
                                         self._maxlen)
        match = SIZE_LINE.match(line)
        if match is None:
            self._fail('Bad chunked transfer size: %r' % line[:40])
        size = int(match.group(1), 16)
        if size == 0:
            self._ended = True
            return False
        if self._maxlen and self.bytes_read + size > self._maxlen:
            raise IOError('Request Entity Too Large')
        self._left = size
        return True

    def _piece(self, size, read):
        """Up to size bytes of the body (None: the rest of the chunk, at
        most MAX_PIECE) by ``read(n)`` of the connection's file; b'' at
        the end of the body."""
        if self._left == 0 and not self._next_chunk():
            return b''
        wanted = min(self._left, MAX_PIECE if size is None else size)
        data = read(wanted)
        self.bytes_read += len(data)
        self._left -= len(data)
        if not data or (len(data) < wanted and not data.endswith(b'\n')):
            self._fail('Chunk cut short: the client went away')
        if self._left == 0:
            crlf = self._rfile.read(2)
            self.bytes_read += len(crlf)
            if crlf != CRLF:
                # Also a chunk cut short: the client went away.
                self._fail("Bad chunked transfer coding (expected "
                           "'\\r\\n', got %r)" % crlf)
        return data

    def read(self, size=None):
        if size is None or size < 0:
            size = None
        parts = []
        while size is None or size > 0:
            data = self._piece(size, self._rfile.read)
            if not data:
                break
            parts.append(data)
            if size is not None:
                size -= len(data)
        # bytes.join returns a single part itself.
        return b''.join(parts)

    def readline(self, size=None):
        if size is not None and size < 0:
            size = None
        parts = []
        while size is None or size > 0:
            data = self._piece(size, self._rfile.readline)
            if not data:
                break
            parts.append(data)
            if size is not None:
                size -= len(data)
            if data.endswith(b'\n'):
                break
        return b''.join(parts)

    def readlines(self, hint=None):
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return iter(self.readline, b'')

    def discard(self, limit=DISCARD_LIMIT):
        """Read and drop the rest of the body, so that the connection can
        carry the next request.

        :returns: True when the body ended within ``limit`` bytes; False
            when it is longer, its framing is broken or the client went
            away: the connection cannot be reused then.
        """
        discarded = 0
        try:
            while discarded <= limit:
                data = self.read(DISCARD_BLOCK)
                if not data:
                    return True
                discarded += len(data)
        except Exception:
            # Bad chunk framing, size limit, client gone.
            return False
        return False
