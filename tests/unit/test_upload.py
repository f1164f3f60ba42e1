"""The upload algorithm's failure paths (spec §6.5), against a real SQLite
catalogue and the real file store, and what an upload or delete that lost
the database leaves to settle. Only the errors a test cannot provoke for
real at the right moment (disk full, write denied as root, a connection
lost with a commit in flight) are injected."""

import errno
import hashlib
import io
import os
import time
from unittest import mock

from glance_store import exceptions as store_exc
from oslo_config import cfg
from oslo_db import exception as db_exc
import pytest
import webob

from glance_lite.api import context
from glance_lite.api import images
from glance_lite.common import exception
from glance_lite.common import status
from glance_lite.db import api as db_api
from glance_lite.image import data as image_data
from glance_lite.image import settle
from glance_lite.image import upload

CONF = cfg.CONF
ADD = 'glance_store.store_add_to_backend_with_multihash'


def _queued(**values):
    values.setdefault('id', '6f1a0f86-1b43-4b7e-9f55-0e6d2c1a7b3e')
    values.setdefault('status', status.QUEUED)
    return db_api.image_create(values)


def _body(data, stream=None):
    """A request body of ``data``, framed by Content-Length."""
    return image_data.RequestBodyReader(stream or io.BytesIO(data),
                                        len(data), 2 ** 40)


def _files(tmp_path):
    return os.listdir(tmp_path / 'images')


def test_successful_upload_activates_with_size_and_md5(catalogue):
    image = _queued()
    data = b'x' * 100000

    active = upload.upload(image, _body(data))

    assert active['status'] == status.ACTIVE
    assert active['size'] == len(data)
    assert active['checksum'] == hashlib.md5(data).hexdigest()
    assert _files(catalogue) == [image['id']]


@pytest.mark.parametrize('store_error, expected', [
    (store_exc.StorageFull(), exception.LimitExceeded),
    (store_exc.StorageWriteDenied(), exception.StoreUnavailable),
    (store_exc.Forbidden(), exception.Forbidden),
    (store_exc.StoreAddDisabled(), exception.StoreAddDisabled),
    (store_exc.Duplicate(), exception.Conflict),
    (RuntimeError('/secret/path/on/the/store'), exception.StoreError),
])
@pytest.mark.parametrize('store_add', [
    # The file store's own fast path, and glance_store's add for every
    # other store (here the file driver itself, the fast path declined).
    'glance_lite.store.local.add', ADD])
def test_store_failure_kills_image_with_a_clear_error(catalogue, store_error,
                                                      expected, store_add):
    image = _queued()

    with mock.patch(store_add, side_effect=store_error), \
            mock.patch('glance_lite.store.local.handles',
                       return_value=store_add != ADD):
        with pytest.raises(expected) as raised:
            upload.upload(image, _body(b'data'))

    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert '/secret' not in raised.value.msg


def test_size_mismatch_kills_image_and_removes_data(catalogue):
    image = _queued(size=5)

    with pytest.raises(exception.Invalid) as raised:
        upload.upload(image, _body(b'four'))

    assert 'Supplied size (5)' in raised.value.msg
    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert _files(catalogue) == []


def test_checksum_mismatch_kills_image_and_removes_data(catalogue):
    image = _queued(checksum='0' * 32)

    with pytest.raises(exception.Invalid) as raised:
        upload.upload(image, _body(b'data'))

    assert 'checksum' in raised.value.msg
    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert _files(catalogue) == []


def test_upload_to_unqueued_image_conflicts_before_writing(catalogue):
    image = _queued()
    upload.upload(image, _body(b'first'))

    with pytest.raises(exception.Conflict) as raised:
        upload.upload(image, _body(b'second'))

    assert 'Cannot upload to an unqueued image' in raised.value.msg
    assert db_api.image_get(image['id'])['checksum'] == (
        hashlib.md5(b'first').hexdigest())


