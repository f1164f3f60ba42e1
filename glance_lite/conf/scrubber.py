"""Options of the scrubber (``glance-lite-manage images scrub``), which
removes the data that ``delayed_delete`` keeps (spec §22)."""

from oslo_config import cfg

scrubber_opts = [
    cfg.IntOpt('scrub_time', default=0, min=0,
               help='Seconds a pending_delete image waits after its delete '
                    'before the scrubber removes its data; until then '
                    '"glance-lite-manage images restore" can bring it back.'),
    cfg.IntOpt('scrub_pool_size', default=1, min=1,
               help='Images one scrubber run removes the data of in '
                    'parallel (threads).'),
    cfg.IntOpt('wakeup_time', default=300, min=1,
               help='Seconds "glance-lite-manage images scrub --daemon" '
                    'sleeps between the end of one run and the start of '
                    'the next.'),
    cfg.IntOpt('scrub_claim_timeout', default=3600, min=60,
               help='Seconds after which the claim a scrubber takes on an '
                    'image before removing its data expires: another '
                    'scrubber (or a restore) may then take the image over. '
                    'Keep it above the longest time one image\'s data takes '
                    'to delete from its store.'),
]


def register_opts(conf):
    conf.register_opts(scrubber_opts)


def list_opts():
    return [(None, scrubber_opts)]
