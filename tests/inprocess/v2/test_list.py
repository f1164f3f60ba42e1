"""GET /v2/images through the paste app (v2 spec §9, scenarios 36-59 of
v2 spec §25): who lists what, every filter and its 400s, sorting, paging with
next links, marker errors and policy."""

import datetime
import os
import urllib.parse
import uuid

import pytest

from glance_lite.api.v2 import views
from glance_lite.db import api as db_api
from tests.inprocess import support

who = support.trusted
T1, T2, T3 = who('T1'), who('T2'), who('T3')
READER = who('T1', roles='reader')
T1_ADMIN = who('T1', roles='admin,member')
BASE = datetime.datetime(2026, 1, 1, 12, 0, 0, 500000)


@pytest.fixture
def app(make_app):
    return make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                     'DEFAULT': {'allow_anonymous_access': 'true'}})


class Catalogue:
    """Images written straight into the app's catalogue, one second apart
    in creation order (the newest last)."""

    def __init__(self):
        self.count = 0

    def __call__(self, owner='T1', visibility='private', properties=None,
                 tags=None, **values):
        self.count += 1
        moment = BASE + datetime.timedelta(seconds=self.count)
        values.update(id=values.get('id', str(uuid.uuid4())), owner=owner,
                      visibility=visibility, created_at=moment,
                      updated_at=moment)
        values.setdefault('status', 'queued')
        values.setdefault('name', 'image-%d' % self.count)
        return db_api.image_create(values, properties, tags=tags)['id']


@pytest.fixture
def make(app):
    return Catalogue()


def get(app, query='', headers=T1, status=200):
    path = '/v2/images' + ('?' + query if query else '')
    response = app.request('GET', path, headers)
    assert response.status_int == status, response.text
    return response


def ids(app, query='', headers=T1):
    return [image['id'] for image in get(app, query, headers).json['images']]


def refused(app, query, message, headers=T1):
    response = get(app, query, headers, status=400)
    assert message in response.text
    return response


# -- response shape and paging ---------------------------------------------

def test_empty_catalogue(app):
    assert get(app).json == {'images': [], 'first': '/v2/images',
                             'schema': '/v2/schemas/images'}


def test_seven_images_newest_first(app, make):
    made = [make() for _ in range(7)]
    body = get(app).json
    assert [image['id'] for image in body['images']] == made[::-1]
    assert body['first'] == '/v2/images' and 'next' not in body
    image = body['images'][0]
    assert image == views.image_view(None, db_api.image_get(made[-1]))
    assert image['created_at'] == '2026-01-01T12:00:07Z'


def follow(app, query, headers=T1):
    """Every page from ``query`` on, by its next links: [[names]]."""
    pages = []
    response = get(app, query, headers)
    while True:
        pages.append([image['name'] for image in response.json['images']])
        link = response.json.get('next')
        if link is None:
            return pages, response
        assert link.startswith('/v2/images?')
        response = app.request('GET', link, headers)
        assert response.status_int == 200, response.text


@pytest.mark.parametrize('count, expected', [
    (7, [['a', 'b'], ['c', 'd'], ['e', 'f'], ['g']]),
    (6, [['a', 'b'], ['c', 'd'], ['e', 'f'], []])])
def test_paging_with_next_links(app, make, count, expected):
    made = {make(name=name): name for name in 'gfedcba'[7 - count:]}
    first = get(app, 'limit=2&sort_key=name&sort_dir=asc').json
    assert first['first'] == '/v2/images?limit=2&sort_key=name&sort_dir=asc'
    next_query = urllib.parse.parse_qs(first['next'].split('?', 1)[1])
    assert next_query == {'limit': ['2'], 'sort_key': ['name'],
                          'sort_dir': ['asc'],
                          'marker': [[i for i, n in made.items()
                                      if n == 'b'][0]]}
    pages, last = follow(app, 'limit=2&sort_key=name&sort_dir=asc')
    assert pages == expected
    assert 'next' not in last.json


