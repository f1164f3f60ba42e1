"""v2 members (v2 spec §15; v2 spec §25 Members, scenarios 117-127) and
members across the APIs (v2 spec §21.3, X-5, X-6, X-7; scenarios 142-146)
through the paste app in the trusted-auth flavor: T1 owns the images, T3
and T4 are members, T2 is another project, and the admin."""

import re

import pytest

from glance_lite.db import api as db_api
from tests.inprocess import support

T1 = support.trusted('T1')
T2 = support.trusted('T2')
T3 = support.trusted('T3')
T4 = support.trusted('T4')
ADMIN = support.ADMIN
UNKNOWN_ID = 'c0ffee00-1234-4abc-8def-0123456789ab'
TIMESTAMP = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z')


@pytest.fixture
def make_trusted(make_app):
    def _make(**defaults):
        config = {'paste_deploy': {'flavor': 'trusted-auth'}}
        if defaults:
            config['DEFAULT'] = defaults
        return make_app(config)
    return _make


@pytest.fixture
def app(make_trusted):
    return make_trusted()


def new_image(app, visibility='shared'):
    """An image of T1's, made through v1 and given ``visibility``."""
    image_id = app.create(headers=T1)['id']
    db_api.image_update(image_id, {'visibility': visibility})
    return image_id


@pytest.fixture
def shared(app):
    """'S': a shared image of T1's without members."""
    return new_image(app)


def url(image_id, member=None):
    path = '/v2/images/%s/members' % image_id
    return path + '/' + member if member else path


def add(app, image_id, member, headers=T1):
    return app.request('POST', url(image_id), headers, {'member': member})


def answer(app, image_id, member, status, headers=None):
    return app.request('PUT', url(image_id, member), headers or
                       support.trusted(member), {'status': status})


def v2_members(app, image_id, headers=T1):
    response = app.request('GET', url(image_id), headers)
    assert response.status_int == 200, response.text
    return response.json['members']


def v1_members(app, image_id):
    response = app.request('GET', '/v1/images/%s/members' % image_id, T1)
    assert response.status_int == 200, response.text
    return response.json['members']


def v1_listed(app, headers):
    response = app.request('GET', '/v1/images', headers)
    assert response.status_int == 200, response.text
    return [image['id'] for image in response.json['images']]


def assert_error(response, status, message):
    assert response.status_int == status, response.text
    assert message in response.text


# -- scenario 117: add --------------------------------------------------------

def test_added_member_is_200_and_pending(app, shared):
    response = add(app, shared, 'T3')
    assert response.status_int == 200, response.text
    body = response.json
    assert TIMESTAMP.match(body.pop('created_at'))
    assert TIMESTAMP.match(body.pop('updated_at'))
    assert body == {'member_id': 'T3', 'image_id': shared,
                    'status': 'pending', 'schema': '/v2/schemas/member'}
    assert response.content_type == 'application/json'


def test_member_added_twice_is_409(app, shared):
    add(app, shared, 'T3')
    assert_error(add(app, shared, 'T3'), 409,
                 'Member T3 is duplicated for image %s' % shared)
    assert [m['member_id'] for m in v2_members(app, shared)] == ['T3']


def test_new_member_reads_the_image_at_once(app, shared):
    add(app, shared, 'T3')
    assert app.request('HEAD', '/v1/images/%s' % shared,
                       T3).status_int == 200


def test_admin_may_add_members(app, shared):
    assert add(app, shared, 'T3', ADMIN).status_int == 200


# -- scenario 118: who may add, to which images -------------------------------

@pytest.mark.parametrize('visibility', ['public', 'private', 'community'])
def test_only_shared_images_take_members(app, visibility):
    image_id = new_image(app, visibility)
    assert_error(add(app, image_id, 'T3'), 403,
                 'Not allowed to create members for image %s.' % image_id)
    assert db_api.member_list(image_id=image_id) == []
    assert db_api.image_get(image_id)['visibility'] == visibility


