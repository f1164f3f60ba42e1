"""``store check`` where a real Swift cannot be made to go: layouts its
listing does not cover (several containers, multi-tenant), and a Swift
that cannot be reached, which must stop the check instead of reporting
every image's data as missing. The store is glance_lite's swift driver
as glance_store loads it, pointed at a closed port. Listing a real Swift
and S3 is tested in tests/stores/test_store_check.py."""

from oslo_config import cfg
import pytest

from glance_lite.common import exception
from glance_lite import conf
from glance_lite.image import maintenance
from glance_lite import store

CONF = cfg.CONF
CLOSED = 'http://127.0.0.1:9'
IMAGE_ID = '3c9f1b8e-0d4a-4e5b-9a7c-2f6d8e1b0a55'


@pytest.fixture
def swift_store(tmp_path):
    """Options for a file and a swift store whose Keystone and Swift
    refuse connections (one attempt, 1 s timeout); ``store.configure()``
    is the test's."""
    conf.parse_args([], default_config_files=[])
    CONF.set_override('state_path', str(tmp_path))
    CONF.set_override('retries', 0, group='store_requests')
    CONF.set_override('timeout', 1, group='store_requests')
    for name, value in {
            'stores': ['file', 'swift'],
            'filesystem_store_datadir': str(tmp_path / 'images'),
            'swift_store_auth_address': CLOSED + '/v3',
            'swift_store_user': 'service:glance',
            'swift_store_key': 'swift-secret',
            'swift_store_container': 'glance',
            'swift_store_endpoint': CLOSED + '/v1/AUTH_x'}.items():
        CONF.set_override(name, value, group='glance_store')
    yield
    CONF.reset()


@pytest.mark.parametrize('option,value,named', [
    ('swift_store_multiple_containers_seed', 2,
     'swift_store_multiple_containers_seed'),
    ('swift_store_multi_tenant', True, 'swift_store_multi_tenant')])
def test_swift_layouts_not_listed_stop_the_check_before_any_listing(
        swift_store, option, value, named):
    CONF.set_override(option, value, group='glance_store')
    store.configure()

    with pytest.raises(store.EnumerationUnsupported) as raised:
        next(store.list_objects())

    assert 'The objects of the swift store cannot be listed' in (
        raised.value.msg)
    assert named in raised.value.msg


def test_swift_that_cannot_be_reached_stops_the_listing(swift_store):
    store.configure()

    with pytest.raises(exception.StoreUnavailable) as raised:
        list(store.list_objects())

    assert 'swift' in raised.value.msg
    for detail in ('127.0.0.1', 'swift-secret', 'glance'):
        assert detail not in raised.value.msg


def test_swift_that_cannot_be_reached_is_no_missing_data(swift_store):
    """The driver's own get_size answers 0 for any failure: a check
    would have reported (and --repair dropped) every image in Swift."""
    store.configure()
    driver = store.glance_store.get_store_from_scheme('swift')
    uri = driver.create_location(IMAGE_ID).get_uri()

    with pytest.raises(exception.StoreUnavailable):
        maintenance._data_problem(uri, 1000)
