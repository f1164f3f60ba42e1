"""Image lists: GET /v1/images and /v1/images/detail (spec §10, §19
scenarios 108-122; 121 needs a policy file and lives in test_policy.py)."""

import datetime
import http.server
import threading
import uuid

import pytest
import requests

from tests.functional import _parallel

FIVE_KB = b'*' * 5120
FIVE_KB_MD5 = 'c2e5db72bd7fd153f53ede5da5a06de3'
MINIMAL = {'Content-Type': 'application/octet-stream',
           'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'ovf',
           'x-image-meta-is_public': 'True'}
SUMMARY_KEYS = {'id', 'name', 'size', 'disk_format', 'container_format',
                'checksum'}
DETAIL_KEYS = {'id', 'name', 'size', 'virtual_size', 'disk_format',
               'container_format', 'checksum', 'min_disk', 'min_ram',
               'status', 'is_public', 'protected', 'owner', 'created_at',
               'updated_at', 'deleted_at', 'deleted', 'properties'}
SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')


@pytest.fixture(scope='module')
def servers():
    """Started together: the shared noauth server, two noauth servers
    whose catalogues belong to one scenario each (111, 117), and a
    trusted-auth server (118, 119)."""
    started = _parallel.start(None, None, None,
                              {'paste_deploy': {'flavor': 'trusted-auth'}})
    yield started
    _parallel.stop(*started)


@pytest.fixture(scope='module')
def api(servers):
    return servers[0]


def _upload(url, name, data=FIVE_KB, headers=None):
    """Create an active image with data (minimal headers, public)."""
    all_headers = dict(MINIMAL, **{'x-image-meta-name': name})
    all_headers.update(headers or {})
    response = requests.post(url + '/v1/images', headers=all_headers,
                             data=data)
    assert response.status_code == 201, response.text
    return response.json()['image']


def _reserve(url, headers):
    """Create a queued image from headers only (no data)."""
    response = requests.post(url + '/v1/images', headers=headers)
    assert response.status_code == 201, response.text
    return response.json()['image']