def test_member_may_not_add_members(app, shared):
    add(app, shared, 'T3')
    assert_error(add(app, shared, 'T4', T3), 403,
                 'Not allowed to create members for image %s.' % shared)


def test_other_project_does_not_see_the_image(app, shared):
    assert_error(add(app, shared, 'T4', T2), 404,
                 'Image %s not found.' % shared)


def test_reader_may_not_add_members(app, shared):
    reader = support.trusted('T1', roles='reader')
    assert_error(add(app, shared, 'T3', reader), 403,
                 'Not allowed to create members for image %s.' % shared)


def test_unknown_image_is_404(app):
    assert_error(add(app, UNKNOWN_ID, 'T3'), 404,
                 'Image %s not found.' % UNKNOWN_ID)


# -- scenario 119: the body ---------------------------------------------------

@pytest.mark.parametrize('body, message', [
    ({}, 'Member to be added not specified'),
    ({'member': ''}, "Member can't be empty"),
    ({'member': None}, "Member can't be empty"),
    (['T3'], 'Expected a member in the form: {"member": "image_id"}'),
    ({'member': 3}, 'Expected a member in the form: {"member": "image_id"}'),
    ({'member': 'x' * 256}, 'Member id too long'),
    (b'', 'Body expected in request.'),
    (b'{"member":', 'Malformed JSON in request body.'),
])
def test_bad_bodies_are_400(app, shared, body, message):
    response = app.request('POST', url(shared), T1, body)
    assert_error(response, 400, message)
    assert db_api.member_list(image_id=shared) == []


def test_body_is_read_before_the_image_is_looked_up(app):
    response = app.request('POST', url(UNKNOWN_ID), T1, {})
    assert_error(response, 400, 'Member to be added not specified')


def test_member_id_of_255_characters_is_taken(app, shared):
    assert add(app, shared, 'x' * 255).status_int == 200


# -- scenario 120: the quota --------------------------------------------------

def test_member_quota_refuses_the_eleventh_member(make_trusted):
    app = make_trusted(image_member_quota=10)
    image_id = new_image(app)
    for n in range(10):
        assert add(app, image_id, 'M%d' % n).status_int == 200
    assert_error(add(app, image_id, 'M10'), 413,
                 'Image member limit exceeded for image %s: The limit has '
                 'been exceeded on the number of allowed image members for '
                 'this image. Attempted: 11, Maximum: 10:' % image_id)
    assert len(v2_members(app, image_id)) == 10


def test_removed_members_do_not_count(make_trusted):
    app = make_trusted(image_member_quota=1)
    image_id = new_image(app)
    add(app, image_id, 'T3')
    app.request('DELETE', url(image_id, 'T3'), T1)
    assert add(app, image_id, 'T4').status_int == 200


def test_negative_member_quota_is_no_limit(make_trusted):
    app = make_trusted(image_member_quota=-1)
    image_id = new_image(app)
    for n in range(130):
        assert add(app, image_id, 'M%d' % n).status_int == 200


# -- scenario 121: list -------------------------------------------------------

def test_owner_lists_every_member_in_creation_order(app, shared):
    for member in ('T4', 'T3', 'T5'):
        add(app, shared, member)
    answer(app, shared, 'T3', 'rejected')
    response = app.request('GET', url(shared), T1)
    assert response.status_int == 200
    assert response.json['schema'] == '/v2/schemas/members'
    assert [(m['member_id'], m['status'], m['schema'])
            for m in response.json['members']] == [
        ('T4', 'pending', '/v2/schemas/member'),
        ('T3', 'rejected', '/v2/schemas/member'),
        ('T5', 'pending', '/v2/schemas/member')]
    assert v2_members(app, shared, ADMIN) == response.json['members']


def test_member_lists_only_itself(app, shared):
    add(app, shared, 'T3')
    add(app, shared, 'T4')
    assert [m['member_id'] for m in v2_members(app, shared, T3)] == ['T3']


