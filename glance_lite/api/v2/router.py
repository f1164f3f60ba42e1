"""The v2 router: every URL of the Image API v2 in one table (v2 spec §3).

A path lists its methods and the handler of each; another method answers
405 with the path's ``Allow`` value, HEAD included (v2 routes GET only).
A path that matches nothing answers 404, or 501 for a method HTTP does not
know here. Routes that take no body refuse one before anything else, the
404 of an unknown image included.
"""

import re

import routes
import webob.dec
import webob.exc

from glance_lite.api.v2 import discovery
from glance_lite.api.v2 import faults
from glance_lite.api.v2 import image_data
from glance_lite.api.v2 import image_list
from glance_lite.api.v2 import images
from glance_lite.api.v2 import members
from glance_lite.api.v2 import schemas_resource
from glance_lite.api.v2 import tags
from glance_lite.common import exception

_CONTENT_LENGTH = re.compile(r'[0-9]+\Z')
_KNOWN_METHODS = ('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS')

# Handlers that take no body (v2 spec §3, "Bodies on routes that take
# none"); a body there is a 400 before anything else.
NO_BODY = frozenset([
    'schemas.image', 'schemas.images', 'schemas.member', 'schemas.members',
    'images.show', 'images.delete', 'data.download', 'data.deactivate',
    'data.reactivate', 'tags.update', 'tags.delete', 'members.index',
    'members.show', 'members.delete', 'discovery.import_info',
    'discovery.stores_info'])

# (path, Allow header for the methods not listed, {method: handler}).
ROUTES = [
    ('/schemas/image', 'GET', {'GET': 'schemas.image'}),
    ('/schemas/images', 'GET', {'GET': 'schemas.images'}),
    ('/schemas/member', 'GET', {'GET': 'schemas.member'}),
    ('/schemas/members', 'GET', {'GET': 'schemas.members'}),
    ('/images', 'GET, POST', {'GET': 'list.index', 'POST': 'images.create'}),
    ('/images/{image_id}', 'GET, PATCH, DELETE',
     {'GET': 'images.show', 'PATCH': 'images.update',
      'DELETE': 'images.delete'}),
    ('/images/{image_id}/file', 'GET, PUT',
     {'GET': 'data.download', 'PUT': 'data.upload'}),
    ('/images/{image_id}/stage', 'PUT', {'PUT': 'discovery.stage'}),
    ('/images/{image_id}/import', 'POST', {'POST': 'discovery.import_'}),
    ('/images/{image_id}/actions/deactivate', 'POST',
     {'POST': 'data.deactivate'}),
    ('/images/{image_id}/actions/reactivate', 'POST',
     {'POST': 'data.reactivate'}),
    ('/images/{image_id}/tags/{tag}', 'PUT, DELETE',
     {'PUT': 'tags.update', 'DELETE': 'tags.delete'}),
    ('/images/{image_id}/members', 'GET, POST',
     {'GET': 'members.index', 'POST': 'members.create'}),
    ('/images/{image_id}/members/{member_id}', 'GET, PUT, DELETE',
     {'GET': 'members.show', 'PUT': 'members.update',
      'DELETE': 'members.delete'}),
    ('/info/import', 'GET', {'GET': 'discovery.import_info'}),
    ('/info/stores', 'GET', {'GET': 'discovery.stores_info'}),
]
_SEGMENT = '[^/]+'
_PARAMETERS = ('image_id', 'member_id', 'tag')


def _has_body(req):
    if req.headers.get('Transfer-Encoding', '').strip():
        return True
    return bool(req.content_length)


def _decoded(value):
    """A path segment as text: percent-decoded, UTF-8.

    :raises Invalid: it is not UTF-8.
    """
    try:
        return value.encode('latin-1').decode('utf-8')
    except UnicodeError:
        raise exception.Invalid(
            'Error decoding your request. Either the URL or the request '
            'body contained characters that could not be decoded by Glance')


class Router:
    """Dispatch a v2 request (path already stripped of /v2) to a handler."""

    def __init__(self):
        self.controllers = {
            'schemas': schemas_resource.SchemasController(),
            'images': images.ImagesController(),
            'list': image_list.ImageListController(),
            'data': image_data.ImageDataController(),
            'tags': tags.TagsController(),
            'members': members.MembersController(),
            'discovery': discovery.DiscoveryController(),
        }
        self.mapper = routes.Mapper()
        requirements = {name: _SEGMENT for name in _PARAMETERS}
        for index, (path, _allow, _methods) in enumerate(ROUTES):
            self.mapper.connect(path, route_index=index,
                                requirements=requirements)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    @webob.dec.wsgify
    def __call__(self, req):
        try:
            response = self._dispatch(req)
        except Exception as error:  # noqa: BLE001 - mapped to an answer
            return faults.to_http_error(error)
        if isinstance(response, webob.exc.HTTPError):
            return faults.to_http_error(response)
        return response

    def _dispatch(self, req):
        length = req.environ.get('CONTENT_LENGTH')
        if length and not _CONTENT_LENGTH.match(length):
            # As in v1: mod_wsgi and uWSGI pass such a header on, and WebOb
            # would read the request as bodiless.
            raise exception.Invalid(
                'Malformed Content-Length header: %r' % length[:64])
        if req.path_info == '':
            # /v2 without its slash (v2 spec §1).
            return webob.exc.HTTPFound(location=req.application_url + '/')
        # Routes matches the raw (percent-decoded, latin-1) path segments;
        # req.path_info would be UTF-8-decoded already (and _decoded would
        # refuse every non-ASCII segment).
        match = self.mapper.match(req.environ.get('PATH_INFO', ''))
        if match is None:
            if req.method in _KNOWN_METHODS:
                return webob.exc.HTTPNotFound()
            return webob.exc.HTTPNotImplemented()
        _path, allow, methods = ROUTES[int(match.pop('route_index'))]
        handler = methods.get(req.method)
        if handler is None:
            error = webob.exc.HTTPMethodNotAllowed()
            error.headers['Allow'] = allow
            return error
        if handler in NO_BODY and _has_body(req):
            raise exception.Invalid('A body is not expected with this '
                                    'request.')
        arguments = {name: _decoded(value) for name, value in match.items()
                     if name in _PARAMETERS}
        controller_name, action = handler.split('.')
        method = getattr(self.controllers[controller_name], action, None)
        if method is None:
            # A v2 call this release does not serve yet (see the release
            # notes): a clear answer, never a 500.
            return webob.exc.HTTPNotImplemented(
                detail='%s %s is not implemented by this release of '
                       'glance_lite.' % (req.method, '/v2' + _path))
        return method(req, **arguments)
