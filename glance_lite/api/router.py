"""The v1 router: every URL of the API in one declarative table (spec §2).

Each path lists its methods and the handler for each. A method a path does
not list answers 405 with that path's ``Allow`` value; a path that matches
nothing answers 404 (or 501 for a method HTTP does not know here).
"""

import re

import routes
import webob.dec
import webob.exc

from glance_lite.api import faults
from glance_lite.api import images
from glance_lite.api import members
from glance_lite.common import exception

ANY = '*'
# Content-Length is one or more digits (RFC 9110, section 8.6).
_CONTENT_LENGTH = re.compile(r'[0-9]+\Z')
# OPTIONS on an unknown path is a 404 too, not a 501 (spec §18 Q28).
_KNOWN_METHODS = ('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS')

# (path, Allow header for unlisted methods, {method: handler}). A handler
# is "<controller>.<action>", "allow:<methods>" for a 405 with that Allow
# header, or None for a 405 without one.
ROUTES = [
    ('/', None, {ANY: 'images.index'}),
    ('/images', 'GET, POST', {'GET': 'images.index', 'POST': 'images.create'}),
    # Glance refuses HEAD here with Allow: GET, and other methods with
    # Allow: GET, HEAD (spec §18 Q15).
    ('/images/detail', 'GET, HEAD', {'GET': 'images.detail',
                                     'HEAD': 'allow:GET'}),
    ('/images/{image_id}', 'GET, HEAD, PUT, DELETE',
     {'HEAD': 'images.meta', 'GET': 'images.show', 'PUT': 'images.update',
      'DELETE': 'images.delete'}),
    ('/images/{image_id}/members', 'GET, PUT',
     {'GET': 'members.index', 'PUT': 'members.update_all'}),
    ('/images/{image_id}/members/{member_id}', 'GET, PUT, DELETE',
     {'GET': None, 'PUT': 'members.update', 'DELETE': 'members.delete'}),
    ('/shared-images/{member_id}', None, {ANY: 'members.index_shared_images'}),
]


class Router:
    """Dispatch a v1 request (path already stripped of /v1) to a handler."""

    def __init__(self):
        self.controllers = {'images': images.ImagesController(),
                            'members': members.MembersController()}
        self.mapper = routes.Mapper()
        requirements = {'image_id': '[^/]+', 'member_id': '[^/]+'}
        for index, (path, _allow, _methods) in enumerate(ROUTES):
            self.mapper.connect(path, route_index=index,
                                requirements=requirements)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    @webob.dec.wsgify
    def __call__(self, req):
        length = req.environ.get('CONTENT_LENGTH')
        if length and not _CONTENT_LENGTH.match(length):
            # glance-lite-api (cheroot) refuses such a request before the
            # application runs; mod_wsgi and uWSGI hand it over as it came,
            # and WebOb reads it as "no Content-Length": the body would be
            # ignored and the image created without data.
            return faults.to_http_error(exception.Invalid(
                'Malformed Content-Length header: %r' % length[:64]))
        if req.path_info == '':
            # /v1 without its slash (spec §2 row 21).
            return webob.exc.HTTPFound(location=req.application_url + '/')
        match = self.mapper.match(req.path_info)
        if match is None:
            if req.method in _KNOWN_METHODS:
                return webob.exc.HTTPNotFound()
            return webob.exc.HTTPNotImplemented()
        _path, allow, methods = ROUTES[int(match.pop('route_index'))]
        if req.method in methods:
            handler = methods[req.method]
        elif ANY in methods:
            handler = methods[ANY]
        else:
            handler = 'allow:' + allow
        if handler is None or handler.startswith('allow:'):
            error = webob.exc.HTTPMethodNotAllowed()
            if handler:
                error.headers['Allow'] = handler[len('allow:'):]
            return error
        controller_name, action = handler.split('.')
        match = {k: v for k, v in match.items()
                 if k in ('image_id', 'member_id')}
        controller = self.controllers[controller_name]
        try:
            return getattr(controller, action)(req, **match)
        except Exception as error:  # noqa: BLE001 - mapped to an answer
            return faults.to_http_error(error)
