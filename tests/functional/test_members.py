"""Members and sharing (spec §11, §19 scenarios 123-138; 136 needs a policy
file and lives with the policy tests)."""

import json
import uuid

import pytest
import requests

from tests.functional import _parallel

MINIMAL = {'Content-Type': 'application/octet-stream',
           'x-image-meta-name': 'Image1',
           'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'ovf'}
DATA = b'*' * 1024
QUOTA_MESSAGE = ('The limit has been exceeded on the number of allowed '
                 'image members for this image.')


@pytest.fixture(scope='module')
def servers():
    """Started together: no-auth with the functional tests' member quota
    (10), trusted-auth with unlimited members, and no-auth with a member
    quota of 0."""
    started = _parallel.start(
        {'DEFAULT': {'image_member_quota': 10}},
        {'paste_deploy': {'flavor': 'trusted-auth'},
         'DEFAULT': {'image_member_quota': -1}},
        {'DEFAULT': {'image_member_quota': 0}})
    yield started
    _parallel.stop(*started)


@pytest.fixture(scope='module')
def noauth(servers):
    return servers[0]


@pytest.fixture(scope='module')
def trusted(servers):
    return servers[1]


def _who(tenant=None, roles='', user=None):
    headers = {'X-Identity-Status': 'Confirmed', 'X-Roles': roles,
               'X-User-Id': user or 'user-of-%s' % tenant}
    if tenant is not None:
        headers['X-Tenant-Id'] = tenant
    return headers


ADMIN = _who(None, 'admin', user='the-admin')


def _create(srv, headers=None, public=False, owner=None, data=False):
    """A new image: queued (metadata only), or active with ``DATA``."""
    all_headers = dict(MINIMAL, **(headers or {}))
    all_headers['x-image-meta-is_public'] = str(public)
    if owner is not None:
        all_headers['x-image-meta-owner'] = owner
    if not data:
        del all_headers['Content-Type']
    response = requests.post(srv.url + '/v1/images', headers=all_headers,
                             data=DATA if data else None)
    assert response.status_code == 201, response.text
    return response.json()['image']['id']


def _members_url(srv, image_id, member=None):
    url = '%s/v1/images/%s/members' % (srv.url, image_id)
    return url + '/' + member if member else url


def _members(srv, image_id, headers=None):
    response = requests.get(_members_url(srv, image_id), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()['members']


def _put_member(srv, image_id, member, body=None, headers=None):
    data = None if body is None else json.dumps(body)
    return requests.put(_members_url(srv, image_id, member), data=data,
                        headers=headers)


def _replace(srv, image_id, memberships, headers=None):
    return requests.put(_members_url(srv, image_id),
                        data=json.dumps({'memberships': memberships}),
                        headers=headers)


def _member_ids(n):
    return [{'member_id': 'member%d' % i} for i in range(n)]


# Scenario 123 / 124 ---------------------------------------------------------

def test_added_members_are_listed_in_order_without_can_share(noauth):
    image_id = _create(noauth)
    for member in ('pattieblack', 'pattiewhite'):
        response = _put_member(noauth, image_id, member)
        assert response.status_code == 204
        assert response.content == b''
    response = requests.get(_members_url(noauth, image_id))
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/json'
    assert response.json() == {'members': [
        {'member_id': 'pattieblack', 'can_share': False},
        {'member_id': 'pattiewhite', 'can_share': False}]}


def test_deleted_member_is_no_longer_listed(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'pattieblack')
    _put_member(noauth, image_id, 'pattiewhite')
    response = requests.delete(_members_url(noauth, image_id, 'pattieblack'))
    assert response.status_code == 204
    assert response.content == b''
    assert _members(noauth, image_id) == [
        {'member_id': 'pattiewhite', 'can_share': False}]


# Scenario 125 -------------------------------------------------------------

def test_replacing_with_more_members_than_quota_answers_413(noauth):
    image_id = _create(noauth)
    response = _replace(noauth, image_id, _member_ids(11))
    assert response.status_code == 413
    assert QUOTA_MESSAGE in response.text
    assert 'Attempted: 11, Maximum: 10' in response.text
    assert _members(noauth, image_id) == []


def test_replacing_with_quota_members_then_adding_one_answers_413(noauth):
    image_id = _create(noauth)
    assert _replace(noauth, image_id, _member_ids(10)).status_code == 204
    assert len(_members(noauth, image_id)) == 10
    response = _put_member(noauth, image_id, 'fail_me')
    assert response.status_code == 413
    assert QUOTA_MESSAGE in response.text
    assert 'fail_me' not in [m['member_id']
                             for m in _members(noauth, image_id)]


# Scenario 126 -------------------------------------------------------------

@pytest.fixture(scope='module')
def deleted_image(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'pattieblack')
    response = requests.delete(noauth.url + '/v1/images/' + image_id)
    assert response.status_code == 200
    return image_id


@pytest.mark.parametrize('method,member,body', [
    ('GET', None, None),
    ('PUT', None, {'memberships': [{'member_id': 'pattieblack',
                                    'can_share': 'false'}]}),
    ('PUT', 'chickenpattie', None),
    ('DELETE', 'pattieblack', None),
])
def test_member_calls_on_deleted_image_answer_404_saying_deleted(
        noauth, deleted_image, method, member, body):
    response = requests.request(
        method, _members_url(noauth, deleted_image, member),
        data=None if body is None else json.dumps(body))
    assert response.status_code == 404
    assert ('Image with identifier %s has been deleted.' % deleted_image
            in response.text)


def test_deleting_image_ends_its_memberships(noauth, deleted_image):
    response = requests.get(noauth.url + '/v1/shared-images/pattieblack')
    assert deleted_image not in [s['image_id']
                                 for s in response.json()['shared_images']]


# Scenario 127 -------------------------------------------------------------

@pytest.mark.parametrize('method,member,body', [
    ('PUT', 'x', None),
    ('PUT', None, {'memberships': [{'member_id': 'x'}]}),
    ('DELETE', 'x', None),
])
def test_member_change_without_tenant_answers_401(trusted, method, member,
                                                  body):
    image_id = _create(trusted, ADMIN, public=True)
    response = requests.request(
        method, _members_url(trusted, image_id, member),
        data=None if body is None else json.dumps(body),
        headers=_who(None, user='someone'))
    assert response.status_code == 401
    assert 'No authenticated user' in response.text


# Scenario 128 -------------------------------------------------------------

@pytest.mark.parametrize('method,member,body', [
    ('PUT', 'x', None),
    ('PUT', None, {'memberships': [{'member_id': 'x'}]}),
    ('DELETE', 'x', None),
    ('GET', None, None),
])
def test_member_calls_on_unknown_image_answer_404(noauth, method, member,
                                                  body):
    response = requests.request(
        method, _members_url(noauth, str(uuid.uuid4()), member),
        data=None if body is None else json.dumps(body))
    assert response.status_code == 404


# Scenario 129 -------------------------------------------------------------

def test_member_added_with_can_share_true_is_listed_so(noauth):
    image_id = _create(noauth)
    response = _put_member(noauth, image_id, 'pattieblack',
                           {'member': {'can_share': True}})
    assert response.status_code == 204
    assert _members(noauth, image_id) == [
        {'member_id': 'pattieblack', 'can_share': True}]


def test_updating_member_changes_can_share_only_when_given(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'm', {'member': {'can_share': True}})
    assert _put_member(noauth, image_id, 'm').status_code == 204
    assert _members(noauth, image_id) == [{'member_id': 'm',
                                           'can_share': True}]
    assert _put_member(noauth, image_id, 'm',
                       {'member': {'can_share': False}}).status_code == 204
    assert _members(noauth, image_id) == [{'member_id': 'm',
                                           'can_share': False}]


def test_flat_add_member_body_is_ignored(noauth):
    # The API reference's flat sample: can_share stays the default.
    image_id = _create(noauth)
    response = _put_member(noauth, image_id, 'm',
                           {'member_id': 'm', 'can_share': True})
    assert response.status_code == 204
    assert _members(noauth, image_id) == [{'member_id': 'm',
                                           'can_share': False}]


def test_add_member_with_malformed_json_answers_400(noauth):
    image_id = _create(noauth)
    response = requests.put(_members_url(noauth, image_id, 'm'),
                            data=b'{not json')
    assert response.status_code == 400
    assert 'Malformed JSON in request body.' in response.text
    assert _members(noauth, image_id) == []


@pytest.mark.parametrize('body', ['3', '"x"', 'true', 'null'])
def test_add_member_with_json_that_is_not_object_or_list_answers_400(
        noauth, body):
    # Spec §11.4 step 4: Glance's deserializer refuses it first.
    image_id = _create(noauth)
    response = requests.put(_members_url(noauth, image_id, 'm'), data=body)
    assert response.status_code == 400, response.text
    assert 'Unexpected body type. Expected list/dict.' in response.text
    assert _members(noauth, image_id) == []


def test_removed_member_re_added_without_body_is_restored(noauth):
    # spec §18 Q7.
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'm', {'member': {'can_share': True}})
    requests.delete(_members_url(noauth, image_id, 'm'))
    assert _put_member(noauth, image_id, 'm').status_code == 204
    assert _members(noauth, image_id) == [{'member_id': 'm',
                                           'can_share': False}]


# Scenario 130 -------------------------------------------------------------

def test_member_quota_zero_refuses_any_member(servers):
    srv = servers[2]
    image_id = _create(srv)
    response = _put_member(srv, image_id, 'pattieblack')
    assert response.status_code == 413
    assert 'Attempted: 1, Maximum: 0' in response.text
    assert _members(srv, image_id) == []


def test_negative_member_quota_is_unlimited(trusted):
    image_id = _create(trusted, ADMIN)
    assert _replace(trusted, image_id, _member_ids(200),
                    ADMIN).status_code == 204
    response = _put_member(trusted, image_id, 'pattieblack', headers=ADMIN)
    assert response.status_code == 204
    assert len(_members(trusted, image_id, ADMIN)) == 201


# Scenario 131 -------------------------------------------------------------

def test_replace_without_memberships_key_answers_400(noauth):
    image_id = _create(noauth)
    response = requests.put(_members_url(noauth, image_id), data=json.dumps(
        {'image_memberships': {'member_id': 'pattieblack'}}))
    assert response.status_code == 400
    assert 'Invalid membership association' in response.text


@pytest.mark.parametrize('body', [
    {'memberships': [{'can_share': True}]},
    {'memberships': [{'member_id': 'a'}, {'can_share': False}]},
    {'memberships': {'member_id': 'a'}},
    {'memberships': ['a']},
])
def test_replace_with_entry_without_member_id_answers_400(noauth, body):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'keep')
    response = requests.put(_members_url(noauth, image_id),
                            data=json.dumps(body))
    assert response.status_code == 400
    assert 'Invalid membership association' in response.text
    assert _members(noauth, image_id) == [{'member_id': 'keep',
                                           'can_share': False}]


