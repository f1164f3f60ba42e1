"""Logging as an operator sets it up: the shipped JSON logging config
(etc/logging.conf.sample through log_config_append), and the request id on
every line logged while a request is served, in both flavors."""

import json
import os
import re

import pytest
import requests

TOP = os.path.join(os.path.dirname(__file__), '..', '..')
SAMPLE = os.path.join(TOP, 'etc', 'logging.conf.sample')
SAMPLE_LOG_FILE = '/var/log/glance-lite/glance-lite-api.json'
# A declared size the body does not have: the upload fails, the image is
# killed, and the service logs a warning from inside the request.
MISMATCHED_UPLOAD = {'Content-Type': 'application/octet-stream',
                     'x-image-meta-name': 'logged',
                     'x-image-meta-disk_format': 'raw',
                     'x-image-meta-container_format': 'bare',
                     'x-image-meta-size': '5'}
FLAVORS = {
    'noauth': {},
    'trusted-auth': {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin',
                     'X-User-Id': 'logging-user',
                     'X-Tenant-Id': 'logging-project'},
}
REQUEST_ID = re.compile(r'request_id (req-[0-9a-f-]{36})$')


def _json_logging_config(tmp_path):
    """The shipped sample, writing to a file under tmp_path instead."""
    with open(SAMPLE) as f:
        text = f.read()
    assert text.count(SAMPLE_LOG_FILE) == 1
    log_file = tmp_path / 'glance-lite-api.json'
    config = tmp_path / 'logging.conf'
    config.write_text(text.replace(SAMPLE_LOG_FILE, str(log_file)))
    return config, log_file


def _requests_in_turn(srv, flavor):
    """A failing upload, a versions document, a 404 — served one after
    another by the same server thread. Returns the upload's request id."""
    headers = dict(MISMATCHED_UPLOAD, **FLAVORS[flavor])
    upload = requests.post(srv.url + '/v1/images', data=b'abc',
                           headers=headers)
    assert upload.status_code == 400
    assert 'did not match' in upload.text
    assert requests.get(srv.url + '/versions').status_code == 200
    missing = requests.get(srv.url + '/v1/images/%s' % ('0' * 36),
                           headers=FLAVORS[flavor])
    assert missing.status_code == 404
    return upload.headers['x-openstack-request-id']


@pytest.mark.parametrize('flavor', sorted(FLAVORS))
def test_json_logging_sample_puts_the_request_id_on_every_request_line(
        make_api, tmp_path, flavor):
    config, log_file = _json_logging_config(tmp_path)
    # One server thread: the requests run one after another on the same
    # thread, so a context left over from an earlier request would show.
    srv = make_api({'DEFAULT': {'log_config_append': str(config),
                                'server_threads': 1},
                    'paste_deploy': {'flavor': flavor}})
    upload_id = _requests_in_turn(srv, flavor)
    srv.stop(remove=False)  # every line written

    lines = log_file.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # each line is JSON
    assert records and all(isinstance(r, dict) for r in records)
    # The plain-text log_file of the test defaults is not used.
    assert srv.log() == ''

    started = [r for r in records if 'listening on' in r['message']]
    assert len(started) == 1
    assert started[0]['context'] == {}  # outside any request

    # After the GET /versions of the test harness waiting for the start.
    request_lines = [r for r in records
                     if r['name'] == 'glance_lite.api.requests'][1:]
    assert [r['message'].split(' status ')[0] for r in request_lines] == [
        'POST /v1/images', 'GET /versions', 'GET /v1/images/' + '0' * 36]
    for record in request_lines:
        logged_id = REQUEST_ID.search(record['message']).group(1)
        assert record['context']['request_id'] == logged_id
    assert request_lines[0]['context']['request_id'] == upload_id
    # Each request has its own id; none inherits the previous one's.
    assert len({r['context']['request_id'] for r in request_lines}) == 3

    warnings = [r for r in records if r['levelname'] == 'WARNING' and
                'did not match' in r['message']]
    assert len(warnings) == 1
    assert warnings[0]['name'] == 'glance_lite.api.upload'
    assert warnings[0]['context']['request_id'] == upload_id
    if flavor == 'trusted-auth':
        for record in (warnings[0], request_lines[0]):
            assert record['context']['user'] == 'logging-user'
            assert record['context']['project_id'] == 'logging-project'


def test_text_log_lines_of_a_request_carry_its_id(make_api):
    # The default format (log_file of the test defaults): oslo.log puts
    # the context's request id between brackets on each line.
    srv = make_api({'DEFAULT': {'server_threads': 1}})
    upload_id = _requests_in_turn(srv, 'noauth')
    srv.stop(remove=False)

    lines = srv.log().splitlines()
    warning = [line for line in lines if 'did not match' in line]
    assert len(warning) == 1
    assert ' WARNING glance_lite.api.upload [' in warning[0]
    assert ' %s ' % upload_id in warning[0]
    request_lines = [line for line in lines
                     if ' glance_lite.api.requests ' in line][1:]
    assert len(request_lines) == 3
    for line in request_lines:
        logged_id = REQUEST_ID.search(line).group(1)
        prefix = line.split(' glance_lite.api.requests ', 1)[1]
        assert prefix.startswith('[None %s ' % logged_id), line
    assert upload_id in request_lines[0]
