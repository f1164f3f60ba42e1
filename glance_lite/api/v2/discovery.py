"""Discovery and the import routes of a site that offers no import method
(v2 spec §16, §17.1): stage 2, the interoperable import, is not part of
this release, and ``enabled_import_methods`` must stay empty."""

from oslo_config import cfg

from glance_lite.api.v2 import common
from glance_lite.api.v2 import views
from glance_lite.common import exception

CONF = cfg.CONF


class DiscoveryController:

    def import_info(self, req):
        """GET /v2/info/import: the import methods offered (none)."""
        return views.json_response({'import-methods': {
            'description': 'Import methods available.', 'type': 'array',
            'value': list(CONF.enabled_import_methods)}})

    def stores_info(self, req):
        """GET /v2/info/stores: glance_lite has one store (v1 spec §14)."""
        raise exception.NotFound(
            'Multi backend is not supported at this site.')

    def stage(self, req, image_id):
        """PUT /v2/images/{id}/stage: glance-direct is not offered."""
        raise exception.NotFound(
            "'glance-direct' method is not available at this site.")

    def import_(self, req, image_id):
        """POST /v2/images/{id}/import: no method is offered, so every
        well-formed request names an unknown one."""
        body = common.json_body(req)
        method = body.get('method') if isinstance(body, dict) else None
        if not isinstance(method, dict):
            raise exception.Invalid(
                "Import request requires a 'method' field.")
        name = method.get('name')
        if name is None:
            raise exception.Invalid("Import request requires a 'name' "
                                    "field.")
        for flag in ('all_stores_must_succeed', 'all_stores'):
            if flag in body and not isinstance(body[flag], bool):
                raise exception.Invalid(
                    "'%s' must be boolean value only" % flag)
        raise exception.Invalid("Unknown import method name '%s'." % name)
