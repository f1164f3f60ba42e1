"""Options of [paste_deploy]: which pipeline of api-paste.ini serves."""

from oslo_config import cfg

paste_deploy_group = cfg.OptGroup('paste_deploy',
                                  title='Paste pipeline selection')

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
                                     '[keystone_authtoken]')],
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
