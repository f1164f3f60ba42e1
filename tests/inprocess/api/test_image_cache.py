"""The image cache (spec §20) through the whole pipeline of the caching
flavors: hits and misses, fills, invalidation, the management API and
the operator commands, scenarios 145-155 included."""

import concurrent.futures
import configparser
import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest
import webob

from tests.inprocess import support

CACHE_FLAVOR = {'paste_deploy': {'flavor': 'noauth+cachemanagement'}}
FIVE_KB = bytes(range(256)) * 20
UNKNOWN = '0d5b7e8a-51d6-4c36-a1b1-6ad2f6b1b9f0'


def cache_dir(app):
    return os.path.join(app.state_path, 'image-cache')


def cached(app):
    response = app.request('GET', '/v1/cached_images')
    assert response.status_int == 200, response.text
    return {entry['image_id']: entry
            for entry in response.json['cached_images']}


def queued(app):
    response = app.request('GET', '/v1/queued_images')
    assert response.status_int == 200, response.text
    return response.json['queued_images']


def files_holding(directory, data):
    """Every file under ``directory`` whose content is ``data``."""
    found = []
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, 'rb') as f:
                if f.read() == data:
                    found.append(path)
    return found


def drop_store_copy(app, image_id):
    os.unlink(os.path.join(app.datadir, image_id))


@pytest.fixture
def cache_app(make_app):
    return make_app(CACHE_FLAVOR)


@pytest.fixture
def policy_cache_app(make_app, tmp_path):
    def _make(rules, flavor='noauth+cachemanagement'):
        path = os.path.join(str(tmp_path), 'policy.yaml')
        with open(path, 'w') as f:
            for name, check in rules.items():
                f.write('"%s": "%s"\n' % (name, check))
        return make_app({'oslo_policy': {'policy_file': path},
                         'paste_deploy': {'flavor': flavor}})
    return _make


# -- flavors ------------------------------------------------------------

@pytest.mark.parametrize('flavor', [
    'noauth+caching', 'trusted-auth+caching', 'caching'])
def test_caching_flavors_have_no_management_api(make_app, flavor):
    app = make_app({'paste_deploy': {'flavor': flavor}})
    headers = support.ADMIN if flavor.startswith('trusted') else {}
    image = app.create(data=FIVE_KB, headers=headers)
    app.request('GET', '/v1/images/%s' % image['id'], headers)
    response = app.request('GET', '/v1/cached_images', headers)
    assert response.status_int == 404
    assert os.listdir(cache_dir(app)) != []
    assert files_holding(cache_dir(app), FIVE_KB) != []


def paste_pipelines():
    parser = configparser.ConfigParser()
    parser.read(os.path.join(os.path.dirname(__file__), '..', '..', '..',
                             'api-paste.ini'))
    return {section[len('pipeline:glance-lite-api-'):]:
            parser[section]['pipeline'].split()
            for section in parser.sections()
            if section.startswith('pipeline:')}


@pytest.mark.parametrize('auth', ['noauth', 'trusted-auth', 'keystone'])
def test_every_auth_has_both_cache_flavors_before_the_router(auth):
    pipelines = paste_pipelines()
    plain = pipelines[auth]
    assert pipelines[auth + '+caching'] == plain[:-1] + ['cache', 'api']
    assert pipelines[auth + '+cachemanagement'] == (
        plain[:-1] + ['cache', 'cachemanage', 'api'])


def test_glance_bare_names_are_the_noauth_flavors():
    pipelines = paste_pipelines()
    assert pipelines['caching'] == pipelines['noauth+caching']
    assert pipelines['cachemanagement'] == pipelines[
        'noauth+cachemanagement']


@pytest.mark.parametrize('flavor', ['keystone+caching',
                                    'keystone+cachemanagement'])
def test_keystone_cache_flavors_load(make_app, flavor):
    app = make_app({'paste_deploy': {'flavor': flavor}})
    assert os.path.isdir(cache_dir(app))


@pytest.mark.parametrize('flavor', [
    'noauth+cachemanagement', 'trusted-auth+cachemanagement',
    'cachemanagement'])
