"""Options of notifications (spec §21): what glance_lite adds to
oslo.messaging's own ``[oslo_messaging_notifications]`` and
``transport_url`` options, which choose the driver and the broker."""

from oslo_config import cfg

# Glance's exchange, not oslo.messaging's "openstack": consumers of
# Glance's notifications bind to "glance".
CONTROL_EXCHANGE = 'glance'

notification_opts = [
    cfg.StrOpt('default_publisher_id', default='image.localhost',
               help='publisher_id of every notification glance_lite sends '
                    '(Glance\'s default; set "image.<host>" to tell the API '
                    'nodes apart).'),
    cfg.ListOpt('disabled_notifications', default=[],
                help='Notifications not to send: event types (image.send) '
                     'or groups, the part before the first dot (image). '
                     'Nothing is sent at all unless '
                     '[oslo_messaging_notifications] driver is set.'),
    cfg.IntOpt('notification_queue_size', default=1000, min=1,
               help='Events waiting for the background sender at most. '
                    'Requests never wait for the broker: while it is slow or '
                    'unreachable the events queue up here, and an event '
                    'that finds the queue full is dropped (with a warning '
                    'naming it).'),
    cfg.FloatOpt('notification_flush_timeout', default=5.0, min=0,
                 help='Seconds a stopping process gives the sender to '
                      'deliver the events still queued; what is left then '
                      'is dropped.'),
]


def register_opts(conf):
    conf.register_opts(notification_opts)


def set_messaging_defaults():
    """Give oslo.messaging's options the defaults Glance installs (a
    config file still wins). oslo.messaging takes about a second to
    import, so only the processes that set up notifications (and the
    sample's generator) import it."""
    import oslo_messaging
    oslo_messaging.set_transport_defaults(CONTROL_EXCHANGE)


def list_opts():
    return [(None, notification_opts)]
