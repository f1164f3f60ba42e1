"""glance_lite through Apache httpd + mod_wsgi (daemon mode), configured by
the shipped etc/apache2/glance-lite.conf and glance-lite.wsgi
(tests/apache.py): what a user checks after deploying it.

The big uploads are over 1 GiB — past Apache's default LimitRequestBody —
chunked (as python-glanceclient sends) and with a Content-Length; their
bytes are generated and hashed on the fly (tests/deploy/transfer.py).
Transfer rates are printed (pytest -rP shows them).
"""

import hashlib
import os
import socket
import subprocess
import time
import uuid

from glanceclient import Client
import pytest
import requests

from tests import apache as test_apache
from tests.deploy import transfer
from tests import processes

pytestmark = pytest.mark.xdist_group('apache')

# Just over 1 GiB: Apache's default LimitRequestBody (1 GiB) would answer
# 413 without the virtual host's LimitRequestBody 0.
BIG = transfer.GIB + 12345


@pytest.fixture(scope='module')
def apache():
    server = test_apache.Apache().start()
    yield server
    server.stop()


def image_path(image_id):
    return '/v1/images/%s' % image_id


def location(server, image_id):
    return 'http://127.0.0.1:%d/v1/images/%s' % (server.port, image_id)


def reserve(server, name, **headers):
    """POST without data: a queued image."""
    all_headers = dict(transfer.IMAGE_HEADERS, **{'x-image-meta-name': name})
    all_headers.update(headers)
    del all_headers['Content-Type']
    answer = transfer.send(server.url, 'POST', '/v1/images', all_headers)
    assert answer.status == 201, answer
    image = answer.json()['image']
    assert image['status'] == 'queued'
    return image


def check_download(server, image_id, size, md5):
    answer, got_size, got_md5 = transfer.download(server.url,
                                                  image_path(image_id))
    assert answer.status == 200
    assert answer.headers['Content-Type'] == 'application/octet-stream'
    assert int(answer.headers['Content-Length']) == size
    assert answer.headers['x-image-meta-checksum'] == md5
    assert (got_size, got_md5) == (size, md5)
    return answer


def test_serves_the_api_as_the_unprivileged_user(apache):
    resp = requests.get(apache.url + '/versions', timeout=30)
    assert resp.status_code == 200
    assert resp.json()['versions'][-1]['links'][0]['href'] == (
        apache.url + '/v1/')
    # Debian's security.conf (ServerTokens OS) names Apache only.
    assert resp.headers['Server'].startswith('Apache/')
    # The application runs in mod_wsgi's daemon processes, as the user
    # the virtual host names (not root when the tests run as root).
    daemons = []
    for pid in processes.children_of(apache.pid):
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            if f.read().startswith(b'(wsgi:glance-lite'):
                daemons.append(os.stat('/proc/%d' % pid).st_uid)
    assert len(daemons) == 2
    assert set(daemons) == {apache.uid}
    if os.geteuid() == 0:
        assert apache.uid != 0


def test_chunked_upload_over_1_gib_then_download_head_and_list(apache):
    data = transfer.PatternData(BIG, seed=1)
    headers = dict(transfer.IMAGE_HEADERS, **{
        'x-image-meta-name': 'big-chunked',
        'x-image-meta-is_public': 'true',
        'x-image-meta-property-os_distro': 'cirros'})
    answer = transfer.send(apache.url, 'POST', '/v1/images', headers,
                           data=data, chunked=True)
    assert answer.status == 201, answer
    image = answer.json()['image']
    assert image['status'] == 'active'
    assert image['size'] == BIG
    assert image['checksum'] == data.md5
    assert image['is_public'] is True
    assert image['properties'] == {'os_distro': 'cirros'}
    assert answer.headers['Location'] == location(apache, image['id'])
    print('Apache chunked upload: %d bytes in %.1f s, %.0f MiB/s'
          % (BIG, answer.elapsed, transfer.mib_per_s(BIG, answer.elapsed)))

    # The bytes landed in the test's file store: glance-lite.wsgi loaded
    # the glance-lite.conf beside it.
    stored = os.path.join(apache.state_path, 'images', image['id'])
    assert os.path.getsize(stored) == BIG

    got = check_download(apache, image['id'], BIG, data.md5)
    print('Apache download: %d bytes in %.1f s, %.0f MiB/s'
          % (BIG, got.elapsed, transfer.mib_per_s(BIG, got.elapsed)))

    head = requests.head(apache.url + image_path(image['id']), timeout=30)
    assert head.status_code == 200
    assert head.headers['x-image-meta-status'] == 'active'
    assert head.headers['x-image-meta-name'] == 'big-chunked'
    assert head.headers['x-image-meta-size'] == str(BIG)
    assert head.headers['x-image-meta-checksum'] == data.md5
    assert head.headers['x-image-meta-property-os_distro'] == 'cirros'
    assert head.content == b''

    listed = requests.get(apache.url + '/v1/images', timeout=30)
    assert listed.status_code == 200
    assert {'id': image['id'], 'name': 'big-chunked', 'size': BIG,
            'checksum': data.md5, 'disk_format': 'raw',
            'container_format': 'bare'} in listed.json()['images']
    detail = requests.get(apache.url + '/v1/images/detail',
                          params={'name': 'big-chunked'}, timeout=30)
    assert detail.status_code == 200
    [found] = detail.json()['images']
    assert (found['id'], found['status'], found['size']) == (
        image['id'], 'active', BIG)