def test_cachemanagement_flavors_answer_the_management_api(make_app,
                                                           flavor):
    app = make_app({'paste_deploy': {'flavor': flavor}})
    headers = support.ADMIN if flavor.startswith('trusted') else {}
    response = app.request('GET', '/v1/cached_images', headers)
    assert response.status_int == 200
    assert response.json == {'cached_images': []}


def test_a_flavor_without_the_cache_never_touches_its_directory(app):
    image = app.create(data=FIVE_KB)
    assert app.request('GET', '/v1/images/%s' % image['id']).body == FIVE_KB
    assert app.request('GET', '/v1/cached_images').status_int == 404
    assert not os.path.exists(cache_dir(app))


def test_an_unusable_cache_directory_refuses_the_start(make_app, tmp_path):
    blocker = tmp_path / 'not-a-directory'
    blocker.write_text('a file')
    with pytest.raises(RuntimeError, match='image_cache_dir'):
        make_app({'paste_deploy': {'flavor': 'noauth+caching'},
                  'DEFAULT': {'image_cache_dir': str(blocker / 'cache')}})


# -- scenarios 145-152 ----------------------------------------------------

def test_145_a_fresh_cache_lists_nothing(cache_app):
    assert cache_app.request('GET', '/v1/cached_images').text == (
        '{"cached_images": []}')
    assert cache_app.request('GET', '/v1/queued_images').text == (
        '{"queued_images": []}')


def test_146_a_download_fills_an_entry_with_no_hits(cache_app):
    image = cache_app.create(data=FIVE_KB, properties={'distro': 'cirros'})
    assert cached(cache_app) == {}
    response = cache_app.request('GET', '/v1/images/%s' % image['id'])
    assert response.status_int == 200
    assert response.body == FIVE_KB
    entry = cached(cache_app)[image['id']]
    assert entry['hits'] == 0
    assert entry['size'] == 5120
    assert isinstance(entry['last_accessed'], (int, float))
    assert isinstance(entry['last_modified'], (int, float))


def test_147_a_hit_never_reads_the_store_and_sends_the_same_answer(
        cache_app):
    image = cache_app.create(data=FIVE_KB, properties={'distro': 'cirros'})
    path = '/v1/images/%s' % image['id']
    miss = cache_app.request('GET', path)
    drop_store_copy(cache_app, image['id'])
    hit = cache_app.request('GET', path)
    assert hit.status_int == 200
    assert hit.body == FIVE_KB
    assert hit.headers['x-image-meta-property-distro'] == 'cirros'
    ignored = ('x-openstack-request-id', 'Date')
    assert ([(k, v) for k, v in hit.headerlist if k not in ignored] ==
            [(k, v) for k, v in miss.headerlist if k not in ignored])
    assert cached(cache_app)[image['id']]['hits'] == 1


def test_148_delete_removes_the_entry_and_its_bytes(cache_app):
    image = cache_app.create(data=FIVE_KB)
    cache_app.request('GET', '/v1/images/%s' % image['id'])
    assert image['id'] in cached(cache_app)
    assert cache_app.request('PUT', '/v1/queued_images/%s' % image['id'])
    response = cache_app.request('DELETE', '/v1/images/%s' % image['id'])
    assert response.status_int == 200
    assert cached(cache_app) == {}
    assert queued(cache_app) == []
    assert files_holding(cache_dir(cache_app), FIVE_KB) == []


def manage(app, *args):
    """glance-lite-manage with the app's configuration."""
    return subprocess.run(
        [sys.executable, '-m', 'glance_lite.cmd.manage', '--config-file',
         app.config_file] + list(args),
        capture_output=True, text=True, timeout=120)


def test_149_a_queued_image_is_prefetched(cache_app):
    image = cache_app.create(data=FIVE_KB)
    response = cache_app.request('PUT', '/v1/queued_images/%s' % image['id'])
    assert response.status_int == 200
    assert response.text == 'null'
    assert queued(cache_app) == [image['id']]
    result = manage(cache_app, 'cache', 'prefetch')
    assert result.returncode == 0, result.stderr
    assert '%s cached' % image['id'] in result.stdout
    assert queued(cache_app) == []
    assert cached(cache_app)[image['id']]['hits'] == 0
    drop_store_copy(cache_app, image['id'])
    response = cache_app.request('GET', '/v1/images/%s' % image['id'])
    assert response.body == FIVE_KB


