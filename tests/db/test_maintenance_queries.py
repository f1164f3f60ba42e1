"""The catalogue queries behind upload heartbeats, ``images clean-stale``
and ``store check``, on SQLite, PostgreSQL and MySQL/MariaDB: the
conditional end of a stale upload compares timestamps for equality, which
must hold to the microsecond on every engine."""

import datetime
import uuid

import pytest
import sqlalchemy as sa

from glance_lite.common import status
from glance_lite.db import api as db_api
from glance_lite.db import models

HOUR = datetime.timedelta(hours=1)


def _set_updated_at(image_id, updated_at):
    # Every catalogue call stamps updated_at itself: set it underneath.
    with db_api.get_engine().begin() as connection:
        connection.execute(sa.update(models.Image)
                           .where(models.Image.id == image_id)
                           .values(updated_at=updated_at))


def _saving(updated_at, failure_status=None):
    """An image saving since ``updated_at``; ``failure_status``: what its
    upload records as the end of a failure (None: an upload begun before
    migration 0005 recorded it)."""
    image = db_api.image_create({'id': str(uuid.uuid4()),
                                 'status': status.QUEUED})
    values = None
    if failure_status is not None:
        values = {'upload_failure_status': failure_status}
    db_api.image_transition(image['id'], status.SAVING, values=values)
    _set_updated_at(image['id'], updated_at)
    return db_api.image_get(image['id'])


def _now():
    return datetime.datetime.utcnow()


def test_stale_saving_images_are_those_not_refreshed_since(db):
    old = _saving(_now() - 2 * HOUR)
    _saving(_now())  # fresh
    active = db_api.image_create({'id': str(uuid.uuid4()),
                                  'status': status.ACTIVE})
    _set_updated_at(active['id'], _now() - 2 * HOUR)

    stale = db_api.image_list_stale_saving(_now() - HOUR)

    assert [image['id'] for image in stale] == [old['id']]
    assert stale[0]['updated_at'] == old['updated_at']


@pytest.mark.parametrize('failure_status, ended', [
    (None, status.KILLED), (status.KILLED, status.KILLED),
    (status.QUEUED, status.QUEUED)], ids=['before-0005', 'v1', 'v2'])
def test_conditional_end_with_the_value_read_ends_the_upload(
        db, failure_status, ended):
    """v2 spec §18: a stale v1 upload's image is killed, a v2 upload's
    queued again."""
    image = _saving(_now() - 2 * HOUR, failure_status)
    [seen] = db_api.image_list_stale_saving(_now() - HOUR)

    assert db_api.image_end_stale_upload(image['id'],
                                         seen['updated_at']) == ended
    assert db_api.image_get(image['id'])['status'] == ended
    # Ended once: a second cleanup finds nothing to do.
    assert db_api.image_list_stale_saving(_now()) == []
    assert db_api.image_end_stale_upload(image['id'],
                                         seen['updated_at']) is None


def test_heartbeat_between_listing_and_kill_wins(db):
    image = _saving(_now() - 2 * HOUR)
    [seen] = db_api.image_list_stale_saving(_now() - HOUR)

    assert db_api.image_heartbeat(image['id'])
    assert db_api.image_end_stale_upload(image['id'],
                                         seen['updated_at']) is None

    assert db_api.image_get(image['id'])['status'] == status.SAVING
    assert db_api.image_list_stale_saving(_now() - HOUR) == []


def test_heartbeat_of_a_killed_or_deleted_image_says_stop(db):
    killed = _saving(_now())
    db_api.image_kill(killed['id'])
    deleted = _saving(_now())
    db_api.image_destroy(deleted['id'], status.DELETED, status.SAVING)

    assert not db_api.image_heartbeat(killed['id'])
    assert not db_api.image_heartbeat(deleted['id'])
    assert db_api.image_get(killed['id'])['status'] == status.KILLED


def test_dropping_the_last_missing_location_kills_the_image(db):
    image = db_api.image_create({'id': str(uuid.uuid4()),
                                 'status': status.QUEUED})
    db_api.image_transition(image['id'], status.ACTIVE,
                            location=('file:///a', {}))
    records = db_api.image_data_records([image['id'], 'no-such-image'])
    assert records == {image['id']: {'status': status.ACTIVE,
                                     'deleted': False,
                                     'urls': {'file:///a'}}}

    # The image changed meanwhile: nothing is done.
    assert db_api.image_drop_missing_location(
        image['id'], 'file:///a', status.DEACTIVATED) is None
    assert db_api.image_drop_missing_location(
        image['id'], 'file:///a', status.ACTIVE) == status.KILLED

    after = db_api.image_get(image['id'])
    assert after['status'] == status.KILLED
    assert after['locations'] == []
    assert db_api.image_list_with_data([status.ACTIVE]) == []


def test_images_with_data_are_paged_by_id(db):
    made = []
    for n in range(3):
        image = db_api.image_create({'id': str(uuid.uuid4()),
                                     'status': status.QUEUED})
        db_api.image_transition(image['id'], status.ACTIVE,
                                values={'size': n},
                                location=('file:///%d' % n, {}))
        made.append(image['id'])
    db_api.image_create({'id': str(uuid.uuid4()), 'status': status.QUEUED})

    first = db_api.image_list_with_data([status.ACTIVE], limit=2)
    rest = db_api.image_list_with_data([status.ACTIVE],
                                       after_id=first[-1]['id'], limit=2)

    assert [i['id'] for i in first + rest] == sorted(made)
    assert all(len(i['urls']) == 1 for i in first + rest)
