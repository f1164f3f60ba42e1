"""Options of the Image API v2 (v2 spec §20); the v1 options of v1 spec
§13 keep their meaning for both APIs."""

import hashlib

from oslo_config import cfg

# Algorithms whose hex digest fits os_hash_value (128 characters).
HASH_ALGORITHMS = sorted(
    name for name in hashlib.algorithms_guaranteed
    if not name.startswith('shake_')
    and hashlib.new(name).digest_size * 2 <= 128)

v2_opts = [
    cfg.StrOpt('hashing_algorithm', default='sha512',
               choices=HASH_ALGORITHMS,
               help='Algorithm of the multihash (os_hash_algo, '
                    'os_hash_value) computed on every upload, through v1 '
                    'and v2, beside the MD5 checksum.'),
    cfg.IntOpt('image_tag_quota', default=128,
               help='Tags an image may have; negative means unlimited.'),
    cfg.IntOpt('image_location_quota', default=10,
               help='Locations an image may have (v2 PATCH of /locations); '
                    'negative means unlimited.'),
    cfg.BoolOpt('show_image_direct_url', default=False,
                help='Show the URL of an image\'s first location as '
                     'direct_url in v2 image views. Store URLs may carry '
                     'credentials: turn it on only where every reader may '
                     'know them (with the rbd store, Nova and Cinder need '
                     'it to clone images copy-on-write).'),
    cfg.BoolOpt('show_multiple_locations', default=False,
                help='Show every location of an image in v2 views and let '
                     'PATCH change them. Store URLs may carry credentials.'),
    cfg.ListOpt('enabled_import_methods', default=[],
                help='Interoperable import methods offered through v2. '
                     'This release offers none, so the list must stay '
                     'empty.'),
    cfg.IntOpt('max_json_body_size', default=1024 * 1024, min=1,
               help='Largest JSON request body of the v2 API, in bytes; '
                    'a larger one answers 413.'),
    cfg.StrOpt('image_schema_file',
               help='JSON file of the deployer-defined image properties '
                    'added to the v2 image schema (a flat object of '
                    'property definitions, or {"properties": {...}, '
                    '"required": [...]}). By default schema-image.json in '
                    'the directory of the first configuration file; when '
                    'that file is missing the schema has no deployer '
                    'properties (a warning is logged). A file named here '
                    'must exist.'),
]


def register_opts(conf):
    conf.register_opts(v2_opts)


def list_opts():
    return [(None, v2_opts)]