def test_150_only_visible_active_images_can_be_queued(cache_app):
    response = cache_app.request('PUT', '/v1/queued_images/%s' % UNKNOWN)
    assert response.status_int == 404
    reserved = cache_app.create()
    response = cache_app.request('PUT',
                                 '/v1/queued_images/%s' % reserved['id'])
    assert response.status_int == 400
    assert 'Only images with status active can be queued' in response.text
    assert queued(cache_app) == []


def test_151_entries_are_removed_one_by_one_and_all_at_once(cache_app):
    one, two = cache_app.create(data=FIVE_KB), cache_app.create(data=b'2')
    for image in (one, two):
        cache_app.request('GET', '/v1/images/%s' % image['id'])
    response = cache_app.request('DELETE',
                                 '/v1/cached_images/%s' % one['id'])
    assert (response.status_int, response.text) == (200, 'null')
    assert list(cached(cache_app)) == [two['id']]
    response = cache_app.request('DELETE', '/v1/cached_images')
    assert response.json == {'num_deleted': 1}
    response = cache_app.request('DELETE', '/v1/cached_images')
    assert (response.status_int, response.json) == (200, {'num_deleted': 0})
    # The images themselves are untouched.
    assert cache_app.request('GET', '/v1/images/%s' % one['id']).body == (
        FIVE_KB)


def test_queue_is_emptied_one_by_one_and_all_at_once(cache_app):
    one, two = cache_app.create(data=FIVE_KB), cache_app.create(data=b'2')
    for image in (one, two):
        cache_app.request('PUT', '/v1/queued_images/%s' % image['id'])
    assert sorted(queued(cache_app)) == sorted([one['id'], two['id']])
    response = cache_app.request('DELETE', '/v1/queued_images/%s' % one['id'])
    assert (response.status_int, response.text) == (200, 'null')
    assert queued(cache_app) == [two['id']]
    response = cache_app.request('DELETE', '/v1/queued_images')
    assert response.json == {'num_deleted': 1}


def test_152_policy_denies_every_route_and_other_methods_are_405(
        policy_cache_app):
    app = policy_cache_app({'manage_image_cache': '!'})
    for method, path in (('GET', '/v1/cached_images'),
                         ('DELETE', '/v1/cached_images'),
                         ('DELETE', '/v1/cached_images/%s' % UNKNOWN),
                         ('GET', '/v1/queued_images'),
                         ('PUT', '/v1/queued_images/%s' % UNKNOWN),
                         ('DELETE', '/v1/queued_images'),
                         ('DELETE', '/v1/queued_images/%s' % UNKNOWN)):
        assert app.request(method, path).status_int == 403, (method, path)


@pytest.mark.parametrize('method, path, allow', [
    ('POST', '/v1/cached_images', 'GET, DELETE'),
    ('PUT', '/v1/cached_images/%s' % UNKNOWN, 'DELETE'),
    ('GET', '/v1/cached_images/%s' % UNKNOWN, 'DELETE'),
    ('PUT', '/v1/queued_images', 'GET, DELETE'),
    ('GET', '/v1/queued_images/%s' % UNKNOWN, 'PUT, DELETE'),
])
def test_other_methods_answer_405_with_allow(cache_app, method, path, allow):
    response = cache_app.request(method, path)
    assert response.status_int == 405
    assert response.headers['Allow'] == allow


def test_the_management_routes_work_under_every_v1_prefix(cache_app):
    for prefix in ('/v1.0', '/v1.1'):
        response = cache_app.request('GET', prefix + '/cached_images')
        assert response.json == {'cached_images': []}


@pytest.mark.parametrize('hostile', ['..', '..%2F..%2Fetc', 'cache.db',
                                     'x' * 300, 'queue', '%00'])
def test_an_id_that_is_no_image_id_touches_no_file(cache_app, hostile):
    before = sorted(os.listdir(cache_dir(cache_app)))
    for method, collection in (('DELETE', 'cached_images'),
                               ('PUT', 'queued_images'),
                               ('DELETE', 'queued_images')):
        response = cache_app.request(
            method, '/v1/%s/%s' % (collection, hostile))
        assert response.status_int == 404, (method, collection)
    assert sorted(os.listdir(cache_dir(cache_app))) == before
    assert os.path.exists(os.path.join(cache_dir(cache_app), 'cache.db'))


