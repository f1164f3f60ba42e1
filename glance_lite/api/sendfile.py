"""Image downloads handed to the server as an open file.

When the image is a file of the filesystem store and the server offers
``wsgi.file_wrapper`` (uWSGI, mod_wsgi, glance-lite-api), the response
body is the server's wrapper around the open file, which uWSGI and
glance-lite-api send with ``sendfile`` (mod_wsgi reads it in C, or sends
it with sendfile under ``WSGIEnableSendfile On``): the bytes never pass
through Python. Other stores, and
servers without a wrapper, get glance_store's chunk iterator.

The server recognises its wrapper only if the very object it made comes
back from the application, so middleware must not wrap such a body: the
request log (middleware/request_log.py) finds it through :func:`sent_file`
and logs when the server closes the file instead.
"""

from glance_lite import store

ENV_KEY = 'glance_lite.sendfile'
# Blocks a wrapper without sendfile reads the file in.
BLOCK_SIZE = 1024 * 1024


class ImageFile:
    """An open image file for a server's file wrapper: ``fileno`` for
    sendfile, ``read`` for a server that iterates it, ``seek`` for one that
    moves the position past what it sent (Python's ``socket.sendfile``),
    ``close`` closes the file, then runs the callbacks added with
    :meth:`on_close`. ``sent`` is the position reached when it closed, or
    the whole size when the server took the file by its descriptor alone
    (uWSGI's and mod_wsgi's sendfile leave the position where it was):
    the bytes handed to the server, as for a chunk iterator."""

    def __init__(self, f, size):
        self._file = f
        self.size = size
        self.sent = 0
        self._moved = False
        self._callbacks = []

    def fileno(self):
        return self._file.fileno()

    def read(self, size=-1):
        self._moved = True
        return self._file.read(size)

    def seek(self, offset, whence=0):
        self._moved = True
        return self._file.seek(offset, whence)

    def tell(self):
        return self._file.tell()

    def on_close(self, callback):
        self._callbacks.append(callback)

    def close(self):
        callbacks, self._callbacks = self._callbacks, []
        try:
            if not self._file.closed:
                position = self._file.tell()
                self.sent = (position if self._moved or position
                             else self.size)
            self._file.close()
        finally:
            for callback in callbacks:
                callback()


class CountedBody:
    """A chunk iterator as a response body that calls ``on_sent`` with
    the bytes handed to the server once the server closes it."""

    def __init__(self, chunks, on_sent):
        self._chunks = chunks
        self._on_sent = on_sent
        self.sent = 0

    def __iter__(self):
        for chunk in self._chunks:
            self.sent += len(chunk)
            yield chunk

    def close(self):
        on_sent, self._on_sent = self._on_sent, None
        try:
            if hasattr(self._chunks, 'close'):
                self._chunks.close()
        finally:
            if on_sent is not None:
                on_sent(self.sent)


def body(environ, chunks, size, on_sent=None):
    """The response body for an image's data: the server's file wrapper
    around the open file when possible, else ``chunks`` itself.

    :param on_sent: called with the number of bytes handed to the server
        once it closed the body (for the file, the position its reads or
        sendfile reached).
    """
    file_wrapper = environ.get('wsgi.file_wrapper')
    opened = store.open_file(chunks) if file_wrapper else None
    if opened is None:
        return chunks if on_sent is None else CountedBody(chunks, on_sent)
    return _wrapped(environ, file_wrapper, opened, size, on_sent)


def file_body(environ, f, size, on_sent=None):
    """The response body for ``size`` bytes of the open file ``f`` (a
    complete entry of the image cache): the server's file wrapper when it
    has one, else the file read in blocks; ``f`` is closed with the body.
    """
    file_wrapper = environ.get('wsgi.file_wrapper')
    if file_wrapper is not None:
        return _wrapped(environ, file_wrapper, f, size, on_sent)
    return CountedBody(_blocks(f), on_sent or (lambda count: None))


def _blocks(f):
    with f:
        while True:
            block = f.read(BLOCK_SIZE)
            if not block:
                return
            yield block


def _wrapped(environ, file_wrapper, opened, size, on_sent):
    image_file = ImageFile(opened, size)
    if on_sent is not None:
        image_file.on_close(lambda: on_sent(image_file.sent))
    wrapped = file_wrapper(image_file, BLOCK_SIZE)
    environ[ENV_KEY] = (wrapped, image_file)
    return wrapped


def sent_file(environ, app_iter):
    """The ImageFile when ``app_iter`` is a body made by :func:`body`."""
    wrapped, image_file = environ.get(ENV_KEY, (None, None))
    return image_file if wrapped is not None and app_iter is wrapped else None