def test_repeated_parameters_stay_in_the_links(app, make):
    make(tags=['a', 'b'])
    make(tags=['a', 'b'])
    body = get(app, 'tag=a&tag=b&limit=1&marker=%s' % ids(app)[0]).json
    assert body['first'] == '/v2/images?tag=a&tag=b&limit=1'
    assert body['next'].startswith('/v2/images?tag=a&tag=b&limit=1&marker=')


def test_limits(app, make):
    for _ in range(3):
        make()
    refused(app, 'limit=a', 'limit param must be an integer')
    refused(app, 'limit=-1', 'limit param must be positive')
    assert get(app, 'limit=0').json == {
        'images': [], 'first': '/v2/images?limit=0',
        'schema': '/v2/schemas/images'}
    assert len(ids(app, 'limit=5000')) == 3


def test_limit_is_capped_by_api_limit_max(make_app):
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'api_limit_max': '2'}})
    make = Catalogue()
    for _ in range(3):
        make()
    body = get(app, 'limit=5000').json
    assert len(body['images']) == 2 and 'next' in body


def test_marker_errors(app, make):
    private_of_t2 = make(owner='T2')
    deleted = make()
    db_api.image_destroy(deleted, 'deleted', 'queued')
    unknown = str(uuid.uuid4())
    for marker in (unknown, private_of_t2, deleted, 'not-a-uuid'):
        refused(app, 'marker=' + marker, 'No image found with ID ' + marker)
    # V22: for admins too.
    refused(app, 'marker=' + deleted, 'No image found with ID ' + deleted,
            headers=support.ADMIN)
    # Visible: T2 itself, or an admin.
    assert ids(app, 'marker=' + private_of_t2, T2) == []
    get(app, 'marker=' + private_of_t2, support.ADMIN)


# -- sorting ---------------------------------------------------------------

def test_sort_errors(app):
    refused(app, 'sort_key=foo',
            'Invalid sort key: foo. It must be one of the following: name, '
            'status, container_format, disk_format, size, id, created_at, '
            'updated_at.')
    refused(app, 'sort_dir=up', 'Invalid sort direction: up')
    refused(app, 'sort=name:asc&sort_key=size',
            'Old and new sorting syntax cannot be combined')
    refused(app, 'sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc'
                 '&sort_dir=asc',
            'Number of sort dirs does not match the number of sort keys')


def test_sort_both_syntaxes(app, make):
    made = {(name, size): make(name=name, size=size)
            for name, size in [('b', 1), ('a', 1), ('a', 5), ('b', None)]}
    order = [made[k] for k in [('a', 5), ('a', 1), ('b', 1), ('b', None)]]
    assert ids(app, 'sort=name:asc,size') == order
    assert ids(app, 'sort_key=name&sort_key=size&sort_dir=asc'
                    '&sort_dir=desc') == order
    assert ids(app, 'sort_key=name&sort_dir=desc') == [
        made[('b', None)], made[('b', 1)], made[('a', 5)], made[('a', 1)]]
    pages, _last = follow(app, 'sort=name:asc,size&limit=1')
    assert sum(pages, []) == [db_api.image_get(i)['name'] for i in order]


# -- filters ---------------------------------------------------------------

def test_property_filters(app, make):
    a = make(properties={'foo': 'bar', 'abc': 'xyz'})
    b = make(properties={'bar': 'foo', 'xyz': 'abc'})
    assert ids(app, 'foo=bar') == [a]
    assert ids(app, 'bar=foo') == [b]
    assert ids(app, 'foo=bar&abc=xyz') == [a]
    assert ids(app, 'foo=baz&abc=xyz') == []
    assert ids(app, 'nothere=1') == []
    # V15 and v2 spec §9.2: plain property filters.
    assert ids(app, 'tags=x') == ids(app, 'deleted=false') == []


def test_changes_since_is_refused(app):
    for value in ('2000-10-07T10:10:10', 'aaa'):
        refused(app, 'changes-since=' + value,
                'The "changes-since" filter is no longer available on v2.')


