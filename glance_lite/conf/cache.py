"""Options of the image cache (spec §20.2): the per-node copy of image
data that the ``cache`` filter of the ``*+caching`` and
``*+cachemanagement`` flavors serves downloads from."""

from oslo_config import cfg

cache_opts = [
    cfg.StrOpt('image_cache_dir', default='$state_path/image-cache',
               help='Directory of the image cache of this node: complete '
                    'entries, incomplete/ (fills in progress), invalid/ '
                    '(failed fills), queue/ (the prefetch queue) and the '
                    'bookkeeping database. Created when a caching flavor '
                    'starts; a directory that cannot be created or written '
                    'refuses the start. Every worker process of a node '
                    'shares it; never share it between nodes.'),
    cfg.IntOpt('image_cache_max_size', default=10 * 1024 ** 3, min=0,
               help='Bytes of complete entries "glance-lite-manage cache '
                    'prune" brings the cache back to. While the entries '
                    'exceed it no new entry is filled; it is not a limit '
                    'enforced on the fill in progress.'),
    cfg.IntOpt('image_cache_stall_time', default=86400, min=0,
               help='Seconds after which "glance-lite-manage cache clean" '
                    'removes a fill that is still in progress (fills of '
                    'processes that died are removed at once).'),
    cfg.StrOpt('image_cache_driver', default='sqlite',
               choices=['sqlite', 'xattr'], ignore_case=True,
               help='Where the per-entry bookkeeping lives. Both values are '
                    'accepted for compatibility with Glance\'s '
                    'configuration files; glance_lite keeps its bookkeeping '
                    'in image_cache_sqlite_db either way (no extended '
                    'attributes or atime updates needed).'),
    cfg.StrOpt('image_cache_sqlite_db', default='cache.db',
               help='The bookkeeping database, relative to '
                    'image_cache_dir.'),
]


def register_opts(conf):
    conf.register_opts(cache_opts)


def list_opts():
    return [(None, cache_opts)]
