"""The catalogue (glance_lite.db.api) and its migrations, on SQLite,
PostgreSQL and MySQL/MariaDB (spec §5.7, §10, §11, §16)."""

import datetime
import uuid

import pytest
import sqlalchemy as sa

from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.db import list_clauses
from glance_lite.db import migration
from tests.db import support


def T(*args):
    return datetime.datetime(*args)


def new_id():
    return str(uuid.uuid4())


def create(properties=None, **values):
    values.setdefault('id', new_id())
    values.setdefault('status', 'queued')
    return db_api.image_create(values, properties)


def ids(images):
    return [image['id'] for image in images]


def list_ids(**kwargs):
    kwargs.setdefault('limit', 1000)
    return ids(db_api.image_list(**kwargs))


# -- migrations -------------------------------------------------------------

def test_migration_versions(empty_db):
    assert migration.current_version() is None
    assert migration.head_version() is not None
    migration.upgrade()
    assert migration.current_version() == migration.head_version()


def test_upgrade_is_idempotent(empty_db):
    migration.upgrade()
    image = create(name='kept')
    migration.upgrade()
    assert migration.current_version() == migration.head_version()
    assert db_api.image_get(image['id'])['name'] == 'kept'


@pytest.fixture
def sqlite_db():
    yield from support.empty_catalogue('sqlite')


@pytest.fixture
def postgresql_db():
    yield from support.empty_catalogue('postgresql')


def _plan(query, prefix='EXPLAIN '):
    engine = db_api.get_engine()
    with engine.connect() as connection:
        return ' '.join(str(row[-1]) for row in connection.exec_driver_sql(
            prefix + str(query.compile(
                engine, compile_kwargs={'literal_binds': True}))))


def test_upgrade_gives_sqlite_its_statistics(sqlite_db):
    """SQLite's planner needs sqlite_stat1 to look a rare name up through
    its index rather than walk the whole list in sort order."""
    migration.upgrade()
    rare = create(name='rare', created_at=T(2015, 1, 1))
    for i in range(30):
        create(name='image-%d' % i, created_at=T(2015, 1, 2, 0, i))
    migration.upgrade()
    with db_api.get_engine().connect() as connection:
        analysed = {row[0] for row in connection.exec_driver_sql(
            "SELECT idx FROM sqlite_stat1 WHERE tbl = 'images'")}
    assert {'ix_images_name', 'ix_images_deleted_created_at'} <= analysed
    plan = _plan(db_api.image_list_query(None, scope='all',
                                         filters={'name': 'rare'}),
                 'EXPLAIN QUERY PLAN ')
    assert 'ix_images_name' in plan
    assert list_ids(scope='all', filters={'name': 'rare'}) == [rare['id']]


def test_admin_list_probes_memberships_per_image_on_postgresql(
        postgresql_db):
    """The default admin list (public or shared with anyone) must not
    hash every live membership of the catalogue for each page."""
    migration.upgrade()
    shared = create(owner='p1', created_at=T(2015, 1, 2))
    db_api.member_set(shared['id'], 'p2')
    public = create(owner='p1', visibility='public', created_at=T(2015, 1, 1))
    create(owner='p1')
    query = db_api.image_list_query(None)
    assert 'hashed SubPlan' not in _plan(query)
    assert list_ids() == [shared['id'], public['id']]


def _insert(table, **values):
    """One row written with SQL only: the models describe the newest
    schema, not the revision a test upgrades from."""
    with db_api.get_engine().begin() as conn:
        conn.execute(sa.table(table, *map(sa.column, values)).insert()
                     .values(**values))


def _old_image(image_id=None, **values):
    """An image row as revision 0001 to 0003 stored it."""
    image_id = image_id or new_id()
    row = dict(id=image_id, name=None, size=0, status='queued',
               is_public=False, protected=False, min_disk=0, min_ram=0,
               owner=None, created_at=T(2020, 1, 1), updated_at=T(2020, 1, 1),
               deleted=False)
    row.update(values)
    _insert('images', **row)
    return image_id


def _old_member(image_id, member, can_share=False, deleted=False):
    now = T(2020, 1, 2)
    _insert('image_members', image_id=image_id, member=member,
            can_share=can_share, created_at=now, updated_at=now,
            deleted=deleted, deleted_at=now if deleted else None)


def _old_property(image_id, name, value):
    _insert('image_properties', image_id=image_id, name=name, value=value)