def test_replace_without_body_answers_400(noauth):
    # Glance answered 500 (spec §18 Q2).
    image_id = _create(noauth)
    response = requests.put(_members_url(noauth, image_id))
    assert response.status_code == 400


def test_replace_with_malformed_json_answers_400(noauth):
    image_id = _create(noauth)
    response = requests.put(_members_url(noauth, image_id),
                            data=b'memberships')
    assert response.status_code == 400
    assert 'Malformed JSON in request body.' in response.text


@pytest.mark.parametrize('body', ['"memberships"', '5', 'null', 'true'])
def test_replace_with_json_that_is_not_object_or_list_answers_400(noauth,
                                                                  body):
    image_id = _create(noauth)
    response = requests.put(_members_url(noauth, image_id), data=body)
    assert response.status_code == 400, response.text
    assert response.status_code != 500


# Scenario 132 -------------------------------------------------------------

def test_replace_over_quota_leaves_the_list_unchanged(noauth):
    image_id = _create(noauth)
    assert _replace(noauth, image_id,
                    [{'member_id': 'baz'}]).status_code == 204
    response = _replace(noauth, image_id, _member_ids(11))
    assert response.status_code == 413
    assert 'Attempted: 11, Maximum: 10' in response.text
    assert _members(noauth, image_id) == [{'member_id': 'baz',
                                           'can_share': False}]


