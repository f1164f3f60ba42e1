"""Strict request framing (RFC 9112) for glance-lite-api.

cheroot acts on framing that HTTP says to reject, which behind a proxy
that reads it otherwise is request smuggling: the last of two different
``Content-Length`` headers wins, ``+8`` is a length, a space before the
colon still names ``Transfer-Encoding``, both framings together are
taken, a folded line before the first header fails with an empty 500.
:class:`Request` (cheroot's ``HTTPRequest`` through its public methods and
its ``header_reader`` attribute) refuses all of that with a 400 and closes
the connection; serves HTTP/1.2 and later 1.x as 1.1 (RFC 9110
section 2.5);
never reads a body it will not use only to throw it away (a declared
length over the image size cap is answered 400 and the connection
closed); says ``Connection: close`` whenever it closes after an answer;
and sends no body in an answer to HEAD.

:func:`linger` lets a client that is still sending read the answer before
the connection goes: closing a socket with unread data sends a reset,
which makes the client drop the answer it has not read yet.
"""

import re
import socket
import time

from cheroot import errors
from cheroot import server as cheroot_server

CRLF = b'\r\n'
# RFC 9110 section 5.6.2 token: what a field name is made of; and bytes
# of 0x80 and above, the raw UTF-8 of property names older clients send
# (docs/behaviour.md, "Property names").
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z\x80-\xff]+\Z")
# Control characters but HTAB are no field content (RFC 9110 section
# 5.5); CR, LF and NUL in a value a recipient must refuse.
BAD_VALUE_CHARACTER = re.compile(rb'[\x00-\x08\x0a-\x1f\x7f]')
# A Content-Length of digits only; 19 of them hold any 64-bit length.
LENGTH = re.compile(rb'[0-9]{1,19}\Z')
VERSION = re.compile(rb'HTTP/([0-9])\.([0-9]+)\Z')
# An unread request body at most this long is read and dropped so that
# the connection can carry the next request; a longer one closes it.
DISCARD_LIMIT = 4 * 1024 * 1024
DISCARD_BLOCK = 64 * 1024
# How long, and how much, a closing connection drops of what the client
# still sends: enough for a client to read the answer, not so much that
# an endless sender holds the worker.
LINGER_SECONDS = 2.0
LINGER_BYTES = 16 * 1024 * 1024


class StrictHeaderReader(cheroot_server.HeaderReader):
    """Request headers read as RFC 9112 section 5 says, into cheroot's
    header dict (names title-cased, list headers joined with ", ").

    :param transfer_coding: whether the request may be framed by
        Transfer-Encoding (an HTTP/1.1 request); an HTTP/1.0 one with it
        is refused (RFC 9112 section 6.1).
    :raises ValueError: with the message of the 400 cheroot answers.
    """

    def __init__(self, transfer_coding=True):
        self._transfer_coding = transfer_coding

    def __call__(self, rfile, hdict=None):
        if hdict is None:
            hdict = {}
        lengths = []
        hosts = 0
        while True:
            line = rfile.readline()
            if not line:
                raise ValueError('Illegal end of headers.')
            if line == CRLF:
                break
            if not line.endswith(CRLF):
                raise ValueError('HTTP requires CRLF terminators')
            if line[:1] in (b' ', b'\t'):
                raise ValueError('Folded header lines (obs-fold) are not '
                                 'accepted.')
            name, colon, value = line[:-2].partition(b':')
            if not colon:
                raise ValueError('Illegal header line.')
            if not TOKEN.match(name):
                raise ValueError('Illegal header name %r: a token, with no '
                                 'whitespace before the colon.' % name[:40])
            value = value.strip(b' \t')
            if BAD_VALUE_CHARACTER.search(value):
                raise ValueError('Illegal character in the value of header '
                                 '%s.' % name.decode('ascii'))
            key = name.title()
            if key == b'Content-Length':
                lengths.extend(v.strip(b' \t') for v in value.split(b','))
            elif key == b'Host':
                hosts += 1
            if key in cheroot_server.comma_separated_headers and (
                    hdict.get(key)):
                value = b', '.join((hdict[key], value))
            hdict[key] = value
        self._check_framing(hdict, lengths, hosts)
        return hdict

    def _check_framing(self, hdict, lengths, hosts):
        if hosts > 1:
            raise ValueError('More than one Host header.')
        if any(not LENGTH.match(v) for v in lengths):
            raise ValueError('Malformed Content-Length Header: digits only.')
        if len(set(int(v) for v in lengths)) > 1:
            raise ValueError('Content-Length headers that differ.')
        if lengths:
            hdict[b'Content-Length'] = b'%d' % int(lengths[0])
        if b'Transfer-Encoding' not in hdict:
            return
        if not self._transfer_coding:
            raise ValueError('Transfer-Encoding in an HTTP/1.0 request.')
        if lengths:
            raise ValueError('Both Transfer-Encoding and Content-Length.')
        codings = [c.strip(b' \t').lower()
                   for c in hdict[b'Transfer-Encoding'].split(b',')]
        if b'chunked' in codings and codings.index(b'chunked') != len(
                codings) - 1:
            # chunked must come last, once: the body's end is unknown.
            raise ValueError('Transfer-Encoding with chunked not last, or '
                             'more than once.')


