"""The image cache filters of the ``*+caching`` and ``*+cachemanagement``
flavors (spec §20), right after the context middleware.

``cache`` gives ``GET /v1/images/{id}`` the node's cache (the controller
checks policy, visibility and status exactly as without it and only asks
the cache where the bytes come from), and drops an image's entry once a
``DELETE`` of it succeeded, or once an admin's ``PUT`` changed its size or
checksum. ``cachemanage`` answers ``/v1/cached_images`` and
``/v1/queued_images`` (§20.8) before the v1 router sees them.

Both filters share one :class:`~glance_lite.image.cache.ImageCache` per
process, opened when the pipeline is built: a cache directory that cannot
be used refuses the start.
"""

import re

from oslo_config import cfg
import webob.dec
import webob.exc

from glance_lite.api import faults
from glance_lite.api.middleware import version_negotiation
from glance_lite.api import policy
from glance_lite.api import serialization
from glance_lite.common import exception
from glance_lite.image import access
from glance_lite.image import cache as image_cache
from glance_lite.image import images

CONF = cfg.CONF
ENV_KEY = 'glance_lite.image_cache'

_IMAGE_PATH = re.compile(r'/images/([^/]+)/?\Z')
_MANAGE_PATH = re.compile(r'/(cached_images|queued_images)(?:/([^/]*))?/?\Z')
# Headers of a PUT that change what an entry must match (spec §20.7.3).
_DATA_HEADERS = ('x-image-meta-size', 'x-image-meta-checksum')
_ALLOW = {('cached_images', False): 'GET, DELETE',
          ('cached_images', True): 'DELETE',
          ('queued_images', False): 'GET, DELETE',
          ('queued_images', True): 'PUT, DELETE'}


def open_cache():
    """The node's cache in ``image_cache_dir`` (every filter and process
    opens its own handle; the state is all on disk).

    :raises RuntimeError: the directory cannot be created or written; the
        message names the option.
    """
    try:
        return image_cache.ImageCache(
            CONF.image_cache_dir, CONF.image_cache_max_size,
            CONF.image_cache_stall_time, CONF.image_cache_sqlite_db)
    except image_cache.CacheUnusable as e:
        raise RuntimeError('image_cache_dir is not usable: %s' % e)


class _Filter:
    """A filter holding the node's cache, opened when paste builds it."""

    def __init__(self, app):
        self.app = app
        self.cache = open_cache()

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls


class CacheFilter(_Filter):
    """Serve image downloads through the node's cache."""

    @webob.dec.wsgify
    def __call__(self, req):
        if req.environ.get(version_negotiation.API_VERSION_KEY) == 'v2':
            return self._v2(req)
        match = _IMAGE_PATH.match(req.path_info)
        if match is None or match.group(1) == 'detail':
            return req.get_response(self.app)
        image_id = match.group(1)
        if req.method == 'GET':
            req.environ[ENV_KEY] = self.cache
            return req.get_response(self.app)
        response = req.get_response(self.app)
        if response.status_int == 200 and image_cache.is_image_id(image_id):
            if req.method == 'DELETE':
                self.cache.forget(image_id)
            elif req.method == 'PUT' and any(
                    name in req.headers for name in _DATA_HEADERS):
                self.cache.remove(image_id)
        return response

    def _v2(self, req):
        # v2 downloads are not cached (v2 spec §24); an image deleted
        # through v2 leaves this node's cache as through v1.
        response = req.get_response(self.app)
        match = _IMAGE_PATH.match(req.path_info)
        if (match and req.method == 'DELETE' and response.status_int == 204
                and image_cache.is_image_id(match.group(1))):
            self.cache.forget(match.group(1))
        return response


class CacheManageFilter(_Filter):
    """The cache management API of this node (spec §20.8)."""

    @webob.dec.wsgify
    def __call__(self, req):
        match = _MANAGE_PATH.match(req.path_info)
        if match is None or req.environ.get(
                version_negotiation.API_VERSION_KEY) == 'v2':
            return req.get_response(self.app)
        collection, image_id = match.groups()
        try:
            policy.authorize(req.environ['glance_lite.context'],
                             'manage_image_cache')
        except exception.Forbidden as error:
            return faults.to_http_error(error)
        one = image_id is not None
        if one and not image_cache.is_image_id(image_id):
            return webob.exc.HTTPNotFound()
        handler = getattr(self, '_%s_%s%s' % (
            req.method.lower(), collection, '_one' if one else ''), None)
        if handler is None:
            error = webob.exc.HTTPMethodNotAllowed()
            error.headers['Allow'] = _ALLOW[collection, one]
            return error
        try:
            body = handler(req, image_id) if one else handler(req)
        except Exception as error:  # noqa: BLE001 - mapped to an answer
            return faults.to_http_error(error)
        return serialization.json_response(body)

    def _get_cached_images(self, req):
        return {'cached_images': self.cache.entries()}

    def _delete_cached_images(self, req):
        return {'num_deleted': self.cache.remove_all()}

    def _delete_cached_images_one(self, req, image_id):
        self.cache.remove(image_id)
        return None

    def _get_queued_images(self, req):
        return {'queued_images': self.cache.queued()}

    def _delete_queued_images(self, req):
        return {'num_deleted': self.cache.dequeue_all()}

    def _put_queued_images_one(self, req, image_id):
        image = access.get_visible_image(req.environ['glance_lite.context'],
                                         image_id)
        images.check_queueable(image)
        self.cache.queue(image_id)
        return None

    def _delete_queued_images_one(self, req, image_id):
        self.cache.dequeue(image_id)
        return None