def _list(url, params=None, detail=False, headers=None):
    path = '/v1/images/detail' if detail else '/v1/images'
    response = requests.get(url + path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()['images']


def _ids(images):
    return [image['id'] for image in images]


def _iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%f')


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _set_timestamps(srv, image_id, moment):
    """Move an image's created_at/updated_at (no API can set them)."""
    changed = srv.execute_sql(
        'UPDATE images SET created_at = :moment, updated_at = :moment '
        'WHERE id = :id', {'moment': moment, 'id': image_id})
    assert changed == 1


# Scenario 108 -------------------------------------------------------------

def test_summary_list_is_newest_first_with_exactly_six_keys(api):
    image1 = _upload(api.url, 'Image1')
    image2 = _upload(api.url, 'Image2')
    images = _list(api.url)
    assert _ids(images)[:2] == [image2['id'], image1['id']]
    for image in images:
        assert set(image) == SUMMARY_KEYS


def test_empty_list_body_is_exactly_images_empty(api):
    response = requests.get(api.url + '/v1/images',
                            params={'name': uuid.uuid4().hex})
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/json'
    assert response.text == '{"images": []}'


# Scenario 109 -------------------------------------------------------------

def test_detail_entry_has_every_attribute_of_an_active_image(api):
    image1 = _upload(api.url, 'Image1')
    entry = [i for i in _list(api.url, detail=True)
             if i['id'] == image1['id']][0]
    assert set(entry) == DETAIL_KEYS
    assert entry['name'] == 'Image1'
    assert entry['status'] == 'active'
    assert entry['deleted'] is False
    assert entry['deleted_at'] is None
    assert entry['is_public'] is True
    assert entry['protected'] is False
    assert entry['properties'] == {}
    assert entry['size'] == 5120
    assert entry['checksum'] == FIVE_KB_MD5
    assert entry['disk_format'] == 'raw'
    assert entry['container_format'] == 'ovf'


# Scenario 110 -------------------------------------------------------------

@pytest.fixture(scope='module')
def distro_images(api):
    image1 = _upload(api.url, 'Image1', headers={
        'x-image-meta-property-distro': 'Ubuntu',
        'x-image-meta-property-arch': 'x86_64'})
    image2 = _upload(api.url, 'Image2', headers={
        'x-image-meta-property-distro': 'Ubuntu',
        'x-image-meta-property-arch': 'i386',
        'x-image-meta-property-foo': 'bar'})
    return {'Image1': image1['id'], 'Image2': image2['id']}


@pytest.mark.parametrize('query,expected', [
    ('property-distro=Ubuntu', ['Image2', 'Image1']),
    ('property-distro=fedora', []),
    ('property-boo=bar', []),
    ('property-arch=i386', ['Image2']),
    ('property-arch=x86_64', ['Image1']),
    ('property-foo=bar', ['Image2']),
    ('property-arch=x86_64&property-distro=Ubuntu', ['Image1']),
    ('property-arch=random&property-distro=Ubuntu', []),
    ('property-foo=bar&property-poo=far', []),
    ('property-boo=far&property-poo=far', []),
])
def test_property_filters_match_exactly_and_are_anded(api, distro_images,
                                                      query, expected):
    for detail in (False, True):
        path = '/v1/images/detail?' if detail else '/v1/images?'
        response = requests.get(api.url + path + query)
        assert response.status_code == 200
        assert _ids(response.json()['images']) == [
            distro_images[name] for name in expected]


def test_property_filter_key_is_case_sensitive(api, distro_images):
    assert _list(api.url, {'property-DISTRO': 'Ubuntu'}) == []


# Scenario 111 -------------------------------------------------------------

@pytest.fixture(scope='module')
def four_reserved(servers):
    """A fresh server with the four reserved images of scenario 111."""
    srv = servers[1]
    yesterday = _utcnow() - datetime.timedelta(days=1)
    _reserve(srv.url, {'x-image-meta-name': 'Image1',
                       'x-image-meta-disk_format': 'vdi',
                       'x-image-meta-container_format': 'ovf',
                       'x-image-meta-size': '19',
                       'x-image-meta-is_public': 'True',
                       'x-image-meta-protected': 'True',
                       'x-image-meta-property-pants': 'are on'})
    _reserve(srv.url, {'x-image-meta-name': 'My Image!',
                       'x-image-meta-disk_format': 'vhd',
                       'x-image-meta-container_format': 'ovf',
                       'x-image-meta-size': '20',
                       'x-image-meta-is_public': 'True',
                       'x-image-meta-property-pants': 'are on'})
    _reserve(srv.url, {'x-image-meta-name': 'My Image!',
                       'x-image-meta-disk_format': 'ami',
                       'x-image-meta-container_format': 'ami',
                       'x-image-meta-size': '21',
                       'x-image-meta-is_public': 'True',
                       'x-image-meta-property-pants': 'are off'})
    _reserve(srv.url, {'x-image-meta-name': 'My Private Image',
                       'x-image-meta-disk_format': 'ami',
                       'x-image-meta-container_format': 'ami',
                       'x-image-meta-size': '22',
                       'x-image-meta-is_public': 'False'})
    srv.yesterday = yesterday
    return srv


@pytest.mark.parametrize('params,detail,count', [
    ({}, False, 3),
    ({'name': 'My Image!'}, False, 2),
    ({'status': 'queued'}, True, 3),
    ({'status': 'active'}, True, 0),
    ({'container_format': 'ovf'}, False, 2),
    ({'disk_format': 'vdi'}, False, 1),
    ({'size_max': '20'}, False, 2),
    ({'size_min': '20'}, False, 2),
    ({'is_public': 'None'}, False, 4),
    ({'is_public': 'False'}, False, 1),
    ({'is_public': 'True'}, False, 3),
    ({'protected': 'False'}, False, 2),
    ({'protected': 'True'}, False, 1),
    ({'property-pants': 'are on'}, True, 2),
    ({'name': 'My Image!', 'property-pants': 'are on'}, True, 1),
])
def test_filters_on_reserved_images_count(four_reserved, params, detail,
                                          count):
    assert len(_list(four_reserved.url, params, detail=detail)) == count


def test_is_public_false_for_admin_lists_only_the_private_image(
        four_reserved):
    images = _list(four_reserved.url, {'is_public': 'False'}, detail=True)
    assert [i['name'] for i in images] == ['My Private Image']


def test_changes_since_yesterday_lists_the_three_public(four_reserved):
    images = _list(four_reserved.url,
                   {'changes-since': _iso(four_reserved.yesterday)})
    assert len(images) == 3


def test_changes_since_tomorrow_lists_nothing(four_reserved):
    tomorrow = _utcnow() + datetime.timedelta(days=1)
    assert _list(four_reserved.url, {'changes-since': _iso(tomorrow)}) == []


def test_changes_since_now_with_plus_offset_lists_the_three(four_reserved):
    # now+01:00 is an hour ago in UTC; '+' is sent as %2B.
    since = _iso(_utcnow()) + '+01:00'
    images = _list(four_reserved.url, {'changes-since': since})
    assert len(images) == 3


def test_changes_since_now_with_minus_offset_lists_nothing(four_reserved):
    since = _iso(_utcnow()) + '-01:00'
    assert _list(four_reserved.url, {'changes-since': since}) == []


# Scenario 112 -------------------------------------------------------------

@pytest.mark.parametrize('params,fragment', [
    ({'size_min': '-1'}, 'filter size_min got -1'),
    ({'size_max': '-1'}, 'filter size_max got -1'),
    ({'min_ram': '-1'}, 'Bad value passed to filter min_ram got -1'),
    ({'protected': 'imalittleteapot'}, 'protected got imalittleteapot'),
    ({'is_public': 'imalittleteapot'}, 'is_public got imalittleteapot'),
])
def test_bad_filter_value_answers_400_naming_it(api, params, fragment):
    for path in ('/v1/images', '/v1/images/detail'):
        response = requests.get(api.url + path, params=params)
        assert response.status_code == 400
        assert fragment in response.text


@pytest.mark.parametrize('value', ['', 'none', 'maybe'])
def test_protected_filter_without_a_boolean_answers_400(api, value):
    response = requests.get(api.url + '/v1/images',
                            params={'protected': value})
    assert response.status_code == 400


@pytest.mark.parametrize('params', [{'min_disk': '-1'}, {'min_disk': 'abc'},
                                    {'min_ram': 'abc'}, {'size_min': 'x'}])
def test_non_integer_or_negative_size_filters_answer_400(api, params):
    # spec §18 Q29: never silently ignored.
    response = requests.get(api.url + '/v1/images', params=params)
    assert response.status_code == 400
    assert 'Bad value passed to filter' in response.text


def test_min_ram_and_min_disk_filter_by_equality(api):
    tag = uuid.uuid4().hex
    small = _upload(api.url, 'small', headers={
        'x-image-meta-min_ram': '256', 'x-image-meta-min_disk': '1',
        'x-image-meta-property-tag': tag})
    _upload(api.url, 'big', headers={
        'x-image-meta-min_ram': '512', 'x-image-meta-min_disk': '2',
        'x-image-meta-property-tag': tag})
    assert _ids(_list(api.url, {'property-tag': tag, 'min_ram': '256'})) == [
        small['id']]
    assert _ids(_list(api.url, {'property-tag': tag, 'min_disk': '1'})) == [
        small['id']]
    assert _list(api.url, {'property-tag': tag, 'min_ram': '300'}) == []


# Scenario 113 -------------------------------------------------------------

@pytest.fixture(scope='module')
def three_public(api):
    """Three public images tagged with a group property, newest first."""
    tag = uuid.uuid4().hex
    ids = [_upload(api.url, 'page%d' % i,
                   headers={'x-image-meta-property-group': tag})['id']
           for i in range(3)]
    return tag, list(reversed(ids))


def test_limit_returns_the_first_images_of_the_default_order(api,
                                                             three_public):
    tag, ordered = three_public
    assert _ids(_list(api.url, {'property-group': tag, 'limit': '2'})) == (
        ordered[:2])


def test_marker_starts_after_the_marker_image(api, three_public):
    tag, ordered = three_public
    assert _ids(_list(api.url, {'property-group': tag,
                                'marker': ordered[0]})) == ordered[1:]


def test_limit_and_marker_page_together(api, three_public):
    tag, ordered = three_public
    assert _ids(_list(api.url, {'property-group': tag, 'limit': '1',
                                'marker': ordered[1]})) == ordered[2:]


def test_limit_zero_returns_an_empty_list(api, three_public):
    assert _list(api.url, {'limit': '0'}) == []


def test_list_has_no_next_links_or_count(api, three_public):
    tag, _ordered = three_public
    response = requests.get(api.url + '/v1/images/detail',
                            params={'property-group': tag, 'limit': '1'})
    assert list(response.json()) == ['images']


# Scenario 114 -------------------------------------------------------------

@pytest.fixture(scope='module')
def sized_images(api):
    tag = uuid.uuid4().hex
    ids = {}
    for name, size in (('Image1', 19), ('ASDF', 2), ('XYZ', 5)):
        ids[name] = _upload(api.url, name, data=b'x' * size, headers={
            'x-image-meta-property-group': tag})['id']
    return tag, ids


@pytest.mark.parametrize('params,expected', [
    ({}, ['XYZ', 'ASDF', 'Image1']),
    ({'sort_key': 'name', 'sort_dir': 'asc'}, ['ASDF', 'Image1', 'XYZ']),
    ({'sort_key': 'size', 'sort_dir': 'desc'}, ['Image1', 'XYZ', 'ASDF']),
    ({'sort_key': 'size', 'sort_dir': 'asc'}, ['ASDF', 'XYZ', 'Image1']),
    ({'sort_key': 'created_at', 'sort_dir': 'asc'},
     ['Image1', 'ASDF', 'XYZ']),
])
def test_sort_key_and_dir_order_the_list(api, sized_images, params,
                                         expected):
    tag, ids = sized_images
    params = dict(params, **{'property-group': tag})
    for detail in (False, True):
        assert _ids(_list(api.url, params, detail=detail)) == [
            ids[name] for name in expected]


def test_marker_follows_the_requested_sort(api, sized_images):
    tag, ids = sized_images
    params = {'property-group': tag, 'sort_key': 'size', 'sort_dir': 'desc',
              'marker': ids['Image1']}
    assert _ids(_list(api.url, params)) == [ids['XYZ'], ids['ASDF']]


def test_marker_on_the_last_image_gives_an_empty_page(api, sized_images):
    tag, ids = sized_images
    params = {'property-group': tag, 'sort_key': 'name', 'sort_dir': 'asc',
              'marker': ids['XYZ']}
    assert _list(api.url, params) == []


# Scenario 115 -------------------------------------------------------------

@pytest.mark.parametrize('params,fragment', [
    ({'sort_key': 'asdf'}, 'Unsupported sort_key'),
    ({'sort_dir': 'asdf'}, 'Unsupported sort_dir'),
    ({'limit': '-1'}, 'limit param must be positive'),
    ({'limit': 'a'}, 'limit param must be an integer'),
    ({'marker': 'c0ffee00-1234-4abc-8def-0123456789ab'}, 'Invalid marker'),
    ({'marker': 'abc'}, 'Invalid marker format'),
])
def test_bad_paging_parameter_answers_400(api, params, fragment):
    for path in ('/v1/images', '/v1/images/detail'):
        response = requests.get(api.url + path, params=params)
        assert response.status_code == 400
        assert fragment in response.text


def test_unsupported_sort_key_message_lists_acceptable_values(api):
    response = requests.get(api.url + '/v1/images',
                            params={'sort_key': 'owner'})
    assert response.status_code == 400
    assert ('Acceptable values: name, status, container_format, '
            'disk_format, size, id, created_at, updated_at') in response.text


# Scenario 116 -------------------------------------------------------------

@pytest.fixture(scope='module')
def null_sort_images(api):
    """Images whose name / formats are null mixed with set ones."""
    tag = uuid.uuid4().hex
    group = {'x-image-meta-property-group': tag}
    ids = [
        _reserve(api.url, dict(group)),
        _reserve(api.url, dict(group, **{'x-image-meta-name': 'named'})),
        _reserve(api.url, dict(group)),
        _reserve(api.url, dict(group, **{
            'x-image-meta-disk_format': 'qcow2',
            'x-image-meta-container_format': 'bare'})),
        _upload(api.url, 'b-uploaded', data=b'abc', headers=group),
        _reserve(api.url, dict(group, **{'x-image-meta-name': 'a-named',
                                         'x-image-meta-size': '7'})),
    ]
    return tag, [image['id'] for image in ids]


@pytest.mark.parametrize('sort_key', ['name', 'disk_format',
                                      'container_format'])
def test_marker_on_image_with_null_sort_value_answers_200(
        api, null_sort_images, sort_key):
    tag, ids = null_sort_images
    for marker in ids:
        response = requests.get(api.url + '/v1/images', params={
            'property-group': tag, 'sort_key': sort_key, 'marker': marker,
            'is_public': 'none'})
        assert response.status_code == 200, response.text


@pytest.mark.parametrize('sort_dir', ['asc', 'desc'])
@pytest.mark.parametrize('sort_key', SORT_KEYS)
def test_paging_one_by_one_walks_the_whole_sorted_list(
        api, null_sort_images, sort_key, sort_dir):
    tag, ids = null_sort_images
    params = {'property-group': tag, 'sort_key': sort_key,
              'sort_dir': sort_dir, 'is_public': 'none'}
    everything = _ids(_list(api.url, params, detail=True))
    assert sorted(everything) == sorted(ids)
    walked, marker = [], None
    for _ in range(len(ids) + 1):
        page = _list(api.url, dict(params, limit='1',
                                   **({'marker': marker} if marker else {})))
        if not page:
            break
        walked.append(page[0]['id'])
        marker = page[0]['id']
    assert walked == everything


def test_default_order_breaks_ties_by_created_at_then_id(api,
                                                         null_sort_images):
    tag, ids = null_sort_images
    images = _list(api.url, {'property-group': tag, 'is_public': 'none',
                             'sort_key': 'status', 'sort_dir': 'asc'},
                   detail=True)
    queued = [i for i in images if i['status'] == 'queued']
    assert [i['created_at'] for i in queued] == sorted(
        i['created_at'] for i in queued)


# Scenario 117 -------------------------------------------------------------

@pytest.fixture(scope='module')
def abc_images(servers):
    """A (active), B (deleted just now), C (two days in the future)."""
    srv = servers[2]
    a = _upload(srv.url, 'A')
    b = _upload(srv.url, 'B')
    c = _upload(srv.url, 'C')
    assert requests.delete(srv.url + '/v1/images/' + b['id']).status_code == (
        200)
    future = _utcnow() + datetime.timedelta(days=2)
    _set_timestamps(srv, c['id'], future)
    srv.ids = {'A': a['id'], 'B': b['id'], 'C': c['id']}
    srv.future = future
    return srv


def _names(srv, images):
    by_id = {v: k for k, v in srv.ids.items()}
    return [by_id[i['id']] for i in images]


def test_detail_without_changes_since_hides_deleted_image(abc_images):
    images = _list(abc_images.url, detail=True)
    assert _names(abc_images, images) == ['C', 'A']


def test_changes_since_includes_deleted_image_marked_deleted(abc_images):
    since = _iso(_utcnow() - datetime.timedelta(days=1))
    images = _list(abc_images.url, {'changes-since': since}, detail=True)
    assert _names(abc_images, images) == ['C', 'B', 'A']
    deleted = images[1]
    assert deleted['deleted'] is True
    assert deleted['status'] == 'deleted'
    assert deleted['deleted_at'] is not None


def test_changes_since_tomorrow_lists_only_the_future_image(abc_images):
    since = _iso(_utcnow() + datetime.timedelta(days=1))
    assert _names(abc_images, _list(abc_images.url,
                                    {'changes-since': since})) == ['C']


def test_changes_since_with_plus_offset_is_converted_to_utc(abc_images):
    since = _iso(abc_images.future) + '+01:00'
    assert _names(abc_images, _list(abc_images.url,
                                    {'changes-since': since})) == ['C']


def test_changes_since_with_minus_offset_is_converted_to_utc(abc_images):
    since = _iso(abc_images.future) + '-01:00'
    assert _list(abc_images.url, {'changes-since': since}) == []


def test_changes_since_is_strictly_later(abc_images):
    since = _iso(abc_images.future)
    assert _list(abc_images.url, {'changes-since': since}) == []


def test_changes_since_after_everything_lists_nothing(abc_images):
    since = _iso(_utcnow() + datetime.timedelta(days=3))
    assert _list(abc_images.url, {'changes-since': since}) == []


@pytest.mark.parametrize('fmt', ['%Y-%m-%d', '%Y%m%d', '%Y-%m%d'])
def test_changes_since_accepts_date_only_forms(abc_images, fmt):
    since = (_utcnow() - datetime.timedelta(days=1)).strftime(fmt)
    images = _list(abc_images.url, {'changes-since': since}, detail=True)
    assert _names(abc_images, images) == ['C', 'B', 'A']


@pytest.mark.parametrize('value', ['', 'garbage', '2020-13-45'])
def test_unparsable_changes_since_answers_400(abc_images, value):
    response = requests.get(abc_images.url + '/v1/images',
                            params={'changes-since': value})
    assert response.status_code == 400
    assert 'Unrecognized changes-since value' in response.text


def test_deleted_image_serves_as_marker_with_changes_since(abc_images):
    since = _iso(_utcnow() - datetime.timedelta(days=1))
    images = _list(abc_images.url, {'changes-since': since,
                                    'marker': abc_images.ids['B']})
    assert _names(abc_images, images) == ['A']


# Scenario 118 / 119 ---------------------------------------------------------

ADMIN = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin'}


def _tenant(tenant=None, roles=''):
    headers = {'X-Identity-Status': 'Confirmed', 'X-Roles': roles,
               'X-User-Id': 'user-%s' % tenant}
    if tenant is not None:
        headers['X-Tenant-Id'] = tenant
    return headers


@pytest.fixture(scope='module')
def eight_images(servers):
    """Trusted-auth server; owners admin, tenant1, tenant2 and none, each
    with a public and a private image."""
    srv = servers[3]
    for owner in ('admin', 'tenant1', 'tenant2', ''):
        for public in ('True', 'False'):
            headers = dict(ADMIN, **{'X-Tenant-Id': 'admin',
                                     'x-image-meta-name': 'img',
                                     'x-image-meta-owner': owner,
                                     'x-image-meta-is_public': public})
            response = requests.post(srv.url + '/v1/images', headers=headers)
            assert response.status_code == 201, response.text
            assert response.json()['image']['owner'] == (owner or None)
    return srv


def _owners(srv, headers, params=None):
    images = _list(srv.url, params, detail=True, headers=headers)
    return sorted((i['owner'] or 'none', i['is_public']) for i in images)


PUBLIC4 = sorted((o, True) for o in ('admin', 'tenant1', 'tenant2', 'none'))
PRIVATE4 = sorted((o, False) for o in ('admin', 'tenant1', 'tenant2', 'none'))


def test_tenant_lists_public_images_and_its_own_private(eight_images):
    assert _owners(eight_images, _tenant('tenant1')) == sorted(
        PUBLIC4 + [('tenant1', False)])


def test_unknown_tenant_lists_only_public_images(eight_images):
    assert _owners(eight_images, _tenant('unknown')) == PUBLIC4


@pytest.mark.parametrize('is_public', ['none', 'true', 'false'])
def test_is_public_is_ignored_for_non_admins(eight_images, is_public):
    # Scenario 119.
    assert _owners(eight_images, _tenant('tenant1'),
                   {'is_public': is_public}) == _owners(
        eight_images, _tenant('tenant1'))


@pytest.mark.parametrize('params,expected', [
    (None, PUBLIC4),
    ({'is_public': 'none'}, sorted(PUBLIC4 + PRIVATE4)),
    ({'is_public': 'true'}, PUBLIC4),
    ({'is_public': 'false'}, PRIVATE4),
])
def test_admin_without_tenant_scopes_by_is_public(eight_images, params,
                                                  expected):
    assert _owners(eight_images, _tenant(None, 'admin'), params) == expected


@pytest.mark.parametrize('params,expected', [
    (None, sorted(PUBLIC4 + [('admin', False)])),
    ({'is_public': 'none'}, sorted(PUBLIC4 + PRIVATE4)),
    ({'is_public': 'true'}, sorted(PUBLIC4 + [('admin', False)])),
    ({'is_public': 'false'}, PRIVATE4),
])
def test_admin_with_tenant_scopes_by_is_public(eight_images, params,
                                               expected):
    assert _owners(eight_images, _tenant('admin', 'admin'),
                   params) == expected


def test_marker_not_visible_to_the_caller_answers_400(eight_images):
    private = [i for i in _list(eight_images.url, {'is_public': 'false'},
                                detail=True,
                                headers=_tenant('admin', 'admin'))
               if i['owner'] == 'tenant2'][0]
    response = requests.get(eight_images.url + '/v1/images',
                            params={'marker': private['id']},
                            headers=_tenant('tenant1'))
    assert response.status_code == 400
    assert 'Invalid marker. Image could not be found.' in response.text


# Scenario 120 -------------------------------------------------------------

@pytest.fixture(scope='module')
def killed_image(api):
    image_id = str(uuid.uuid4())
    before = _iso(_utcnow() - datetime.timedelta(minutes=5))
    headers = dict(MINIMAL, **{'x-image-meta-id': image_id,
                               'x-image-meta-name': 'killed-' + image_id,
                               'x-image-meta-checksum': '0' * 32})
    response = requests.post(api.url + '/v1/images', headers=headers,
                             data=FIVE_KB)
    assert response.status_code == 400
    head = requests.head(api.url + '/v1/images/' + image_id)
    assert head.headers['x-image-meta-status'] == 'killed'
    return image_id, before


def test_killed_image_is_absent_from_lists(api, killed_image):
    image_id, _before = killed_image
    assert image_id not in _ids(_list(api.url, {'limit': '1000'}))
    assert image_id not in _ids(_list(api.url, {'limit': '1000'},
                                      detail=True))


def test_status_killed_filter_alone_lists_nothing(api, killed_image):
    assert _list(api.url, {'status': 'killed'}) == []


def test_killed_image_is_listed_with_changes_since(api, killed_image):
    image_id, before = killed_image
    images = _list(api.url, {'changes-since': before, 'limit': '1000'},
                   detail=True)
    assert [i['status'] for i in images if i['id'] == image_id] == [
        'killed']


# Scenario 122 -------------------------------------------------------------

class _Blob(http.server.BaseHTTPRequestHandler):
    data = b'remote image data' * 10

    def _headers(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(self.data)))
        self.end_headers()

    def do_HEAD(self):  # noqa: N802 - http.server's naming
        self._headers()

    def do_GET(self):  # noqa: N802
        self._headers()
        self.wfile.write(self.data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def remote_blob():
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Blob)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d/blob' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_lists_never_contain_a_location(api, remote_blob):
    uploaded = _upload(api.url, 'uploaded')
    located = requests.post(api.url + '/v1/images', headers={
        'x-image-meta-name': 'located', 'x-image-meta-is_public': 'True',
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-container_format': 'bare',
        'x-image-meta-location': remote_blob})
    assert located.status_code == 201, located.text
    forbidden = {'location', 'locations', 'location_data', 'direct_url',
                 'store', 'uri'}
    seen = set()
    for detail in (False, True):
        for params in ({}, {'is_public': 'none'},
                       {'changes-since': '2000-01-01', 'limit': '1000'}):
            for image in _list(api.url, params, detail=detail):
                seen.add(image['id'])
                assert not forbidden & set(image), image
                assert not forbidden & set(image.get('properties', {}))
    assert {uploaded['id'], located.json()['image']['id']} <= seen


