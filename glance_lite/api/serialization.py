"""Images as v1 JSON (spec §5.4, §10.1)."""

import json

import webob

from glance_lite.api import image_headers

DETAIL_FIELDS = ('id', 'name', 'size', 'virtual_size', 'disk_format',
                 'container_format', 'checksum', 'min_disk', 'min_ram',
                 'status', 'is_public', 'protected', 'owner', 'created_at',
                 'updated_at', 'deleted_at', 'deleted')
SUMMARY_FIELDS = ('id', 'name', 'size', 'disk_format', 'container_format',
                  'checksum')


def _v1_value(image, field):
    value = image.get(field)
    if field == 'size' and value is None:
        # Null until data arrives; v1 has always said 0 (v2 spec X-10).
        return 0
    return value


def image_detail(image):
    """Every attribute, properties included; never a location."""
    result = {}
    for field in DETAIL_FIELDS:
        value = _v1_value(image, field)
        if hasattr(value, 'strftime'):
            value = image_headers.format_timestamp(value)
        result[field] = value
    result['properties'] = dict(image.get('properties', {}))
    return result


def image_summary(image):
    return {field: _v1_value(image, field) for field in SUMMARY_FIELDS}


def json_response(body, status=200):
    response = webob.Response(status=status, content_type='application/json',
                              charset=None)
    # Python's default separators: clients compare '{"images": []}' exactly.
    response.body = json.dumps(body).encode('utf-8')
    return response