def test_replace_makes_the_list_exactly_the_given_members(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'baz')
    response = _replace(noauth, image_id, [
        {'member_id': 'foo1', 'can_share': False},
        {'member_id': 'foo2', 'can_share': False}])
    assert response.status_code == 204
    assert response.content == b''
    assert _members(noauth, image_id) == [
        {'member_id': 'foo1', 'can_share': False},
        {'member_id': 'foo2', 'can_share': False}]


def test_replace_with_empty_list_removes_every_member(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'a')
    _put_member(noauth, image_id, 'b')
    assert _replace(noauth, image_id, []).status_code == 204
    assert _members(noauth, image_id) == []


def test_replace_keeps_can_share_of_existing_member_when_not_given(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'a', {'member': {'can_share': True}})
    assert _replace(noauth, image_id, [{'member_id': 'a'},
                                       {'member_id': 'b'}]).status_code == 204
    assert _members(noauth, image_id) == [
        {'member_id': 'a', 'can_share': True},
        {'member_id': 'b', 'can_share': False}]


@pytest.mark.parametrize('value,expected', [
    (True, True), (False, False), ('false', False), ('true', True),
    ('False', False), ('yes', True), ('0', False)])
def test_replace_parses_can_share_booleans_and_words(noauth, value,
                                                     expected):
    # spec §18 Q6: the string "false" is false.
    image_id = _create(noauth)
    assert _replace(noauth, image_id, [
        {'member_id': 'm', 'can_share': value}]).status_code == 204
    assert _members(noauth, image_id) == [{'member_id': 'm',
                                           'can_share': expected}]


