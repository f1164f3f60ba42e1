"""What v1 does to and sees of the catalogue it shares with v2
(v2 spec §21): visibility behind is_public, memberships and member status,
reserved and glance_lite's own property names, null sizes."""

import pytest

from glance_lite.db import api as db_api
from tests.inprocess import support

who = support.trusted
OWNER = who('owner')
MEMBER = who('member')
OTHER = who('other')


@pytest.fixture
def app(make_app):
    return make_app({'paste_deploy': {'flavor': 'trusted-auth'}})


def stored(image_id):
    return db_api.image_get(image_id)


def head(app, image_id, headers):
    return app.request('HEAD', '/v1/images/' + image_id, headers)


def update(app, image_id, headers, **meta):
    sent = dict(headers)
    for key, value in meta.items():
        sent['x-image-meta-' + key] = str(value)
    response = app.request('PUT', '/v1/images/' + image_id, sent)
    return response


def listed(app, headers):
    response = app.request('GET', '/v1/images', headers)
    assert response.status_int == 200, response.text
    return [image['id'] for image in response.json['images']]


def test_create_makes_private_or_public_images(app):
    """X-3: not public is private (Glance Queens wrote shared)."""
    private = app.create(headers=OWNER)
    public = app.create(headers=support.ADMIN, is_public=True)
    assert stored(private['id'])['visibility'] == 'private'
    assert stored(public['id'])['visibility'] == 'public'
    assert private['is_public'] is False and public['is_public'] is True


def test_is_public_false_turns_only_public_images(app):
    """X-4: a public image becomes shared when it has members, else
    private; community, shared and private images stay as they are."""
    lone = app.create(headers=support.ADMIN, is_public=True)
    with_member = app.create(headers=support.ADMIN, is_public=True)
    db_api.member_set(with_member['id'], 'member')
    community = app.create(headers=support.ADMIN)
    db_api.image_update(community['id'], {'visibility': 'community'})
    for image in (lone, with_member, community):
        response = update(app, image['id'], support.ADMIN, is_public=False)
        assert response.status_int == 200, response.text
        assert response.json['image']['is_public'] is False
    assert [stored(i['id'])['visibility'] for i in (
        lone, with_member, community)] == ['private', 'shared', 'community']
    response = update(app, lone['id'], support.ADMIN, is_public=True)
    assert response.status_int == 200
    assert stored(lone['id'])['visibility'] == 'public'


def test_community_image_is_readable_by_id_but_not_listed(app):
    """v2 spec §21.4: v1 shows other owners' community images by id (is_public
    False) and leaves them out of its lists."""
    image = app.create(headers=OWNER)
    db_api.image_update(image['id'], {'visibility': 'community'})
    response = head(app, image['id'], OTHER)
    assert response.status_int == 200
    assert response.headers['x-image-meta-is_public'] == 'False'
    assert image['id'] not in listed(app, OTHER)
    assert image['id'] in listed(app, OWNER)


def test_adding_a_member_shares_a_private_image(app):
    """X-5: the member can read it at once, and lists it."""
    image = app.create(headers=OWNER)
    assert head(app, image['id'], MEMBER).status_int == 404
    response = app.request('PUT', '/v1/images/%s/members/member'
                           % image['id'], OWNER)
    assert response.status_int == 204, response.text
    assert stored(image['id'])['visibility'] == 'shared'
    assert db_api.member_find(image['id'], 'member')['status'] == 'pending'
    assert head(app, image['id'], MEMBER).status_int == 200
    assert image['id'] in listed(app, MEMBER)


def test_memberships_of_a_private_image_give_nothing(app):
    """X-8: only shared images are visible to members, through v1 too."""
    image = app.create(headers=OWNER)
    app.request('PUT', '/v1/images/%s/members/member' % image['id'], OWNER)
    db_api.image_update(image['id'], {'visibility': 'private'})
    assert head(app, image['id'], MEMBER).status_int == 404
    assert image['id'] not in listed(app, MEMBER)
    assert head(app, image['id'], OWNER).status_int == 200


def test_v1_lists_shared_images_in_every_member_status(app):
    """v2 spec §21.3: a member that rejected an image (through v2) still lists
    it through v1."""
    image = app.create(headers=OWNER)
    app.request('PUT', '/v1/images/%s/members/member' % image['id'], OWNER)
    db_api.member_set_status(image['id'], 'member', 'rejected')
    assert image['id'] in listed(app, MEMBER)


