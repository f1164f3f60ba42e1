"""``wsgi.file_wrapper`` (PEP 3333) for glance-lite-api, sent with the
kernel's sendfile: cheroot has no file wrapper, so a file the application
returned would be read and written through Python block by block."""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

BLOCK_SIZE = 64 * 1024


class FileWrapper:
    """A file to send as the response body of one request.

    :meth:`sendfile` sends it whole on the request's cheroot gateway;
    iterating reads it in ``block_size`` blocks (for a body that cannot be
    sent whole). ``close`` closes the file.
    """

    def __init__(self, filelike, block_size=BLOCK_SIZE, gateway=None):
        self.filelike = filelike
        self.block_size = block_size
        self._gateway = gateway

    def __iter__(self):
        while True:
            block = self.filelike.read(self.block_size)
            if not block:
                return
            yield block

    def close(self):
        if hasattr(self.filelike, 'close'):
            self.filelike.close()

    def sendfile(self):
        """Send the file as the whole response body with sendfile.

        :returns: False (nothing sent) without a gateway, when the answer
            is not framed by a Content-Length (chunked, or start_response
            not called yet) or has no body (HEAD); else True, the file
            sent. A file shorter than the Content-Length ends the
            connection, since the client cannot find the end of the answer.
        """
        gateway = self._gateway
        if gateway is None:
            return False
        req = gateway.req
        length = gateway.remaining_bytes_out
        if length is None or req.method == b'HEAD':
            return False
        req.ensure_headers_sent()
        req.conn.wfile.flush()
        # socket.sendfile copes with the socket's timeout (sendfile on a
        # non-blocking socket) and falls back to send() for TLS.
        sent = req.conn.socket.sendfile(self.filelike, 0, length)
        gateway.remaining_bytes_out -= sent
        if sent < length:
            req.close_connection = True
            LOG.error('Response file ended %d bytes short of its '
                      'Content-Length', length - sent)
        return True


def for_gateway(gateway):
    """The ``wsgi.file_wrapper`` of the request ``gateway`` (cheroot's
    WSGI gateway) answers: it makes :class:`FileWrapper` objects that can
    be sent on it."""

    def file_wrapper(filelike, block_size=BLOCK_SIZE):
        return FileWrapper(filelike, block_size, gateway)

    return file_wrapper


def sending_files(wsgi_app):
    """Wrap ``wsgi_app`` so that a :class:`FileWrapper` it returns as the
    body is sent with sendfile at once and the server sees an empty body.

    cheroot writes the application's body in ``Gateway.respond``, which
    has no hook for files: sending the file as the application returns
    leaves cheroot's own writing of every other body untouched. Only the
    very wrapper the application made counts: one that middleware wrapped
    is iterated as any body.
    """

    def application(environ, start_response):
        body = wsgi_app(environ, start_response)
        if not isinstance(body, FileWrapper):
            return body
        try:
            sent = body.sendfile()
        except BaseException:
            body.close()
            raise
        if not sent:
            return body
        body.close()
        return []

    return application