def test_protected_filter(app, make):
    a = make(protected=True)
    b = make(protected=False)
    assert ids(app, 'protected=true') == [a]
    assert ids(app, 'protected=false') == [b]
    for value in ('False', 'yes'):
        refused(app, 'protected=' + value,
                "Invalid value '%s' for 'protected' filter. Valid values "
                "are 'true' or 'false'." % value)


def test_hidden_images(app, make):
    shown = make()
    hidden = make(os_hidden=True)
    assert ids(app) == [shown]
    assert ids(app, headers=support.ADMIN) == [shown]
    assert ids(app, 'os_hidden=true') == [hidden]
    assert ids(app, 'os_hidden=TRUE') == [hidden]
    assert ids(app, 'os_hidden=False') == [shown]
    refused(app, 'os_hidden=maybe',
            "Invalid value 'maybe' for 'os_hidden' filter. Valid values are "
            "'true' or 'false'.")
    db_api.image_update(hidden, {'os_hidden': False})
    assert ids(app) == [hidden, shown]


def test_tag_filters(app, make):
    one = make(name='image-1', tags=['sniff', 'snozz'])
    make(name='image-2', tags=['snozz'], status='active')
    assert ids(app, 'tag=sniff') == [one]
    assert ids(app, 'tag=sniff&tag=snozz') == [one]
    assert ids(app, 'tag=sniff&tag=fake') == []
    assert ids(app, 'tag=sniff&status=queued') == [one]
    assert ids(app, 'tag=snozz&status=queued') == [one]


def test_in_lists_and_operators(app, make):
    one = make(name='image-1')
    two = make(name='image-2')
    comma = make(name='image-2,image-5')
    colon = make(name='a:b')
    assert set(ids(app, 'name=in:image-1,image-2')) == {one, two}
    assert ids(app, 'name=in:"image-2,image-5"') == [comma]
    assert ids(app, 'name=eq:a:b') == [colon]
    refused(app, 'name=in:"abc', 'The quote is not closed.')
    refused(app, 'name=a:b', "Unable to filter by unknown operator 'a'.")


def test_core_in_filters(app, make):
    saving = make(status='saving', container_format='bare',
                  disk_format='raw')
    queued = make(status='queued', container_format='ami', disk_format='iso')
    make(status='active', container_format='ovf', disk_format='qcow2')
    assert set(ids(app, 'status=in:saving,queued')) == {saving, queued}
    both = 'id=in:%s,%s' % (saving, queued)
    assert set(ids(app, both)) == {saving, queued}
    assert set(ids(app, 'container_format=in:bare,ami')) == {saving, queued}
    assert set(ids(app, 'disk_format=in:raw,iso')) == {saving, queued}


def test_time_comparisons(app, make):
    oldest = make()
    newer = [make() for _ in range(2)]
    shown = get(app).json['images'][-1]['created_at']
    assert get(app).json['images'][-1]['id'] == oldest
    quoted = urllib.parse.quote(shown)
    assert ids(app, 'created_at=lt:' + quoted) == []
    assert set(ids(app, 'created_at=gte:' + quoted)) == {oldest} | set(newer)
    # V7: the time as shown matches the image stored with microseconds.
    assert ids(app, 'created_at=eq:' + quoted) == [oldest]
    assert ids(app, 'created_at=' + quoted) == [oldest]
    offset = urllib.parse.quote(shown.replace('Z', '+00:00'))
    assert ids(app, 'created_at=' + offset) == [oldest]
    newest = urllib.parse.quote(get(app).json['images'][0]['created_at'])
    assert ids(app, 'created_at=neq:%s&created_at=lte:%s'
               % (quoted, newest)) == newer[::-1]
    refused(app, 'updated_at=lt:invalid_value',
            'Bad "updated_at" query filter format. Use ISO 8601 DateTime '
            'notation.')
    refused(app, 'created_at=invalid_operator:2015-11-19T12:24:02Z',
            'Unable to filter on a unknown operator.')


