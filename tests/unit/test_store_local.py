"""The file store's fast path (glance_lite.store.local): bytes, md5 and
failures, on a real directory."""

import errno
import hashlib
import io
import os
from unittest import mock

from glance_store import exceptions as store_exc
from oslo_config import cfg
import pytest

from glance_lite.common import exception
from glance_lite import conf
from glance_lite import store
from glance_lite.store import local

CONF = cfg.CONF
IMAGE_ID = '0b9c7c4e-52a4-4c39-9a57-1f1f8d5bd7a1'


@pytest.fixture
def datadir(tmp_path):
    conf.parse_args([], default_config_files=[])
    CONF.set_override('state_path', str(tmp_path))
    CONF.set_default('filesystem_store_datadir', str(tmp_path / 'images'),
                     group='glance_store')
    store.configure()
    yield tmp_path / 'images'
    CONF.reset()


class BrokenReader:
    """Gives ``good`` bytes, then fails as the request body reader does
    when the client goes away."""

    def __init__(self, good):
        self._data = io.BytesIO(good)

    def read(self, size):
        block = self._data.read(size)
        if not block:
            raise exception.ClientDisconnected()
        return block


def test_stores_many_blocks_with_their_md5_and_multihash(datadir):
    # Not a multiple of the block size: the last block is short.
    data = os.urandom(5 * local.WRITE_BLOCK + 12345)

    url, size, checksum, multihash, _ = store.add(IMAGE_ID,
                                                  io.BytesIO(data))

    assert url == 'file://%s' % (datadir / IMAGE_ID)
    assert size == len(data)
    assert checksum == hashlib.md5(data).hexdigest()
    # The default hashing_algorithm (v2 spec §20).
    assert multihash == ('sha512', hashlib.sha512(data).hexdigest())
    assert (datadir / IMAGE_ID).read_bytes() == data
    chunks, reported = store.get(url)
    assert b''.join(chunks) == data and reported == len(data)


@pytest.mark.parametrize('algorithm', ['md5', 'sha256', 'sha3_512'])
def test_the_multihash_follows_hashing_algorithm(datadir, algorithm):
    CONF.set_override('hashing_algorithm', algorithm)
    data = os.urandom(2 * local.WRITE_BLOCK + 1)

    stored = store.add(IMAGE_ID, io.BytesIO(data))

    assert stored.checksum == hashlib.md5(data).hexdigest()
    assert stored.multihash == (algorithm,
                                hashlib.new(algorithm, data).hexdigest())


def test_an_empty_body_stores_an_empty_file(datadir):
    url, size, checksum, multihash, _ = store.add(IMAGE_ID, io.BytesIO(b''))

    assert (size, checksum) == (0, hashlib.md5(b'').hexdigest())
    assert multihash == ('sha512', hashlib.sha512(b'').hexdigest())
    assert (datadir / IMAGE_ID).read_bytes() == b''


def test_a_failing_body_leaves_no_file(datadir):
    with pytest.raises(exception.ClientDisconnected):
        store.add(IMAGE_ID, BrokenReader(b'x' * (3 * local.WRITE_BLOCK)))

    assert os.listdir(datadir) == []


def test_existing_data_is_a_conflict_and_stays(datadir):
    (datadir / IMAGE_ID).write_bytes(b'first')

    with pytest.raises(exception.Conflict):
        store.add(IMAGE_ID, io.BytesIO(b'second'))

    assert (datadir / IMAGE_ID).read_bytes() == b'first'