def test_put_upload_over_1_gib_with_content_length(apache):
    # The seed's PUT, second form: the data of a queued image.
    image = reserve(apache, 'big-content-length')
    data = transfer.PatternData(BIG, seed=2)
    answer = transfer.send(
        apache.url, 'PUT', image_path(image['id']),
        {'Content-Type': 'application/octet-stream'}, data=data)
    assert answer.status == 200, answer
    assert answer.headers['Location'] == location(apache, image['id'])
    assert answer.headers['ETag'] == data.md5
    updated = answer.json()['image']
    assert updated['status'] == 'active'
    assert updated['size'] == BIG
    assert updated['checksum'] == data.md5
    print('Apache Content-Length upload: %d bytes in %.1f s, %.0f MiB/s'
          % (BIG, answer.elapsed, transfer.mib_per_s(BIG, answer.elapsed)))
    check_download(apache, image['id'], BIG, data.md5)


def test_put_metadata_only(apache):
    # The seed's PUT, first form: no data, only metadata.
    image = reserve(apache, 'meta-only', **{
        'x-image-meta-property-keep': 'yes'})
    answer = transfer.send(apache.url, 'PUT', image_path(image['id']), {
        'x-image-meta-name': 'meta-only-renamed',
        'x-image-meta-min_ram': '512',
        'x-image-meta-property-hw_disk_bus': 'virtio',
        'x-glance-registry-purge-props': 'false'})
    assert answer.status == 200, answer
    assert answer.headers['Location'] == location(apache, image['id'])
    updated = answer.json()['image']
    assert updated['name'] == 'meta-only-renamed'
    assert updated['min_ram'] == 512
    assert updated['status'] == 'queued'
    assert updated['properties'] == {'keep': 'yes',
                                     'hw_disk_bus': 'virtio'}


def test_put_metadata_and_chunked_data_at_once(apache):
    # The seed's PUT, third form: new metadata and the data together.
    image = reserve(apache, 'both')
    data = transfer.PatternData(48 * transfer.MIB + 3, seed=3)
    answer = transfer.send(apache.url, 'PUT', image_path(image['id']), {
        'Content-Type': 'application/octet-stream',
        'x-image-meta-name': 'both-renamed',
        'x-image-meta-min_disk': '2',
        'x-image-meta-property-os_distro': 'debian'},
        data=data, chunked=True)
    assert answer.status == 200, answer
    assert answer.headers['Location'] == location(apache, image['id'])
    updated = answer.json()['image']
    assert (updated['name'], updated['min_disk'], updated['status'],
            updated['size'], updated['checksum']) == (
        'both-renamed', 2, 'active', data.size, data.md5)
    assert updated['properties'] == {'os_distro': 'debian'}
    check_download(apache, image['id'], data.size, data.md5)


def test_glanceclient_v1_create_with_data(apache, tmp_path):
    # python-glanceclient uploads chunked, names disk_format, min_ram and
    # properties with underscores, and reads the answer's headers.
    path = tmp_path / 'disk.raw'
    data = transfer.PatternData(64 * transfer.MIB + 5, seed=4)
    with open(path, 'wb') as f:
        for block in data.blocks():
            f.write(block)
    client = Client('1', endpoint=apache.url, token='unused', timeout=300)
    tag = uuid.uuid4().hex
    with open(path, 'rb') as f:
        image = client.images.create(
            name='from-glanceclient', disk_format='raw',
            container_format='bare', min_ram=256, data=f,
            properties={'os_distro': 'cirros', 'tag': tag})
    assert image.status == 'active'
    assert image.size == data.size
    assert image.checksum == data.md5
    assert (image.disk_format, image.container_format, image.min_ram) == (
        'raw', 'bare', 256)
    assert image.properties == {'os_distro': 'cirros', 'tag': tag}

    fetched = client.images.get(image.id)
    assert (fetched.name, fetched.size, fetched.checksum) == (
        'from-glanceclient', data.size, data.md5)
    md5 = hashlib.md5()
    size = 0
    for chunk in client.images.data(image.id):
        md5.update(chunk)
        size += len(chunk)
    assert (size, md5.hexdigest()) == (data.size, data.md5)
    # The image is private: glanceclient's default list shows public
    # images only.
    listed = [i.id for i in client.images.list(
        filters={'properties': {'tag': tag}}, is_public=None)]
    assert listed == [image.id]


