"""The catalogue writes image statuses only as the state machine of
common/status.py allows, on SQLite, PostgreSQL and MySQL/MariaDB: a move
the table does not list is refused (InvalidTransition, a Conflict) and
leaves the record as it was; repairs and undos are allowed only for the
moves their reason names."""

import uuid

import pytest
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.common import status
from glance_lite.db import api as db_api
from glance_lite.db import models


def _create(image_status=status.QUEUED):
    return db_api.image_create({'id': str(uuid.uuid4()),
                                'status': image_status})


def _active_with_data():
    image = _create()
    db_api.image_transition(image['id'], status.SAVING)
    return db_api.image_transition(image['id'], status.ACTIVE,
                                   values={'size': 3},
                                   location=('file:///d/' + image['id'], {}))


def _record(image_id):
    """Everything stored about the image, read underneath the catalogue."""
    with db_api.get_engine().connect() as connection:
        image = connection.execute(sa.select(models.Image.__table__).where(
            models.Image.id == image_id)).mappings().one()
        locations = connection.execute(
            sa.select(models.ImageLocation.url, models.ImageLocation.status)
            .where(models.ImageLocation.image_id == image_id)
            .order_by(models.ImageLocation.id)).all()
    return dict(image), [tuple(loc) for loc in locations]


def _refused(call, image_id, from_status, to_status):
    before = _record(image_id)
    with pytest.raises(exception.InvalidTransition) as raised:
        call()
    assert isinstance(raised.value, exception.Conflict)
    assert (raised.value.from_status, raised.value.to_status) == (
        from_status, to_status)
    assert _record(image_id) == before


@pytest.mark.parametrize('from_status, to_status', [
    (status.QUEUED, status.KILLED),
    (status.QUEUED, status.DEACTIVATED),
    (status.QUEUED, status.QUEUED),
])
def test_a_transition_the_table_refuses_changes_nothing(db, from_status,
                                                        to_status):
    image = _create(from_status)
    _refused(lambda: db_api.image_transition(
        image['id'], to_status, values={'size': 7},
        location=('file:///d/x', {})), image['id'], from_status, to_status)


def test_active_images_do_not_go_back_to_saving(db):
    image = _active_with_data()
    _refused(lambda: db_api.image_transition(image['id'], status.SAVING),
             image['id'], status.ACTIVE, status.SAVING)
    # The ordinary moves from active still work.
    assert db_api.image_transition(
        image['id'], status.DEACTIVATED)['status'] == status.DEACTIVATED


def test_a_delete_the_table_refuses_changes_nothing(db):
    # A queued image has no data for a scrubber: never pending_delete.
    image = _create()
    _refused(lambda: db_api.image_destroy(image['id'], status.PENDING_DELETE,
                                          status.QUEUED),
             image['id'], status.QUEUED, status.PENDING_DELETE)
    assert not db_api.image_get(image['id'])['deleted']


def test_restore_is_an_undo_of_a_delete_only(db):
    image = _active_with_data()
    # A live image is not "restored" to another status.
    _refused(lambda: db_api.image_restore_status(image['id'], status.QUEUED),
             image['id'], status.ACTIVE, status.QUEUED)

    db_api.image_destroy(image['id'], status.DELETED, status.ACTIVE)
    # Nor a deleted one to a status it cannot have been deleted from.
    _refused(lambda: db_api.image_restore_status(image['id'],
                                                 status.PENDING_DELETE),
             image['id'], status.DELETED, status.PENDING_DELETE)

    db_api.image_restore_status(image['id'], status.ACTIVE)
    restored = db_api.image_get(image['id'])
    assert (restored['status'], restored['deleted'],
            restored['deleted_at']) == (status.ACTIVE, False, None)
    assert [loc['status'] for loc in restored['locations']] == [
        status.LOCATION_ACTIVE]


def test_missing_data_kills_active_and_deactivated_images(db):
    active = _active_with_data()
    assert db_api.image_drop_missing_location(
        active['id'], active['locations'][0]['url'],
        status.ACTIVE) == status.KILLED
    deactivated = _active_with_data()
    db_api.image_transition(deactivated['id'], status.DEACTIVATED)
    assert db_api.image_drop_missing_location(
        deactivated['id'], deactivated['locations'][0]['url'],
        status.DEACTIVATED) == status.KILLED
    url, location_status = _record(active['id'])[1][0]
    assert location_status == status.LOCATION_DELETED


@pytest.mark.parametrize('call', ['image_update', 'image_transition'])
def test_status_is_not_written_beside_the_table(db, call):
    image = _create()
    before = _record(image['id'])
    with pytest.raises(ValueError):
        if call == 'image_update':
            db_api.image_update(image['id'], {'status': status.ACTIVE})
        else:
            db_api.image_transition(image['id'], status.SAVING,
                                    values={'status': status.ACTIVE})
    assert _record(image['id']) == before
