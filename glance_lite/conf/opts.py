"""Every glance_lite option, for oslo-config-generator."""

from glance_lite.conf import api
from glance_lite.conf import image_format
from glance_lite.conf import paste


def list_opts():
    return api.list_opts() + image_format.list_opts() + paste.list_opts()