def test_upgrade_keeps_data(empty_db):
    """A catalogue at the first revision, holding images in every state,
    properties, members and locations, upgraded to the newest schema:
    nothing is lost, exact matching holds afterwards, and visibility and
    member statuses follow v2 spec §21.1 (X-1, X-2)."""
    migration.upgrade('0001')
    assert migration.current_version() == '0001'
    image = _old_image(name='before', owner='o')
    _old_property(image, 'k', 'v')
    _old_property(image, 'n', None)
    _old_member(image, 'tenant', True)
    # Differs only by a trailing space, and by case.
    padded = _old_image(name='before ', owner='Tenant')
    _old_property(padded, 'k ', 'padded')
    _old_member(padded, 'tenant ', False)
    unicode = _old_image(name='caf\u00e9 \u65e5\u672c', status='active',
                         is_public=True,
                         created_at=T(2001, 2, 3, 4, 5, 6, 999999),
                         updated_at=T(2001, 2, 3, 4, 5, 6, 999999))
    _old_property(unicode, 'os_\u00e9', '\u0416' * 1000)
    active = _old_image(status='active', size=5, checksum='0' * 32,
                        disk_format='raw', container_format='bare')
    _insert('image_locations', image_id=active, url='file:///data/x',
            meta_data=None, status='active', created_at=T(2020, 1, 1))
    # A membership that was removed does not make an image shared.
    ex_shared = _old_image(owner='o')
    _old_member(ex_shared, 'gone', deleted=True)
    deleted = _old_image(name='gone', status='deleted', deleted=True,
                         deleted_at=T(2020, 1, 3))

    migration.upgrade()

    assert migration.current_version() == migration.head_version()
    after = {i: db_api.image_get(i) for i in (
        image, padded, unicode, active, ex_shared, deleted)}
    assert after[image]['properties'] == {'k': 'v', 'n': None}
    assert after[image]['name'] == 'before'
    assert after[padded]['properties'] == {'k ': 'padded'}
    assert after[unicode]['name'] == 'caf\u00e9 \u65e5\u672c'
    assert after[unicode]['properties'] == {'os_\u00e9': '\u0416' * 1000}
    assert after[unicode]['created_at'] == T(2001, 2, 3, 4, 5, 6, 999999)
    assert after[active]['locations'] == [
        {'url': 'file:///data/x', 'metadata': {}, 'status': 'active'}]
    assert (after[active]['size'], after[active]['checksum']) == (5, '0' * 32)
    # Reserved before the migration: the 0 they had stays.
    assert after[image]['size'] == 0
    assert after[deleted]['deleted'] is True
    assert after[deleted]['status'] == 'deleted'
    assert {i: after[i]['visibility'] for i in after} == {
        image: 'shared', padded: 'shared', unicode: 'public',
        active: 'private', ex_shared: 'private', deleted: 'private'}
    assert [after[i]['is_public'] for i in (image, unicode, active)] == [
        False, True, False]
    for found in after.values():
        assert found['os_hidden'] is False
        assert found['os_hash_algo'] is None
        assert found['os_hash_value'] is None
        assert found['tags'] == []
    member = db_api.member_find(image, 'tenant')
    assert (member['can_share'], member['status']) == (True, 'accepted')
    member = db_api.member_find(padded, 'tenant ')
    assert (member['can_share'], member['status']) == (False, 'accepted')
    assert db_api.member_find(image, 'tenant ') is None
    assert db_api.member_find(ex_shared, 'gone') is None
    assert list_ids(scope='all', filters={'name': 'before'}) == [image]
    assert list_ids(scope='all', filters={'name': 'before '}) == [padded]
    assert list_ids(scope='all', properties={'k': 'v'}) == [image]
    # The member lists the image shared with it, the others do not.
    assert image in list_ids(scope='user', owner='tenant')
    assert ex_shared not in list_ids(scope='user', owner='gone')
    # New data in the upgraded schema: unbounded property values (MySQL's
    # TEXT of the first revision stops at 64 KiB), null sizes, tags.
    long_value = 'x' * (1 << 17)
    db_api.image_update(image, {}, {'long': long_value})
    assert db_api.image_get(image)['properties']['long'] == long_value
    fresh = create()
    assert db_api.image_get(fresh['id'])['size'] is None


def test_upgrade_from_the_previous_head_keeps_v1_catalogues(empty_db):
    """Revision 0003 (the last v1-only schema) to the newest: v1 images,
    members and properties as the previous release stored them."""
    migration.upgrade('0003')
    public = _old_image(is_public=True, owner='a')
    shared = _old_image(owner='a')
    _old_member(shared, 'b')
    _old_member(shared, 'c', deleted=True)
    lone = _old_image(owner='a')
    _old_property(lone, 'os_distro', 'debian')

    migration.upgrade()

    assert [db_api.image_get(i)['visibility'] for i in (
        public, shared, lone)] == ['public', 'shared', 'private']
    assert [(m['member_id'], m['status']) for m in db_api.member_list(
        image_id=shared)] == [('b', 'accepted')]
    assert db_api.image_get(lone)['properties'] == {'os_distro': 'debian'}
    assert sorted(list_ids(scope='user', owner='b')) == sorted(
        [public, shared])
    assert list_ids(scope='user', owner='c') == [public]


# -- create / get -----------------------------------------------------------

def test_create_defaults(db):
    image = create()
    assert image['status'] == 'queued'
    # No size until data arrives (v1 shows 0, v2 null).
    assert image['size'] is None
    assert image['min_disk'] == 0 and image['min_ram'] == 0
    assert image['visibility'] == 'private'
    assert image['is_public'] is False
    assert image['os_hidden'] is False
    assert image['os_hash_algo'] is None and image['os_hash_value'] is None
    assert image['tags'] == []
    assert image['protected'] is False
    assert image['deleted'] is False
    assert image['deleted_at'] is None
    for field in ('name', 'disk_format', 'container_format', 'checksum',
                  'virtual_size', 'owner'):
        assert image[field] is None
    assert image['properties'] == {}
    assert image['locations'] == []
    assert image['created_at'] == image['updated_at']
    assert db_api.image_get(image['id']) == image


def test_create_get_round_trip(db):
    values = {
        'id': new_id(), 'status': 'active', 'name': 'cirros',
        'disk_format': 'qcow2', 'container_format': 'bare',
        'size': 2 ** 40 + 1, 'virtual_size': 2 ** 62,
        'checksum': 'd41d8cd98f00b204e9800998ecf8427e',
        'visibility': 'public', 'protected': True,
        'min_disk': 2147483647, 'min_ram': 512, 'owner': 'tenant-a',
        'created_at': T(2012, 1, 2, 3, 4, 5, 123456),
        'updated_at': T(2013, 6, 7, 8, 9, 10, 1),
    }
    created = db_api.image_create(values, {'os_distro': 'ubuntu'})
    fetched = db_api.image_get(values['id'])
    assert fetched == created
    for key, value in values.items():
        assert fetched[key] == value, key
        assert type(fetched[key]) is type(value), key
    assert fetched['properties'] == {'os_distro': 'ubuntu'}


