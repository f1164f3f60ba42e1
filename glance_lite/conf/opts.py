"""Every glance_lite option, for oslo-config-generator."""

from glance_lite import conf
from glance_lite.conf import api
from glance_lite.conf import cache
from glance_lite.conf import image_format
from glance_lite.conf import notifications
from glance_lite.conf import paste
from glance_lite.conf import scrubber
from glance_lite.conf import server
from glance_lite.conf import store_requests
from glance_lite.conf import v2


def list_opts():
    return (api.list_opts() + cache.list_opts() +
            image_format.list_opts() + notifications.list_opts() +
            paste.list_opts() + scrubber.list_opts() + server.list_opts() +
            store_requests.list_opts() + v2.list_opts())


def set_defaults():
    """glance_lite's defaults of its libraries' options, for the sample."""
    conf.set_defaults()
    notifications.set_messaging_defaults()
