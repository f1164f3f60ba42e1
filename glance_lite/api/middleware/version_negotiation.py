"""Version negotiation (spec §3): pick the API version from the Accept
header or the first path segment, before authentication."""

import json

from oslo_config import cfg
import webob
import webob.dec
import webob.exc

CONF = cfg.CONF

V1_TOKENS = ('v1', 'v1.0', 'v1.1')
ACCEPT_PREFIX = 'application/vnd.openstack.images-'


def versions_response(req, status):
    """The versions document: v1.1 and v1.0, both DEPRECATED."""
    base = (CONF.public_endpoint or req.host_url).rstrip('/')
    versions = []
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
            version = accept[len(ACCEPT_PREFIX):]
            if CONF.enable_v1_api and version in V1_TOKENS:
                # The path keeps its segments: /images -> /v1/images.
                req.script_name += '/v1'
                return req.get_response(self.app)
            return versions_response(req, 300)
        if CONF.enable_v1_api and segments[0] in V1_TOKENS:
            req.path_info_pop()
            return req.get_response(self.app)
        return versions_response(req, 300)