def served_request_line(line):
    """The request line as it is served: an HTTP/1.x version above 1.1
    as HTTP/1.1 (RFC 9110 section 2.5: a higher minor version is served
    by the highest one implemented)."""
    if not line.endswith(CRLF):
        return line
    parts = line[:-2].split(b' ')
    if len(parts) == 3:
        match = VERSION.match(parts[2])
        if match and match.group(1) == b'1' and int(match.group(2)) > 1:
            parts[2] = b'HTTP/1.1'
            return b' '.join(parts) + CRLF
    return line


class _ReplayedLine:
    """A file whose first readline is ``line``, the rest ``rfile``'s."""

    def __init__(self, line, rfile):
        self._line = line
        self._rfile = rfile

    def readline(self, *args):
        line, self._line = self._line, None
        if line is not None:
            return line
        return self._rfile.readline(*args)

    def __getattr__(self, name):
        return getattr(self._rfile, name)


class Request(cheroot_server.HTTPRequest):
    """cheroot's request with strict framing (see the module's doc).

    ``chunked_body`` is the chunked body the gateway handed to the
    application (``chunked.ChunkedBody``), if any.
    """

    chunked_body = None

    def read_request_line(self):
        rfile = self.rfile
        line = rfile.readline()
        if line == CRLF:
            # The one empty line RFC 9112 section 2.2 lets a server skip.
            line = rfile.readline()
        parts = line.rstrip(b'\r\n').split(b' ')
        if len(parts) == 3 and parts[2].startswith(b'HTTP/'):
            match = VERSION.match(parts[2])
            if match is None:
                self.started_request = True
                self.simple_response('400 Bad Request',
                                     'Malformed Request-Line: bad version')
                return False
            if match.group(1) != b'1':
                self.started_request = True
                self.simple_response(
                    '505 HTTP Version Not Supported',
                    'glance-lite-api speaks HTTP/1.x only, not %s.'
                    % parts[2].decode('ascii'))
                return False
        self.rfile = _ReplayedLine(served_request_line(line), rfile)
        try:
            return super().read_request_line()
        finally:
            self.rfile = rfile

    def read_request_headers(self):
        self.header_reader = StrictHeaderReader(
            transfer_coding=self.request_protocol == b'HTTP/1.1')
        return super().read_request_headers()

    def _unread_body(self):
        """Settle the body the application left unread before the answer
        goes: drop a short one to keep the connection, else close it (the
        ``Connection: close`` header follows) without reading on."""
        if self.status[:3] == b'413':
            # cheroot closes after a 413 in any case.
            self.close_connection = True
        body = self.chunked_body
        if body is not None:
            if not body.ended and (self.close_connection
                                   or not body.discard(DISCARD_LIMIT)):
                self.close_connection = True
                self.conn.unread_input = True
            return
        remaining = getattr(self.rfile, 'remaining', 0) or 0
        if remaining <= 0:
            return
        if self.close_connection or remaining > DISCARD_LIMIT:
            self.close_connection = True
            self.conn.unread_input = True
            return
        try:
            while self.rfile.remaining > 0:
                if not self.rfile.read(min(DISCARD_BLOCK,
                                           self.rfile.remaining)):
                    break
        except (OSError, ValueError):
            pass
        if self.rfile.remaining > 0:
            self.close_connection = True
            self.conn.unread_input = True

    def send_headers(self):
        self._unread_body()
        super().send_headers()

    def write(self, chunk):
        if self.method == b'HEAD':
            # RFC 9110 section 9.3.2: whatever the application wrote.
            return
        super().write(chunk)

    def simple_response(self, status, msg=''):
        """cheroot's plain-text answer for what the server refuses itself;
        the connection closes after it, and says so."""
        self.close_connection = True
        self.conn.unread_input = True
        if isinstance(msg, str):
            msg = msg.encode('ISO-8859-1')
        head = [('%s %s' % (self.server.protocol, status)).encode(
                    'ISO-8859-1'),
                b'Content-Length: %d' % len(msg),
                b'Content-Type: text/plain',
                b'Connection: close']
        answer = CRLF.join(head) + CRLF + CRLF
        if getattr(self, 'method', None) != b'HEAD':
            answer += msg
        try:
            self.conn.wfile.write(answer)
        except socket.error as ex:
            if ex.args[0] not in errors.socket_errors_to_ignore:
                raise


def linger(conn):
    """Let the client read the answer before ``conn`` (a cheroot
    connection) closes, when it may still be sending: stop writing, then
    drop what arrives until it hangs up, for at most LINGER_SECONDS and
    LINGER_BYTES (as Apache's lingering close does)."""
    sock = conn.socket
    try:
        conn.wfile.flush()
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return
    deadline = time.monotonic() + LINGER_SECONDS
    buffer = bytearray(DISCARD_BLOCK)
    dropped = 0
    try:
        while dropped < LINGER_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            sock.settimeout(left)
            received = sock.recv_into(buffer)
            if not received:
                return
            dropped += received
    except OSError:
        return
