"""``GET /v2/images`` (v2 spec §9): one page of the images the caller
lists, with its ``first`` and ``next`` links."""

from oslo_config import cfg

from glance_lite.api import policy
from glance_lite.api.v2 import common
from glance_lite.api.v2 import list_params
from glance_lite.api.v2 import views
from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.image import access
from glance_lite.image import protections

CONF = cfg.CONF

SCHEMA = '/v2/schemas/images'
_UNDECODABLE = ('Error decoding your request. Either the URL or the request '
                'body contained characters that could not be decoded by '
                'Glance')


class ImageListController:

    def index(self, req):
        """GET /v2/images: 200 {"images": [image view, ...], "first": ...,
        "schema": ..., "next": ... (only after a full page)}.

        :raises Invalid: a bad query parameter or marker (400).
        :raises Forbidden: ``get_images`` denied (403).
        """
        context = common.context_of(req)
        try:
            params = req.GET
            query = list_params.parse(params)
        except UnicodeDecodeError:
            raise exception.Invalid(_UNDECODABLE)
        policy.authorize(context, 'get_images',
                         {'project_id': context.project_id})
        marker = _marker(context, query.marker)
        found = db_api.image_list_v2(
            with_locations=bool(CONF.show_multiple_locations
                                or CONF.show_image_direct_url),
            **_catalogue_arguments(context, query, marker))
        # Dropped silently, as if not listed; the page still counts as
        # full by what the catalogue returned (v2 spec §9.1).
        shown = [image for image in found
                 if policy.allows(context, 'get_image',
                                  policy.image_target(context, image))]
        body = {'images': [views.image_view(context,
                                            protections.readable(context,
                                                                 image))
                           for image in shown],
                'first': list_params.first_link(query.query_items),
                'schema': SCHEMA}
        if shown and query.limit and len(found) == query.limit:
            body['next'] = list_params.next_link(query.query_items,
                                                 shown[-1]['id'])
        return views.json_response(body)


def _marker(context, marker_id):
    """The marker's image, which must be one the caller can read and not
    deleted (V4, V22).

    :raises Invalid: otherwise, the same 400 whether it exists or not.
    """
    if marker_id is None:
        return None
    invalid = exception.Invalid('No image found with ID %s'
                                % marker_id[:36])
    try:
        image = access.get_visible_image(context, marker_id)
    except exception.ImageNotFound:
        raise invalid
    if access.is_deleted(image):
        raise invalid
    return image


def _catalogue_arguments(context, query, marker):
    """``db_api.image_list_v2``'s arguments for this caller and query."""
    matches = {column: getattr(query, column)
               for column in list_params.MATCH_FILTERS
               if getattr(query, column) is not None}
    exact = {column: getattr(query, column)
             for column in list_params.STRING_FILTERS
             + list_params.INTEGER_FILTERS + ('protected',)
             if getattr(query, column) is not None}
    times = {column: getattr(query, column)
             for column in list_params.TIME_FILTERS
             if getattr(query, column)}
    return {'owner': context.owner, 'is_admin': context.is_admin,
            'member_status': query.member_status,
            'visibility': query.visibility, 'os_hidden': query.os_hidden,
            'matches': matches, 'exact': exact, 'times': times,
            'size_min': query.size_min, 'size_max': query.size_max,
            'properties': query.properties, 'tags': query.tags,
            'sort': query.sort, 'marker': marker, 'limit': query.limit}
