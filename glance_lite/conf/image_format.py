"""Options of [image_format]: the disk and container formats accepted."""

from oslo_config import cfg

image_format_group = cfg.OptGroup('image_format',
                                  title='Image formats accepted on the API')

image_format_opts = [
    cfg.ListOpt('disk_formats',
                default=['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw',
                         'qcow2', 'vdi', 'iso', 'ploop'],
                help='Disk formats an image may declare (case-sensitive).'),
    cfg.ListOpt('container_formats',
                default=['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker'],
                help='Container formats an image may declare '
                     '(case-sensitive).'),
]


def register_opts(conf):
    conf.register_group(image_format_group)
    conf.register_opts(image_format_opts, group=image_format_group)


def list_opts():
    return [(image_format_group, image_format_opts)]
