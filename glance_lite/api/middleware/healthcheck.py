"""Serve /healthcheck with oslo.middleware's healthcheck app.

oslo.middleware ships the healthcheck only as an app (its filter form is
gone); this filter puts it in front of the pipeline at its usual path, so
api-paste.ini stays a single ordered pipeline.
"""

from oslo_middleware import healthcheck

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