def test_readded_member_is_pending_again(app):
    """X-6: a removed member comes back pending, with or without a body."""
    image = app.create(headers=OWNER)
    url = '/v1/images/%s/members/member' % image['id']
    app.request('PUT', url, OWNER)
    db_api.member_set_status(image['id'], 'member', 'accepted')
    assert app.request('DELETE', url, OWNER).status_int == 204
    assert app.request('PUT', url, OWNER).status_int == 204
    assert db_api.member_find(image['id'], 'member')['status'] == 'pending'


def test_changing_can_share_keeps_the_status(app):
    image = app.create(headers=OWNER)
    url = '/v1/images/%s/members/member' % image['id']
    app.request('PUT', url, OWNER)
    db_api.member_set_status(image['id'], 'member', 'accepted')
    response = app.request('PUT', url, OWNER, {'member': {'can_share': True}})
    assert response.status_int == 204, response.text
    membership = db_api.member_find(image['id'], 'member')
    assert (membership['can_share'], membership['status']) == (
        True, 'accepted')


def test_reserve_without_size_stores_null_and_shows_0(app):
    """X-10."""
    image = app.create(headers=OWNER)
    assert image['size'] == 0
    assert stored(image['id'])['size'] is None
    assert head(app, image['id'], OWNER).headers['x-image-meta-size'] == '0'
    response = app.request('GET', '/v1/images/detail', OWNER)
    [shown] = [i for i in response.json['images'] if i['id'] == image['id']]
    assert shown['size'] == 0


@pytest.mark.parametrize('name', ['visibility', 'os_hidden', 'tags',
                                  'os_hash_value', 'direct_url', 'name',
                                  'os_glance_import_task', 'os_glancex'])
def test_reserved_property_names_are_refused(app, name):
    """X-14: 403, and nothing is created."""
    before = listed(app, OWNER)
    response = app.request('POST', '/v1/images', dict(
        OWNER, **{'x-image-meta-name': 'x',
                  'x-image-meta-property-' + name: 'v'}))
    assert response.status_int == 403
    assert "Attribute '%s' is reserved." % name in response.text
    assert listed(app, OWNER) == before
    image = app.create(headers=OWNER)
    response = app.request('PUT', '/v1/images/' + image['id'], dict(
        OWNER, **{'x-image-meta-property-' + name: 'v'}))
    assert response.status_int == 403
    assert name not in stored(image['id'])['properties']


def test_reserved_name_stored_before_may_be_sent_back_unchanged(app):
    """A property such as 'tags' written before the catalogue served v2
    stays readable and may be echoed back by a client, not changed."""
    image = app.create(headers=OWNER)
    db_api.image_update(image['id'], {}, {'tags': 'old'})
    response = app.request('PUT', '/v1/images/' + image['id'], dict(
        OWNER, **{'x-image-meta-property-tags': 'old',
                  'x-image-meta-name': 'renamed'}))
    assert response.status_int == 200, response.text
    assert response.json['image']['properties']['tags'] == 'old'
    response = app.request('PUT', '/v1/images/' + image['id'], dict(
        OWNER, **{'x-image-meta-property-tags': 'new'}))
    assert response.status_int == 403


def test_purge_keeps_glance_lites_own_properties(app):
    """X-13."""
    image = app.create(headers=OWNER, properties={'a': '1'})
    db_api.image_update(image['id'], {}, {'os_glance_import_task': 'tok'})
    response = app.request('PUT', '/v1/images/' + image['id'], dict(
        OWNER, **{'x-glance-registry-purge-props': 'true',
                  'x-image-meta-property-b': '2'}))
    assert response.status_int == 200, response.text
    assert stored(image['id'])['properties'] == {
        'b': '2', 'os_glance_import_task': 'tok'}


def test_property_quota_does_not_count_glance_lites_own(make_app):
    """X-15."""
    app = make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                    'DEFAULT': {'image_property_quota': '1'}})
    image = app.create(headers=OWNER, properties={'a': '1'})
    db_api.image_update(image['id'], {}, {'os_glance_import_task': 'tok'})
    keep = dict(OWNER, **{'x-glance-registry-purge-props': 'false'})
    response = app.request('PUT', '/v1/images/' + image['id'], dict(
        keep, **{'x-image-meta-property-a': '2'}))
    assert response.status_int == 200, response.text
    response = app.request('PUT', '/v1/images/' + image['id'], dict(
        keep, **{'x-image-meta-property-b': '2'}))
    assert response.status_int == 413
    assert stored(image['id'])['properties'] == {
        'a': '2', 'os_glance_import_task': 'tok'}