def test_replace_revives_a_removed_member(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'm')
    requests.delete(_members_url(noauth, image_id, 'm'))
    assert _replace(noauth, image_id, [{'member_id': 'm',
                                        'can_share': True}]).status_code == 204
    assert _members(noauth, image_id) == [{'member_id': 'm',
                                           'can_share': True}]


# Scenario 133 / 134 ---------------------------------------------------------

@pytest.fixture(scope='module')
def owners_image(trusted):
    """A public image of tenant 'owner1' with member 'pattieblack'."""
    image_id = _create(trusted, ADMIN, public=True, owner='owner1')
    assert _put_member(trusted, image_id, 'pattieblack',
                       headers=_who('owner1')).status_code == 204
    return image_id


def test_non_sharer_cannot_delete_a_member_404(trusted, owners_image):
    response = requests.delete(
        _members_url(trusted, owners_image, 'pattieblack'),
        headers=_who('test1'))
    assert response.status_code == 404
    assert 'No permission to share that image' in response.text
    assert _members(trusted, owners_image, _who('owner1')) == [
        {'member_id': 'pattieblack', 'can_share': False}]


def test_non_sharer_cannot_add_a_member_404(trusted, owners_image):
    response = _put_member(trusted, owners_image, 'test1',
                           headers=_who('test1'))
    assert response.status_code == 404
    assert 'No permission to share that image' in response.text
    assert _members(trusted, owners_image, _who('owner1')) == [
        {'member_id': 'pattieblack', 'can_share': False}]


def test_non_sharer_cannot_replace_members_404(trusted, owners_image):
    response = _replace(trusted, owners_image, [], headers=_who('test1'))
    assert response.status_code == 404
    assert 'No permission to share that image' in response.text
    assert len(_members(trusted, owners_image, _who('owner1'))) == 1


def test_non_sharer_gets_404_even_with_a_bad_membership_body(trusted,
                                                             owners_image):
    # spec §11.3: the sharer check (step 3) comes before the body's
    # shape (step 4).
    response = requests.put(_members_url(trusted, owners_image),
                            data=json.dumps({'image_memberships': []}),
                            headers=_who('test1'))
    assert response.status_code == 404


