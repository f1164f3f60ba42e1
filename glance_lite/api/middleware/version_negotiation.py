"""Version negotiation (v1 spec §3, v2 spec §1 and §2): pick the API
version from the Accept header or the first path segment, before
authentication, and tell the API router behind which one it got
(``API_VERSION_KEY``)."""

import json

from oslo_config import cfg
import webob
import webob.dec
import webob.exc

CONF = cfg.CONF

V1_TOKENS = ('v1', 'v1.0', 'v1.1')
# The v2 ids advertised, newest first (v2 spec §2.2): each one's features
# are served, single-store.
V2_IDS = ('v2.7', 'v2.6', 'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0')
V2_TOKENS = ('v2',) + V2_IDS
ACCEPT_PREFIX = 'application/vnd.openstack.images-'
# Set in the WSGI environment: 'v1' or 'v2'.
API_VERSION_KEY = 'glance_lite.api_version'


def versions_response(req, status):
    """The versions document: the v2 ids (v2.7 CURRENT), then v1.1 and
    v1.0 DEPRECATED, of the APIs that are enabled."""
    base = (CONF.public_endpoint or req.host_url).rstrip('/')
    versions = []
    if CONF.enable_v2_api:
        for version_id in V2_IDS:
            versions.append({'id': version_id,
                             'status': ('CURRENT' if version_id == V2_IDS[0]
                                        else 'SUPPORTED'),
                             'links': [{'rel': 'self',
                                        'href': base + '/v2/'}]})
    if CONF.enable_v1_api:
        for version_id in ('v1.1', 'v1.0'):
            versions.append({'id': version_id, 'status': 'DEPRECATED',
                             'links': [{'rel': 'self',
                                        'href': base + '/v1/'}]})
    response = webob.Response(status=status, content_type='application/json',
                              charset=None)
    if req.method != 'HEAD':
        response.body = json.dumps({'versions': versions}).encode('utf-8')
    return response


def _url_is_decodable(environ):
    """Whether the path and query are UTF-8 (spec §12.3, §18 Q25)."""
    try:
        for key in ('PATH_INFO', 'QUERY_STRING'):
            environ.get(key, '').encode('latin-1').decode('utf-8')
        # The query parsed exactly as the controllers will read it (WebOb
        # keeps blank values such as "?%FF=" and also splits on ";").
        webob.Request(environ).GET
    except UnicodeError:
        return False
    return True


class VersionNegotiation:
    """Route /v1... to the app behind, answer everything else with the
    versions document."""

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    @webob.dec.wsgify
    def __call__(self, req):
        # The first component to read the URL refuses one that is not
        # UTF-8, so nothing behind it meets an undecodable path or query.
        if not _url_is_decodable(req.environ):
            return webob.exc.HTTPBadRequest(
                explanation='Error decoding your request. Either the URL or '
                            'the request body contained characters that '
                            'could not be decoded by Glance')
        segments = req.path_info.lstrip('/').split('/')
        if segments[0] == 'versions':
            return versions_response(req, 200)
        accept = req.headers.get('Accept', '')
        if accept.startswith(ACCEPT_PREFIX):
            api = _api_of(accept[len(ACCEPT_PREFIX):])
            if api is None:
                return versions_response(req, 300)
            # The path keeps its segments: /images -> /v1/images.
            req.script_name += '/' + api
            req.environ[API_VERSION_KEY] = api
            return req.get_response(self.app)
        api = _api_of(segments[0])
        if api is None:
            return versions_response(req, 300)
        req.path_info_pop()
        req.environ[API_VERSION_KEY] = api
        return req.get_response(self.app)


def _api_of(token):
    """'v1' or 'v2' for a version token of an enabled API, else None
    (exact and case-sensitive)."""
    if CONF.enable_v1_api and token in V1_TOKENS:
        return 'v1'
    if CONF.enable_v2_api and token in V2_TOKENS:
        return 'v2'
    return None
