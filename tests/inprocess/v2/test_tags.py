"""v2 tags (v2 spec §14; v2 spec §25 Tags, scenarios 113-116) through
the paste app in the trusted-auth flavor: T1 owns the images, T2 is
another project, T3 a member, and the admin."""

import pytest

from glance_lite.db import api as db_api
from tests.inprocess import support

T1 = support.trusted('T1')
T2 = support.trusted('T2')
T3 = support.trusted('T3')
UNKNOWN_ID = 'c0ffee00-1234-4abc-8def-0123456789ab'


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


def new_image(app, visibility='shared', **meta):
    """An image of T1's, made through v1 and given ``visibility``."""
    image_id = app.create(headers=T1, **meta)['id']
    db_api.image_update(image_id, {'visibility': visibility})
    return image_id


def tag_url(image_id, tag):
    return '/v2/images/%s/tags/%s' % (image_id, tag)


def put_tag(app, image_id, tag, headers=T1):
    return app.request('PUT', tag_url(image_id, tag), headers)


def delete_tag(app, image_id, tag, headers=T1):
    return app.request('DELETE', tag_url(image_id, tag), headers)


def tags_of(image_id):
    return db_api.image_get(image_id)['tags']


def assert_error(response, status, message):
    assert response.status_int == status, response.text
    assert message in response.text


# -- scenario 113: add, idempotent add, decoded segment, delete -------------

def test_tag_added_twice_is_there_once(app):
    image_id = new_image(app)
    for _ in range(2):
        response = put_tag(app, image_id, 'sniff')
        assert (response.status_int, response.body) == (204, b'')
    assert tags_of(image_id) == ['sniff']


def test_percent_encoded_tag_is_added_and_removed_decoded(app):
    image_id = new_image(app)
    assert put_tag(app, image_id, 'gabe%40example.com').status_int == 204
    assert tags_of(image_id) == ['gabe@example.com']
    response = delete_tag(app, image_id, 'gabe%40example.com')
    assert (response.status_int, response.body) == (204, b'')
    assert tags_of(image_id) == []


def test_tag_may_be_any_text(app):
    image_id = new_image(app)
    assert put_tag(app, image_id, 'caf%C3%A9 %2B x').status_int == 204
    assert tags_of(image_id) == ['caf\u00e9 + x']
    assert delete_tag(app, image_id, 'caf%C3%A9%20%2B%20x').status_int == 204


def test_removing_an_absent_tag_is_404(app):
    image_id = new_image(app)
    put_tag(app, image_id, 'sniff')
    assert delete_tag(app, image_id, 'nothere').status_int == 404
    assert tags_of(image_id) == ['sniff']


def test_tags_are_case_sensitive(app):
    image_id = new_image(app)
    put_tag(app, image_id, 'Sniff')
    put_tag(app, image_id, 'sniff')
    assert tags_of(image_id) == ['Sniff', 'sniff']
    assert delete_tag(app, image_id, 'SNIFF').status_int == 404


def test_tag_changes_change_updated_at(app):
    image_id = new_image(app)
    before = db_api.image_get(image_id)['updated_at']
    put_tag(app, image_id, 'a')
    added = db_api.image_get(image_id)['updated_at']
    assert added > before
    delete_tag(app, image_id, 'a')
    assert db_api.image_get(image_id)['updated_at'] > added


def test_tags_work_on_an_active_image(app):
    image_id = new_image(app, visibility='private', data=b'ZZZZZ')
    assert db_api.image_get(image_id)['status'] == 'active'
    assert put_tag(app, image_id, 'a').status_int == 204
    assert delete_tag(app, image_id, 'a').status_int == 204


# -- scenario 114: the quota --------------------------------------------------

def test_tag_quota_refuses_the_eleventh_tag(make_trusted):
    app = make_trusted(image_tag_quota=10)
    image_id = new_image(app)
    for n in range(10):
        assert put_tag(app, image_id, 'foo%d' % n).status_int == 204
    response = put_tag(app, image_id, 'foo10')
    assert_error(response, 413,
                 'Image tag limit exceeded for image %s: The limit has been '
                 'exceeded on the number of allowed image tags. Attempted: '
                 '11, Maximum: 10:' % image_id)
    assert tags_of(image_id) == ['foo%d' % n for n in range(10)]
    # A tag the image has is no new tag.
    assert put_tag(app, image_id, 'foo3').status_int == 204


def test_negative_tag_quota_is_no_limit(make_trusted):
    app = make_trusted(image_tag_quota=-1)
    image_id = new_image(app)
    for n in range(130):
        assert put_tag(app, image_id, 't%d' % n).status_int == 204
    assert len(tags_of(image_id)) == 130


