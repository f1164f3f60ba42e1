"""The scrubber, restore and purge (spec §22.7, scenarios §22.8) against a
real glance-lite-api and ``glance-lite-manage`` with the API's own
configuration, as an operator runs them."""

import datetime
import os
import shutil
import signal
import subprocess
import time

import pytest
import requests

from tests.functional import images_support as s
from tests import server as test_server

SCRUB_TIME = 10


@pytest.fixture(scope='module')
def api():
    """delayed_delete = true, scrub_time = 10 (the scenarios' setting)."""
    server = test_server.Server({'DEFAULT': {
        'delayed_delete': 'true', 'scrub_time': SCRUB_TIME}}).start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def prompt_api():
    """delayed_delete = true, scrub_time = 0: pending_delete images are
    eligible at once."""
    server = test_server.Server({'DEFAULT': {
        'delayed_delete': 'true', 'scrub_time': 0}}).start()
    yield server
    server.stop()


def _pending(api, data=s.FIVE_KB, properties=None):
    headers = s.minimal_headers()
    for name, value in (properties or {}).items():
        headers['x-image-meta-property-' + name] = value
    image = s.upload(api, data=data, headers=headers)
    assert s.delete(api, image['id']).status_code == 200
    return image


def _manage_popen(api, *args):
    return subprocess.Popen(
        [os.path.join(test_server.BIN_DIR, 'glance-lite-manage'),
         '--config-file', api.config_file] + list(args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# 165, 166


def test_restore_brings_a_pending_delete_image_back_completely(api):
    # (A member is added before the delete: it comes back too.)
    image = s.upload(api, headers=dict(s.minimal_headers(public=False),
                                       **{'x-image-meta-property-p': '1'}))
    image_id = image['id']
    added = requests.put(s.image_url(api, image_id) + '/members/tenant-b',
                         timeout=30)
    assert added.status_code == 204, added.text
    assert s.delete(api, image_id).status_code == 200
    assert s.status_of(api, image_id) == 'pending_delete'
    assert s.files_of(api, image_id) == [image_id]

    restored = api.manage('images', 'restore', image_id)

    assert restored.returncode == 0, restored.stderr
    meta = s.head(api, image_id)
    assert meta.headers['x-image-meta-status'] == 'active'
    assert meta.headers['x-image-meta-deleted'] == 'False'
    assert 'x-image-meta-deleted_at' not in meta.headers
    assert meta.headers['x-image-meta-property-p'] == '1'
    assert meta.headers['x-image-meta-checksum'] == s.FIVE_KB_MD5
    assert meta.headers['x-image-meta-size'] == str(len(s.FIVE_KB))
    data = s.get(api, image_id)
    assert data.status_code == 200
    assert data.content == s.FIVE_KB
    listed = requests.get(s.images_url(api) + '/detail',
                          params={'is_public': 'None'}, timeout=30)
    assert image_id in [i['id'] for i in listed.json()['images']]
    members = requests.get(s.image_url(api, image_id) + '/members',
                           timeout=30).json()['members']
    assert [m['member_id'] for m in members] == ['tenant-b']
    # Restored means live: it can be deleted (and restored) again.
    assert s.delete(api, image_id).status_code == 200
    assert s.status_of(api, image_id) == 'pending_delete'


# 167, 168, 170


def test_scrub_waits_scrub_time_then_removes_the_data(api):
    image = _pending(api, properties={'q': '2'})
    image_id = image['id']
    deleted_at = time.monotonic()

    early = api.manage('images', 'scrub')

    assert early.returncode == 0, early.stdout + early.stderr
    assert s.status_of(api, image_id) == 'pending_delete'
    assert s.files_of(api, image_id) == [image_id]

    time.sleep(max(0, deleted_at + SCRUB_TIME + 0.5 - time.monotonic()))
    later = api.manage('images', 'scrub')

    assert later.returncode == 0, later.stdout + later.stderr
    assert '%s: scrubbed' % image_id in later.stdout
    assert s.files_of(api, image_id) == []
    meta = s.head(api, image_id)
    assert meta.headers['x-image-meta-status'] == 'deleted'
    assert meta.headers['x-image-meta-property-q'] == '2'

    # 168: nothing left to restore; an unknown id.
    again = api.manage('images', 'restore', image_id)
    assert again.returncode == 1
    assert ('Image %s is deleted; only a pending_delete image can be '
            'restored' % image_id) in again.stderr
    unknown = s.new_id()
    missing = api.manage('images', 'restore', unknown)
    assert missing.returncode == 1
    assert 'Image %s not found' % unknown in missing.stderr

    # 170: purge removes the history, never the image row or its id.
    purged = api.manage('db', 'purge', '--age-in-days', '0')

    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert 'image_properties: ' in purged.stdout
    assert 'image_locations: ' in purged.stdout
    meta = s.head(api, image_id)
    assert meta.status_code == 200
    assert meta.headers['x-image-meta-status'] == 'deleted'
    assert 'x-image-meta-property-q' not in meta.headers
    taken = s.post(api, dict(s.minimal_headers(),
                             **{'x-image-meta-id': image_id}))
    assert taken.status_code == 409


# 169


def test_two_scrubbers_at_once_scrub_each_image_once(prompt_api):
    images = [_pending(prompt_api)['id'] for _ in range(6)]

    runs = [_manage_popen(prompt_api, 'images', 'scrub') for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    for image_id in images:
        scrubbed_by = [out for out, _err in outputs
                       if '%s: scrubbed' % image_id in out]
        assert len(scrubbed_by) == 1, (image_id, outputs)
        assert s.status_of(prompt_api, image_id) == 'deleted'
        assert s.files_of(prompt_api, image_id) == []


def test_a_failed_removal_is_retried_by_the_next_run(prompt_api):
    image_id = _pending(prompt_api)['id']
    # The store cannot remove the data: its file became a directory.
    path = os.path.join(prompt_api.datadir, image_id)
    os.rename(path, path + '.data')
    os.mkdir(path)
    with open(os.path.join(path, 'keep'), 'w') as f:
        f.write('x')

    failed = prompt_api.manage('images', 'scrub')

    assert failed.returncode == 1
    assert '%s: failed: ' % image_id in failed.stdout
    assert s.status_of(prompt_api, image_id) == 'pending_delete'

    shutil.rmtree(path)
    os.rename(path + '.data', path)
    retried = prompt_api.manage('images', 'scrub')

    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert '%s: scrubbed' % image_id in retried.stdout
    assert s.status_of(prompt_api, image_id) == 'deleted'
    assert s.files_of(prompt_api, image_id) == []


def test_daemon_scrubs_every_wakeup_time_and_stops_on_sigterm(prompt_api):
    daemon = _manage_popen(prompt_api, 'images', 'scrub', '--daemon',
                           '--wakeup-time', '1')
    try:
        image_id = _pending(prompt_api)['id']
        status = s.wait_for_status(prompt_api, image_id, ('deleted',),
                                   timeout=30)
        # A second image, for a later run of the same daemon.
        second = _pending(prompt_api)['id']
        second_status = s.wait_for_status(prompt_api, second, ('deleted',),
                                          timeout=30)
    finally:
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    assert (status, second_status) == ('deleted', 'deleted'), out + err
    assert s.files_of(prompt_api, image_id) == []
    assert daemon.returncode == 0, err
    assert '%s: scrubbed' % image_id in out
    assert '%s: scrubbed' % second in out


def test_restore_is_refused_while_a_scrubber_holds_the_image(prompt_api):
    image_id = _pending(prompt_api)['id']
    # A scrubber's claim: updated_at moved past deleted_at, just now.
    prompt_api.execute_sql(
        'UPDATE images SET updated_at = :now WHERE id = :id',
        {'now': datetime.datetime.utcnow(), 'id': image_id})

    refused = prompt_api.manage('images', 'restore', image_id)

    assert refused.returncode == 1
    assert 'Image %s is being scrubbed' % image_id in refused.stderr
    assert s.status_of(prompt_api, image_id) == 'pending_delete'

    # Its scrubber died two hours ago: the claim has expired.
    prompt_api.execute_sql(
        'UPDATE images SET updated_at = :then WHERE id = :id',
        {'then': datetime.datetime.utcnow() - datetime.timedelta(hours=2),
         'id': image_id})
    # (deleted_at must stay before the claim for it to count as one.)
    prompt_api.execute_sql(
        'UPDATE images SET deleted_at = :then WHERE id = :id',
        {'then': datetime.datetime.utcnow() - datetime.timedelta(hours=3),
         'id': image_id})

    restored = prompt_api.manage('images', 'restore', image_id)

    assert restored.returncode == 0, restored.stderr
    assert s.status_of(prompt_api, image_id) == 'active'


def test_restore_is_refused_when_the_data_is_gone(prompt_api):
    image_id = _pending(prompt_api)['id']
    os.unlink(os.path.join(prompt_api.datadir, image_id))

    refused = prompt_api.manage('images', 'restore', image_id)

    assert refused.returncode == 1
    assert 'Image %s has lost its data' % image_id in refused.stderr
    assert s.status_of(prompt_api, image_id) == 'pending_delete'


def test_purge_keeps_what_a_pending_delete_image_needs(prompt_api):
    image_id = _pending(prompt_api, properties={'r': '3'})['id']
    # Deleted long ago, yet not scrubbed.
    prompt_api.execute_sql(
        'UPDATE images SET deleted_at = :then, updated_at = :then '
        'WHERE id = :id',
        {'then': datetime.datetime.utcnow() - datetime.timedelta(days=40),
         'id': image_id})

    purged = prompt_api.manage('db', 'purge')

    assert purged.returncode == 0, purged.stderr
    restored = prompt_api.manage('images', 'restore', image_id)
    assert restored.returncode == 0, restored.stderr
    meta = s.head(prompt_api, image_id)
    assert meta.headers['x-image-meta-property-r'] == '3'
    assert s.get(prompt_api, image_id).content == s.FIVE_KB


@pytest.mark.parametrize('args, message', [
    (['--age-in-days', 'x'], 'Invalid int value for age_in_days: x'),
    (['--age_in_days', '-1'], 'Must supply a non-negative value for age.'),
    (['--age-in-days', '10000000'],
     'Maximal age is count of days since epoch.'),
    (['--max-rows', '0'], 'Minimal rows limit is 1.'),
    (['--max_rows', 'many'], 'Invalid int value for max_rows: many'),
])
def test_purge_refuses_bad_arguments(prompt_api, args, message):
    refused = prompt_api.manage('db', 'purge', *args)

    assert refused.returncode == 1
    assert message in refused.stderr


def test_purge_images_table_is_refused(prompt_api):
    refused = prompt_api.manage('db', 'purge_images_table')

    assert refused.returncode == 1
    assert 'keeps image rows' in refused.stderr
