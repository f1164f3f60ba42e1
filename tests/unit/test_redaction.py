"""common.redaction: store locations and credentials replaced in every
finished log line, the exception summary oslo.log appends included."""

import io
import logging

from oslo_config import cfg
from oslo_log import formatters
from oslo_log import log
import pytest

from glance_lite.common import redaction

REDACT = redaction.Redactor(endpoints=['http://10.0.0.5:8080'],
                            paths=['/var/lib/glance-lite/images/'])


@pytest.mark.parametrize('text, expected', [
    ('at swift+https://u:p@h/v1/c/obj now', 'at swift+https://*** now'),
    ('"s3://key:secret@host/bucket/id"', '"s3://***"'),
    ('rbd://fsid/images/id/snap', 'rbd://***'),
    ('file:///var/lib/x/id', 'file://***'),
    ('GET /v1/AUTH_a88df7523a5f/glance/id', 'GET /v1/AUTH_***/glance/id'),
    ('-H "X-Auth-Token: gAAAAABrEfkzxBDc..."', '-H "X-Auth-Token: ***"'),
    ('token=0123456789abcdef', 'token=***'),
    ('Could not connect to the endpoint URL: "http://10.0.0.5:8080/glance/'
     'id"', 'Could not connect to the endpoint URL: "http://<redacted>"'),
    ('open /var/lib/glance-lite/images/id failed', 'open <file store> '
                                                   'failed'),
    # What names images and stores by id and scheme stays.
    ('Upload to image 0b5c7c1e failed (swift store: ClientException)',
     'Upload to image 0b5c7c1e failed (swift store: ClientException)'),
    ('GET /v1/images/detail status 200', 'GET /v1/images/detail status '
                                         '200'),
    ('http://example.com/source.img', 'http://example.com/source.img'),
])
def test_redacted_text(text, expected):
    assert REDACT(text) == expected


def test_the_exception_summary_oslo_log_appends_is_redacted():
    conf = cfg.ConfigOpts()

    log.register_options(conf)
    conf([])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatters.ContextFormatter(config=conf))
    logger = logging.getLogger('test_redaction')
    logger.addHandler(handler)
    logger.propagate = False
    redaction.install(REDACT, logger)
    redaction.install(REDACT, logger)  # wrapped once
    try:
        try:
            raise OSError('Could not connect to the endpoint URL: '
                          '"http://10.0.0.5:8080/glance/0b5c"')
        except OSError:
            logger.warning('Upload to image 0b5c failed: %s', 'OSError')
        logger.error('Stored at %s', 'swift+https://u:p@h/v1/AUTH_x/c/o')
    finally:
        logger.removeHandler(handler)

    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith('Upload to image 0b5c failed: OSError: OSError: '
                             'Could not connect to the endpoint URL: '
                             '"http://<redacted>"'), lines[0]
    assert lines[1].endswith('Stored at swift+https://***'), lines[1]
    assert isinstance(handler.formatter, redaction.RedactingFormatter)
    assert not isinstance(handler.formatter.formatter,
                          redaction.RedactingFormatter)
