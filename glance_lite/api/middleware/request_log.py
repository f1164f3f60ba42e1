"""Request log: one oslo.log line per request, written when the response
body has been sent, with method, path, status, bytes in and out, duration
and request id."""

import time

from oslo_log import log as logging
from oslo_middleware import request_id as oslo_request_id

from glance_lite.api import sendfile

LOG = logging.getLogger('glance_lite.api.requests')


class RequestLog:

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    def __call__(self, environ, start_response):
        started = time.monotonic()
        seen = {'status': '-',
                'path': environ.get('SCRIPT_NAME', '') +
                environ.get('PATH_INFO', ''),
                'request_id': environ.get(oslo_request_id.ENV_REQUEST_ID)}
        counted_input = _CountingInput(environ.get('wsgi.input'))
        if environ.get('wsgi.input') is not None:
            environ['wsgi.input'] = counted_input

        def logging_start_response(status, headers, exc_info=None):
            seen['status'] = status.split(' ', 1)[0]
            for name, value in headers:
                if name.lower() == 'x-openstack-request-id':
                    seen['request_id'] = value
            return start_response(status, headers, exc_info)

        app_iter = self.app(environ, logging_start_response)
        image_file = sendfile.sent_file(environ, app_iter)
        if image_file is not None:
            # The server sends the file itself and must get its own
            # wrapper back: log when it closes the file. The size is what
            # was to be sent (sendfile does not tell how far it got).
            image_file.on_close(lambda: _log(
                environ, seen, started, counted_input, image_file.size))
            return app_iter
        return _LoggedBody(app_iter, environ, seen, started, counted_input)


class _CountingInput:
    """Wraps wsgi.input to count the bytes read from the client."""

    def __init__(self, stream):
        self._stream = stream
        self.count = 0

    def read(self, *args):
        data = self._stream.read(*args)
        self.count += len(data)
        return data

    def readline(self, *args):
        data = self._stream.readline(*args)
        self.count += len(data)
        return data

    def __iter__(self):
        for chunk in self._stream:
            self.count += len(chunk)
            yield chunk

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _LoggedBody:
    """The response body, passed through; logs the request when closed."""

    def __init__(self, app_iter, environ, seen, started, counted_input):
        self._app_iter = app_iter
        self._environ = environ
        self._seen = seen
        self._started = started
        self._input = counted_input
        self._sent = 0

    def __iter__(self):
        for chunk in self._app_iter:
            self._sent += len(chunk)
            yield chunk

    def close(self):
        try:
            if hasattr(self._app_iter, 'close'):
                self._app_iter.close()
        finally:
            _log(self._environ, self._seen, self._started, self._input,
                 self._sent)


def _log(env, seen, started, counted_input, sent):
    LOG.info('%(method)s %(path)s status %(status)s in %(in)d B '
             'out %(out)d B %(ms).1f ms request_id %(rid)s',
             {'method': env.get('REQUEST_METHOD'), 'path': seen['path'],
              'status': seen['status'], 'in': counted_input.count,
              'out': sent, 'ms': (time.monotonic() - started) * 1000,
              'rid': seen['request_id'] or '-'})