def test_admin_role_passes_the_default_rule(make_app):
    app = make_app({'paste_deploy': {'flavor':
                                     'trusted-auth+cachemanagement'}})
    assert app.request('GET', '/v1/cached_images',
                       support.ADMIN).status_int == 200
    assert app.request('GET', '/v1/cached_images',
                       support.trusted('p1')).status_int == 403


# -- scenarios 153-155 and the other rules of §20.5-20.7 ---------------------

def test_153_concurrent_first_downloads_make_one_correct_entry(cache_app):
    data = os.urandom(3 * 1024 * 1024 + 7)
    image = cache_app.create(data=data)
    path = '/v1/images/%s' % image['id']
    start = threading.Barrier(6)

    def download(_):
        start.wait()
        return cache_app.request('GET', path).body

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(download, range(6)))
    assert all(body == data for body in bodies)
    entries = cached(cache_app)
    assert list(entries) == [image['id']]
    with open(os.path.join(cache_dir(cache_app), image['id']), 'rb') as f:
        assert hashlib.md5(f.read()).hexdigest() == image['checksum']
    assert os.listdir(os.path.join(cache_dir(cache_app), 'incomplete')) == []


def partial_download(app, image_id, nbytes):
    """Read ``nbytes`` of a download, then close it as a server does when
    the client goes away."""
    req = webob.Request.blank('/v1/images/%s' % image_id)
    response = req.get_response(app.wsgi)
    got = b''
    iterator = iter(response.app_iter)
    while len(got) < nbytes:
        got += next(iterator)
    response.app_iter.close()
    return got


def test_154_a_download_cut_short_leaves_no_entry_and_the_next_fills(
        cache_app):
    data = os.urandom(4 * 1024 * 1024)
    image = cache_app.create(data=data)
    partial_download(cache_app, image['id'], 1024 * 1024)
    assert cached(cache_app) == {}
    assert os.listdir(os.path.join(cache_dir(cache_app), 'incomplete')) == []
    assert cache_app.request('GET', '/v1/images/%s' % image['id']).body == (
        data)
    assert list(cached(cache_app)) == [image['id']]


def test_a_hit_cut_short_is_not_counted(cache_app):
    data = os.urandom(4 * 1024 * 1024)
    image = cache_app.create(data=data)
    cache_app.request('GET', '/v1/images/%s' % image['id'])
    partial_download(cache_app, image['id'], 1024 * 1024)
    assert cached(cache_app)[image['id']]['hits'] == 0


def test_155_a_cached_image_is_not_served_when_get_image_is_denied(
        policy_cache_app):
    app = policy_cache_app({'get_image': 'role:viewer'},
                           flavor='trusted-auth+cachemanagement')
    owner = support.trusted('p1', roles='member,viewer')
    image = app.create(data=FIVE_KB, headers=owner)
    assert app.request('GET', '/v1/images/%s' % image['id'],
                       owner).body == FIVE_KB
    assert image['id'] in cached_as(app, support.ADMIN)
    response = app.request('GET', '/v1/images/%s' % image['id'],
                           support.trusted('p1'))
    assert response.status_int == 403
    assert FIVE_KB not in response.body


def test_download_image_denied_is_not_served_from_the_cache(
        policy_cache_app):
    app = policy_cache_app({'download_image': 'not role:nodownload'},
                           flavor='trusted-auth+cachemanagement')
    owner = support.trusted('p1')
    image = app.create(data=FIVE_KB, headers=owner)
    app.request('GET', '/v1/images/%s' % image['id'], owner)
    response = app.request('GET', '/v1/images/%s' % image['id'],
                           support.trusted('p1', roles='nodownload'))
    assert response.status_int == 403
    assert FIVE_KB not in response.body


