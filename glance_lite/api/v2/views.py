"""Images and members as v2 JSON (v2 spec §5.2, §5.3, §15.1)."""

import json

from oslo_config import cfg
import webob

from glance_lite.api import policy
from glance_lite.common import status as image_status

CONF = cfg.CONF

# Core attributes of every image view, null when they have no value; they
# win over an additional property of the same name (one written through
# v1, v2 spec §21.6).
CORE_ATTRIBUTES = ('name', 'disk_format', 'container_format', 'visibility',
                   'size', 'virtual_size', 'status', 'checksum', 'protected',
                   'min_ram', 'min_disk', 'owner', 'os_hidden',
                   'os_hash_algo', 'os_hash_value', 'id')
# Additional properties glance_lite never shows (v2 spec §5.2 item 1).
HIDDEN_PROPERTIES = ('os_glance_stage_host', 'os_glance_hash_op_host')


def timestamp(value):
    """A catalogue time as v2 shows it: UTC, whole seconds, a literal Z."""
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')


def _locations_shown(context, image):
    """The active locations the caller may see, or None when they are not
    shown at all."""
    if not (CONF.show_multiple_locations or CONF.show_image_direct_url):
        return None
    if (image['status'] == image_status.DEACTIVATED
            and not context.is_admin):
        return []
    if not policy.allows(context, 'get_image_location',
                         policy.image_target(context, image)):
        return []
    return [loc for loc in image.get('locations', [])
            if loc['status'] == image_status.LOCATION_ACTIVE]


def image_view(context, image):
    """The image as one flat JSON object. ``image`` is a catalogue dict
    whose unreadable properties (property protections) are already gone.
    """
    view = {name: ('' if value is None else value)
            for name, value in image.get('properties', {}).items()
            if name not in HIDDEN_PROPERTIES}
    for name in CORE_ATTRIBUTES:
        view[name] = image.get(name)
    view['created_at'] = timestamp(image['created_at'])
    view['updated_at'] = timestamp(image['updated_at'])
    view['tags'] = list(image.get('tags', []))
    view['self'] = '/v2/images/%s' % image['id']
    view['file'] = '/v2/images/%s/file' % image['id']
    view['schema'] = '/v2/schemas/image'
    locations = _locations_shown(context, image)
    if locations is not None:
        if CONF.show_multiple_locations:
            view['locations'] = [{'url': loc['url'],
                                  'metadata': loc['metadata']}
                                 for loc in locations]
        if CONF.show_image_direct_url and locations:
            view['direct_url'] = locations[0]['url']
    return view


def member_view(membership):
    """A membership as v2 JSON."""
    return {'member_id': membership['member_id'],
            'image_id': membership['image_id'],
            'status': membership['status'],
            'created_at': timestamp(membership['created_at']),
            'updated_at': timestamp(membership['updated_at']),
            'schema': '/v2/schemas/member'}


def json_response(body, status=200, headers=None):
    """A JSON answer; non-ASCII text is sent as it is (UTF-8)."""
    response = webob.Response(status=status, content_type='application/json',
                              charset=None)
    response.body = json.dumps(body, ensure_ascii=False).encode('utf-8')
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
