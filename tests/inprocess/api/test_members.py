"""Members and shared images (spec §11) through the paste app: list,
replace, add, delete, shared-images, can_share, the member quota and the
4xx answers, in the noauth and trusted-auth flavors."""

import pytest

from tests.inprocess import support

UNKNOWN_ID = 'c0ffee00-1234-4abc-8def-0123456789ab'
who = support.trusted


def members_url(image_id, member=None):
    url = '/v1/images/%s/members' % image_id
    return url + '/' + member if member else url


def members(app, image_id, headers=None):
    response = app.request('GET', members_url(image_id), headers)
    assert response.status_int == 200, response.text
    return response.json['members']


def put_member(app, image_id, member, body=None, headers=None):
    return app.request('PUT', members_url(image_id, member), headers, body)


def replace(app, image_id, memberships, headers=None):
    return app.request('PUT', members_url(image_id), headers,
                       {'memberships': memberships})


@pytest.fixture
def image_id(app):
    return app.create()['id']


# -- noauth: the operations themselves ---------------------------------------

def test_added_members_are_listed_in_order(app, image_id):
    for member in ('m2', 'm1', 'm3'):
        assert put_member(app, image_id, member).status_int == 204
    assert members(app, image_id) == [
        {'member_id': m, 'can_share': False} for m in ('m2', 'm1', 'm3')]


def test_member_answers_are_204_without_body(app, image_id):
    response = put_member(app, image_id, 'm')
    assert (response.status_int, response.body) == (204, b'')
    response = replace(app, image_id, [])
    assert (response.status_int, response.body) == (204, b'')


def test_can_share_is_set_and_changed_only_when_given(app, image_id):
    put_member(app, image_id, 'm', {'member': {'can_share': True}})
    assert members(app, image_id) == [{'member_id': 'm', 'can_share': True}]
    put_member(app, image_id, 'm')
    assert members(app, image_id) == [{'member_id': 'm', 'can_share': True}]
    put_member(app, image_id, 'm', {'member': {'can_share': False}})
    assert members(app, image_id) == [{'member_id': 'm', 'can_share': False}]


def test_flat_member_body_says_nothing(app, image_id):
    put_member(app, image_id, 'm', {'member_id': 'm', 'can_share': True})
    assert members(app, image_id) == [{'member_id': 'm', 'can_share': False}]


def test_delete_removes_and_a_second_delete_is_404(app, image_id):
    put_member(app, image_id, 'm')
    assert app.request('DELETE',
                       members_url(image_id, 'm')).status_int == 204
    assert members(app, image_id) == []
    response = app.request('DELETE', members_url(image_id, 'm'))
    assert response.status_int == 404
    assert 'Membership could not be found.' in response.text


def test_removed_member_re_added_without_body_is_restored(app, image_id):
    put_member(app, image_id, 'm')
    app.request('DELETE', members_url(image_id, 'm'))
    assert put_member(app, image_id, 'm').status_int == 204
    assert members(app, image_id) == [{'member_id': 'm', 'can_share': False}]


def test_replace_makes_the_list_exactly_the_given_one(app, image_id):
    put_member(app, image_id, 'keep', {'member': {'can_share': True}})
    put_member(app, image_id, 'drop')
    assert replace(app, image_id, [{'member_id': 'keep'},
                                   {'member_id': 'new', 'can_share': True}]
                   ).status_int == 204
    assert members(app, image_id) == [
        {'member_id': 'keep', 'can_share': True},
        {'member_id': 'new', 'can_share': True}]
    assert replace(app, image_id, []).status_int == 204
    assert members(app, image_id) == []


@pytest.mark.parametrize('value, expected', [
    (True, True), (False, False), ('false', False), ('true', True),
    ('yes', True), ('0', False)])
def test_replace_parses_can_share_words(app, image_id, value, expected):
    replace(app, image_id, [{'member_id': 'm', 'can_share': value}])
    assert members(app, image_id) == [{'member_id': 'm',
                                       'can_share': expected}]


@pytest.mark.parametrize('body', [{'image_memberships': []},
                                  {'memberships': [{'can_share': True}]},
                                  {'memberships': [{'member_id': ''}]},
                                  {'memberships': 'm'}, []])
def test_replace_with_a_bad_membership_body_is_400(app, image_id, body):
    response = app.request('PUT', members_url(image_id), None, body)
    assert response.status_int == 400
    assert 'Invalid membership association' in response.text


def test_replace_without_body_is_400(app, image_id):
    assert app.request('PUT', members_url(image_id)).status_int == 400


@pytest.mark.parametrize('path', ['', '/m'])
def test_malformed_json_is_400(app, image_id, path):
    response = app.request('PUT', members_url(image_id) + path,
                           {'Content-Type': 'application/json'}, b'{nope')
    assert response.status_int == 400
    assert 'Malformed JSON in request body.' in response.text