def test_default_timestamps_keep_microseconds(db):
    created = create()
    fetched = db_api.image_get(created['id'])
    assert fetched['created_at'] == created['created_at']
    assert fetched['updated_at'] == created['updated_at']
    # utcnow() has microseconds (a 1-in-a-million chance of zero); a
    # column that drops them would have truncated both.
    stamps = [create()['created_at'].microsecond for _ in range(3)]
    assert any(stamps)


def test_microseconds_survive_updates(db):
    image = create()
    updated = db_api.image_update(image['id'], {
        'deleted_at': None, 'created_at': T(2001, 2, 3, 4, 5, 6, 999999)})
    assert db_api.image_get(image['id'])['created_at'] == T(
        2001, 2, 3, 4, 5, 6, 999999)
    assert db_api.image_get(image['id'])['updated_at'] == (
        updated['updated_at'])


def test_unicode_names_and_properties(db):
    name = 'caf\u00e9 \u65e5\u672c\u8a9e \u0416 \uffff'
    properties = {'cl\u00e9': 'valeur \u00fc\u00df',
                  '\u4e2d\u6587': '\u4e2d' * 3000,
                  'plain': 'x'}
    image = create(name=name, owner='\u00f6wner', properties=properties)
    fetched = db_api.image_get(image['id'])
    assert fetched['name'] == name
    assert fetched['owner'] == '\u00f6wner'
    assert fetched['properties'] == properties


def test_long_values(db):
    image = create(name='n' * 255, owner='o' * 255,
                   properties={'k' * 255: 'v' * 100000})
    fetched = db_api.image_get(image['id'])
    assert fetched['name'] == 'n' * 255
    assert fetched['owner'] == 'o' * 255
    assert fetched['properties'] == {'k' * 255: 'v' * 100000}


def test_property_names_are_exact(db):
    # Names differing only in case or trailing space are different
    # properties on every engine.
    properties = {'a': '1', 'A': '2', 'a ': '3', '\u00e9': '4', 'e': '5'}
    image = create(properties=properties)
    assert db_api.image_get(image['id'])['properties'] == properties


def test_null_and_empty_properties(db):
    image = create(properties={'gone': None, 'empty': '', 'set': 'v'})
    assert db_api.image_get(image['id'])['properties'] == {
        'gone': None, 'empty': '', 'set': 'v'}


def test_get_unknown(db):
    with pytest.raises(exception.ImageNotFound):
        db_api.image_get(new_id())


def test_duplicate_id(db):
    image = create(name='first')
    with pytest.raises(exception.Duplicate):
        create(id=image['id'], name='second')
    assert db_api.image_get(image['id'])['name'] == 'first'


def test_duplicate_id_of_deleted_image(db):
    image = create()
    db_api.image_destroy(image['id'], 'deleted', 'queued')
    with pytest.raises(exception.Duplicate):
        create(id=image['id'])
    assert db_api.image_get(image['id'])['deleted'] is True


def test_duplicate_is_a_conflict(db):
    image = create()
    with pytest.raises(exception.Conflict):
        create(id=image['id'])


# -- update -----------------------------------------------------------------

def test_update_core_attributes(db):
    image = create(name='old', created_at=T(2010, 1, 1),
                   updated_at=T(2010, 1, 1))
    updated = db_api.image_update(image['id'], {
        'name': 'new', 'disk_format': 'raw', 'min_ram': 1, 'owner': None})
    assert updated['name'] == 'new'
    assert updated['disk_format'] == 'raw'
    assert updated['min_ram'] == 1
    assert updated['updated_at'] > T(2010, 1, 1)
    assert updated['created_at'] == T(2010, 1, 1)
    assert db_api.image_get(image['id']) == updated


def test_update_without_properties_leaves_them(db):
    image = create(properties={'a': '1'})
    db_api.image_update(image['id'], {'name': 'x'}, None, purge=True)
    assert db_api.image_get(image['id'])['properties'] == {'a': '1'}


def test_update_purge_true_replaces_properties(db):
    image = create(properties={'a': '1', 'b': '2'})
    updated = db_api.image_update(image['id'], {}, {'c': '3'}, purge=True)
    assert updated['properties'] == {'c': '3'}
    assert db_api.image_get(image['id'])['properties'] == {'c': '3'}


def test_update_purge_true_with_no_properties_removes_all(db):
    image = create(properties={'a': '1', 'b': '2'})
    db_api.image_update(image['id'], {'name': 'x'}, {}, purge=True)
    assert db_api.image_get(image['id'])['properties'] == {}


def test_update_purge_false_merges(db):
    image = create(properties={'a': '1', 'b': '2'})
    db_api.image_update(image['id'], {}, {'a': '9', 'c': '3'}, purge=False)
    assert db_api.image_get(image['id'])['properties'] == {
        'a': '9', 'b': '2', 'c': '3'}


def test_update_property_to_null_and_back(db):
    image = create(properties={'a': '1'})
    db_api.image_update(image['id'], {}, {'a': None}, purge=False)
    assert db_api.image_get(image['id'])['properties'] == {'a': None}
    db_api.image_update(image['id'], {}, {'a': '2'}, purge=False)
    assert db_api.image_get(image['id'])['properties'] == {'a': '2'}


def test_purged_property_can_be_set_again(db):
    image = create(properties={'a': '1', 'b': '2'})
    db_api.image_update(image['id'], {}, {'b': '2'}, purge=True)
    db_api.image_update(image['id'], {}, {'a': 'again'}, purge=False)
    assert db_api.image_get(image['id'])['properties'] == {
        'a': 'again', 'b': '2'}


def test_update_expected_status(db):
    image = create()
    db_api.image_update(image['id'], {'name': 'ok'},
                        expected_statuses=['queued', 'saving'])
    with pytest.raises(exception.Conflict):
        db_api.image_update(image['id'], {'name': 'no'},
                            expected_statuses=['active'])
    assert db_api.image_get(image['id'])['name'] == 'ok'


