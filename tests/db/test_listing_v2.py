"""v2 lists in the catalogue (db.listing_v2, v2 spec §9) on SQLite,
PostgreSQL and MySQL/MariaDB: who lists what, the filters, the order and
paging, and the statements a page takes."""

import datetime
import uuid

import pytest
import sqlalchemy as sa

from glance_lite.db import api as db_api
from glance_lite.db import list_clauses


def T(*args):
    return datetime.datetime(*args)


def create(properties=None, tags=None, **values):
    values.setdefault('id', str(uuid.uuid4()))
    values.setdefault('status', 'queued')
    return db_api.image_create(values, properties, tags=tags)['id']


def listed(**kwargs):
    kwargs.setdefault('limit', 1000)
    kwargs.setdefault('is_admin', True)
    kwargs.setdefault('visibility', 'all')
    return [image['id'] for image in db_api.image_list_v2(**kwargs)]


# -- who lists what ---------------------------------------------------------

VISIBILITIES = ('public', 'private', 'shared', 'community')


@pytest.fixture
def catalogue(db):
    """One image per (owner, visibility) for owners p1, p2 and none; p2's
    shared image has p1 as a pending member, and a second one p1 accepted
    and p3 removed."""
    images = {}
    day = 1
    for owner in ('p1', 'p2', None):
        for visibility in VISIBILITIES:
            images[(owner, visibility)] = create(
                owner=owner, visibility=visibility,
                created_at=T(2020, 1, day))
            day += 1
    images['accepted'] = create(owner='p2', visibility='shared',
                                created_at=T(2020, 1, day))
    db_api.member_add(images[('p2', 'shared')], 'p1')
    db_api.member_add(images['accepted'], 'p1')
    db_api.member_set_status(images['accepted'], 'p1', 'accepted')
    db_api.member_add(images['accepted'], 'p3')
    db_api.member_set_status(images['accepted'], 'p3', 'accepted')
    db_api.member_delete(images['accepted'], 'p3')
    return images


def as_caller(owner, is_admin=False, **kwargs):
    kwargs.update(owner=owner, is_admin=is_admin)
    kwargs.setdefault('visibility', None)
    return set(listed(**kwargs))


def test_member_default_list(catalogue):
    c = catalogue
    assert as_caller('p1') == {
        c[('p1', v)] for v in VISIBILITIES} | {
        c[(o, 'public')] for o in ('p2', None)} | {c['accepted']}


def test_member_status_decides_shared_images(catalogue):
    c = catalogue
    shared = {'visibility': 'shared'}
    assert as_caller('p1', **shared) == {c[('p1', 'shared')], c['accepted']}
    assert as_caller('p1', member_status='pending', **shared) == {
        c[('p1', 'shared')], c[('p2', 'shared')]}
    assert as_caller('p1', member_status='rejected', **shared) == {
        c[('p1', 'shared')]}
    assert as_caller('p1', member_status='all', **shared) == {
        c[('p1', 'shared')], c[('p2', 'shared')], c['accepted']}
    # A removed member lists nothing through the membership.
    assert as_caller('p3', member_status='all', **shared) == set()


def test_member_visibility_values(catalogue):
    c = catalogue
    assert as_caller('p1', visibility='public') == {
        c[(o, 'public')] for o in ('p1', 'p2', None)}
    assert as_caller('p1', visibility='community') == {
        c[(o, 'community')] for o in ('p1', 'p2', None)}
    assert as_caller('p1', visibility='private') == {c[('p1', 'private')]}
    assert as_caller('p1', visibility='all') == {
        c[('p1', v)] for v in VISIBILITIES} | {
        c[(o, v)] for o in ('p2', None)
        for v in ('public', 'community')} | {c['accepted']}


def test_anonymous_lists_public_and_community_only(catalogue):
    c = catalogue
    public = {c[(o, 'public')] for o in ('p1', 'p2', None)}
    community = {c[(o, 'community')] for o in ('p1', 'p2', None)}
    assert as_caller(None) == public
    assert as_caller(None, visibility='community') == community
    assert as_caller(None, visibility='all') == public | community
    assert as_caller(None, visibility='private') == set()
    assert as_caller(None, visibility='shared', member_status='all') == set()


def test_admin_lists_every_owner(catalogue):
    everything = set(catalogue.values())
    community = {catalogue[(o, 'community')] for o in ('p1', 'p2', None)}
    assert as_caller('p1', is_admin=True) == (
        everything - community | {catalogue[('p1', 'community')]})
    assert as_caller(None, is_admin=True) == everything - community
    assert as_caller(None, is_admin=True, visibility='all') == everything
    assert as_caller(None, is_admin=True, visibility='shared') == {
        catalogue[(o, 'shared')] for o in ('p1', 'p2', None)} | {
        catalogue['accepted']}


