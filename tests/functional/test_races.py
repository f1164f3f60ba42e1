"""Requests racing on one image (spec §7.5, §9, §16, §18 Q14, Q27): every
answer is one the spec documents for the operation, and the image ends in
a state one of the racers could have left alone: never a mix of two
requests, never data without an active image, never an orphaned file.

These run on every catalogue engine (tests/functional), since each locks
differently: SQLite serialises writers, PostgreSQL and MariaDB lock rows.
"""

import concurrent.futures
import hashlib
import threading

import requests

from tests.functional import images_support as support

RACERS = 8
TIMEOUT = 60


def _race(functions):
    """Run the functions at once (released together by a barrier); returns
    their results in order."""
    barrier = threading.Barrier(len(functions))

    def _released(function):
        barrier.wait(timeout=TIMEOUT)
        return function()

    with concurrent.futures.ThreadPoolExecutor(len(functions)) as pool:
        return list(pool.map(_released, functions))


def _properties(api, image_id):
    response = support.head(api, image_id)
    assert response.status_code == 200
    return {name[len('x-image-meta-property-'):]: value
            for name, value in response.headers.items()
            if name.lower().startswith('x-image-meta-property-')}


def test_racing_replacing_updates_leave_one_whole_write(api):
    """PUTs that replace the properties (purge, the raw-HTTP default):
    afterwards the name and every property come from one request."""
    image = support.reserve(api, {'x-image-meta-name': 'start',
                                  'x-image-meta-property-old': 'yes'})

    def writer(number):
        headers = {'x-image-meta-name': 'writer-%d' % number,
                   'x-image-meta-property-writer': str(number),
                   'x-image-meta-property-only-%d' % number: 'x',
                   'x-image-meta-min_ram': str(number)}
        return lambda: requests.put(support.image_url(api, image['id']),
                                    headers=headers, timeout=TIMEOUT)

    answers = _race([writer(n) for n in range(RACERS)])

    assert [a.status_code for a in answers] == [200] * RACERS, [
        a.text for a in answers]
    final = support.head(api, image['id']).headers
    winner = int(final['x-image-meta-property-writer'])
    assert final['x-image-meta-name'] == 'writer-%d' % winner
    assert final['x-image-meta-min_ram'] == str(winner)
    assert _properties(api, image['id']) == {
        'writer': str(winner), 'only_%d' % winner: 'x'}
    assert final['x-image-meta-status'] == 'queued'


def test_racing_merging_updates_lose_no_property(api):
    """PUTs that merge (purge-props false, as python-glanceclient sends):
    every request's property is there afterwards, none lost."""
    image = support.reserve(api, {'x-image-meta-name': 'merged',
                                  'x-image-meta-property-old': 'yes'})

    def writer(number):
        headers = {'x-glance-registry-purge-props': 'false',
                   'x-image-meta-property-key-%d' % number: str(number)}
        return lambda: requests.put(support.image_url(api, image['id']),
                                    headers=headers, timeout=TIMEOUT)

    answers = _race([writer(n) for n in range(RACERS)])

    assert [a.status_code for a in answers] == [200] * RACERS, [
        a.text for a in answers]
    expected = {'key_%d' % n: str(n) for n in range(RACERS)}
    expected['old'] = 'yes'
    assert _properties(api, image['id']) == expected


def test_racing_uploads_to_one_queued_image_one_wins(api):
    image = support.reserve(api, dict(support.minimal_headers('raced'),
                                      **{'Content-Type': None}))
    blobs = [bytes([n]) * (256 * 1024 + n) for n in range(RACERS)]

    def uploader(data):
        return lambda: requests.put(
            support.image_url(api, image['id']), data=data,
            headers={'Content-Type': 'application/octet-stream'},
            timeout=TIMEOUT)

    answers = _race([uploader(data) for data in blobs])

    statuses = [a.status_code for a in answers]
    # Spec §7.5: the first to move the image to saving wins; the others
    # answer 409, before or after their data was read.
    assert sorted(statuses) == [200] + [409] * (RACERS - 1), [
        (a.status_code, a.text) for a in answers]
    winner = blobs[statuses.index(200)]
    for answer in answers:
        if answer.status_code == 409:
            assert 'unqueued image' in support.message(answer) or (
                'Image operation conflicts' in support.message(answer))
    final = support.head(api, image['id']).headers
    assert final['x-image-meta-status'] == 'active'
    assert final['x-image-meta-checksum'] == hashlib.md5(
        winner, usedforsecurity=False).hexdigest()
    download = support.get(api, image['id'])
    assert download.status_code == 200
    assert download.content == winner
    assert api.stored_sizes()[image['id']] == len(winner)


def test_delete_during_upload_answers_412_and_leaves_no_data(api):
    image = support.reserve(api, dict(support.minimal_headers('doomed'),
                                      **{'Content-Type': None}))
    deleted = threading.Event()

    def body():
        # Some data, then the rest only once the image was deleted.
        for _ in range(4):
            yield b'a' * 65536
        deleted.wait(TIMEOUT)
        for _ in range(4):
            yield b'b' * 65536

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        upload = pool.submit(
            requests.put, support.image_url(api, image['id']), data=body(),
            headers={'Content-Type': 'application/octet-stream'},
            timeout=TIMEOUT)
        try:
            assert support.wait_for_status(
                api, image['id'], {'saving'}) == 'saving'
            removed = support.delete(api, image['id'])
        finally:
            deleted.set()
        answer = upload.result()

    assert removed.status_code == 200, removed.text
    # Spec §6.5 step 8 and §7.5: the upload learns at the end that its
    # image is gone, and its data is removed.
    assert answer.status_code == 412, answer.text
    assert 'may have been deleted during the upload' in support.message(
        answer)
    final = support.head(api, image['id']).headers
    assert final['x-image-meta-status'] == 'deleted'
    assert support.files_of(api, image['id']) == []
    assert support.get(api, image['id']).status_code == 404


def _delete_race(api, image_id):
    answers = _race([lambda: requests.delete(
        support.image_url(api, image_id), timeout=TIMEOUT)] * RACERS)
    statuses = sorted(a.status_code for a in answers)
    # Spec §9: one deletes; the others find a deleted image (404).
    assert statuses == [200] + [404] * (RACERS - 1), [
        (a.status_code, a.text) for a in answers]
    final = support.head(api, image_id).headers
    assert (final['x-image-meta-status'],
            final['x-image-meta-deleted']) == ('deleted', 'True')
    assert support.files_of(api, image_id) == []


def test_racing_deletes_of_an_active_image_one_wins(api):
    _delete_race(api, support.upload(api, b'x' * 100000)['id'])


def test_racing_deletes_of_a_queued_image_one_wins(api):
    _delete_race(api, support.reserve(api)['id'])