# Query parameters that must never answer 500 ------------------------------

@pytest.mark.parametrize('params,status', [
    ({'size_min': '99999999999999999999999'}, 400),
    ({'size_max': '99999999999999999999999'}, 400),
    ({'min_ram': '99999999999999999999999'}, 400),
    ({'min_disk': '99999999999999999999999'}, 400),
    ({'size_min': '1e3'}, 400),
    ({'limit': 'abc'}, 400),
    ({'limit': '1.5'}, 400),
    ({'limit': '99999999999999999999999'}, 200),
    ({'marker': 'garbage'}, 400),
    ({'marker': ''}, 400),
    ({'property-x': 'значение ☃'}, 200),
    ({'property-ключ': 'x'}, 200),
    ({'name': 'ünïcödé ☃'}, 200),
    ({'name': 'foo:bar'}, 200),
    ({'name': 'in:a,b'}, 200),
    ({'status': 'eq:active'}, 200),
    ({'disk_format': 'gte:raw'}, 200),
    ({'changes-since': 'garbage'}, 400),
    ({'changes-since': '99999-01-01'}, 400),
    ({'changes-since': '2020-01-01T25:00:00'}, 400),
    ({'is_public': 'ünïcödé'}, 400),
    ({'protected': 'ünïcödé'}, 400),
    ({'sort_key': 'ünïcödé'}, 400),
])
def test_malformed_query_parameter_never_answers_500(api, params, status):
    for path in ('/v1/images', '/v1/images/detail'):
        response = requests.get(api.url + path, params=params)
        assert response.status_code == status, response.text


