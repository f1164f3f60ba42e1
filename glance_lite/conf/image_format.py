"""Options of [image_format]: the disk and container formats accepted, and
how uploaded data is inspected against them (v2 spec §12.2)."""

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
    cfg.BoolOpt('require_image_format_match',
                default=True,
                help='Refuse uploaded data (container format bare) whose '
                     'format, as oslo.utils\' format inspector detects it, '
                     'is not the declared disk format: 415 through v2, 400 '
                     'and the image killed through v1. When false such data '
                     'is accepted without a virtual size. Safety checks '
                     '(a qcow2 naming a backing or data file, for example) '
                     'refuse data either way.'),
    cfg.ListOpt('gpt_safety_checks_nonfatal',
                default=[],
                help='Safety checks of the GPT format inspector whose '
                     'failure is only logged (for example mbr, '
                     'for disks with a non-standard protective MBR) '
                     'instead of refusing the upload.'),
]


def register_opts(conf):
    conf.register_group(image_format_group)
    conf.register_opts(image_format_opts, group=image_format_group)


def list_opts():
    return [(image_format_group, image_format_opts)]