@pytest.mark.parametrize('body', [b'3', b'"x"', b'true', b'null'])
def test_replace_with_json_neither_object_nor_list_is_400(app, image_id,
                                                          body):
    response = app.request('PUT', members_url(image_id),
                           {'Content-Type': 'application/json'}, body)
    assert response.status_int == 400
    if body != b'null':
        assert 'Unexpected body type. Expected list/dict.' in response.text


def test_member_body_over_the_limit_is_413(make_app):
    app = make_app({'DEFAULT': {'max_member_body_size': '100'}})
    image_id = app.create()['id']
    response = replace(app, image_id, [{'member_id': 'm' * 200}])
    assert response.status_int == 413


def test_member_id_over_255_characters_is_400(app, image_id):
    assert put_member(app, image_id, 'm' * 256).status_int == 400
    assert put_member(app, image_id, 'm' * 255).status_int == 204


@pytest.mark.parametrize('method, path, body', [
    ('GET', '', None), ('PUT', '', {'memberships': []}),
    ('PUT', '/m', None), ('DELETE', '/m', None)])
def test_member_calls_on_an_unknown_image_are_404(app, method, path, body):
    response = app.request(method, members_url(UNKNOWN_ID) + path, None,
                           body)
    assert response.status_int == 404


@pytest.mark.parametrize('method, path, body', [
    ('GET', '', None), ('PUT', '', {'memberships': []}),
    ('PUT', '/m', None), ('DELETE', '/m', None)])
def test_member_calls_on_a_deleted_image_say_deleted(app, method, path,
                                                     body):
    image_id = app.create(data=b'x')['id']
    put_member(app, image_id, 'm')
    app.request('DELETE', '/v1/images/' + image_id)
    response = app.request(method, members_url(image_id) + path, None, body)
    assert response.status_int == 404
    assert 'has been deleted' in response.text


def test_deleting_an_image_ends_its_memberships(app):
    image_id = app.create(data=b'x')['id']
    put_member(app, image_id, 'm')
    app.request('DELETE', '/v1/images/' + image_id)
    response = app.request('GET', '/v1/shared-images/m')
    assert response.json == {'shared_images': []}


# -- shared-images ------------------------------------------------------------

def test_shared_images_lists_the_members_images(app):
    first, second = app.create()['id'], app.create()['id']
    put_member(app, first, 'm', {'member': {'can_share': True}})
    put_member(app, second, 'm')
    response = app.request('GET', '/v1/shared-images/m')
    assert response.status_int == 200
    assert sorted(response.json['shared_images'],
                  key=lambda s: s['image_id']) == sorted(
        [{'image_id': first, 'can_share': True},
         {'image_id': second, 'can_share': False}],
        key=lambda s: s['image_id'])


def test_shared_images_of_an_unknown_member_is_empty(app):
    response = app.request('GET', '/v1/shared-images/nobody')
    assert (response.status_int, response.json) == (
        200, {'shared_images': []})


# -- member quota -------------------------------------------------------------

@pytest.fixture
def quota_app(make_app):
    return make_app({'DEFAULT': {'image_member_quota': '2'}})


def test_adding_past_the_member_quota_is_413(quota_app):
    image_id = quota_app.create()['id']
    assert put_member(quota_app, image_id, 'a').status_int == 204
    assert put_member(quota_app, image_id, 'b').status_int == 204
    response = put_member(quota_app, image_id, 'c')
    assert response.status_int == 413
    assert ('The limit has been exceeded on the number of allowed image '
            'members for this image. Attempted: 3, Maximum: 2') in (
        response.text)
    # Updating an existing member is no new member.
    assert put_member(quota_app, image_id, 'a',
                      {'member': {'can_share': True}}).status_int == 204


def test_replacing_with_more_members_than_the_quota_is_413(quota_app):
    image_id = quota_app.create()['id']
    put_member(quota_app, image_id, 'kept')
    response = replace(quota_app, image_id, [{'member_id': m}
                                             for m in 'abc'])
    assert response.status_int == 413
    assert 'Attempted: 3, Maximum: 2' in response.text
    assert members(quota_app, image_id) == [
        {'member_id': 'kept', 'can_share': False}]
    assert replace(quota_app, image_id, [{'member_id': m}
                                         for m in 'ab']).status_int == 204


def test_member_quota_zero_refuses_any_member(make_app):
    app = make_app({'DEFAULT': {'image_member_quota': '0'}})
    image_id = app.create()['id']
    assert put_member(app, image_id, 'a').status_int == 413