@pytest.mark.parametrize('query', ['name=%E9', 'property-x=%FF%FE',
                                   'property-%E9=x', 'limit=%00'])
def test_undecodable_query_string_never_answers_500(api, query):
    response = requests.get(api.url + '/v1/images?' + query)
    assert response.status_code in (200, 400), response.text


def test_huge_size_filter_says_out_of_range(api):
    response = requests.get(api.url + '/v1/images',
                            params={'size_min': '99999999999999999999999'})
    assert response.status_code == 400
    assert 'out of range' in response.text


def test_literal_colon_in_name_filter_matches_the_name(api):
    image = _upload(api.url, 'foo:%s' % uuid.uuid4().hex)
    assert _ids(_list(api.url, {'name': image['name']})) == [image['id']]


def test_unknown_query_parameters_are_ignored(api, three_public):
    tag, ordered = three_public
    params = {'property-group': tag, 'owner': 'nobody', 'deleted': 'true',
              'visibility': 'private', 'foo': 'bar'}
    assert _ids(_list(api.url, params)) == ordered


# Deleted images as markers (spec §10.4) -------------------------------------

def test_admin_may_page_from_a_deleted_marker_without_changes_since(
        abc_images):
    images = _list(abc_images.url, {'marker': abc_images.ids['B']})
    assert _names(abc_images, images) == ['A']


