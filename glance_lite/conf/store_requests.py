"""Bounds on the requests glance_lite makes to remote stores (Swift and
S3, and the Keystone that Swift authenticates with) while a client waits.

glance_store has no option for these: swiftclient's defaults (five
retries with back-off, no socket timeout) held a request 31 s against a
refused store and for ever against one that accepts and never answers;
botocore's (60 s connect and read, five attempts) minutes.
"""

from oslo_config import cfg

GROUP = 'store_requests'

store_request_opts = [
    cfg.FloatOpt('timeout', default=4.0, min=0.1,
                 help='Seconds a Swift, S3 or Keystone request of a store '
                      'may wait to connect, and for each read of an '
                      'answer, before it fails. A store that is down '
                      'answers 503 after about (retries + 1) x timeout + '
                      'the back-off between attempts (1 to 2 s) + timeout '
                      'for the clean-up: 13 s with the defaults.'),
    cfg.IntOpt('retries', default=1, min=0,
               help='Times a failed Swift or S3 request (connection '
                    'refused or lost, timeout, 5xx answer) is tried again '
                    'before the store is taken as unavailable.'),
]


def register_opts(conf):
    conf.register_opts(store_request_opts, group=GROUP)


def list_opts():
    return [(GROUP, store_request_opts)]