def test_other_project_list_is_404(app, shared):
    add(app, shared, 'T3')
    assert_error(app.request('GET', url(shared), T2), 404,
                 'Image %s not found.' % shared)


def test_list_of_a_public_image_is_403(app):
    image_id = new_image(app, 'public')
    assert_error(app.request('GET', url(image_id), T1), 403,
                 'Not allowed to list members for image %s: Only shared '
                 'images have members.' % image_id)


def test_list_refuses_a_body(app, shared):
    response = app.request('GET', url(shared), T1, {'a': 1})
    assert_error(response, 400, 'A body is not expected with this request.')


# -- scenario 122: show -------------------------------------------------------

def test_owner_and_member_see_the_membership(app, shared):
    added = add(app, shared, 'T3').json
    for caller in (T1, T3, ADMIN):
        response = app.request('GET', url(shared, 'T3'), caller)
        assert response.status_int == 200, response.text
        assert response.json == added


def test_another_member_does_not_see_the_membership(app, shared):
    add(app, shared, 'T3')
    add(app, shared, 'T4')
    assert_error(app.request('GET', url(shared, 'T3'), T4), 404,
                 'T3 not found in the member list of the image %s.' % shared)


def test_unknown_member_is_404(app, shared):
    assert_error(app.request('GET', url(shared, 'T9'), T1), 404,
                 'T9 not found in the member list of the image %s.' % shared)


def test_member_of_a_public_image_is_404(app):
    image_id = new_image(app, 'public')
    app.request('PUT', '/v1/images/%s/members/T3' % image_id, T1)
    assert_error(app.request('GET', url(image_id, 'T3'), T1), 404,
                 'Only shared images have members.')


# -- scenario 123: status -----------------------------------------------------

def test_member_accepts(app, shared):
    created = add(app, shared, 'T3').json
    response = answer(app, shared, 'T3', 'accepted')
    assert response.status_int == 200, response.text
    assert response.json['status'] == 'accepted'
    assert response.json['created_at'] == created['created_at']
    assert db_api.member_find(shared, 'T3')['status'] == 'accepted'


@pytest.mark.parametrize('status', ['pending', 'accepted', 'rejected'])
def test_any_status_to_any_status(app, shared, status):
    add(app, shared, 'T3')
    answer(app, shared, 'T3', 'rejected')
    before = db_api.member_find(shared, 'T3')['updated_at']
    assert answer(app, shared, 'T3', status).json['status'] == status
    assert db_api.member_find(shared, 'T3')['updated_at'] > before


def test_owner_may_not_answer(app, shared):
    add(app, shared, 'T3')
    assert_error(answer(app, shared, 'T3', 'accepted', T1), 403,
                 'Not allowed to update members for image %s.' % shared)
    assert db_api.member_find(shared, 'T3')['status'] == 'pending'


def test_admin_may_answer(app, shared):
    add(app, shared, 'T3')
    response = answer(app, shared, 'T3', 'accepted', ADMIN)
    assert response.json['status'] == 'accepted'


def test_another_member_may_not_answer(app, shared):
    add(app, shared, 'T3')
    add(app, shared, 'T4')
    assert_error(answer(app, shared, 'T3', 'accepted', T4), 404,
                 'T3 not found in the member list of the image %s.' % shared)


def test_reader_member_may_not_answer(app, shared):
    add(app, shared, 'T3')
    reader = support.trusted('T3', roles='reader')
    assert_error(answer(app, shared, 'T3', 'accepted', reader), 403,
                 'Not allowed to update members for image %s.' % shared)


def test_answer_on_a_public_image_is_403(app):
    image_id = new_image(app, 'public')
    app.request('PUT', '/v1/images/%s/members/T3' % image_id, T1)
    assert_error(answer(app, image_id, 'T3', 'accepted'), 403,
                 'Not allowed to update members for image %s.' % image_id)