@pytest.mark.parametrize('error, expected', [
    (errno.ENOSPC, store_exc.StorageFull),
    (errno.EACCES, store_exc.StorageWriteDenied),
])
def test_write_errors_map_like_the_driver_and_remove_the_file(
        datadir, error, expected):
    # A full disk cannot be had on demand: the file's write fails instead.
    real_open = open

    def failing_open(path, mode='r', *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if str(path).startswith(str(datadir)):
            f.write = mock.Mock(side_effect=OSError(error, 'refused'))
        return f

    with mock.patch('builtins.open', failing_open):
        with pytest.raises(expected):
            local.add(IMAGE_ID, io.BytesIO(b'data'))

    assert os.listdir(datadir) == []


def test_file_permissions_follow_the_option(datadir):
    CONF.set_override('filesystem_store_file_perm', 640,
                      group='glance_store')

    store.add(IMAGE_ID, io.BytesIO(b'data'))

    assert oct(os.stat(datadir / IMAGE_ID).st_mode & 0o777) == '0o640'


def test_other_layouts_go_through_the_driver(datadir, tmp_path):
    CONF.set_override('filesystem_store_metadata_file',
                      str(tmp_path / 'meta.json'), group='glance_store')
    (tmp_path / 'meta.json').write_text('{"id": "disk1", '
                                        '"mountpoint": "/"}')
    store.configure()

    url, size, checksum, multihash, metadata = store.add(
        IMAGE_ID, io.BytesIO(b'data'))

    # The driver's metadata file is honoured only by the driver.
    assert metadata == {'id': 'disk1', 'mountpoint': '/'}
    assert (size, checksum) == (4, hashlib.md5(b'data').hexdigest())
    assert multihash == ('sha512', hashlib.sha512(b'data').hexdigest())


def test_downloads_get_the_open_file_of_a_whole_image(datadir):
    url, *_ = store.add(IMAGE_ID, io.BytesIO(b'data'))
    chunks, _ = store.get(url)

    opened = store.open_file(chunks)

    assert opened.read() == b'data'
    assert store.open_file(iter([b'data'])) is None


def test_s3_single_part_threshold_is_ignored_with_a_warning(datadir):
    # Every S3 upload is multipart (glance_lite.store.s3): an operator who
    # sets the driver's single-part threshold is told it has no effect.
    with mock.patch.object(store.LOG, 'warning') as warning:
        store.configure()
    assert not warning.called
    CONF.set_override('s3_store_large_object_size', 100,
                      group='glance_store')

    with mock.patch.object(store.LOG, 'warning') as warning:
        store.configure()

    assert 'is ignored' in warning.call_args[0][0]


def test_stores_file_loads_glance_lites_driver_and_keeps_the_option(
        datadir):
    # By glance_store, through the glance_lite.file entry point.
    assert type(store.glance_store.get_store_from_scheme('file')) is (
        local.Store)
    assert CONF.glance_store.stores == ['file', 'http']
    CONF.set_override('stores', ['file'], group='glance_store')

    store.configure()

    # An override in place before stays as it was.
    assert CONF.glance_store.stores == ['file']
    CONF.clear_override('stores', group='glance_store')
    assert CONF.glance_store.stores == ['file', 'http']


def test_glance_stores_own_file_driver_can_still_be_named(datadir):
    CONF.set_override('stores', ['glance.store.filesystem.Store'],
                      group='glance_store')
    store.configure()
    driver = store.glance_store.get_store_from_scheme('file')

    url, size, *_ = store.add(IMAGE_ID, io.BytesIO(b'data'))

    assert type(driver) is not local.Store
    assert (url, size) == ('file://%s' % (datadir / IMAGE_ID), 4)
    with pytest.raises(store.EnumerationUnsupported):
        list(store.list_objects())


def test_a_missing_entry_point_stops_the_start(datadir, monkeypatch):
    monkeypatch.setattr(store.importlib_metadata, 'entry_points',
                        lambda group: [])

    with pytest.raises(RuntimeError) as raised:
        store.configure()

    assert 'glance_lite.file are not installed' in str(raised.value)


def test_several_datadirs_are_located_and_listed(datadir, tmp_path):
    first, second = tmp_path / 'a', tmp_path / 'b'
    CONF.set_override('filesystem_store_datadir', '', group='glance_store')
    CONF.set_override('filesystem_store_datadirs',
                      ['%s:100' % first, str(second)], group='glance_store')
    store.configure()
    (second / IMAGE_ID).write_bytes(b'data')

    # Found in whichever datadir the driver picked for it.
    assert [o.name for o in store.list_objects()] == [IMAGE_ID]
    assert store.remove_partial_data(IMAGE_ID) == (True, [])
    assert os.listdir(second) == []


def test_partial_reads_are_the_drivers(datadir):
    url, *_ = store.add(IMAGE_ID, io.BytesIO(b'data'))
    driver = store.glance_store.get_store_from_scheme('file')
    location = store.store_location.get_location_from_uri(url)

    chunks, size = driver.get(location, offset=1, chunk_size=2)

    assert (b''.join(chunks), size) == (b'at', 2)
    assert store.open_file(chunks) is None
