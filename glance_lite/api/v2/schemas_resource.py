"""GET /v2/schemas/...: the four JSON schemas (v2 spec §6), for anyone;
no policy applies."""

from glance_lite.api.v2 import schemas
from glance_lite.api.v2 import views


class SchemasController:

    def image(self, req):
        return views.json_response(schemas.image_schema())

    def images(self, req):
        return views.json_response(schemas.images_schema())

    def member(self, req):
        return views.json_response(schemas.member_schema())

    def members(self, req):
        return views.json_response(schemas.members_schema())
