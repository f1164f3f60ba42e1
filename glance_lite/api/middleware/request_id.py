"""Give every request its id first, so every later log line carries it.

oslo.middleware's RequestId filter also stamps that id on every response.
The spec wants the ``x-openstack-request-id`` header only on answers of
the v1 application, which the context middleware adds (§12.2); versions
documents, the healthcheck and the context middleware's own 401/431 carry
none (§1, §3.2). This filter therefore only sets the WSGI environment.
"""

from oslo_context import context
from oslo_middleware import request_id
import webob.dec


class RequestId(request_id.RequestId):

    @webob.dec.wsgify
    def __call__(self, req):
        self.set_global_req_id(req)
        req.environ[request_id.ENV_REQUEST_ID] = (
            context.generate_request_id())
        return req.get_response(self.application)
