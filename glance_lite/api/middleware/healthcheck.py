"""Serve /healthcheck with oslo.middleware's healthcheck app, and its
``glance_lite_stores`` backend.

oslo.middleware ships the healthcheck only as an app (its filter form is
gone); this filter puts it in front of the pipeline at its usual path, so
api-paste.ini stays a single ordered pipeline.
"""

from oslo_middleware import healthcheck
from oslo_middleware.healthcheck import pluginbase

from glance_lite.store import health

PATH = '/healthcheck'


class HealthcheckRoute:

    def __init__(self, app, healthcheck_app):
        self.app = app
        self.healthcheck_app = healthcheck_app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        healthcheck_app = healthcheck.Healthcheck.app_factory(global_conf,
                                                              **local_conf)
        return lambda app: cls(app, healthcheck_app)

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '').rstrip('/') == PATH:
            return self.healthcheck_app(environ, start_response)
        return self.app(environ, start_response)


class StoresHealthcheck(pluginbase.HealthcheckBaseExtension):
    """Each remote store's state as this process last found it (at
    start-up, then on every request): ``stores: swift: ok, s3:
    unreachable``, with the option to check for each failing one.

    Always available: every API node shares the stores, so a store
    outage taking the nodes out of a load balancer would take the whole
    API away (metadata, listings, the other stores) for the one store.
    The plain view therefore stays "OK"; the detail view
    ([healthcheck] detailed) shows the states.
    """

    def healthcheck(self, server_port):
        # The Healthcheck app has registered and (from paste) set it.
        if not self.oslo_conf.healthcheck.detailed:
            # An empty reason is left out of the plain answer.
            return pluginbase.HealthcheckResult(available=True, reason='')
        states = health.states()
        if not states:
            return pluginbase.HealthcheckResult(
                available=True, reason='stores: no remote store')
        summary = ', '.join('%s: %s' % (name, state[0])
                            for name, state in sorted(states.items()))
        details = '; '.join(
            '%s %s: check %s' % (name, state, option)
            for name, (state, option, _when) in sorted(states.items())
            if option)
        return pluginbase.HealthcheckResult(
            available=True, reason='stores: ' + summary,
            details=details or None)