def test_owner_manages_members_of_its_own_image(trusted):
    image_id = _create(trusted, _who('owner2'))
    owner = _who('owner2')
    assert _put_member(trusted, image_id, 'a', headers=owner).status_code == (
        204)
    assert _replace(trusted, image_id, [{'member_id': 'b'}],
                    owner).status_code == 204
    assert requests.delete(_members_url(trusted, image_id, 'b'),
                           headers=owner).status_code == 204
    assert _members(trusted, image_id, owner) == []


def test_deleting_a_non_member_answers_404(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'pattiewhite')
    response = requests.delete(_members_url(noauth, image_id, 'pattieblack'))
    assert response.status_code == 404
    assert 'Membership could not be found.' in response.text


def test_deleting_a_member_twice_answers_404(noauth):
    image_id = _create(noauth)
    _put_member(noauth, image_id, 'pattieblack')
    requests.delete(_members_url(noauth, image_id, 'pattieblack'))
    response = requests.delete(_members_url(noauth, image_id, 'pattieblack'))
    assert response.status_code == 404


# Scenario 135 -------------------------------------------------------------

def test_shared_images_of_unknown_member_is_empty(noauth):
    response = requests.get(noauth.url + '/v1/shared-images/nobody-%s'
                            % uuid.uuid4().hex)
    assert response.status_code == 200
    assert response.json() == {'shared_images': []}


def test_shared_images_lists_the_member_images(noauth):
    member = 'pattieblack-%s' % uuid.uuid4().hex
    first = _create(noauth)
    second = _create(noauth)
    _put_member(noauth, first, member)
    _put_member(noauth, second, member, {'member': {'can_share': True}})
    response = requests.get(noauth.url + '/v1/shared-images/' + member)
    assert response.status_code == 200
    assert response.json() == {'shared_images': [
        {'image_id': first, 'can_share': False},
        {'image_id': second, 'can_share': True}]}


def test_shared_images_forgets_a_removed_membership(noauth):
    member = 'pattieblack-%s' % uuid.uuid4().hex
    image_id = _create(noauth)
    _put_member(noauth, image_id, member)
    requests.delete(_members_url(noauth, image_id, member))
    response = requests.get(noauth.url + '/v1/shared-images/' + member)
    assert response.json() == {'shared_images': []}


# Scenario 137 -------------------------------------------------------------

@pytest.fixture(scope='module')
def shared_private(trusted):
    """tenant1's private image shared with tenant2 and tenant4."""
    image_id = _create(trusted, _who('tenant1'), data=True)
    for member in ('tenant2', 'tenant4'):
        assert _put_member(trusted, image_id, member,
                           headers=_who('tenant1')).status_code == 204
    return image_id


def test_member_sees_shared_image_in_lists(trusted, shared_private):
    for path in ('/v1/images', '/v1/images/detail'):
        response = requests.get(trusted.url + path, headers=_who('tenant2'))
        assert shared_private in [i['id'] for i in response.json()['images']]


def test_member_can_head_and_download_shared_image(trusted, shared_private):
    url = trusted.url + '/v1/images/' + shared_private
    head = requests.head(url, headers=_who('tenant2'))
    assert head.status_code == 200
    assert head.headers['x-image-meta-owner'] == 'tenant1'
    get = requests.get(url, headers=_who('tenant2'))
    assert get.status_code == 200
    assert get.content == DATA


def test_non_member_gets_404_for_shared_private_image(trusted,
                                                      shared_private):
    url = trusted.url + '/v1/images/' + shared_private
    assert requests.head(url, headers=_who('tenant3')).status_code == 404
    assert requests.get(url, headers=_who('tenant3')).status_code == 404
    listed = requests.get(trusted.url + '/v1/images',
                          headers=_who('tenant3')).json()['images']
    assert shared_private not in [i['id'] for i in listed]
    members = requests.get(_members_url(trusted, shared_private),
                           headers=_who('tenant3'))
    assert members.status_code == 404


def test_member_lists_only_its_own_membership(trusted, shared_private):
    assert _members(trusted, shared_private, _who('tenant2')) == [
        {'member_id': 'tenant2', 'can_share': False}]


