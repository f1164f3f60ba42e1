"""Quotas (spec §15.2, §15.3) through the paste app: image_property_quota
on create and update (counted as purge says), user_storage_quota on
uploads; each over-quota request a 413 that stores nothing."""

import os

import pytest

from tests.inprocess import support

who = support.trusted


def props(count, prefix='p'):
    return {'x-image-meta-property-%s%d' % (prefix, n): 'v'
            for n in range(count)}


@pytest.fixture
def prop_app(make_app):
    return make_app({'DEFAULT': {'image_property_quota': '3'}})


def test_create_at_the_property_quota_succeeds(prop_app):
    response = prop_app.request('POST', '/v1/images',
                                dict(support.MINIMAL, **props(3)))
    assert response.status_int == 201


def test_create_over_the_property_quota_is_413(prop_app):
    response = prop_app.request('POST', '/v1/images',
                                dict(support.MINIMAL, **props(4)))
    assert response.status_int == 413
    assert ('The limit has been exceeded on the number of allowed image '
            'properties. Attempted: 4, Maximum: 3') in response.text
    assert prop_app.request(
        'GET', '/v1/images/detail?is_public=None').json == {'images': []}


def test_update_with_purge_counts_the_named_properties(prop_app):
    image = prop_app.create(properties={'a': '1', 'b': '2', 'c': '3'})
    response = prop_app.request('PUT', '/v1/images/' + image['id'],
                                props(3, 'new'))
    assert response.status_int == 200
    assert sorted(response.json['image']['properties']) == [
        'new0', 'new1', 'new2']


def test_merging_update_counts_the_union(prop_app):
    image = prop_app.create(properties={'a': '1', 'b': '2'})
    url = '/v1/images/' + image['id']
    merge = {'x-glance-registry-purge-props': 'false'}
    # Overwriting an existing property does not count twice.
    assert prop_app.request('PUT', url, dict(merge, **{
        'x-image-meta-property-a': '9',
        'x-image-meta-property-c': '3'})).status_int == 200
    response = prop_app.request('PUT', url, dict(merge, **{
        'x-image-meta-property-d': '4'}))
    assert response.status_int == 413
    assert 'Attempted: 4, Maximum: 3' in response.text
    head = prop_app.request('HEAD', url)
    assert 'x-image-meta-property-d' not in head.headers
    assert head.headers['x-image-meta-property-a'] == '9'


def test_property_quota_applies_to_admins(make_app):
    app = make_app({'DEFAULT': {'image_property_quota': '0'}})
    response = app.request('POST', '/v1/images', dict(
        support.MINIMAL, **props(1)))
    assert response.status_int == 413


def test_negative_property_quota_is_unlimited(make_app):
    app = make_app({'DEFAULT': {'image_property_quota': '-1'}})
    response = app.request('POST', '/v1/images', dict(
        support.MINIMAL, **props(200)))
    assert response.status_int == 201


# -- user_storage_quota -------------------------------------------------------

@pytest.fixture
def storage_app(make_app):
    return make_app({'paste_deploy': {'flavor': 'trusted-auth'},
                     'DEFAULT': {'user_storage_quota': '1KB'}})


def upload(app, data, headers, **extra):
    return app.request('POST', '/v1/images', dict(
        support.MINIMAL, **support.OCTETS, **headers, **extra), data)


def stored(app):
    return os.listdir(app.datadir) if os.path.isdir(app.datadir) else []


def test_uploads_within_the_quota_succeed(storage_app):
    assert upload(storage_app, b'x' * 1024, who('t1')).status_int == 201


def test_upload_over_the_quota_is_413_and_stores_nothing(storage_app):
    response = upload(storage_app, b'x' * 1025, who('t1'))
    assert response.status_int == 413
    assert stored(storage_app) == []


def test_declared_size_over_the_quota_is_413(storage_app):
    response = upload(storage_app, b'x' * 10, who('t1'),
                      **{'x-image-meta-size': '2048'})
    assert response.status_int == 413
    assert 'exceeds the quota' in response.text


def test_usage_counts_the_owners_other_images(storage_app):
    assert upload(storage_app, b'x' * 600, who('t1')).status_int == 201
    response = upload(storage_app, b'x' * 600, who('t1'))
    assert response.status_int == 413
    assert len(stored(storage_app)) == 1
    # Another owner has its own quota.
    assert upload(storage_app, b'x' * 600, who('t2')).status_int == 201


def test_deleted_images_free_their_storage(storage_app):
    first = upload(storage_app, b'x' * 600, who('t1')).json['image']
    storage_app.request('DELETE', '/v1/images/' + first['id'], who('t1'))
    assert upload(storage_app, b'x' * 600, who('t1')).status_int == 201


def test_upload_to_a_reserved_image_is_held_to_the_quota(storage_app):
    image = storage_app.create(headers=who('t1'))
    response = storage_app.request('PUT', '/v1/images/' + image['id'], dict(
        support.OCTETS, **who('t1')), b'x' * 2000)
    assert response.status_int == 413
    head = storage_app.request('HEAD', '/v1/images/' + image['id'],
                               who('t1'))
    assert head.headers['x-image-meta-status'] == 'killed'


def test_quota_units(make_app):
    app = make_app({'DEFAULT': {'user_storage_quota': '2048'}})
    assert upload(app, b'x' * 2048, {}).status_int == 201
    assert upload(app, b'x' * 2049, {}).status_int == 413