def test_update_deleted_or_unknown_image(db):
    image = create()
    db_api.image_destroy(image['id'], 'deleted', 'queued')
    with pytest.raises(exception.ImageNotFound):
        db_api.image_update(image['id'], {'name': 'x'})
    with pytest.raises(exception.ImageNotFound):
        db_api.image_update(new_id(), {'name': 'x'})


# -- transitions ------------------------------------------------------------

def test_transition_queued_saving_twice(db):
    image = create()
    saving = db_api.image_transition(image['id'], 'saving')
    assert saving['status'] == 'saving'
    with pytest.raises(exception.Conflict):
        db_api.image_transition(image['id'], 'saving')
    assert db_api.image_get(image['id'])['status'] == 'saving'


def test_transition_to_active_with_values_and_location(db):
    image = create()
    db_api.image_transition(image['id'], 'saving')
    active = db_api.image_transition(
        image['id'], 'active',
        values={'size': 5, 'checksum': 'c' * 32},
        location=('file:///data/x', {'k': 'v'}))
    assert active['status'] == 'active'
    fetched = db_api.image_get(image['id'])
    assert fetched['size'] == 5 and fetched['checksum'] == 'c' * 32
    assert fetched['locations'] == [
        {'url': 'file:///data/x', 'metadata': {'k': 'v'},
         'status': 'active'}]


@pytest.mark.parametrize('from_status, to_status', [
    ('active', 'saving'), ('active', 'queued'), ('killed', 'active'),
    ('queued', 'killed')])
def test_refused_transition(db, from_status, to_status):
    image = create(status=from_status)
    with pytest.raises(exception.Conflict):
        db_api.image_transition(image['id'], to_status,
                                values={'name': 'changed'})
    fetched = db_api.image_get(image['id'])
    assert fetched['status'] == from_status
    assert fetched['name'] is None


def test_transition_on_deleted_image(db):
    image = create()
    db_api.image_destroy(image['id'], 'deleted', 'queued')
    with pytest.raises(exception.ImageNotFound):
        db_api.image_transition(image['id'], 'saving')
    with pytest.raises(exception.ImageNotFound):
        db_api.image_transition(new_id(), 'saving')
    assert db_api.image_get(image['id'])['status'] == 'deleted'


def test_kill(db):
    image = create()
    assert db_api.image_kill(image['id']) is False
    assert db_api.image_get(image['id'])['status'] == 'queued'
    db_api.image_transition(image['id'], 'saving')
    assert db_api.image_kill(image['id']) is True
    assert db_api.image_get(image['id'])['status'] == 'killed'
    assert db_api.image_kill(image['id']) is False


def test_kill_after_delete_is_a_noop(db):
    image = create()
    db_api.image_transition(image['id'], 'saving')
    db_api.image_destroy(image['id'], 'deleted', 'saving')
    assert db_api.image_kill(image['id']) is False
    fetched = db_api.image_get(image['id'])
    assert fetched['status'] == 'deleted' and fetched['deleted'] is True


def test_requeue(db):
    image = create()
    assert db_api.image_requeue(image['id']) is False
    db_api.image_transition(image['id'], 'saving')
    assert db_api.image_requeue(image['id']) is True
    requeued = db_api.image_get(image['id'])
    assert requeued['status'] == 'queued'
    # Queued again: a second upload may start.
    db_api.image_transition(image['id'], 'saving')
    db_api.image_destroy(image['id'], 'deleted', 'saving')
    assert db_api.image_requeue(image['id']) is False
    assert db_api.image_get(image['id'])['status'] == 'deleted'


# -- destroy ----------------------------------------------------------------

def test_destroy(db):
    image = create(status='active', properties={'a': '1'})
    db_api.image_transition(image['id'], 'deactivated',
                            location=('file:///x', None))
    db_api.image_transition(image['id'], 'active')
    db_api.member_set(image['id'], 'tenant-b', True)
    before = db_api.image_destroy(image['id'], 'deleted', 'active')
    assert before['status'] == 'active'
    assert before['deleted'] is False
    assert before['locations'][0]['url'] == 'file:///x'
    fetched = db_api.image_get(image['id'])
    assert fetched['status'] == 'deleted'
    assert fetched['deleted'] is True
    assert fetched['deleted_at'] is not None
    assert fetched['updated_at'] == fetched['deleted_at']
    assert fetched['properties'] == {'a': '1'}
    # Its data is gone: no live location is left.
    assert fetched['locations'] == []
    assert list_members(image_id=image['id']) == []
    assert find_member(image['id'], 'tenant-b') is None


def test_destroy_pending_delete_keeps_location_for_scrubber(db):
    image = create()
    db_api.image_transition(image['id'], 'active',
                            location=('file:///y', {}))
    db_api.image_destroy(image['id'], 'pending_delete', 'active')
    fetched = db_api.image_get(image['id'])
    assert fetched['status'] == 'pending_delete'
    assert fetched['deleted'] is True
    assert fetched['locations'] == [
        {'url': 'file:///y', 'metadata': {}, 'status': 'pending_delete'}]


def test_destroy_conditions(db):
    image = create()
    with pytest.raises(exception.Conflict):
        db_api.image_destroy(image['id'], 'deleted', 'active')
    assert db_api.image_get(image['id'])['deleted'] is False
    db_api.image_destroy(image['id'], 'deleted', 'queued')
    with pytest.raises(exception.ImageNotFound):
        db_api.image_destroy(image['id'], 'deleted', 'deleted')
    with pytest.raises(exception.ImageNotFound):
        db_api.image_destroy(new_id(), 'deleted', 'queued')