def test_zero_tag_quota_refuses_every_tag(make_trusted):
    app = make_trusted(image_tag_quota=0)
    image_id = new_image(app)
    assert_error(put_tag(app, image_id, 'a'), 413,
                 'Attempted: 1, Maximum: 0:')


# -- scenario 115: invalid tags, who may, unknown images ----------------------

def test_tag_of_256_characters_is_400(app):
    image_id = new_image(app)
    response = put_tag(app, image_id, 'x' * 256)
    assert_error(response, 400,
                 "Provided object does not match schema 'image': ")
    assert put_tag(app, image_id, 'x' * 255).status_int == 204
    assert tags_of(image_id) == ['x' * 255]


def test_tag_with_4_byte_character_is_400(app):
    image_id = new_image(app)
    response = put_tag(app, image_id, 'a%F0%9F%98%80')
    assert_error(response, 400,
                 "Tags can't contain 4 byte unicode characters.")
    assert tags_of(image_id) == []


def test_tag_with_nul_is_400(app):
    image_id = new_image(app)
    assert put_tag(app, image_id, 'a%00b').status_int == 400
    assert tags_of(image_id) == []


def test_tag_not_utf8_is_400(app):
    image_id = new_image(app)
    assert_error(put_tag(app, image_id, 'a%FFb'), 400,
                 'Error decoding your request.')


def test_other_project_may_not_tag_a_public_image(app):
    image_id = new_image(app, visibility='public')
    put_tag(app, image_id, 'kept')
    assert_error(put_tag(app, image_id, 'x', T2), 403,
                 'Not allowed to update tags for image %s.' % image_id)
    assert_error(delete_tag(app, image_id, 'kept', T2), 403,
                 'Not allowed to delete tags for image %s.' % image_id)
    assert tags_of(image_id) == ['kept']


def test_member_may_not_tag_a_shared_image(app):
    image_id = new_image(app)
    app.request('PUT', '/v1/images/%s/members/T3' % image_id, T1)
    assert_error(put_tag(app, image_id, 'x', T3), 403,
                 'Not allowed to update tags for image %s.' % image_id)
    assert tags_of(image_id) == []


def test_reader_may_not_tag_its_own_image(app):
    image_id = new_image(app)
    reader = support.trusted('T1', roles='reader')
    assert_error(put_tag(app, image_id, 'x', reader), 403,
                 'Not allowed to update tags for image %s.' % image_id)


def test_admin_may_tag_any_image(app):
    image_id = new_image(app, visibility='private')
    assert put_tag(app, image_id, 'x', support.ADMIN).status_int == 204
    assert delete_tag(app, image_id, 'x', support.ADMIN).status_int == 204


@pytest.mark.parametrize('method', ['PUT', 'DELETE'])
def test_unknown_image_is_404(app, method):
    response = app.request(method, tag_url(UNKNOWN_ID, 'x'), T1)
    assert_error(response, 404, 'Image %s not found.' % UNKNOWN_ID)


@pytest.mark.parametrize('method', ['PUT', 'DELETE'])
def test_image_the_caller_cannot_see_is_404(app, method):
    image_id = new_image(app, visibility='private')
    response = app.request(method, tag_url(image_id, 'x'), T2)
    assert_error(response, 404, 'Image %s not found.' % image_id)


def test_deleted_image_is_404(app):
    image_id = new_image(app)
    app.request('DELETE', '/v1/images/%s' % image_id, T1)
    assert_error(put_tag(app, image_id, 'x', support.ADMIN), 404,
                 'Image %s not found.' % image_id)


def test_read_only_caller_is_403(make_trusted):
    app = make_trusted(allow_anonymous_access=True)
    image_id = new_image(app, visibility='public')
    assert_error(put_tag(app, image_id, 'x', {}), 403, 'Read-only access')
    assert_error(delete_tag(app, image_id, 'x', {}), 403,
                 'Read-only access')


def test_tag_routes_refuse_a_body(app):
    image_id = new_image(app)
    response = app.request('PUT', tag_url(image_id, 'x'), T1, {'a': 1})
    assert_error(response, 400, 'A body is not expected with this request.')
    assert tags_of(image_id) == []


# -- scenario 116: order ------------------------------------------------------

def test_tags_keep_first_added_order(app):
    image_id = new_image(app)
    for tag in ('c', 'a', 'b', 'a'):
        put_tag(app, image_id, tag)
    assert tags_of(image_id) == ['c', 'a', 'b']