def test_size_and_integer_filters(app, make):
    five = make(size=5, status='active', min_ram=128)
    make(size=6, status='active')
    make()  # queued: no size
    assert ids(app, 'size_min=5&size_max=5') == [five]
    assert ids(app, 'size=5') == [five]
    assert ids(app, 'min_ram=128') == [five]
    refused(app, 'size_min=x',
            'Unable to filter on a range with a non-numeric value.')
    refused(app, 'min_ram=abc', "Invalid value 'abc' for filter 'min_ram'")


def test_checksum_and_hash_filters(app, make):
    image = make(checksum='8f113e38d28a79a5a451b16048cc2b72',
                 os_hash_value='ab' * 64, status='active', size=5)
    make(status='active', size=5)
    assert ids(app, 'checksum=8f113e38d28a79a5a451b16048cc2b72') == [image]
    assert ids(app, 'os_hash_value=' + 'ab' * 64) == [image]
    assert ids(app, 'checksum=8F113E38D28A79A5A451B16048CC2B72') == []


def test_bad_visibility_and_member_status(app):
    refused(app, 'visibility=bogus', 'Invalid visibility value: bogus')
    refused(app, 'member_status=maybe', 'Invalid status: maybe')


def test_undecodable_query(app):
    refused(app, 'name=%FF', 'Error decoding your request.')
    refused(app, '%FF=1', 'Error decoding your request.')


# -- who lists what --------------------------------------------------------

@pytest.fixture
def sixteen(app, make):
    """Owners admin-project, T1, T2 and none, each with one image of every
    visibility."""
    images = {}
    for owner in ('admin-project', 'T1', 'T2', None):
        for visibility in ('public', 'private', 'shared', 'community'):
            images[(owner, visibility)] = make(owner=owner,
                                               visibility=visibility)
    return images


def count(app, query='', headers=T1):
    return len(ids(app, query, headers))


def test_visibility_combinations(app, sixteen):
    t1 = {sixteen[(o, 'public')] for o in ('admin-project', 'T2', None)} | {
        sixteen[('T1', v)] for v in ('public', 'private', 'shared',
                                     'community')}
    assert set(ids(app, headers=READER)) == t1
    assert count(app, 'visibility=public', READER) == 4
    assert ids(app, 'visibility=private', READER) == [
        sixteen[('T1', 'private')]]
    assert ids(app, 'visibility=shared', READER) == [
        sixteen[('T1', 'shared')]]
    assert count(app, 'visibility=community', READER) == 4
    assert count(app, 'visibility=all', READER) == 10


def test_anonymous_lists_public_images_only(app, sixteen):
    anonymous = {}
    assert set(ids(app, headers=anonymous)) == {
        sixteen[(o, 'public')] for o in ('admin-project', 'T1', 'T2', None)}
    assert count(app, 'visibility=community', anonymous) == 4
    assert count(app, 'visibility=private', anonymous) == 0
    assert count(app, 'visibility=shared&member_status=all', anonymous) == 0


def test_admin_lists(app, sixteen):
    admin = support.ADMIN
    assert count(app, headers=admin) == 13
    assert sixteen[('admin-project', 'community')] in ids(app, headers=admin)
    assert count(app, 'visibility=community', admin) == 4
    assert count(app, 'visibility=shared', admin) == 4
    assert count(app, 'visibility=all', admin) == 16


def test_noauth_admin_without_owner(make_app):
    app = make_app()
    make = Catalogue()
    for owner in ('admin-project', 'T1', 'T2', None):
        for visibility in ('public', 'private', 'shared', 'community'):
            make(owner=owner, visibility=visibility)
    assert count(app, headers={}) == 12
    assert count(app, 'visibility=private', {}) == 4


def test_member_status(app, make):
    public = make(owner='T2', visibility='public')
    own = make(owner='T3')
    shared = make(owner='T1', visibility='shared')
    db_api.member_add(shared, 'T3')
    assert set(ids(app, headers=T3)) == {public, own}
    assert ids(app, 'visibility=shared', T3) == []
    assert shared in ids(app, 'member_status=pending', T3)
    assert ids(app, 'member_status=pending&visibility=shared', T3) == [
        shared]
    assert ids(app, 'member_status=rejected&visibility=shared', T3) == []
    assert shared in ids(app, 'member_status=all', T3)
    db_api.member_set_status(shared, 'T3', 'accepted')
    assert shared in ids(app, headers=T3)
    assert ids(app, 'member_status=pending&visibility=shared', T3) == []