def test_owner_filter_stays_inside_the_listable_set(catalogue):
    c = catalogue
    assert as_caller('p1', exact={'owner': 'p2'}) == {
        c[('p2', 'public')], c['accepted']}
    assert as_caller('p1', is_admin=True, exact={'owner': 'p2'}) == {
        c[('p2', v)] for v in ('public', 'private', 'shared')} | {
        c['accepted']}


def test_deleted_killed_and_hidden_images(db):
    live = create(status='active')
    hidden = create(os_hidden=True)
    deleted = create()
    db_api.image_destroy(deleted, 'deleted', 'queued')
    killed = create()
    db_api.image_transition(killed, 'saving')
    db_api.image_kill(killed)
    assert listed() == [live]
    assert listed(os_hidden=True) == [hidden]
    for status in ('killed', 'deleted'):
        assert listed(matches={'status': (status,)}) == []


# -- filters ----------------------------------------------------------------

def test_match_filters_take_any_of_their_values(db):
    a = create(name='a', disk_format='raw', container_format='bare',
               created_at=T(2020, 1, 3))
    b = create(name='b', disk_format='iso', container_format='ovf',
               status='active', created_at=T(2020, 1, 2))
    create(name=None, created_at=T(2020, 1, 1))
    assert listed(matches={'name': ('a', 'b')}) == [a, b]
    assert listed(matches={'name': ('A',)}) == []
    assert listed(matches={'id': (b, str(uuid.uuid4()))}) == [b]
    assert listed(matches={'status': ('active', 'saving')}) == [b]
    assert listed(matches={'disk_format': ('raw', 'qcow2'),
                           'container_format': ('bare',)}) == [a]
    assert listed(matches={'disk_format': ('raw',),
                           'container_format': ('ovf',)}) == []


def test_exact_and_range_filters(db):
    small = create(size=5, min_ram=64, min_disk=1, virtual_size=10,
                   checksum='c' * 32, os_hash_value='h' * 128,
                   protected=True, created_at=T(2020, 1, 2))
    empty = create(size=None, created_at=T(2020, 1, 1))
    big = 2 ** 63 - 1
    assert listed(size_min=5, size_max=5) == [small]
    assert listed(size_min=-big) == [small]
    assert listed(size_max=4) == []
    for column, value in [('min_ram', 64), ('min_disk', 1),
                          ('virtual_size', 10), ('size', 5),
                          ('checksum', 'c' * 32),
                          ('os_hash_value', 'h' * 128), ('protected', True)]:
        assert listed(exact={column: value}) == [small], column
    assert listed(exact={'protected': False}) == [empty]
    for column in ('min_ram', 'min_disk', 'virtual_size', 'size'):
        assert listed(exact={column: big}) == [], column


def test_properties_and_tags_must_all_match(db, monkeypatch):
    both = create(properties={'os': 'linux', 'k': 'v'},
                  tags=['sniff', 'snozz'], created_at=T(2020, 1, 2))
    one = create(properties={'os': 'linux'}, tags=['sniff'],
                 created_at=T(2020, 1, 1))
    create(properties={'OS': 'linux'}, tags=['Sniff'])
    for probe_limit in (1000, 1):
        # Both of SQLite's plans: from the index, and image by image.
        monkeypatch.setattr(list_clauses, 'PROBE_LIMIT', probe_limit)
        assert listed(tags=('sniff',)) == [both, one]
        assert listed(tags=('sniff', 'snozz')) == [both]
        assert listed(tags=('sniff', 'fake')) == []
        assert listed(properties=(('os', 'linux'),)) == [both, one]
        assert listed(properties=(('os', 'linux'), ('k', 'v')),
                      tags=('sniff',)) == [both]
        assert listed(properties=(('nothere', '1'),)) == []


