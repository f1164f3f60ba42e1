"""Options of the API service: listening, identity, limits and quotas."""

import os

from oslo_config import cfg

server_opts = [
    cfg.HostAddressOpt('bind_host', default='127.0.0.1',
                       help='Address the standalone API server listens on.'),
    cfg.PortOpt('bind_port', default=9292,
                help='Port the standalone API server listens on '
                     '(0 picks a free port and logs it).'),
    cfg.IntOpt('server_threads', default=32, min=1,
               help='Worker threads of the standalone server: the number of '
                    'requests (uploads included) served at once.'),
    cfg.IntOpt('backlog', default=4096, min=1,
               help='Connections the kernel queues for the standalone '
                    'server while its acceptor is busy (listen backlog; '
                    'capped by net.core.somaxconn). A short queue makes '
                    'bursts of clients retry after seconds.'),
    cfg.IntOpt('client_socket_timeout', default=900, min=0,
               help='Seconds a client connection may stay idle, mid-request '
                    'included, before the standalone server drops it.'),
    cfg.IntOpt('client_min_rate', default=500, min=0,
               help='Bytes per second a client must send, on average over '
                    'client_min_rate_window seconds of waiting for it, '
                    'while the standalone server reads its request (headers '
                    'and body); a slower one is dropped (408), so that '
                    'clients trickling bytes cannot hold the worker '
                    'threads. 0: no minimum.'),
    cfg.IntOpt('client_min_rate_window', default=20, min=1,
               help='Seconds of waiting for a client over which '
                    'client_min_rate is measured.'),
    cfg.IntOpt('max_request_header_size', default=65536, min=0,
               help='Largest request line plus headers, in bytes, the '
                    'standalone server reads; larger requests answer 413 '
                    'before reaching the application (0: no limit).'),
    cfg.IntOpt('max_request_header_fields', default=256, min=0,
               help='Most request header lines the application accepts; '
                    'more answer 431 (0: no limit). Keep it above '
                    'image_property_quota plus about 20.'),
    cfg.StrOpt('state_path',
               default=os.path.join(os.getcwd(), 'state'),
               sample_default='$PWD/state',
               help='Directory of the embedded defaults: the SQLite '
                    'catalogue and the file store live under it unless '
                    '[database] connection and [glance_store] '
                    'filesystem_store_datadir say otherwise.'),
    cfg.URIOpt('public_endpoint',
               help='Base URL clients reach the service at (for example '
                    'https://images.example.com). Used for version hrefs '
                    'and the Location header; by default the request\'s '
                    'own host URL is used.'),
    cfg.BoolOpt('enable_v1_api', default=True,
                help='Serve the Image API v1. When false, every /v1 request '
                     'answers 300 with the versions document.'),
    cfg.BoolOpt('enable_v2_api', default=True,
                help='Serve the Image API v2 (from the same catalogue and '
                     'stores as v1). When false, every /v2 request answers '
                     '300 with the versions document. At least one of '
                     'enable_v1_api and enable_v2_api must be true.'),
]

identity_opts = [
    cfg.BoolOpt('owner_is_tenant', default=True,
                help='Images are owned by the caller\'s project (true) or '
                     'by the calling user (false).'),
    cfg.StrOpt('admin_role', default='admin',
               help='Role (case-insensitive) that makes a caller an admin.'),
    cfg.BoolOpt('allow_anonymous_access', default=False,
                help='Give callers without a confirmed identity a read-only '
                     'context instead of answering 401.'),
    cfg.IntOpt('max_request_id_length', default=64, min=0,
               help='Longest X-Openstack-Request-ID accepted from a caller; '
                    'longer ones answer 431 (0 disables the check).'),
]