def test_restore_status(db):
    image = create()
    db_api.image_transition(image['id'], 'active',
                            location=('file:///z', {}))
    db_api.image_destroy(image['id'], 'deleted', 'active')
    db_api.image_restore_status(image['id'], 'active')
    fetched = db_api.image_get(image['id'])
    assert fetched['status'] == 'active'
    assert fetched['deleted'] is False and fetched['deleted_at'] is None
    assert fetched['locations'][0]['status'] == 'active'


# -- lists: order and filters -----------------------------------------------

def test_list_default_order_is_created_at_desc(db):
    made = [create(created_at=T(2015, 1, day)) for day in (3, 1, 2)]
    assert list_ids(scope='all') == [made[0]['id'], made[2]['id'],
                                     made[1]['id']]
    assert ids(db_api.image_list(scope='all')) == list_ids(scope='all')


def test_list_limit(db):
    for day in range(1, 6):
        create(created_at=T(2015, 1, day))
    assert len(db_api.image_list(scope='all', limit=2)) == 2
    assert db_api.image_list(scope='all', limit=0) == []
    assert len(db_api.image_list(scope='all')) == 5


def test_list_has_properties_and_no_locations(db):
    image = create(status='active', properties={'a': '1', 'n': None})
    db_api.image_transition(image['id'], 'deactivated',
                            location=('file:///secret', {}))
    [listed] = db_api.image_list(scope='all')
    assert listed['properties'] == {'a': '1', 'n': None}
    assert 'locations' not in listed


def test_name_filter_is_exact_and_case_sensitive(db):
    names = ['foo', 'Foo', 'FOO', 'foo ', ' foo', 'fo', 'foobar', 'f\u00f6o',
             'fo%', None]
    made = {name: create(name=name)['id'] for name in names}
    for name in names[:-1]:
        assert list_ids(scope='all', filters={'name': name}) == [made[name]]
    assert list_ids(scope='all', filters={'name': 'fo_'}) == []
    assert list_ids(scope='all', filters={'name': 'FOo'}) == []
    assert list_ids(scope='all', filters={'name': ''}) == []


def test_format_and_status_filters_are_exact(db):
    a = create(disk_format='raw', container_format='bare', status='active')
    b = create(disk_format='RAW', container_format='ovf', status='queued')
    create(disk_format=None, container_format=None, status='saving')
    assert list_ids(scope='all', filters={'disk_format': 'raw'}) == [a['id']]
    assert list_ids(scope='all', filters={'disk_format': 'RAW'}) == [b['id']]
    assert list_ids(scope='all',
                    filters={'container_format': 'ovf'}) == [b['id']]
    assert list_ids(scope='all', filters={'status': 'active'}) == [a['id']]
    assert list_ids(scope='all', filters={'status': 'ACTIVE'}) == []
    assert list_ids(scope='all', filters={
        'status': 'active', 'disk_format': 'raw',
        'container_format': 'ovf'}) == []


def test_size_and_min_filters(db):
    small = create(size=10, min_ram=512, min_disk=1,
                   created_at=T(2015, 1, 1))
    middle = create(size=20, min_ram=0, min_disk=1, created_at=T(2015, 1, 2))
    large = create(size=2 ** 62, min_ram=512, min_disk=0,
                   created_at=T(2015, 1, 3))
    assert list_ids(scope='all', filters={'size_min': 20}) == [
        large['id'], middle['id']]
    assert list_ids(scope='all', filters={'size_max': 20}) == [
        middle['id'], small['id']]
    assert list_ids(scope='all', filters={'size_min': 11,
                                          'size_max': 20}) == [middle['id']]
    assert list_ids(scope='all', filters={'size_min': 2 ** 63 - 1}) == []
    assert list_ids(scope='all', filters={'size_max': 2 ** 63 - 1}) == [
        large['id'], middle['id'], small['id']]
    assert list_ids(scope='all', filters={'min_ram': 512}) == [
        large['id'], small['id']]
    assert list_ids(scope='all', filters={'min_ram': 0}) == [middle['id']]
    assert list_ids(scope='all', filters={'min_ram': 256}) == []
    assert list_ids(scope='all', filters={'min_disk': 1}) == [
        middle['id'], small['id']]
    assert list_ids(scope='all', filters={'min_ram': 2 ** 40}) == []


def test_protected_filter(db):
    yes = create(protected=True)
    no = create(protected=False)
    assert list_ids(scope='all', filters={'protected': True}) == [yes['id']]
    assert list_ids(scope='all', filters={'protected': False}) == [no['id']]


@pytest.fixture(params=['looked-up', 'checked-per-image'])
def property_plan(request, monkeypatch):
    """Both ways SQLite applies a property filter: from the index (few
    matches) and image by image along the sort (many: a limit of 1 makes
    every filter common). The other engines' planners choose by
    themselves; the limit does not change their query."""
    if request.param == 'checked-per-image':
        monkeypatch.setattr(list_clauses, 'PROBE_LIMIT', 1)
    return request.param


def test_property_filters_are_anded(db, property_plan):
    both = create(properties={'a': '1', 'b': '2'}, created_at=T(2015, 1, 3))
    only_a = create(properties={'a': '1'}, created_at=T(2015, 1, 2))
    other_b = create(properties={'a': '1', 'b': '3'},
                     created_at=T(2015, 1, 1))
    create(properties={'A': '1', 'b': '2'})
    assert list_ids(scope='all', properties={'a': '1'}) == [
        both['id'], only_a['id'], other_b['id']]
    assert list_ids(scope='all', properties={'a': '1', 'b': '2'}) == [
        both['id']]
    assert list_ids(scope='all', properties={'b': '2', 'c': '3'}) == []
    assert list_ids(scope='all', properties={'a': 'x'}) == []
    assert list_ids(scope='all', properties={'a': '1'},
                    filters={'name': 'none'}) == []


