"""The application behind the pipeline's filters: the v1 or the v2 router,
as version negotiation chose (v2 spec §1)."""

from glance_lite.api.middleware import version_negotiation
from glance_lite.api import router as v1_router
from glance_lite.api.v2 import router as v2_router


class APIRouter:
    """Hand a request to the router of the API version negotiated."""

    def __init__(self):
        self.routers = {'v1': v1_router.Router(), 'v2': v2_router.Router()}

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    def __call__(self, environ, start_response):
        api = environ.get(version_negotiation.API_VERSION_KEY, 'v1')
        return self.routers[api](environ, start_response)
