"""Options of [paste_deploy]: which pipeline of api-paste.ini serves."""

from oslo_config import cfg

paste_deploy_group = cfg.OptGroup('paste_deploy',
                                  title='Paste pipeline selection')

# The image cache suffixes of the flavors (spec §20.1).
_CACHE_FLAVORS = [
    ('caching', 'that flavor, image downloads served through the image '
                'cache (image_cache_dir)'),
    ('cachemanagement', 'that flavor with the image cache and its '
                        'management API (/v1/cached_images, '
                        '/v1/queued_images)'),
]

paste_deploy_opts = [
    cfg.StrOpt('flavor', default='noauth',
               choices=[('noauth', 'every caller is an admin with no owner '
                                   '(the laptop default)'),
                        ('trusted-auth', 'identity taken from X-Tenant-Id, '
                                         'X-User-Id, X-Roles and '
                                         'X-Identity-Status as sent, for use '
                                         'behind a trusted proxy'),
                        ('keystone', 'tokens validated by keystonemiddleware '
                                     'against Keystone, configured in '
                                     '[keystone_authtoken]')] + [
                   ('%s+%s' % (auth, cache), what)
                   for auth in ('noauth', 'trusted-auth', 'keystone')
                   for cache, what in _CACHE_FLAVORS] + [
                   (cache, 'Glance\'s name of noauth+%s' % cache)
                   for cache, _what in _CACHE_FLAVORS],
               help='Pipeline of the paste file to serve: '
                    '"glance-lite-api-<flavor>".'),
    cfg.StrOpt('config_file',
               help='Paste file to load; by default api-paste.ini next to '
                    'the first config file, then the one shipped at the top '
                    'of the source tree.'),
]


def register_opts(conf):
    conf.register_group(paste_deploy_group)
    conf.register_opts(paste_deploy_opts, group=paste_deploy_group)


def list_opts():
    return [(paste_deploy_group, paste_deploy_opts)]