@pytest.fixture(scope='module')
def tenant1_deleted(eight_images):
    """tenant1's private image, deleted by tenant1."""
    since = _iso(_utcnow() - datetime.timedelta(minutes=5))
    created = requests.post(eight_images.url + '/v1/images', headers=dict(
        _tenant('tenant1'), **{'x-image-meta-name': 'gone'}))
    assert created.status_code == 201, created.text
    image_id = created.json()['image']['id']
    deleted = requests.delete(eight_images.url + '/v1/images/' + image_id,
                              headers=_tenant('tenant1'))
    assert deleted.status_code == 200, deleted.text
    return image_id, since


def test_non_admin_may_page_from_a_deleted_marker_with_changes_since(
        eight_images, tenant1_deleted):
    image_id, since = tenant1_deleted
    response = requests.get(eight_images.url + '/v1/images/detail',
                            params={'changes-since': since,
                                    'marker': image_id},
                            headers=_tenant('tenant1'))
    assert response.status_code == 200, response.text


def test_non_admin_deleted_marker_without_changes_since_answers_400(
        eight_images, tenant1_deleted):
    image_id, _since = tenant1_deleted
    response = requests.get(eight_images.url + '/v1/images/detail',
                            params={'marker': image_id},
                            headers=_tenant('tenant1'))
    assert response.status_code == 400
    assert 'Invalid marker. Image could not be found.' in response.text
