"""The catalogue's engine on an unreachable PostgreSQL: a request's
engine fails at once with DBConnectionError (a 503, whatever the wording
of libpq), and start-up tries [database] max_retries times first."""

from unittest import mock

from oslo_config import cfg
from oslo_db import exception as db_exc
import pytest

from glance_lite import conf
from glance_lite.db import api as db_api
from glance_lite.db import engine

CONF = cfg.CONF
# Nothing listens on port 1.
UNREACHABLE = 'postgresql+psycopg2://glance:x@127.0.0.1:1/glance'


@pytest.fixture
def unreachable():
    conf.parse_args([], default_config_files=[])
    CONF.set_override('connection', UNREACHABLE, group='database')
    CONF.set_override('retry_interval', 0, group='database')
    db_api.reset()
    yield
    db_api.reset()
    CONF.reset()
    CONF.clear_override('connection', group='database')
    CONF.clear_override('retry_interval', group='database')


def test_a_request_fails_at_once(unreachable):
    with mock.patch.object(engine.LOG, 'warning') as warning:
        with pytest.raises(db_exc.DBConnectionError):
            db_api.image_get('some-id')
    assert not warning.called  # no start-up retries


def test_start_up_retries_then_fails(unreachable):
    CONF.set_override('max_retries', 3, group='database')
    try:
        with mock.patch.object(engine.LOG, 'warning') as warning:
            with pytest.raises(db_exc.DBConnectionError):
                db_api.get_engine(wait=True)
    finally:
        CONF.clear_override('max_retries', group='database')
    assert warning.call_count == 3
    assert 'SQL connection failed' in warning.call_args[0][0]
    # Not kept: the next use creates the engine again.
    assert engine._facade is None