def test_an_entry_is_not_served_to_a_caller_who_cannot_see_the_image(
        make_app):
    app = make_app({'paste_deploy': {'flavor':
                                     'trusted-auth+cachemanagement'}})
    owner = support.trusted('p1')
    image = app.create(data=FIVE_KB, headers=owner)
    app.request('GET', '/v1/images/%s' % image['id'], owner)
    assert image['id'] in cached_as(app, support.ADMIN)
    response = app.request('GET', '/v1/images/%s' % image['id'],
                           support.trusted('p2'))
    assert response.status_int == 404
    assert FIVE_KB not in response.body


def cached_as(app, headers):
    response = app.request('GET', '/v1/cached_images', headers)
    return {e['image_id']: e for e in response.json['cached_images']}


def test_a_deactivated_image_is_refused_and_its_entry_dropped(cache_app):
    image = cache_app.create(data=FIVE_KB)
    cache_app.request('GET', '/v1/images/%s' % image['id'])
    # Deactivation is an admin's status change (v2's route, the shared
    # status writer); here through the catalogue as the domain does it.
    from glance_lite.db import api as db_api
    db_api.image_transition(image['id'], 'deactivated')
    response = cache_app.request('GET', '/v1/images/%s' % image['id'])
    assert response.status_int == 403
    assert cached(cache_app) == {}


def test_an_admin_changing_size_or_checksum_drops_the_entry(cache_app):
    image = cache_app.create(data=FIVE_KB)
    cache_app.request('GET', '/v1/images/%s' % image['id'])
    response = cache_app.request(
        'PUT', '/v1/images/%s' % image['id'],
        {'x-image-meta-checksum': 'f' * 32})
    assert response.status_int == 200, response.text
    assert cached(cache_app) == {}


def test_a_stale_entry_is_dropped_and_served_as_a_miss(cache_app):
    image = cache_app.create(data=FIVE_KB)
    cache_app.request('GET', '/v1/images/%s' % image['id'])
    entry_path = os.path.join(cache_dir(cache_app), image['id'])
    with open(entry_path, 'ab') as f:
        f.write(b'garbage')
    response = cache_app.request('GET', '/v1/images/%s' % image['id'])
    assert response.body == FIVE_KB
    # Refilled from the store, with the right bytes.
    with open(entry_path, 'rb') as f:
        assert f.read() == FIVE_KB


def test_range_is_ignored_on_a_miss_and_on_a_hit(cache_app):
    image = cache_app.create(data=FIVE_KB)
    path = '/v1/images/%s' % image['id']
    for _ in range(2):
        response = cache_app.request('GET', path, {'Range': 'bytes=0-9'})
        assert (response.status_int, response.body) == (200, FIVE_KB)
    assert cached(cache_app)[image['id']]['hits'] == 1


def test_a_fill_left_by_a_dead_process_does_not_block_caching(cache_app):
    image = cache_app.create(data=FIVE_KB)
    # What a killed worker leaves: a partial file that nobody holds.
    with open(os.path.join(cache_dir(cache_app), 'incomplete', image['id']),
              'wb') as f:
        f.write(FIVE_KB[:100])
    assert cache_app.request('GET', '/v1/images/%s' % image['id']).body == (
        FIVE_KB)
    assert list(cached(cache_app)) == [image['id']]


def test_a_mismatching_store_read_is_not_published(cache_app):
    image = cache_app.create(data=FIVE_KB)
    # The store's copy changed behind the catalogue's back.
    with open(os.path.join(cache_app.datadir, image['id']), 'wb') as f:
        f.write(b'x' * len(FIVE_KB))
    response = cache_app.request('GET', '/v1/images/%s' % image['id'])
    assert response.status_int == 200
    assert cached(cache_app) == {}
    invalid = os.listdir(os.path.join(cache_dir(cache_app), 'invalid'))
    assert invalid == [image['id']]
    result = manage(cache_app, 'cache', 'clean')
    assert result.returncode == 0, result.stderr
    assert '%s removed (invalid fill)' % image['id'] in result.stdout
    assert os.listdir(os.path.join(cache_dir(cache_app), 'invalid')) == []