def test_image_deleted_during_upload_answers_412_and_removes_data(catalogue):
    image = _queued()

    class DeletingReader(io.BytesIO):
        def read(self, size=-1):
            data = super().read(size)
            if data:
                db_api.image_destroy(image['id'], status.DELETED,
                                     status.SAVING)
            return data

    with pytest.raises(exception.ImageDeletedDuringUpload):
        upload.upload(image, _body(b'payload', DeletingReader(b'payload')))

    assert db_api.image_get(image['id'])['status'] == status.DELETED
    assert _files(catalogue) == []


def test_body_over_the_cap_is_refused_while_reading(catalogue):
    image = _queued()
    reader = image_data.RequestBodyReader(io.BytesIO(b'y' * 600), None, 512)

    with pytest.raises(exception.LimitExceeded):
        upload.upload(image, reader)

    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert _files(catalogue) == []


def test_short_body_is_a_client_disconnect(catalogue):
    image = _queued()
    reader = image_data.RequestBodyReader(io.BytesIO(b'z' * 10), 1000, 2 ** 40)

    with pytest.raises(exception.ClientDisconnected):
        upload.upload(image, reader)

    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert _files(catalogue) == []


def test_storage_quota_is_enforced_while_reading(catalogue):
    CONF.set_override('user_storage_quota', '1KB')
    image = _queued(owner='tenant1')

    with pytest.raises(exception.LimitExceeded) as raised:
        upload.upload(image, _body(b'q' * 1025), owner='tenant1')

    assert 'quota' in raised.value.msg
    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert _files(catalogue) == []


def test_storage_quota_counts_the_owners_other_images(catalogue):
    CONF.set_override('user_storage_quota', '1KB')
    first = _queued(id='5a0b9c3e-1111-4a4a-8b8b-000000000001',
                    owner='tenant1')
    upload.upload(first, _body(b'a' * 600), owner='tenant1')
    second = _queued(id='5a0b9c3e-1111-4a4a-8b8b-000000000002',
                     owner='tenant1')

    with pytest.raises(exception.LimitExceeded):
        upload.upload(second, _body(b'b' * 500), owner='tenant1')

    other = _queued(id='5a0b9c3e-1111-4a4a-8b8b-000000000003',
                    owner='tenant2')
    assert upload.upload(other, _body(b'c' * 500),
                         owner='tenant2')['status'] == status.ACTIVE


def test_declared_size_over_the_storage_quota_is_refused_before_reading(
        catalogue):
    CONF.set_override('user_storage_quota', '500B')
    image = _queued(owner='tenant1', size=501)
    body = _body(b'x' * 501)

    with pytest.raises(exception.LimitExceeded):
        upload.upload(image, body, owner='tenant1')

    assert body.bytes_read == 0
    assert db_api.image_get(image['id'])['status'] == status.KILLED


def test_endless_body_past_a_declared_size_is_not_read_forever(catalogue):
    image = _queued(size=100)

    class Endless(io.RawIOBase):
        def read(self, size=-1):
            return b'e' * (size if size and size > 0 else 65536)

    body = image_data.RequestBodyReader(Endless(), None, 512)

    with pytest.raises(exception.Invalid) as raised:
        upload.upload(image, body)

    assert 'Supplied size (100)' in raised.value.msg
    assert 'more than 1024' in raised.value.msg
    assert db_api.image_get(image['id'])['status'] == status.KILLED


def _settled(image_id):
    """Wait for the background settling of an upload whose database went
    away."""
    assert settle.wait_until_settled(image_id, 30)