def test_property_filter_is_exact(db, property_plan):
    image = create(properties={'os': 'Linux', 'empty': '', 'null': None})
    assert list_ids(scope='all', properties={'os': 'Linux'}) == [image['id']]
    assert list_ids(scope='all', properties={'os': 'linux'}) == []
    assert list_ids(scope='all', properties={'os': 'Linux '}) == []
    assert list_ids(scope='all', properties={'OS': 'Linux'}) == []
    assert list_ids(scope='all', properties={'empty': ''}) == [image['id']]


def test_property_filter_on_long_values_compares_the_whole_value(
        db, property_plan):
    """The index holds a prefix of each value (migration 0003); values
    longer than it, equal up to it, still match exactly."""
    prefix = 'x' * db_api.PROPERTY_VALUE_PREFIX
    one = create(properties={'long': prefix + 'one'}, created_at=T(2015, 1, 2))
    two = create(properties={'long': prefix + 'two'}, created_at=T(2015, 1, 1))
    create(properties={'long': prefix})
    assert list_ids(scope='all', properties={'long': prefix + 'one'}) == [
        one['id']]
    assert list_ids(scope='all', properties={'long': prefix + 'two'}) == [
        two['id']]
    huge = 'é' * 100000
    big = create(properties={'long': huge})
    assert list_ids(scope='all', properties={'long': huge}) == [big['id']]
    assert list_ids(scope='all', properties={'long': huge[:-1]}) == []


