"""CORS (spec §23): oslo.middleware's filter, configured by ``[cors]``,
with the answers glance_lite decided where oslo.middleware's differ.

oslo.middleware parses the options and keeps the allowed origins; this
subclass answers through its public hooks (``process_request``,
``process_response``):

- inert (the request passes untouched, no webob objects made) while no
  ``allowed_origin`` is set, so ``OPTIONS`` keeps its 405/404 (Q28);
- an accepted preflight is answered here with an empty 200, before any
  authentication; a refused one gets the application's own answer, with
  no ``Access-Control-*`` header (oslo.middleware turns it into a 200);
- an ``allow_headers`` name ending in ``*`` allows every header it starts
  (``X-Image-Meta-*``: custom property names are open-ended);
- each answer also exposes the ``x-image-meta-property-*`` names it has;
- origin ``*`` is answered with ``*`` and never with credentials, a pair
  browsers refuse;
- a 405's ``Allow`` names ``OPTIONS`` too, since preflights are answered.
"""

from oslo_config import cfg
from oslo_middleware import cors
import webob

PROPERTY_PREFIX = 'x-image-meta-property-'
PREFLIGHT_HEADERS = ('Origin', 'Access-Control-Request-Method')


class CORS(cors.CORS):

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """paste.deploy: the options are glance-lite.conf's ``[cors]``."""
        return lambda app: cls(app, cfg.CONF)

    def __call__(self, environ, start_response):
        if not self.allowed_origins:
            return self.application(environ, start_response)
        return super().__call__(environ, start_response)

    def _config_for(self, origin):
        """(origin to answer, its configuration), or None if not allowed."""
        if origin in self.allowed_origins:
            return origin, self.allowed_origins[origin]
        if '*' in self.allowed_origins:
            return '*', self.allowed_origins['*']
        return None

    @staticmethod
    def _header_allowed(name, allowed):
        name = name.lower()
        return any(name == pattern or (pattern.endswith('*') and
                                       name.startswith(pattern[:-1]))
                   for pattern in allowed)

    def _origin_headers(self, origin, config):
        headers = {'Access-Control-Allow-Origin': origin}
        if config['allow_credentials'] and origin != '*':
            headers['Access-Control-Allow-Credentials'] = 'true'
        return headers

    def process_request(self, req):
        """Answer an accepted preflight: 200, empty, with the headers of
        spec §23.2; anything else goes on to the application."""
        if req.method != 'OPTIONS' or not all(
                name in req.headers for name in PREFLIGHT_HEADERS):
            return None
        found = self._config_for(req.headers['Origin'])
        if found is None:
            return None
        origin, config = found
        method = req.headers['Access-Control-Request-Method']
        if method not in config['allow_methods']:
            return None
        requested = [name.strip() for name in req.headers.get(
            'Access-Control-Request-Headers', '').split(',') if name.strip()]
        allowed = [name.lower() for name in
                   config['allow_headers'] + self.simple_headers]
        if not all(self._header_allowed(name, allowed) for name in requested):
            return None
        response = webob.Response(status=200, content_type=None)
        response.headers['Vary'] = 'Origin'
        response.headers.update(self._origin_headers(origin, config))
        if config['max_age']:
            response.headers['Access-Control-Max-Age'] = str(
                config['max_age'])
        response.headers['Access-Control-Allow-Methods'] = method
        if requested:
            response.headers['Access-Control-Allow-Headers'] = ','.join(
                requested)
        return response

    def process_response(self, response, request=None):
        """Decorate the answer to an allowed origin (errors included)."""
        if response.status_code == 405 and 'Allow' in response.headers:
            response.headers['Allow'] += ', OPTIONS'
        if request is None or 'Access-Control-Allow-Origin' in (
                response.headers) or 'Origin' not in request.headers:
            return response
        if request.method == 'OPTIONS' and all(
                name in request.headers for name in PREFLIGHT_HEADERS):
            return response  # a refused preflight
        found = self._config_for(request.headers['Origin'])
        if found is None:
            return response
        origin, config = found
        if 'Vary' in response.headers:
            response.headers['Vary'] += ',Origin'
        else:
            response.headers['Vary'] = 'Origin'
        response.headers.update(self._origin_headers(origin, config))
        exposed = list(config['expose_headers']) + [
            name for name, _value in response.headerlist
            if name.lower().startswith(PROPERTY_PREFIX) and name.isascii()]
        if exposed:
            response.headers['Access-Control-Expose-Headers'] = ','.join(
                exposed)
        return response


filter_factory = CORS.factory
