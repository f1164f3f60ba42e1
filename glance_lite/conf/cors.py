"""The defaults glance_lite gives oslo.middleware's ``[cors]`` options
(spec §23.3): what a browser needs for v1, which Glance's defaults miss
(HEAD, the x-image-meta-* request headers, the answer's image headers).

The options themselves are oslo.middleware's; they stay inert until an
operator sets ``[cors] allowed_origin``.
"""

from oslo_middleware import cors

# Request headers a browser may send; a name ending in "*" allows every
# header it starts (custom properties are open-ended).
ALLOW_HEADERS = [
    # Glance's list.
    'Content-MD5', 'X-Image-Meta-Checksum', 'X-Storage-Token',
    'Accept-Encoding', 'X-Auth-Token', 'X-Identity-Status', 'X-Roles',
    'X-Service-Catalog', 'X-User-Id', 'X-Tenant-Id',
    'X-OpenStack-Request-ID',
    # What v1's create and update send.
    'Content-Type', 'X-Glance-API-Copy-From', 'X-Glance-Registry-Purge-Props',
    'X-Image-Meta-*',
]
# Answer headers a page may read; each answer also exposes the
# x-image-meta-property-* names it carries.
EXPOSE_HEADERS = [
    # Glance's list.
    'X-Image-Meta-Checksum', 'X-Auth-Token', 'X-Subject-Token',
    'X-Service-Token', 'X-OpenStack-Request-ID',
    'ETag', 'Location', 'Content-Length',
] + ['X-Image-Meta-%s' % name for name in (
    'Id', 'Name', 'Disk_Format', 'Container_Format', 'Size', 'Virtual_Size',
    'Status', 'Is_Public', 'Protected', 'Min_Disk', 'Min_Ram', 'Owner',
    'Created_At', 'Updated_At', 'Deleted_At', 'Deleted')]
ALLOW_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']


def set_defaults():
    cors.set_defaults(allow_headers=ALLOW_HEADERS,
                      expose_headers=EXPOSE_HEADERS,
                      allow_methods=ALLOW_METHODS, max_age=3600,
                      allow_credentials=True)