# Debian's default modules, the shipped site unchanged (issue 11).

def test_runs_on_debians_default_modules_and_the_enabled_site(apache):
    modules = subprocess.run(
        [test_apache.HTTPD, '-d', apache.confdir, '-M'],
        env=apache.environ(), capture_output=True, text=True, check=True)
    for module in ('mpm_event_module', 'deflate_module', 'filter_module',
                   'reqtimeout_module', 'setenvif_module', 'env_module',
                   'wsgi_module', 'lua_module'):
        assert module in modules.stdout
    site = os.path.join(apache.confdir, 'sites-enabled', 'glance-lite.conf')
    assert os.path.islink(site)
    with open(os.readlink(site) if os.path.isabs(os.readlink(site)) else
              os.path.join(os.path.dirname(site), os.readlink(site))) as f:
        with open(test_apache.VHOST) as shipped:
            assert f.read() == shipped.read()
    # mod_wsgi's daemon sockets follow APACHE_RUN_DIR (WSGISocketPrefix).
    assert any(name.startswith('wsgi.')
               for name in os.listdir(apache.run_dir))


def test_head_reaches_the_application_as_head(apache):
    queued = reserve(apache, 'head-queued')
    head = requests.head(apache.url + image_path(queued['id']),
                         headers={'Accept-Encoding': 'gzip'}, timeout=30)
    assert head.status_code == 200
    assert head.headers['x-image-meta-status'] == 'queued'
    for path in ('/v1/images', '/v1/images/detail'):
        assert requests.head(apache.url + path,
                             timeout=30).status_code == 405

    data = transfer.PatternData(32 * transfer.MIB + 1, seed=11)
    answer = transfer.send(apache.url, 'POST', '/v1/images', dict(
        transfer.IMAGE_HEADERS, **{'x-image-meta-name': 'head-active'}),
        data=data)
    assert answer.status == 201, answer
    image_id = answer.json()['image']['id']
    sent_before = _bytes_sent(apache, 'GET')
    head = requests.head(apache.url + image_path(image_id),
                         headers={'Accept-Encoding': 'gzip'}, timeout=30)
    assert head.status_code == 200
    assert head.headers['x-image-meta-size'] == str(data.size)
    assert 'Content-Encoding' not in head.headers
    # The application answered a HEAD, not a GET that read the image.
    assert _bytes_sent(apache, 'GET') == sent_before
    assert _last_access(apache, '"HEAD ').split('"')[1].startswith('HEAD ')

    deleted = requests.delete(apache.url + image_path(image_id), timeout=30)
    assert deleted.status_code == 200
    head = requests.head(apache.url + image_path(image_id), timeout=30)
    assert head.status_code == 200
    assert head.headers['x-image-meta-status'] == 'deleted'


def _access_lines(apache):
    with open(apache.access_log) as f:
        return f.read().splitlines()


def _last_access(apache, expected):
    """The access log's last line, once it holds ``expected``: Apache
    writes a request's line after the answer went out, so the client can
    be faster than the log (at most 5 s are waited)."""
    deadline = time.monotonic() + 5
    while expected not in _access_lines(apache)[-1] and (
            time.monotonic() < deadline):
        time.sleep(0.05)
    return _access_lines(apache)[-1]


def _bytes_sent(apache, method):
    total = 0
    for line in _access_lines(apache):
        request = line.split('"')[1]
        if request.startswith(method + ' '):
            size = line.split('"')[2].split()[1]
            total += int(size) if size.isdigit() else 0
    return total


def test_no_answer_is_compressed(apache):
    gzip = {'Accept-Encoding': 'gzip, deflate'}
    for method, path in (('GET', '/v1/images/nonexistent'),
                         ('HEAD', '/v1/images/nonexistent'),
                         ('GET', '/v1/images/detail'),
                         ('GET', '/versions')):
        answer = requests.request(method, apache.url + path, headers=gzip,
                                  timeout=30)
        assert 'Content-Encoding' not in answer.headers, (method, path)
    data = transfer.PatternData(3 * transfer.MIB, seed=12)
    answer = transfer.send(apache.url, 'POST', '/v1/images', dict(
        transfer.IMAGE_HEADERS, **{'x-image-meta-name': 'no-gzip'}),
        data=data)
    image_id = answer.json()['image']['id']
    got = requests.get(apache.url + image_path(image_id), headers=gzip,
                       timeout=30)
    assert 'Content-Encoding' not in got.headers
    assert got.headers['Content-Length'] == str(data.size)
    assert hashlib.md5(got.content).hexdigest() == data.md5