def test_time_comparisons_use_whole_seconds(db):
    utc = datetime.timezone.utc
    at = T(2020, 5, 1, 12, 0, 0, 250000)
    image = create(created_at=at, updated_at=T(2020, 5, 2))
    earlier = create(created_at=T(2020, 5, 1, 11, 59, 59, 999999),
                     updated_at=T(2020, 5, 2))
    shown = datetime.datetime(2020, 5, 1, 12, 0, 0, tzinfo=utc)
    expected = {
        'eq': [image], 'neq': [earlier], 'gte': [image],
        'gt': [], 'lte': [image, earlier], 'lt': [earlier]}
    for operator, ids in expected.items():
        assert listed(times={'created_at': ((operator, shown),)}) == ids, (
            operator)
    # A naive moment is UTC; several comparisons must all hold.
    assert listed(times={'created_at': (
        ('gte', T(2020, 5, 1, 11, 59, 59)), ('lt', T(2020, 5, 1, 12)))}) == [
        earlier]
    assert listed(times={'updated_at': (('eq', T(2020, 5, 2)),)}) == [
        image, earlier]
    # The ends of the representable range.
    last = datetime.datetime.max.replace(microsecond=0)
    assert listed(times={'created_at': (('gt', last),)}) == []
    assert listed(times={'created_at': (('lte', last),)}) == [image, earlier]
    assert listed(times={'created_at': (('gte', T(1, 1, 1)),)}) == [
        image, earlier]


# -- order and paging -------------------------------------------------------

def test_mixed_directions_and_null_sort_values(db):
    made = {}
    for i, (name, size) in enumerate([('b', 5), (None, 3), ('a', None),
                                      ('a', 7), ('b', None), (None, None)]):
        made[(name, size)] = create(name=name, size=size,
                                    created_at=T(2020, 1, 1 + i))
    sort = (('name', 'asc'), ('size', 'desc'), ('created_at', 'desc'),
            ('id', 'desc'))
    expected = [made[key] for key in [
        (None, 3), (None, None), ('a', 7), ('a', None), ('b', 5),
        ('b', None)]]
    assert listed(sort=sort) == expected
    for limit in (1, 2, 4):
        pages, marker = [], None
        while True:
            page = db_api.image_list_v2(is_admin=True, visibility='all',
                                        sort=sort, limit=limit,
                                        marker=marker)
            pages += [image['id'] for image in page]
            if len(page) < limit:
                break
            marker = db_api.image_get(page[-1]['id'])
        assert pages == expected, limit


def test_marker_outside_the_filter_works_by_position(db):
    ids = [create(name=name, created_at=T(2020, 1, 1 + i))
           for i, name in enumerate('abcd')]
    marker = db_api.image_get(ids[2])
    assert listed(marker=marker, matches={'name': ('a', 'b', 'd')}) == [
        ids[1], ids[0]]


def _statements_of(func, **kwargs):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db_api.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', record)
    try:
        return func(**kwargs), statements
    finally:
        sa.event.remove(engine, 'before_cursor_execute', record)


PAGES = [
    {'is_admin': True},
    {'owner': 'p1', 'member_status': 'all', 'visibility': 'all',
     'limit': 1000},
    {'owner': 'p1', 'tags': ('t',), 'properties': (('k', 'v'),),
     'sort': (('name', 'asc'), ('created_at', 'desc'), ('id', 'desc'))},
    {'owner': None, 'times': {'created_at': (('gte', T(2000, 1, 1)),)}},
]


def test_a_page_takes_three_statements_whatever_the_catalogue_size(db):
    """The page, its properties, its tags (on SQLite plus one bounded
    look-up per property or tag filter): for 3 images or 60."""
    sizes = {}
    for count in (3, 60):
        while len(listed()) < count:
            image = create(visibility='public', owner='p2',
                           properties={'k': 'v', 'j': 'x'}, tags=['t', 'u'])
            db_api.member_add(image, 'p1')
        for i, kwargs in enumerate(PAGES):
            page, statements = _statements_of(db_api.image_list_v2, **kwargs)
            assert page and all(image['properties'] and image['tags']
                                for image in page)
            selects = [s for s in statements
                       if s.lstrip().upper().startswith('SELECT')]
            probes = (len(kwargs.get('tags', ())) +
                      len(kwargs.get('properties', ()))
                      if db.kind == 'sqlite' else 0)
            assert len(selects) == 3 + probes, (kwargs, statements)
            assert not any('count(' in s.lower() for s in statements)
            sizes.setdefault(i, []).append(len(page))
    assert all(small < big for small, big in sizes.values()), sizes


def test_locations_on_request(db):
    image = create(status='queued')
    db_api.image_transition(image, 'active', location=('file:///x', {}))
    [plain] = db_api.image_list_v2(is_admin=True)
    assert 'locations' not in plain
    [shown], statements = _statements_of(
        db_api.image_list_v2, is_admin=True, with_locations=True)
    assert shown['locations'] == [
        {'url': 'file:///x', 'metadata': {}, 'status': 'active'}]
    assert len([s for s in statements
                if s.lstrip().upper().startswith('SELECT')]) == 4
