"""Concurrent requests on the embedded SQLite catalogue (spec §18 Q27):
never a 500, never a half-applied change."""

import concurrent.futures

import requests

THREADS = 8
ROUNDS = 10


def _churn(url, worker):
    """Create, rename, upload to, list and delete images; return every
    status code seen."""
    session = requests.Session()
    statuses = []
    for round_ in range(ROUNDS):
        created = session.post(url + '/v1/images', headers={
            'x-image-meta-name': 'w%d-%d' % (worker, round_),
            'x-image-meta-disk_format': 'raw',
            'x-image-meta-container_format': 'bare',
            'x-image-meta-property-worker': str(worker)})
        statuses.append(created.status_code)
        image_url = url + '/v1/images/' + created.json()['image']['id']
        statuses.append(session.put(image_url, headers={
            'x-image-meta-name': 'renamed',
            'x-image-meta-property-round': str(round_)}).status_code)
        statuses.append(session.put(image_url, data=b'x' * 1000, headers={
            'Content-Type': 'application/octet-stream'}).status_code)
        statuses.append(session.get(
            url + '/v1/images/detail?is_public=None').status_code)
        statuses.append(session.delete(image_url).status_code)
    return statuses


def test_parallel_create_update_upload_delete_never_fail(api):
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(_churn, [api.url] * THREADS,
                                range(THREADS)))

    statuses = [status for result in results for status in result]
    assert len(statuses) == THREADS * ROUNDS * 5
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    remaining = requests.get(api.url + '/v1/images/detail',
                             params={'is_public': 'None'}).json()['images']
    assert [i for i in remaining if i['name'] == 'renamed'] == []
    deleted = requests.get(api.url + '/v1/images/detail', params={
        'is_public': 'None', 'changes-since': '2000-01-01',
        'limit': 1000}).json()['images']
    ours = [i for i in deleted if i['name'] == 'renamed']
    assert len(ours) == THREADS * ROUNDS
    assert all(i['status'] == 'deleted' and i['deleted'] for i in ours)
    assert api.stored_files() == []