def test_negative_member_quota_is_unlimited(make_app):
    app = make_app({'DEFAULT': {'image_member_quota': '-1'}})
    image_id = app.create()['id']
    assert replace(app, image_id, [{'member_id': 'm%d' % n}
                                   for n in range(200)]).status_int == 204
    assert len(members(app, image_id)) == 200


# -- trusted-auth: who may share ----------------------------------------------

@pytest.fixture
def owners_image(trusted_app):
    """A public image of 'owner1' with member 'pattieblack'."""
    image = trusted_app.create(headers=support.ADMIN, owner='owner1',
                               is_public='True')
    assert put_member(trusted_app, image['id'], 'pattieblack',
                      headers=who('owner1')).status_int == 204
    return image['id']


@pytest.mark.parametrize('method, path, body', [
    ('PUT', '', {'memberships': []}), ('PUT', '/test1', None),
    ('DELETE', '/pattieblack', None),
    ('PUT', '', {'image_memberships': []})])
def test_non_sharer_changes_are_404(trusted_app, owners_image, method, path,
                                    body):
    response = trusted_app.request(method, members_url(owners_image) + path,
                                   who('test1'), body)
    assert response.status_int == 404
    if body != {'image_memberships': []}:
        assert 'No permission to share that image' in response.text
    assert members(trusted_app, owners_image, who('owner1')) == [
        {'member_id': 'pattieblack', 'can_share': False}]


def test_owner_manages_the_members_of_its_image(trusted_app):
    owner = who('owner2')
    image_id = trusted_app.create(headers=owner)['id']
    assert put_member(trusted_app, image_id, 'a',
                      headers=owner).status_int == 204
    assert replace(trusted_app, image_id, [{'member_id': 'b'}],
                   owner).status_int == 204
    assert trusted_app.request('DELETE', members_url(image_id, 'b'),
                               owner).status_int == 204
    assert members(trusted_app, image_id, owner) == []


def test_member_with_can_share_may_add_a_member(trusted_app):
    image_id = trusted_app.create(headers=who('tenant1'))['id']
    put_member(trusted_app, image_id, 'tenant2',
               {'member': {'can_share': True}}, who('tenant1'))
    assert put_member(trusted_app, image_id, 'tenant3',
                      headers=who('tenant2')).status_int == 204
    assert trusted_app.request('HEAD', '/v1/images/' + image_id,
                               who('tenant3')).status_int == 200


def test_member_without_can_share_may_not_add_a_member(trusted_app):
    image_id = trusted_app.create(headers=who('tenant1'))['id']
    put_member(trusted_app, image_id, 'tenant2', headers=who('tenant1'))
    assert put_member(trusted_app, image_id, 'tenant3',
                      headers=who('tenant2')).status_int == 404
    assert trusted_app.request('HEAD', '/v1/images/' + image_id,
                               who('tenant3')).status_int == 404


def test_member_lists_only_its_own_membership(trusted_app):
    image_id = trusted_app.create(headers=who('owner'))['id']
    for member in ('m1', 'm2'):
        put_member(trusted_app, image_id, member, headers=who('owner'))
    assert members(trusted_app, image_id, who('m2')) == [
        {'member_id': 'm2', 'can_share': False}]
    assert len(members(trusted_app, image_id, who('owner'))) == 2


@pytest.mark.parametrize('method, path, body', [
    ('PUT', '', {'memberships': []}), ('PUT', '/m', None),
    ('DELETE', '/m', None)])
def test_member_change_without_a_project_is_401(trusted_app, method, path,
                                                body):
    image_id = trusted_app.create(headers=support.ADMIN)['id']
    headers = {'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u1',
               'X-Roles': 'member'}
    response = trusted_app.request(method, members_url(image_id) + path,
                                   headers, body)
    assert response.status_int == 401
    assert 'No authenticated user' in response.text


@pytest.mark.parametrize('caller', ['pubowner', 'pubmember', 'admin'])
def test_shared_images_shows_owner_member_and_admin_the_membership(
        trusted_app, caller):
    image_id = trusted_app.create(headers=who('pubowner'))['id']
    put_member(trusted_app, image_id, 'pubmember', headers=who('pubowner'))
    headers = support.ADMIN if caller == 'admin' else who(caller)
    response = trusted_app.request('GET', '/v1/shared-images/pubmember',
                                   headers)
    assert response.json == {'shared_images': [
        {'image_id': image_id, 'can_share': False}]}


def test_shared_images_hides_other_tenants_memberships(trusted_app):
    image_id = trusted_app.create(headers=support.ADMIN, owner='pubowner',
                                  is_public='True')['id']
    put_member(trusted_app, image_id, 'pubmember', headers=who('pubowner'))
    response = trusted_app.request('GET', '/v1/shared-images/pubmember',
                                   who('stranger'))
    assert response.json == {'shared_images': []}