@pytest.mark.parametrize('committed', [False, True])
def test_activation_lost_with_the_database_is_settled_when_it_returns(
        catalogue, committed):
    """The connection breaks with the activation in flight: only the
    database, once back, tells whether it was committed (keep the data)
    or not (remove it, kill the image). A real database cannot be made to
    break at exactly that point, hence the injection."""
    image = _queued()
    activate = db_api.image_transition

    def activation_lost(image_id, to_status, **kwargs):
        if to_status != status.ACTIVE:
            return activate(image_id, to_status, **kwargs)
        if committed:
            activate(image_id, to_status, **kwargs)
        raise db_exc.DBConnectionError('server closed the connection')

    with mock.patch.object(settle, 'FIRST_DELAY', 0), \
            mock.patch.object(db_api, 'image_transition', activation_lost):
        with pytest.raises(db_exc.DBConnectionError):
            upload.upload(image, _body(b'data'))
    _settled(image['id'])

    settled = db_api.image_get(image['id'])
    if committed:
        assert settled['status'] == status.ACTIVE
        assert _files(catalogue) == [image['id']]
    else:
        assert settled['status'] == status.KILLED
        assert _files(catalogue) == []


@pytest.mark.parametrize('committed', [False, True])
def test_delete_lost_with_the_database_is_settled_when_it_returns(
        catalogue, committed):
    """The connection breaks with the soft-delete in flight: once the
    database is back, the data goes if the image did get deleted, and
    stays with the image if not."""
    image = _queued()
    upload.upload(image, _body(b'data'))
    destroy = db_api.image_destroy

    def delete_lost(*args, **kwargs):
        if committed:
            destroy(*args, **kwargs)
        raise db_exc.DBConnectionError('server closed the connection')

    request = webob.Request.blank('/v1/images/' + image['id'],
                                  method='DELETE')
    request.environ['glance_lite.context'] = context.RequestContext(
        is_admin=True)
    with mock.patch.object(settle, 'FIRST_DELAY', 0), \
            mock.patch.object(db_api, 'image_destroy', delete_lost):
        with pytest.raises(db_exc.DBConnectionError):
            images.ImagesController().delete(request, image['id'])
    _settled(image['id'])

    settled = db_api.image_get(image['id'])
    if committed:
        assert settled['status'] == status.DELETED
        assert _files(catalogue) == []
    else:
        assert settled['status'] == status.ACTIVE
        assert _files(catalogue) == [image['id']]


# Store write errors in the middle of a write, through both writers of
# the file store (tests/reliability/test_store_errors.py makes them
# happen for real at the first write; EACCES after some data went to disk
# needs access to change while a file is open). Injected after the first
# block reached the disk, so the partial file is real.

# The two writers of the file store: glance_lite's own (the default
# layout) and glance_store's driver (every other layout).
WRITERS_OPEN = {'local': 'glance_lite.store.local.open',
                'driver': 'glance_store._drivers.filesystem.open'}


