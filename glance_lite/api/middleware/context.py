"""Context middleware: build the caller's RequestContext (spec §4.1).

``NoAuthContextMiddleware`` makes every caller an admin with no owner (the
laptop default). ``ContextMiddleware`` reads the identity headers that
keystonemiddleware's auth_token sets, or that a trusted proxy sends.

Both put the request id on every response of the app behind them.
"""

import uuid

from oslo_config import cfg
from oslo_middleware import request_id as oslo_request_id
import webob.dec
import webob.exc

from glance_lite.api import context as api_context
from glance_lite.api import policy

CONF = cfg.CONF
REQUEST_ID_HEADER = 'x-openstack-request-id'


class _ContextMiddlewareBase:

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    def make_context(self, req):
        raise NotImplementedError

    def request_id(self, req):
        return (req.environ.get(oslo_request_id.ENV_REQUEST_ID) or
                'req-%s' % uuid.uuid4())

    @staticmethod
    def check_header_count(req):
        """431 for more header lines than max_request_header_fields (the
        server already bounds their total size)."""
        limit = CONF.max_request_header_fields
        count = sum(1 for key in req.environ if key.startswith('HTTP_'))
        if limit and count > limit:
            raise webob.exc.HTTPRequestHeaderFieldsTooLarge(
                explanation='Too many request headers: %d, max %d'
                            % (count, limit))

    @webob.dec.wsgify
    def __call__(self, req):
        # The 401/431 raised while building the context carry no request id.
        try:
            self.check_header_count(req)
            ctx = self.make_context(req)
        except webob.exc.HTTPException as error:
            return error
        req.environ['glance_lite.context'] = ctx
        response = req.get_response(self.app)
        # First, ahead of any header with a non-ASCII name: Python's
        # http.client stops reading headers at the first such name.
        response.headerlist.insert(0, (REQUEST_ID_HEADER, ctx.request_id))
        return response


class NoAuthContextMiddleware(_ContextMiddlewareBase):
    """Every caller is an admin without user, project or roles."""

    def make_context(self, req):
        return api_context.RequestContext(is_admin=True,
                                          request_id=self.request_id(req))


class ContextMiddleware(_ContextMiddlewareBase):
    """Identity from X-Identity-Status / X-Project-Id / X-Roles headers."""

    def request_id(self, req):
        sent = req.headers.get('X-Openstack-Request-ID')
        if not sent:
            return super().request_id(req)
        limit = CONF.max_request_id_length
        if limit and len(sent) > limit:
            raise webob.exc.HTTPRequestHeaderFieldsTooLarge(
                explanation='x-openstack-request-id is too long, max size %d'
                            % limit)
        return sent if sent.startswith('req-') else 'req-' + sent

    def make_context(self, req):
        if req.headers.get('X-Identity-Status') != 'Confirmed':
            if not CONF.allow_anonymous_access:
                raise webob.exc.HTTPUnauthorized()
            return api_context.RequestContext(
                read_only=True, is_admin=False,
                request_id=super().request_id(req))
        ctx = api_context.RequestContext.from_environ(
            req.environ, request_id=self.request_id(req))
        ctx.roles = [role.strip().lower() for role in ctx.roles
                     if role.strip()]
        ctx.is_admin = (CONF.admin_role.strip().lower() in ctx.roles or
                        policy.check_is_admin(ctx))
        return ctx