def test_property_names_with_any_token_character_are_kept(apache):
    # mod_wsgi drops header names with characters other than letters,
    # digits and '-': the Lua hook and glance-lite.wsgi carry them.
    answer = transfer.send(apache.url, 'POST', '/v1/images', {
        'x-image-meta-name': 'names',
        'x-image-meta-disk_format': 'raw',
        'x-image-meta-property-hw.CPU-model': 'dotted',
        'x-image-meta-property-os_distro': 'underscore',
        'x-image-meta-property-a~b+c!d': 'tokens',
        'x-image-meta-property-caf%C3%A9': 'percent-encoded'})
    assert answer.status == 201, answer
    image = answer.json()['image']
    assert image['properties'] == {
        'hw.cpu_model': 'dotted', 'os_distro': 'underscore',
        'a~b+c!d': 'tokens', 'caf\u00e9': 'percent-encoded'}
    head = requests.head(apache.url + image_path(image['id']), timeout=30)
    assert head.headers['x-image-meta-property-hw.cpu_model'] == 'dotted'
    assert head.headers['x-image-meta-disk_format'] == 'raw'


def _raw_request(server, head, body=b'', shut=False, wait=30):
    """Send head (and body) on a raw socket; (answer bytes, seconds to
    the first byte of the answer)."""
    sock = socket.create_connection(('127.0.0.1', server.port))
    try:
        started = time.monotonic()
        sock.sendall(head + body)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(wait)
        first = sock.recv(65536)
        took = time.monotonic() - started
        rest = b''
        try:
            while True:
                more = sock.recv(65536)
                if not more:
                    break
                rest += more
        except OSError:
            pass
        return first + rest, took
    finally:
        sock.close()


def test_an_oversized_upload_is_refused_before_its_body(apache):
    # 1 TiB + 1 announced, no body sent: the answer must come at once.
    for method, path in (('POST', '/v1/images'),
                         ('PUT', image_path(reserve(apache, 'big')['id']))):
        answer, took = _raw_request(apache, (
            '%s %s HTTP/1.1\r\nHost: x\r\n'
            'Content-Type: application/octet-stream\r\n'
            'Content-Length: 1099511627777\r\n\r\n'
            % (method, path)).encode())
        assert took < 1, took
        assert answer.startswith(b'HTTP/1.1 400 '), answer
        assert (b'Denying attempt to upload image larger than '
                b'1099511627776 bytes.') in answer
        last = _last_access(apache, '" 400 ')
        assert '" 400 ' in last, last


def test_a_half_closed_upload_ends_killed(apache):
    # The client sends half of what it announced, then shuts its side.
    # mod_wsgi cannot finish passing the body on: Apache answers 500 and
    # logs WSGI0126 ("Request data read error ..."); the application sees
    # the body end early and kills the image, as behind glance-lite-api.
    image = reserve(apache, 'half-closed')
    answer, _ = _raw_request(apache, (
        'PUT %s HTTP/1.1\r\nHost: x\r\n'
        'Content-Type: application/octet-stream\r\n'
        'Content-Length: 2000000\r\n\r\n' % image_path(image['id'])).encode(),
        body=b'x' * 1000000, shut=True)
    assert answer.startswith(b'HTTP/1.1 '), answer
    deadline = time.monotonic() + 30
    while True:
        head = requests.head(apache.url + image_path(image['id']),
                             timeout=30)
        if head.headers['x-image-meta-status'] == 'killed':
            break
        assert time.monotonic() < deadline, head.headers
        time.sleep(0.2)
    with open(apache.vhost_error_log) as f:
        assert 'Request data read error' in f.read()


def test_glanceclient_reads_and_uploads_to_a_reserved_image(
        apache, tmp_path):
    # images.get() is a HEAD: it must see the queued image.
    client = Client('1', endpoint=apache.url, token='unused', timeout=300)
    image = client.images.create(name='reserved', disk_format='raw',
                                 container_format='bare')
    fetched = client.images.get(image.id)
    assert fetched.status == 'queued'
    path = tmp_path / 'disk.raw'
    path.write_bytes(b'reserved image data' * 1000)
    with open(path, 'rb') as f:
        updated = client.images.update(image.id, data=f)
    assert (updated.status, updated.size) == ('active', 19000)