def test_no_fill_starts_while_the_cache_is_over_its_size(make_app):
    app = make_app({'paste_deploy': {'flavor': 'noauth+cachemanagement'},
                    'DEFAULT': {'image_cache_max_size': '6000'}})
    one, two = app.create(data=FIVE_KB), app.create(data=FIVE_KB)
    app.request('GET', '/v1/images/%s' % one['id'])
    app.request('GET', '/v1/images/%s' % two['id'])
    # 5120 < 6000: the second fill starts; after it the cache is over.
    assert sorted(cached(app)) == sorted([one['id'], two['id']])
    three = app.create(data=FIVE_KB)
    assert app.request('GET', '/v1/images/%s' % three['id']).body == FIVE_KB
    assert three['id'] not in cached(app)
    result = manage(app, 'cache', 'prune')
    assert result.returncode == 0, result.stderr
    # The least recently accessed goes first.
    assert '%s removed (5120 bytes)' % one['id'] in result.stdout
    assert list(cached(app)) == [two['id']]


def test_the_bookkeeping_survives_a_restart(make_app, tmp_path):
    cache = str(tmp_path / 'shared-cache')
    config = {'paste_deploy': {'flavor': 'noauth+cachemanagement'},
              'DEFAULT': {'image_cache_dir': cache}}
    first = make_app(config)
    image = first.create(data=FIVE_KB)
    first.request('GET', '/v1/images/%s' % image['id'])
    first.request('GET', '/v1/images/%s' % image['id'])
    before = cached(first)
    second = make_app(config)
    assert cached(second) == before
    assert before[image['id']]['hits'] == 1


def test_clean_removes_entries_of_images_no_longer_active(cache_app):
    image = cache_app.create(data=FIVE_KB)
    cache_app.request('GET', '/v1/images/%s' % image['id'])
    from glance_lite.db import api as db_api
    db_api.image_transition(image['id'], 'deactivated')
    result = manage(cache_app, 'cache', 'clean')
    assert result.returncode == 0, result.stderr
    assert '%s removed (image deactivated)' % image['id'] in result.stdout
    assert cached(cache_app) == {}


def test_prefetch_dequeues_deleted_images_and_reports_failures(cache_app):
    gone = cache_app.create(data=FIVE_KB)
    broken = cache_app.create(data=FIVE_KB)
    for image in (gone, broken):
        cache_app.request('PUT', '/v1/queued_images/%s' % image['id'])
    cache_app.request('DELETE', '/v1/images/%s' % gone['id'])
    assert queued(cache_app) == [broken['id']]
    # Queued again by hand (as an operator's command would) after the
    # delete: prefetch must drop it with a warning.
    open(os.path.join(cache_dir(cache_app), 'queue', gone['id']), 'w').close()
    drop_store_copy(cache_app, broken['id'])
    result = manage(cache_app, 'cache', 'prefetch')
    assert result.returncode == 1
    assert '%s dequeued (deleted)' % gone['id'] in result.stdout
    assert '%s failed' % broken['id'] in result.stdout
    assert queued(cache_app) == [broken['id']]
    assert cached(cache_app) == {}


def test_manage_list_queue_and_delete(cache_app):
    image = cache_app.create(data=FIVE_KB)
    result = manage(cache_app, 'cache', 'queue', image['id'])
    assert result.returncode == 0, result.stderr
    assert manage(cache_app, 'cache', 'list-queued').stdout.startswith(
        image['id'])
    assert manage(cache_app, 'cache', 'prefetch').returncode == 0
    listing = manage(cache_app, 'cache', 'list').stdout
    assert '%s 5120 bytes, 0 hit(s)' % image['id'] in listing
    result = manage(cache_app, 'cache', 'delete', image['id'])
    assert '%s removed' % image['id'] in result.stdout
    assert cached(cache_app) == {}
    result = manage(cache_app, 'cache', 'queue', UNKNOWN)
    assert result.returncode == 1
    assert 'not found' in result.stderr
    result = manage(cache_app, 'cache', 'delete', '../cache.db')
    assert result.returncode == 2
    assert os.path.exists(os.path.join(cache_dir(cache_app), 'cache.db'))


def test_the_entry_list_is_ordered_by_image_id(cache_app):
    ids = [cache_app.create(data=b'%d' % n)['id'] for n in range(5)]
    for image_id in ids:
        cache_app.request('GET', '/v1/images/%s' % image_id)
    response = cache_app.request('GET', '/v1/cached_images')
    listed = [e['image_id'] for e in json.loads(response.text)[
        'cached_images']]
    assert listed == sorted(ids)
