"""The catalogue queries behind the scrubber, restore and purge (spec
§22.7), on SQLite, PostgreSQL and MySQL/MariaDB: claims are conditional
updates on a timestamp read, which must compare to the microsecond and
let exactly one of racing scrubbers win on every engine."""

import datetime
import threading
import uuid

import sqlalchemy as sa

from glance_lite.common import status
from glance_lite.db import api as db_api
from glance_lite.db import models

HOUR = datetime.timedelta(hours=1)


def _now():
    return datetime.datetime.utcnow()


def _pending(properties=None, members=()):
    image_id = str(uuid.uuid4())
    db_api.image_create({'id': image_id, 'status': status.QUEUED},
                        properties=properties)
    db_api.image_transition(image_id, status.SAVING)
    db_api.image_transition(image_id, status.ACTIVE, values={'size': 3},
                            location=('file:///x/' + image_id, {}))
    for member in members:
        db_api.member_set(image_id, member)
    db_api.image_tag_add(image_id, 'tag')
    db_api.image_destroy(image_id, status.PENDING_DELETE, status.ACTIVE)
    return image_id


def _age(image_id, delta):
    """Move the image's delete (and its memberships') back by delta."""
    with db_api.get_engine().begin() as connection:
        image = connection.execute(sa.select(models.Image.deleted_at).where(
            models.Image.id == image_id)).scalar_one()
        connection.execute(sa.update(models.Image)
                           .where(models.Image.id == image_id)
                           .values(deleted_at=image - delta,
                                   updated_at=image - delta))
        connection.execute(sa.update(models.ImageMember)
                           .where(models.ImageMember.image_id == image_id)
                           .values(deleted_at=image - delta))


def _scrubbable(deleted_before=None):
    return db_api.image_list_scrubbable(deleted_before or _now(),
                                        _now() - HOUR)


def _count(model, **where):
    with db_api.get_engine().connect() as connection:
        query = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return connection.execute(query).scalar_one()


def test_a_pending_delete_image_is_listed_once_old_enough(db):
    image_id = _pending()

    assert _scrubbable(_now() - HOUR) == []
    [pending] = _scrubbable()
    assert pending.id == image_id
    assert pending.urls == ['file:///x/' + image_id]


def test_one_of_two_claims_on_the_value_read_wins(db):
    image_id = _pending()
    [seen] = _scrubbable()

    claims = [db_api.image_claim_for_scrub(image_id, seen.updated_at)
              for _ in range(2)]

    assert claims[0] is not None and claims[1] is None
    # Held: not listed again, and no restore on the value read.
    assert _scrubbable() == []


def test_racing_claims_in_threads_have_one_winner(db):
    image_ids = [_pending() for _ in range(5)]
    seen = {p.id: p.updated_at for p in _scrubbable()}
    won = []
    start = threading.Barrier(2)

    def claim_all():
        start.wait()
        for image_id in image_ids:
            if db_api.image_claim_for_scrub(image_id, seen[image_id]):
                won.append(image_id)

    threads = [threading.Thread(target=claim_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(won) == sorted(image_ids)


def test_a_claim_expires(db):
    image_id = _pending()
    [seen] = _scrubbable()
    claim = db_api.image_claim_for_scrub(image_id, seen.updated_at)

    later = db_api.image_list_scrubbable(_now(), claim + datetime.timedelta(
        seconds=1))

    assert [p.id for p in later] == [image_id]
    # Taken over: the first holder can neither finish nor release it.
    assert db_api.image_claim_for_scrub(image_id, claim)
    db_api.image_location_scrubbed(image_id, 'file:///x/' + image_id)
    assert not db_api.image_finish_scrub(image_id, claim)


def test_finish_needs_every_location_scrubbed(db):
    image_id = _pending()
    [seen] = _scrubbable()
    claim = db_api.image_claim_for_scrub(image_id, seen.updated_at)

    assert not db_api.image_finish_scrub(image_id, claim)
    db_api.image_location_scrubbed(image_id, 'file:///x/' + image_id)
    assert db_api.image_finish_scrub(image_id, claim)

    image = db_api.image_get(image_id)
    assert image['status'] == status.DELETED
    assert image['locations'] == []


def test_a_released_claim_is_listed_again(db):
    image_id = _pending()
    [seen] = _scrubbable()
    claim = db_api.image_claim_for_scrub(image_id, seen.updated_at)

    db_api.image_release_scrub(image_id, claim)

    assert [p.id for p in _scrubbable()] == [image_id]


def test_restore_revives_the_image_its_locations_and_members(db):
    image_id = _pending(properties={'p': '1'}, members=['m1'])
    image = db_api.image_get(image_id)

    restored = db_api.image_restore_pending(image_id, image['updated_at'])

    assert restored['status'] == status.ACTIVE
    assert not restored['deleted'] and restored['deleted_at'] is None
    assert restored['properties'] == {'p': '1'}
    assert [loc['status'] for loc in restored['locations']] == [
        status.LOCATION_ACTIVE]
    assert [m['member_id'] for m in db_api.member_list(image_id)] == [
        'm1']


def test_purge_removes_old_history_and_keeps_image_rows(db):
    old = _pending(properties={'p': '1'}, members=['m1'])
    [seen] = _scrubbable()
    claim = db_api.image_claim_for_scrub(old, seen.updated_at)
    db_api.image_location_scrubbed(old, 'file:///x/' + old)
    db_api.image_finish_scrub(old, claim)
    _age(old, 40 * 24 * HOUR)
    waiting = _pending(properties={'w': '1'}, members=['m2'])
    _age(waiting, 40 * 24 * HOUR)
    cutoff = _now() - 30 * 24 * HOUR

    removed = {name: db_api.purge_table(name, cutoff, 100)
               for name in db_api.purge_history_tables()}

    assert removed == {'image_properties': 1, 'image_members': 1,
                       'image_locations': 1, 'image_tags': 1}
    assert _count(models.Image) == 2
    # Nothing of the image still waiting for the scrubber.
    assert _count(models.ImageProperty, image_id=waiting) == 1
    assert _count(models.ImageMember, image_id=waiting) == 1
    assert _count(models.ImageLocation, image_id=waiting) == 1
    assert _count(models.ImageTag, image_id=waiting) == 1


def test_purge_takes_at_most_max_rows_oldest_first(db):
    ids = []
    for age in (50, 40, 35):
        image_id = _pending(members=['a', 'b'])
        [seen] = [p for p in _scrubbable() if p.id == image_id]
        claim = db_api.image_claim_for_scrub(image_id, seen.updated_at)
        db_api.image_location_scrubbed(image_id, 'file:///x/' + image_id)
        db_api.image_finish_scrub(image_id, claim)
        _age(image_id, age * 24 * HOUR)
        ids.append(image_id)

    removed = db_api.purge_table('image_members', _now() - 30 * 24 * HOUR, 3)

    assert removed == 3
    assert _count(models.ImageMember, image_id=ids[0]) == 0
    assert _count(models.ImageMember, image_id=ids[1]) == 1
    assert _count(models.ImageMember, image_id=ids[2]) == 2