def _statements_of(func, *args, **kwargs):
    """(result, SQL statements func ran on the catalogue's engine)."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', record)
    try:
        return func(*args, **kwargs), statements
    finally:
        sa.event.remove(engine, 'before_cursor_execute', record)


PAGE_KINDS = [
    {}, {'scope': 'all', 'limit': 1000}, {'owner': 'p1'},
    {'scope': 'all', 'properties': {'k': 'v1'}, 'sort_key': 'name'},
    {'scope': 'all', 'changes_since': T(2000, 1, 1)}]


def test_a_page_takes_three_statements_whatever_the_catalogue_size(db):
    """No per-row query (N+1) and no COUNT: a page is one SELECT of the
    images, one of all their properties and one of all their tags (on
    SQLite, and one bounded look-up per property filter), for 3 images or
    60."""
    pages = {}
    for count in (3, 60):
        while len(list_ids(scope='all')) < count:
            create(visibility='public', owner='p1',
                   properties={'k': 'v1', 'j': 'x', 'i': 'y'})
        for i, kwargs in enumerate(PAGE_KINDS):
            page, statements = _statements_of(db_api.image_list, **kwargs)
            assert page and all(image['properties'] for image in page)
            selects = [s for s in statements
                       if s.lstrip().upper().startswith('SELECT')]
            # SQLite: plus one bounded look-up per property filter.
            probes = (len(kwargs.get('properties', {}))
                      if db.kind == 'sqlite' else 0)
            assert len(selects) == 3 + probes, (kwargs, statements)
            assert not any('count(' in s.lower() for s in statements)
            pages.setdefault(i, []).append(len(page))
    assert all(small < big for small, big in pages.values()), pages


# -- lists: scope and deleted images ----------------------------------------

@pytest.fixture
def scoped(db):
    """Images of several owners, public and private, some shared."""
    images = {
        'public': create(visibility='public', owner='other',
                         created_at=T(2015, 1, 6)),
        'mine': create(visibility='private', owner='me',
                       created_at=T(2015, 1, 5)),
        'shared': create(visibility='private', owner='other',
                         created_at=T(2015, 1, 4)),
        'unshared': create(visibility='private', owner='other',
                           created_at=T(2015, 1, 3)),
        'ex_shared': create(visibility='private', owner='other',
                            created_at=T(2015, 1, 2)),
        'ownerless': create(visibility='private', owner=None,
                            created_at=T(2015, 1, 1)),
    }
    db_api.member_set(images['shared']['id'], 'me', False)
    db_api.member_set(images['unshared']['id'], 'someone-else', False)
    db_api.member_set(images['ex_shared']['id'], 'me', True)
    db_api.member_delete(images['ex_shared']['id'], 'me')
    return {key: image['id'] for key, image in images.items()}


def test_scope_user(scoped):
    assert list_ids(scope='user', owner='me') == [
        scoped['public'], scoped['mine'], scoped['shared']]
    assert list_ids(scope='user', owner='someone-else') == [
        scoped['public'], scoped['unshared']]
    assert list_ids(scope='user', owner='other') == [
        scoped['public'], scoped['shared'], scoped['unshared'],
        scoped['ex_shared']]
    assert list_ids(scope='user', owner='nobody') == [scoped['public']]


def test_scope_user_without_owner(scoped):
    # Glance quirk Q12, kept: public images plus every image with a live
    # membership.
    assert list_ids(scope='user', owner=None) == [
        scoped['public'], scoped['shared'], scoped['unshared']]


def test_scope_all_and_private(scoped):
    everything = [scoped[k] for k in ('public', 'mine', 'shared', 'unshared',
                                      'ex_shared', 'ownerless')]
    assert list_ids(scope='all', owner='me') == everything
    assert list_ids(scope='private', owner='me') == everything[1:]


def test_deleted_and_killed_hidden_unless_changes_since(db):
    old = T(2010, 1, 1)
    live = create(created_at=old, updated_at=old)
    stale = create(created_at=old, updated_at=old)
    deleted = create(created_at=old, updated_at=old)
    killed = create(created_at=old, updated_at=old)
    db_api.image_transition(killed['id'], 'saving')
    db_api.image_kill(killed['id'])
    db_api.image_destroy(deleted['id'], 'deleted', 'queued')
    db_api.image_update(live['id'], {'name': 'touched'})

    assert set(list_ids(scope='all')) == {live['id'], stale['id']}
    assert list_ids(scope='all', filters={'status': 'killed'}) == []
    assert list_ids(scope='all', filters={'status': 'deleted'}) == []

    since = T(2011, 1, 1)
    assert set(list_ids(scope='all', changes_since=since)) == {
        live['id'], deleted['id'], killed['id']}
    assert set(list_ids(scope='all', changes_since=T(2009, 1, 1))) == {
        live['id'], stale['id'], deleted['id'], killed['id']}
    assert list_ids(scope='all', changes_since=since,
                    filters={'status': 'killed'}) == [killed['id']]
    assert list_ids(scope='all', changes_since=since,
                    filters={'status': 'deleted'}) == [deleted['id']]
    assert list_ids(scope='all',
                    changes_since=datetime.datetime.utcnow()
                    + datetime.timedelta(days=1)) == []


def test_changes_since_is_strictly_later(db):
    stamp = T(2014, 5, 6, 7, 8, 9, 123456)
    image = create(updated_at=stamp)
    assert list_ids(scope='all', changes_since=stamp) == []
    assert list_ids(scope='all', changes_since=stamp - datetime.timedelta(
        microseconds=1)) == [image['id']]


def test_changes_since_keeps_scope(db):
    theirs = create(owner='other', visibility='private')
    mine = create(owner='me', visibility='private')
    db_api.image_destroy(theirs['id'], 'deleted', 'queued')
    db_api.image_destroy(mine['id'], 'deleted', 'queued')
    assert list_ids(scope='user', owner='me',
                    changes_since=T(2000, 1, 1)) == [mine['id']]


# -- lists: keyset paging ---------------------------------------------------

def _paging_catalogue():
    """Images with duplicate, null and empty sort values, so every
    tie-breaker is exercised."""
    rows = [
        ('alpha', 'active', 'raw', 'bare', 10, T(2015, 1, 1), T(2016, 1, 3)),
        (None, 'queued', None, None, 0, T(2015, 1, 1), T(2016, 1, 3)),
        ('alpha', 'queued', 'qcow2', 'ovf', 10, T(2015, 1, 2),
         T(2016, 1, 1)),
        (None, 'active', 'raw', None, 30, T(2015, 1, 2), T(2016, 1, 2)),
        ('', 'saving', None, 'bare', 0, T(2015, 1, 3), T(2016, 1, 2)),
        ('beta', 'active', 'iso', 'bare', 20, T(2015, 1, 3, 0, 0, 0, 1),
         T(2016, 1, 1)),
        ('beta', 'queued', 'raw', 'ovf', 20, T(2015, 1, 1), T(2016, 1, 3)),
        ('gamma', 'active', 'qcow2', 'bare', 5, T(2015, 1, 4),
         T(2016, 1, 4)),
        (None, 'queued', None, None, 0, T(2015, 1, 4), T(2016, 1, 4)),
    ]
    for name, status, disk, container, size, created, updated in rows:
        create(name=name, status=status, disk_format=disk,
               container_format=container, size=size, created_at=created,
               updated_at=updated, visibility='public')


def _expected_order(images, sort_key, sort_dir):
    def key(image):
        value = image[sort_key]
        if value is None:
            value = '' if sort_key in ('name', 'disk_format',
                                       'container_format') else 0
        return (value, image['created_at'], image['id'])
    return sorted(images, key=key, reverse=(sort_dir == 'desc'))


@pytest.mark.parametrize('sort_dir', ['asc', 'desc'])
def test_keyset_paging_every_sort_key(db, sort_dir):
    _paging_catalogue()
    for sort_key in db_api.SORT_KEYS:
        unpaged = db_api.image_list(scope='all', limit=1000,
                                    sort_key=sort_key, sort_dir=sort_dir)
        assert len(unpaged) == 9
        assert ids(unpaged) == ids(
            _expected_order(unpaged, sort_key, sort_dir)), sort_key

        paged = []
        marker = None
        while True:
            page = db_api.image_list(scope='all', limit=2, marker=marker,
                                     sort_key=sort_key, sort_dir=sort_dir)
            assert len(page) <= 2
            paged.extend(page)
            if len(page) < 2:
                break
            marker = db_api.image_get(page[-1]['id'])
            assert len(paged) <= 9, sort_key
        assert ids(paged) == ids(unpaged), sort_key


def test_marker_starts_strictly_after(db):
    made = [create(name=None, created_at=T(2015, 1, 1)) for _ in range(4)]
    order = list_ids(scope='all')
    assert sorted(order, reverse=True) == order == sorted(
        ids(made), reverse=True)
    for i, image_id in enumerate(order):
        marker = db_api.image_get(image_id)
        assert list_ids(scope='all', marker=marker) == order[i + 1:]
        assert list_ids(scope='all', marker=marker, sort_key='name',
                        sort_dir='desc') == order[i + 1:]


def test_paging_with_filters(db):
    for day in range(1, 8):
        create(created_at=T(2015, 1, day), disk_format='raw' if day % 2
               else 'iso', properties={'even': str(day % 2 == 0)})
    wanted = list_ids(scope='all', filters={'disk_format': 'raw'})
    assert len(wanted) == 4
    paged, marker = [], None
    while True:
        page = db_api.image_list(scope='all', limit=1, marker=marker,
                                 filters={'disk_format': 'raw'},
                                 properties={'even': 'False'})
        if not page:
            break
        paged.extend(ids(page))
        marker = db_api.image_get(page[-1]['id'])
    assert paged == wanted


# -- members ----------------------------------------------------------------

def _v1_member(membership):
    # What v1 knows of a membership (status and times are v2's).
    if membership is None:
        return None
    return {k: membership[k] for k in ('image_id', 'member_id', 'can_share')}


def find_member(image_id, member):
    return _v1_member(db_api.member_find(image_id, member))


def list_members(**kwargs):
    return [_v1_member(m) for m in db_api.member_list(**kwargs)]


def test_members_crud(db):
    image = create(owner='owner')
    other = create(owner='owner')
    assert list_members(image_id=image['id']) == []
    assert find_member(image['id'], 't1') is None

    db_api.member_set(image['id'], 't1')
    db_api.member_set(image['id'], 't2', True)
    db_api.member_set(other['id'], 't1', True)
    assert find_member(image['id'], 't1') == {
        'image_id': image['id'], 'member_id': 't1', 'can_share': False}
    assert list_members(image_id=image['id']) == [
        {'image_id': image['id'], 'member_id': 't1', 'can_share': False},
        {'image_id': image['id'], 'member_id': 't2', 'can_share': True}]
    assert list_members(member='t1') == [
        {'image_id': image['id'], 'member_id': 't1', 'can_share': False},
        {'image_id': other['id'], 'member_id': 't1', 'can_share': True}]
    assert list_members(image_id=image['id'], member='t2') == [
        {'image_id': image['id'], 'member_id': 't2', 'can_share': True}]

    # Update: None keeps can_share, a value replaces it.
    db_api.member_set(image['id'], 't2')
    assert find_member(image['id'], 't2')['can_share'] is True
    db_api.member_set(image['id'], 't2', False)
    assert find_member(image['id'], 't2')['can_share'] is False

    assert db_api.member_delete(image['id'], 't1') is True
    assert db_api.member_delete(image['id'], 't1') is False
    assert db_api.member_delete(image['id'], 'never') is False
    assert find_member(image['id'], 't1') is None
    assert list_members(image_id=image['id']) == [
        {'image_id': image['id'], 'member_id': 't2', 'can_share': False}]
    assert list_members(member='t1') == [
        {'image_id': other['id'], 'member_id': 't1', 'can_share': True}]


def test_member_ids_are_exact(db):
    image = create()
    for member in ('t', 'T', 't ', '\u00e9', 'e'):
        db_api.member_set(image['id'], member)
    assert [m['member_id'] for m in list_members(
        image_id=image['id'])] == ['t', 'T', 't ', '\u00e9', 'e']
    assert find_member(image['id'], 'T')['member_id'] == 'T'
    assert find_member(image['id'], 'E') is None


@pytest.mark.parametrize('can_share, expected', [
    (None, False), (True, True), (False, False)])
def test_removed_member_is_revived(db, can_share, expected):
    image = create()
    db_api.member_set(image['id'], 't1', True)
    db_api.member_set(image['id'], 't2')
    db_api.member_delete(image['id'], 't1')
    db_api.member_set(image['id'], 't1', can_share)
    assert find_member(image['id'], 't1') == {
        'image_id': image['id'], 'member_id': 't1', 'can_share': expected}
    assert sorted(m['member_id'] for m in list_members(
        image_id=image['id'])) == ['t1', 't2']
    assert list_members(member='t1') == [
        {'image_id': image['id'], 'member_id': 't1', 'can_share': expected}]


def test_member_replace_all(db):
    image = create()
    db_api.member_set(image['id'], 'keep', True)
    db_api.member_set(image['id'], 'drop', True)
    db_api.member_set(image['id'], 'revive', True)
    db_api.member_delete(image['id'], 'revive')

    db_api.member_replace_all(image['id'], [
        ('keep', None), ('new', None), ('shared', True), ('revive', None)])
    members = {m['member_id']: m['can_share']
               for m in list_members(image_id=image['id'])}
    # Named members keep their can_share unless the entry gives one
    # (spec §11.3 step 5); new and revived ones default to false.
    assert members == {'keep': True, 'new': False, 'shared': True,
                       'revive': False}

    db_api.member_replace_all(image['id'], [('keep', False)])
    assert list_members(image_id=image['id']) == [
        {'image_id': image['id'], 'member_id': 'keep', 'can_share': False}]

    db_api.member_replace_all(image['id'], [])
    assert list_members(image_id=image['id']) == []


def test_members_of_deleted_image_are_gone(db):
    image = create()
    db_api.member_set(image['id'], 't1')
    db_api.image_destroy(image['id'], 'deleted', 'queued')
    assert list_members(member='t1') == []
    assert list_ids(scope='user', owner='t1') == []


# -- text the engines cannot all hold ---------------------------------------

def test_nul_and_lone_surrogates_are_invalid_on_every_engine(db):
    image = create(name='ok', properties={'k': 'v'})
    for call in (
            lambda: create(name='a\x00b'),
            lambda: create(properties={'k\x00': 'v'}),
            lambda: create(properties={'k': 'v\x00'}),
            lambda: db_api.image_update(image['id'], {'name': '\x00'}),
            lambda: db_api.image_update(image['id'], {}, {'k': '\x00'}),
            lambda: db_api.image_get('\x00'),
            lambda: db_api.image_list(filters={'name': 'a\x00'}),
            lambda: db_api.image_list(properties={'k': '\x00'}),
            lambda: db_api.image_list(scope='user', owner='\x00'),
            lambda: db_api.member_set(image['id'], 'm\x00'),
            lambda: find_member(image['id'], 'm\x00'),
            lambda: list_members(member='\x00'),
            lambda: db_api.member_replace_all(image['id'], [('\x00', None)]),
            lambda: db_api.member_delete(image['id'], '\x00'),
            # Unpaired surrogates arrive through JSON bodies ("\ud800").
            lambda: db_api.member_set(image['id'], '\ud800'),
            lambda: db_api.member_replace_all(image['id'], [('a\udfff', 1)]),
            lambda: list_members(member='\ud800'),
            lambda: create(name='\ud800'),
            lambda: db_api.image_list(filters={'name': '\udc80'})):
        with pytest.raises(exception.Invalid):
            call()
    assert db_api.image_get(image['id'])['name'] == 'ok'
    assert db_api.image_get(image['id'])['properties'] == {'k': 'v'}
    assert list_members(image_id=image['id']) == []
    assert list_ids(scope='all') == [image['id']]