limit_opts = [
    cfg.IntOpt('limit_param_default', default=25, min=1,
               help='Page size of image lists when no limit is given.'),
    cfg.IntOpt('api_limit_max', default=1000, min=1,
               help='Largest page size a list request may ask for; larger '
                    'limits are silently reduced to this.'),
    cfg.IntOpt('image_size_cap', default=1099511627776, min=1,
               max=9223372036854775808,
               help='Largest image, in bytes, the service accepts.'),
    cfg.IntOpt('image_property_quota', default=128,
               help='Most custom properties an image may have '
                    '(negative: unlimited).'),
    cfg.IntOpt('image_member_quota', default=128,
               help='Most members an image may have (negative: unlimited).'),
    cfg.StrOpt('user_storage_quota', default='0',
               regex=r'^\d+(B|KB|MB|GB|TB)?$',
               help='Most image data an owner may store, as an integer '
                    'optionally followed by B, KB, MB, GB or TB (binary '
                    'multiples: 1KB = 1024 bytes); 0 means no quota. Counted '
                    'over the owner\'s images that hold data, and enforced '
                    'while uploads stream.'),
    cfg.StrOpt('property_protection_file',
               help='INI file of property protection rules; unset, every '
                    'caller may create, read, update and delete every '
                    'custom property its other permissions allow.'),
    cfg.StrOpt('property_protection_rule_format', default='roles',
               choices=[('roles', 'each rule lists role names'),
                        ('policies', 'each rule names a policy rule')],
               help='How the rules of property_protection_file are '
                    'written.'),
    cfg.IntOpt('upload_heartbeat_interval', default=60, min=1,
               help='Seconds between the refreshes of an uploading image\'s '
                    'updated_at while its data streams. They show the upload '
                    'is alive, so that "glance-lite-manage images '
                    'clean-stale" (whose threshold must be at least twice '
                    'this) never kills an upload in progress on any node. '
                    'An upload with no heartbeat for ten times this is '
                    'taken for dead by every API process\'s own check '
                    '(stale_upload_check_interval).'),
    cfg.IntOpt('stale_upload_check_interval', default=10, min=0,
               help='Seconds (on average; each wait is drawn between 75 % '
                    'and 125 % of it, so that nodes do not check together) '
                    'between the checks every API process makes for uploads '
                    'whose API process died: a saving image with no '
                    'heartbeat for ten times upload_heartbeat_interval is '
                    'killed and its partial data removed from the store, as '
                    '"glance-lite-manage images clean-stale" does. 0 turns '
                    'the check off.'),
    cfg.IntOpt('malloc_arena_max', default=2, min=0,
               help='Most malloc arenas glibc may give the API process\'s '
                    'threads, set when the application loads. Each thread '
                    'that moves image data in large pieces (rbd objects, S3 '
                    'parts) otherwise keeps what it allocated in an arena '
                    'of its own, up to eight per core: hundreds of MiB held '
                    'after a few transfers. 0 leaves glibc\'s default (or '
                    'the MALLOC_ARENA_MAX environment variable, which '
                    'applies even before the application loads).'),
    cfg.BoolOpt('delayed_delete', default=False,
                help='Leave deleted image data in the store for a scrubber '
                     '(the image shows pending_delete) instead of removing '
                     'it at once.'),
]

external_source_opts = [
    cfg.ListOpt('external_source_allowed_networks', default=[],
                sample_default='',
                help='Networks (addresses or CIDRs, for example '
                     '10.20.0.0/16 or fd00:1::/64) that external sources '
                     '(x-image-meta-location, x-glance-api-copy-from) and '
                     'their redirects may reach although they are not '
                     'public: by default loopback, link-local (the '
                     'metadata service included), private, shared (CGNAT), '
                     'unspecified, multicast and reserved addresses are '
                     'refused, so that a caller cannot make the service '
                     'fetch from its own host or network.'),
    cfg.IntOpt('max_member_body_size', default=1048576, min=1,
               help='Largest request body, in bytes, accepted by the '
                    'member calls (PUT /v1/images/{id}/members[/{member}]); '
                    'larger ones answer 413 unread.'),
]


def register_opts(conf):
    conf.register_opts(server_opts)
    conf.register_opts(identity_opts)
    conf.register_opts(limit_opts)
    conf.register_opts(external_source_opts)


def list_opts():
    return [(None, server_opts + identity_opts + limit_opts +
             external_source_opts)]
