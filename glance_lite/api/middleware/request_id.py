"""Give every request its id first, so every later log line carries it.

oslo.middleware's RequestId filter also stamps that id on every response.
The spec wants the ``x-openstack-request-id`` header only on answers of
the v1 application, which the context middleware adds (§12.2); versions
documents, the healthcheck and the context middleware's own 401/431 carry
none (§1, §3.2). This filter therefore only sets the WSGI environment.

oslo.log takes the request id of a log line from the context oslo.context
keeps per thread. Server threads serve one request after another, so this
filter stores a context holding the new id as the request starts (the
context middleware replaces it with the caller's own, same id), and
forgets it once the response has been sent: no line is ever logged with
the id of an earlier request.
"""

from oslo_context import context
from oslo_middleware import request_id
import webob

from glance_lite.api import sendfile


class RequestId(request_id.RequestId):

    def __call__(self, environ, start_response):
        self.set_global_req_id(webob.Request(environ))
        req_id = context.generate_request_id()
        environ[request_id.ENV_REQUEST_ID] = req_id
        # Stored as the thread's current context (overwrite=True).
        context.RequestContext(
            request_id=req_id,
            global_request_id=environ.get(request_id.GLOBAL_REQ_ID))
        try:
            app_iter = self.application(environ, start_response)
        except BaseException:
            _forget_context()
            raise
        image_file = sendfile.sent_file(environ, app_iter)
        if image_file is not None:
            # A file the server sends itself must reach it unwrapped.
            image_file.on_close(_forget_context)
            return app_iter
        return _ForgetContextOnClose(app_iter)


class _NoRequest(context.RequestContext):
    """The thread's current context between two requests: false, so
    oslo.log formats a line logged then as it would with no context at
    all (oslo.context has no public call that unsets the current one;
    storing this stand-in is its public ``update_store``)."""

    def __bool__(self):
        return False


_NO_REQUEST = _NoRequest(request_id='req-none', overwrite=False)


def _forget_context():
    _NO_REQUEST.update_store()


class _ForgetContextOnClose:
    """The response body, passed through; the thread's context is forgotten
    when the server closes it (after the request log line)."""

    def __init__(self, app_iter):
        self._app_iter = app_iter

    def __iter__(self):
        return iter(self._app_iter)

    def close(self):
        try:
            if hasattr(self._app_iter, 'close'):
                self._app_iter.close()
        finally:
            _forget_context()