def test_unknown_status_is_400(app, shared):
    add(app, shared, 'T3')
    assert_error(answer(app, shared, 'T3', 'maybe'), 400,
                 'Incorrect request: Status must be "pending", "accepted" '
                 'or "rejected".')


@pytest.mark.parametrize('body, message', [
    ({}, 'Status not specified'),
    (['accepted'], 'Expected a status in the form: {"status": "status"}'),
    (b'', 'Body expected in request.'),
])
def test_bad_status_bodies_are_400(app, shared, body, message):
    add(app, shared, 'T3')
    response = app.request('PUT', url(shared, 'T3'), T3, body)
    assert_error(response, 400, message)


# -- scenario 124: delete -----------------------------------------------------

def test_member_may_not_remove_itself(app, shared):
    add(app, shared, 'T3')
    assert_error(app.request('DELETE', url(shared, 'T3'), T3), 403,
                 'Not allowed to delete members for image %s.' % shared)
    assert db_api.member_find(shared, 'T3') is not None


def test_owner_removes_a_member(app, shared):
    add(app, shared, 'T3')
    response = app.request('DELETE', url(shared, 'T3'), T1)
    assert (response.status_int, response.body) == (204, b'')
    assert_error(app.request('DELETE', url(shared, 'T3'), T1), 404,
                 'T3 not found in the member list of the image %s.' % shared)
    # Gone for the former member, through both APIs.
    assert_error(app.request('GET', url(shared), T3), 404,
                 'Image %s not found.' % shared)
    assert app.request('HEAD', '/v1/images/%s' % shared,
                       T3).status_int == 404


def test_delete_on_a_private_image_is_403(app):
    image_id = new_image(app, 'private')
    assert_error(app.request('DELETE', url(image_id, 'T3'), T1), 403,
                 'Not allowed to delete members for image %s.' % image_id)


# -- scenario 125: re-added ---------------------------------------------------

def test_removed_member_comes_back_pending(app, shared):
    add(app, shared, 'T3')
    answer(app, shared, 'T3', 'accepted')
    first = db_api.member_find(shared, 'T3')['created_at']
    app.request('DELETE', url(shared, 'T3'), T1)
    response = add(app, shared, 'T3')
    assert response.status_int == 200
    assert response.json['status'] == 'pending'
    assert db_api.member_find(shared, 'T3')['created_at'] > first


# -- scenario 126: visibility away from shared and back -----------------------

def test_members_lose_and_regain_the_image_with_its_visibility(app, shared):
    add(app, shared, 'T3')
    answer(app, shared, 'T3', 'accepted')
    db_api.image_update(shared, {'visibility': 'private'})
    assert app.request('GET', url(shared, 'T3'), T3).status_int == 404
    assert app.request('HEAD', '/v1/images/%s' % shared,
                       T3).status_int == 404
    db_api.image_update(shared, {'visibility': 'shared'})
    response = app.request('GET', url(shared, 'T3'), T3)
    assert response.json['status'] == 'accepted'


# -- scenario 127: members never write ----------------------------------------

def test_accepted_member_may_not_change_the_image(app, shared):
    add(app, shared, 'T3')
    answer(app, shared, 'T3', 'accepted')
    assert app.request('PUT', '/v2/images/%s/tags/x' % shared,
                       T3).status_int == 403
    assert app.request('DELETE', url(shared, 'T3'), T3).status_int == 403
    # v2 PATCH and DELETE of the image are not routed here yet: v1 stands
    # in for them (one ownership rule for both APIs).
    headers = dict(T3, **{'x-image-meta-name': 'n'})
    assert app.request('PUT', '/v1/images/%s' % shared,
                       headers).status_int == 403
    assert app.request('DELETE', '/v1/images/%s' % shared,
                       T3).status_int == 403
    assert db_api.image_get(shared)['status'] == 'queued'


# -- read-only callers --------------------------------------------------------