def test_member_of_a_v1_share(app):
    image = app.create(headers=T1)['id']
    response = app.request('PUT', '/v1/images/%s/members/T3' % image, T1)
    assert response.status_int == 204, response.text
    assert ids(app, 'member_status=pending', T3) == [image]
    assert ids(app, headers=T3) == []


def test_admin_lists_other_projects_private_images(app, make):
    private = make(owner='T2')
    assert private in ids(app, headers=T1_ADMIN)
    assert private not in ids(app, headers=T1)


def test_owner_filter(app, sixteen, make):
    accepted = make(owner='T2', visibility='shared')
    db_api.member_add(accepted, 'T1')
    db_api.member_set_status(accepted, 'T1', 'accepted')
    assert set(ids(app, 'owner=T2')) == {sixteen[('T2', 'public')], accepted}
    assert set(ids(app, 'owner=T2', T1_ADMIN)) == {
        sixteen[('T2', v)] for v in ('public', 'private', 'shared')} | {
        accepted}


def test_killed_and_deleted_images_are_never_listed(app):
    killed = app.create(headers=T1, size=10)['id']
    # A v1 upload shorter than declared kills the image.
    response = app.request('PUT', '/v1/images/' + killed,
                           dict(T1, **support.OCTETS), b'x' * 3)
    assert response.status_int == 400, response.text
    assert db_api.image_get(killed)['status'] == 'killed'
    deleted = app.create(headers=T1)['id']
    assert app.request('DELETE', '/v1/images/' + deleted,
                       T1).status_int == 200
    for query in ('', 'status=killed', 'status=deleted', 'visibility=all',
                  'status=in:killed,deleted,pending_delete'):
        for headers in (T1, support.ADMIN):
            assert ids(app, query, headers) == []


# -- policy ----------------------------------------------------------------

@pytest.fixture
def policy_app(make_app, tmp_path):
    def _make(rules):
        path = os.path.join(str(tmp_path), 'policy.yaml')
        with open(path, 'w') as f:
            for name, check in rules.items():
                f.write('"%s": "%s"\n' % (name, check))
        return make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                         'oslo_policy': {'policy_file': path}})
    return _make


def test_get_images_denied(policy_app):
    app = policy_app({'get_images': 'project_id:T2'})
    response = get(app, status=403)
    assert response.status_int == 403
    assert get(app, headers=T2).json['images'] == []


def test_get_image_denied_drops_the_image(policy_app):
    app = policy_app({'get_image': "not 'secret':%(flag)s"})
    make = Catalogue()
    kept = [make(), make()]
    secret = make(properties={'flag': 'secret'})
    assert ids(app) == kept[::-1]
    # The page is full by the catalogue's count: next after what is shown.
    body = get(app, 'limit=2').json
    assert [i['id'] for i in body['images']] == [kept[1]]
    assert body['next'].endswith('marker=' + kept[1])
    assert ids(app, 'limit=1') == []
    assert secret not in ids(app, headers=support.ADMIN)


def test_property_protections_hide_unreadable_properties(make_app, tmp_path):
    path = os.path.join(str(tmp_path), 'protections.conf')
    with open(path, 'w') as f:
        f.write('[^secret_]\ncreate = admin\nread = admin\nupdate = admin\n'
                'delete = admin\n[.*]\ncreate = @\nread = @\nupdate = @\n'
                'delete = @\n')
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'property_protection_file': path}})
    Catalogue()(properties={'secret_x': '1', 'plain': '2'})
    [image] = get(app).json['images']
    assert image['plain'] == '2' and 'secret_x' not in image
    [image] = get(app, headers=support.ADMIN).json['images']
    assert image['secret_x'] == '1'
