"""Visibility and mutability per caller (spec §4.4, §10.3) in the
trusted-auth flavor: private, public and shared images as each tenant,
an admin and a member see them; invisible is 404, never 403."""

import pytest

from tests.inprocess import support

who = support.trusted


@pytest.fixture
def images(trusted_app):
    """Tenant 'alice' owns a private, a public and a private image shared
    with 'bob' (can_share false); 'carol' owns one private image."""
    app = trusted_app
    made = {
        'private': app.create(data=b'p', headers=who('alice')),
        'public': app.create(data=b'q', headers=support.ADMIN,
                             owner='alice', is_public='True'),
        'shared': app.create(data=b's', headers=who('alice')),
        'carols': app.create(data=b'c', headers=who('carol')),
    }
    assert app.request('PUT', '/v1/images/%s/members/bob'
                       % made['shared']['id'],
                       who('alice')).status_int == 204
    return {name: image['id'] for name, image in made.items()}


def listed(app, headers, path='/v1/images', query=''):
    response = app.request('GET', path + query, headers)
    assert response.status_int == 200, response.text
    return {image['id'] for image in response.json['images']}


def named(images, *names):
    return {images[name] for name in names}


@pytest.mark.parametrize('tenant, visible', [
    ('alice', ('private', 'public', 'shared')),
    ('bob', ('public', 'shared')),
    ('carol', ('public', 'carols')),
    ('dave', ('public',)),
])
@pytest.mark.parametrize('path', ['/v1/images', '/v1/images/detail', '/v1/'])
def test_lists_show_what_each_tenant_may_see(trusted_app, images, tenant,
                                             visible, path):
    assert listed(trusted_app, who(tenant), path) == named(images, *visible)


@pytest.mark.parametrize('tenant, visible', [
    ('alice', ('private', 'public', 'shared')),
    ('bob', ('public', 'shared')),
    ('dave', ('public',)),
])
def test_lookups_by_id_follow_visibility(trusted_app, images, tenant,
                                         visible):
    for name, image_id in images.items():
        head = trusted_app.request('HEAD', '/v1/images/' + image_id,
                                   who(tenant))
        get = trusted_app.request('GET', '/v1/images/' + image_id,
                                  who(tenant))
        expected = 200 if name in visible else 404
        assert (name, head.status_int, get.status_int) == (
            name, expected, expected)


def test_non_admin_is_public_parameter_is_ignored(trusted_app, images):
    for query in ('?is_public=none', '?is_public=false', '?is_public=true'):
        assert listed(trusted_app, who('dave'), query=query) == named(
            images, 'public')


def test_admin_lists_as_a_user_by_default(trusted_app, images):
    # "Admin as user": the admin's own project owns none of them.
    assert listed(trusted_app, support.ADMIN) == named(images, 'public')
    assert listed(trusted_app, support.ADMIN, query='?is_public=true') == (
        named(images, 'public'))


def test_admin_lists_every_image_with_is_public_none(trusted_app, images):
    assert listed(trusted_app, support.ADMIN, query='?is_public=none') == (
        set(images.values()))


def test_admin_lists_every_private_image_with_is_public_false(trusted_app,
                                                              images):
    assert listed(trusted_app, support.ADMIN, query='?is_public=false') == (
        named(images, 'private', 'shared', 'carols'))


def test_admin_sees_and_changes_every_image(trusted_app, images):
    for image_id in images.values():
        assert trusted_app.request('HEAD', '/v1/images/' + image_id,
                                   support.ADMIN).status_int == 200
    response = trusted_app.request('PUT', '/v1/images/' + images['carols'],
                                   dict(support.ADMIN,
                                        **{'x-image-meta-name': 'by admin'}))
    assert response.status_int == 200


@pytest.mark.parametrize('target', ['public', 'shared'])
def test_visible_but_not_owned_images_are_403_to_change(trusted_app, images,
                                                        target):
    image_id = images[target]
    response = trusted_app.request('PUT', '/v1/images/' + image_id, dict(
        who('bob'), **{'x-image-meta-name': 'mine now'}))
    assert response.status_int == 403
    assert 'Forbidden to update image' in response.text
    response = trusted_app.request('DELETE', '/v1/images/' + image_id,
                                   who('bob'))
    assert response.status_int == 403
    assert 'Forbidden to delete image' in response.text


def test_invisible_images_are_404_to_change(trusted_app, images):
    image_id = images['private']
    assert trusted_app.request('PUT', '/v1/images/' + image_id, dict(
        who('dave'), **{'x-image-meta-name': 'x'})).status_int == 404
    assert trusted_app.request('DELETE', '/v1/images/' + image_id,
                               who('dave')).status_int == 404


def test_owner_changes_and_deletes_its_image(trusted_app, images):
    image_id = images['private']
    assert trusted_app.request('PUT', '/v1/images/' + image_id, dict(
        who('alice'), **{'x-image-meta-name': 'x'})).status_int == 200
    assert trusted_app.request('DELETE', '/v1/images/' + image_id,
                               who('alice')).status_int == 200


def test_deleted_images_are_seen_by_admins_only(trusted_app, images):
    image_id = images['public']
    trusted_app.request('DELETE', '/v1/images/' + image_id, support.ADMIN)
    assert trusted_app.request('HEAD', '/v1/images/' + image_id,
                               who('alice')).status_int == 404
    response = trusted_app.request('HEAD', '/v1/images/' + image_id,
                                   support.ADMIN)
    assert response.status_int == 200
    assert response.headers['x-image-meta-status'] == 'deleted'


def test_removed_member_no_longer_sees_the_image(trusted_app, images):
    image_id = images['shared']
    trusted_app.request('DELETE', '/v1/images/%s/members/bob' % image_id,
                        who('alice'))
    assert trusted_app.request('HEAD', '/v1/images/' + image_id,
                               who('bob')).status_int == 404
    assert image_id not in listed(trusted_app, who('bob'))


def test_ownerless_image_is_visible_by_id_to_everyone(trusted_app):
    image_id = trusted_app.create(headers=support.ADMIN, owner='')['id']
    assert trusted_app.request('HEAD', '/v1/images/' + image_id,
                               who('dave')).status_int == 200


def test_noauth_lists_public_images_unless_is_public_none(app):
    # The README's case (issue 12 item 10): an owner-less private image is
    # not in the default list, but is with is_public=None.
    private = app.create()['id']
    public = app.create(is_public='True')['id']
    assert listed(app, None) == {public}
    assert listed(app, None, query='?is_public=None') == {private, public}