def test_owner_lists_every_membership(trusted, shared_private):
    assert _members(trusted, shared_private, _who('tenant1')) == [
        {'member_id': 'tenant2', 'can_share': False},
        {'member_id': 'tenant4', 'can_share': False}]


def test_member_cannot_update_shared_image_403(trusted, shared_private):
    # spec §18 Q1: 403, not Glance's 500; nothing changes.
    url = trusted.url + '/v1/images/' + shared_private
    response = requests.put(url, headers=dict(
        _who('tenant2'), **{'x-image-meta-name': 'stolen'}))
    assert response.status_code == 403
    assert 'Forbidden to update image' in response.text
    head = requests.head(url, headers=_who('tenant1'))
    assert head.headers['x-image-meta-name'] == 'Image1'


def test_member_cannot_delete_shared_image_403(trusted, shared_private):
    url = trusted.url + '/v1/images/' + shared_private
    response = requests.delete(url, headers=_who('tenant2'))
    assert response.status_code == 403
    assert 'Forbidden to delete image' in response.text
    head = requests.head(url, headers=_who('tenant1'))
    assert head.headers['x-image-meta-status'] == 'active'


def test_removed_member_no_longer_sees_the_image(trusted):
    image_id = _create(trusted, _who('tenant1'))
    _put_member(trusted, image_id, 'tenant2', headers=_who('tenant1'))
    url = trusted.url + '/v1/images/' + image_id
    assert requests.head(url, headers=_who('tenant2')).status_code == 200
    response = requests.delete(_members_url(trusted, image_id, 'tenant2'),
                               headers=_who('tenant1'))
    assert response.status_code == 204
    assert requests.head(url, headers=_who('tenant2')).status_code == 404
    listed = requests.get(trusted.url + '/v1/images',
                          headers=_who('tenant2')).json()['images']
    assert image_id not in [i['id'] for i in listed]


# Scenario 138 -------------------------------------------------------------

def test_member_with_can_share_may_add_a_member(trusted):
    image_id = _create(trusted, _who('tenant1'))
    _put_member(trusted, image_id, 'tenant2',
                {'member': {'can_share': True}}, headers=_who('tenant1'))
    response = _put_member(trusted, image_id, 'tenant3',
                           headers=_who('tenant2'))
    assert response.status_code == 204
    assert requests.head(trusted.url + '/v1/images/' + image_id,
                         headers=_who('tenant3')).status_code == 200


def test_member_without_can_share_may_not_add_a_member(trusted):
    image_id = _create(trusted, _who('tenant1'))
    _put_member(trusted, image_id, 'tenant2',
                {'member': {'can_share': False}}, headers=_who('tenant1'))
    response = _put_member(trusted, image_id, 'tenant3',
                           headers=_who('tenant2'))
    assert response.status_code == 404
    assert requests.head(trusted.url + '/v1/images/' + image_id,
                         headers=_who('tenant3')).status_code == 404


# Shared images seen by non-admins (spec §11.6) ------------------------------

@pytest.fixture(scope='module')
def public_shared(trusted):
    """A public image of 'pubowner' shared with 'pubmember'."""
    image_id = _create(trusted, ADMIN, public=True, owner='pubowner')
    _put_member(trusted, image_id, 'pubmember', headers=_who('pubowner'))
    return image_id


@pytest.mark.parametrize('caller', [_who('pubowner'), _who('pubmember'),
                                    ADMIN])
def test_shared_images_shows_owner_member_and_admin_the_membership(
        trusted, public_shared, caller):
    response = requests.get(trusted.url + '/v1/shared-images/pubmember',
                            headers=caller)
    assert response.status_code == 200
    assert response.json() == {'shared_images': [
        {'image_id': public_shared, 'can_share': False}]}


def test_shared_images_hides_other_tenants_memberships(trusted,
                                                       public_shared):
    # Only memberships on the caller's images and the caller's own.
    response = requests.get(trusted.url + '/v1/shared-images/pubmember',
                            headers=_who('stranger'))
    assert response.status_code == 200
    assert response.json() == {'shared_images': []}