def test_read_only_caller_may_not_change_members(make_trusted):
    app = make_trusted(allow_anonymous_access=True)
    image_id = new_image(app)
    add(app, image_id, 'T3')
    for method, path, body in (('POST', url(image_id), {'member': 'T4'}),
                               ('PUT', url(image_id, 'T3'),
                                {'status': 'accepted'}),
                               ('DELETE', url(image_id, 'T3'), None)):
        assert_error(app.request(method, path, {}, body), 403,
                     'Read-only access')
    assert [m['status'] for m in v2_members(app, image_id)] == ['pending']


# -- across the APIs (v2 spec §21.3) ------------------------------------------

def test_v1_member_add_shares_a_private_image(app):
    """Scenario 142 (X-5)."""
    image_id = new_image(app, 'private')
    assert app.request('PUT', '/v1/images/%s/members/T3' % image_id,
                       T1).status_int == 204
    assert db_api.image_get(image_id)['visibility'] == 'shared'
    assert [(m['member_id'], m['status'])
            for m in v2_members(app, image_id)] == [('T3', 'pending')]
    assert app.request('GET', url(image_id, 'T3'), T3).status_int == 200
    assert image_id in v1_listed(app, T3)


def test_member_that_rejected_still_sees_the_image_in_v1_lists(app, shared):
    """Scenario 143."""
    add(app, shared, 'T3')
    assert answer(app, shared, 'T3', 'rejected').status_int == 200
    assert shared in v1_listed(app, T3)
    assert shared not in v1_listed(app, T4)


def test_v2_answer_keeps_v1_can_share(app, shared):
    """Scenario 144 (X-7)."""
    app.request('PUT', '/v1/images/%s/members/T3' % shared, T1,
                {'member': {'can_share': True}})
    assert answer(app, shared, 'T3', 'accepted').status_int == 200
    assert v1_members(app, shared) == [{'member_id': 'T3',
                                        'can_share': True}]


def test_v2_member_is_a_v1_member_without_can_share(app, shared):
    """Scenario 145."""
    add(app, shared, 'T3')
    assert v1_members(app, shared) == [{'member_id': 'T3',
                                        'can_share': False}]
    response = app.request('GET', '/v1/shared-images/T3', T3)
    assert response.json['shared_images'] == [
        {'image_id': shared, 'can_share': False}]


def test_v1_member_of_a_public_image_is_not_a_v2_member(app):
    """Scenario 146."""
    image_id = new_image(app, 'public')
    assert app.request('PUT', '/v1/images/%s/members/T3' % image_id,
                       T1).status_int == 204
    assert_error(app.request('GET', url(image_id), T1), 403,
                 'Only shared images have members.')
    assert db_api.image_get(image_id)['visibility'] == 'public'


def test_v1_re_add_of_a_v2_removed_member_is_pending(app, shared):
    """X-6."""
    add(app, shared, 'T3')
    answer(app, shared, 'T3', 'accepted')
    app.request('DELETE', url(shared, 'T3'), T1)
    assert v1_members(app, shared) == []
    app.request('PUT', '/v1/images/%s/members/T3' % shared, T1,
                {'member': {'can_share': True}})
    assert [m['status'] for m in v2_members(app, shared)] == ['pending']


def test_v1_can_share_change_keeps_the_v2_status(app, shared):
    add(app, shared, 'T3')
    answer(app, shared, 'T3', 'accepted')
    app.request('PUT', '/v1/images/%s/members/T3' % shared, T1,
                {'member': {'can_share': True}})
    assert [m['status'] for m in v2_members(app, shared)] == ['accepted']


def test_v1_removal_is_a_v2_removal(app, shared):
    add(app, shared, 'T3')
    app.request('DELETE', '/v1/images/%s/members/T3' % shared, T1)
    assert v2_members(app, shared) == []


def test_image_deletion_removes_its_members(app, shared):
    add(app, shared, 'T3')
    app.request('DELETE', '/v1/images/%s' % shared, T1)
    assert db_api.member_list(image_id=shared) == []