def _open_failing_after_first_write(error_number):
    real_open = open

    def fake_open(path, mode='r', *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if 'w' not in mode and 'x' not in mode:
            return f
        real_write = f.write
        writes = []

        def write(data):
            if writes:
                raise OSError(error_number, os.strerror(error_number))
            writes.append(len(data))
            written = real_write(data)
            f.flush()
            return written

        f.write = write
        return f
    return fake_open


@pytest.mark.parametrize('error_number, expected, message', [
    (errno.EIO, exception.StoreError, 'Failed to upload image'),
    (errno.EACCES, exception.StoreUnavailable,
     'Insufficient permissions on image storage media.'),
    (errno.EROFS, exception.StoreUnavailable,
     'Insufficient permissions on image storage media.'),
    (errno.ENOSPC, exception.LimitExceeded, 'Image storage media is full.'),
])
@pytest.mark.parametrize('writer', sorted(WRITERS_OPEN))
def test_store_write_error_kills_the_image_and_leaves_no_partial_data(
        catalogue, error_number, expected, message, writer):
    image = _queued()
    block = 256 * 1024  # the larger of the two writers' blocks
    body = _body(b'w' * (3 * block))

    with mock.patch(WRITERS_OPEN[writer], create=True,
                    new=_open_failing_after_first_write(error_number)), \
            mock.patch('glance_lite.store.local.handles',
                       return_value=writer == 'local'):
        with pytest.raises(expected) as raised:
            upload.upload(image, body)

    assert message in raised.value.msg
    assert str(catalogue) not in raised.value.msg
    assert body.bytes_read > 64 * 1024  # the failure came mid-stream
    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert _files(catalogue) == []
    # Once the fault is gone, the next upload works.
    again = _queued(id='6f1a0f86-1b43-4b7e-9f55-0e6d2c1a7b3f')
    assert upload.upload(again, _body(b'ok'))['status'] == status.ACTIVE


# The upload heartbeat and the stale-upload cleanup's conditional kill.


def test_streaming_upload_refreshes_updated_at(catalogue):
    CONF.set_override('upload_heartbeat_interval', 1)
    image = _queued()
    seen = []

    class Slow(io.RawIOBase):
        """Three chunks, 0.6 s apart, noting updated_at before each."""
        def __init__(self):
            self.chunks = 3

        def read(self, size=-1):
            seen.append(db_api.image_get(image['id'])['updated_at'])
            if not self.chunks:
                return b''
            self.chunks -= 1
            time.sleep(0.6)
            return b's' * 10

    upload.upload(image, image_data.RequestBodyReader(Slow(), None, 2 ** 40))

    assert len(set(seen)) >= 2  # saving, then at least one heartbeat


def test_heartbeat_stops_an_upload_whose_image_was_killed(catalogue):
    CONF.set_override('upload_heartbeat_interval', 1)
    image = _queued()

    class KilledMeanwhile(io.RawIOBase):
        """Streams until a cleanup elsewhere kills the image."""
        def __init__(self):
            self.reads = 0

        def read(self, size=-1):
            self.reads += 1
            if self.reads == 2:
                saving = db_api.image_get(image['id'])
                assert db_api.image_end_stale_upload(
                    image['id'], saving['updated_at']) == status.KILLED
            if self.reads > 50:
                raise AssertionError('the upload was not stopped')
            time.sleep(0.1)
            return b'h' * 1000

    with pytest.raises(exception.Conflict) as raised:
        upload.upload(image,
                      image_data.RequestBodyReader(KilledMeanwhile(), None,
                                                   2 ** 40))

    assert 'no longer saving' in raised.value.msg
    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert _files(catalogue) == []


def test_cleanup_kill_loses_to_a_heartbeat_in_between(catalogue):
    image = _queued()
    db_api.image_transition(image['id'], status.SAVING)
    read_by_cleanup = db_api.image_get(image['id'])['updated_at']
    time.sleep(0.01)

    assert db_api.image_heartbeat(image['id'])
    assert db_api.image_end_stale_upload(image['id'],
                                         read_by_cleanup) is None
    assert db_api.image_get(image['id'])['status'] == status.SAVING


def test_copy_that_loses_the_database_at_its_start_is_killed_later(
        catalogue):
    """A copy-from thread's first write (queued -> saving) meets a
    database outage, and so does its attempt to kill the image: once the
    database answers again the image is killed, not left queued, and
    nothing is stored. A real database cannot be stopped between the
    request's commit and the thread's first statement, hence the
    injection."""
    source = catalogue / 'source'
    source.write_bytes(b'remote bytes')
    image = _queued()
    transition = db_api.image_transition
    failures = []

    def database_away_twice(*args, **kwargs):
        if len(failures) < 2:
            failures.append(args)
            raise db_exc.DBConnectionError('server closed the connection')
        return transition(*args, **kwargs)

    with mock.patch.object(settle, 'FIRST_DELAY', 0), \
            mock.patch.object(db_api, 'image_transition',
                              database_away_twice):
        upload._copy(image, 'file://%s' % source, None, None)
        _settled(image['id'])

    assert len(failures) == 2
    assert db_api.image_get(image['id'])['status'] == status.KILLED
    assert _files(catalogue) == []
