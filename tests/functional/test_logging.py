"""Logging as an operator sets it up: the shipped JSON logging config
(etc/logging.conf.sample through log_config_append), and the request id on
every line logged while a request is served, in both flavors."""

import json
import os
import re
import time

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
    another by the same server thread. Returns the request ids of the
    first and the last."""
    headers = dict(MISMATCHED_UPLOAD, **FLAVORS[flavor])
    upload = requests.post(srv.url + '/v1/images', data=b'abc',
                           headers=headers)
    assert upload.status_code == 400
    assert 'did not match' in upload.text
    assert requests.get(srv.url + '/versions').status_code == 200
    missing = requests.get(srv.url + '/v1/images/%s' % ('0' * 36),
                           headers=FLAVORS[flavor])
    assert missing.status_code == 404
    return (upload.headers['x-openstack-request-id'],
            missing.headers['x-openstack-request-id'])


def _wait_for_request_lines(read, request_ids, timeout=10):
    """Wait until the log (``read()`` gives its text) has the request line
    of each of ``request_ids``. A request's line is written once its
    answer went out, so it may land just after the client has the answer;
    stopping the server sooner (uWSGI stops its workers at once) would
    test the stop, not the logging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = read()
        if all(re.search(r'status \d+ .*request_id %s' % i, text)
               for i in request_ids):
            return
        time.sleep(0.1)


def _from_first(lines, first_id, text=str):
    """The lines from the one naming first_id on: the test's own requests,
    not the ones the harness sent while waiting for the server (how many
    depends on the server in front of the application)."""
    start = next(i for i, line in enumerate(lines) if first_id in text(line))
    return lines[start:]


def _json_request_lines(srv, records, upload_id, last_id):
    """The request log records of the test's requests, and what their
    messages should begin with, in order. From uWSGI's several worker
    processes the lines of requests sent one after another land in any
    order (each is written once its answer went out), and the versions
    answer carries no request id to find its line by: there, the lines of
    the upload and of the 404, by their ids."""
    request_records = [r for r in records
                       if r['name'] == 'glance_lite.api.requests']
    expected = ['POST /v1/images', 'GET /versions',
                'GET /v1/images/' + '0' * 36]
    if srv.kind != 'uwsgi':
        return _from_first(request_records, upload_id,
                           text=lambda record: record['message']), expected
    by_id = {i: [r for r in request_records if i in r['message']]
             for i in (upload_id, last_id)}
    return by_id[upload_id] + by_id[last_id], [expected[0], expected[2]]


@pytest.mark.parametrize('flavor', sorted(FLAVORS))
def test_json_logging_sample_puts_the_request_id_on_every_request_line(
        make_api, tmp_path, flavor):
    config, log_file = _json_logging_config(tmp_path)
    # One server thread: the requests run one after another on the same
    # thread, so a context left over from an earlier request would show.
    srv = make_api({'DEFAULT': {'log_config_append': str(config),
                                'server_threads': 1},
                    'paste_deploy': {'flavor': flavor}})
    upload_id, last_id = _requests_in_turn(srv, flavor)
    _wait_for_request_lines(
        lambda: log_file.read_text() if log_file.exists() else '',
        (upload_id, last_id))
    srv.stop(remove=False)  # every line written

    lines = log_file.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # each line is JSON
    assert records and all(isinstance(r, dict) for r in records)
    if srv.kind == 'standalone':
        # The plain-text log_file of the test defaults is not used (in
        # front of the application, srv.log() is the front's own log).
        assert srv.log() == ''
        # glance-lite-api's own start line, logged outside any request.
        started = [r for r in records if 'listening on' in r['message']]
        assert len(started) == 1
        assert started[0]['context'] == {}

    request_lines, expected = _json_request_lines(srv, records, upload_id,
                                                  last_id)
    assert [r['message'].split(' status ')[0]
            for r in request_lines] == expected
    assert last_id in request_lines[-1]['message']
    for record in request_lines:
        logged_id = REQUEST_ID.search(record['message']).group(1)
        assert record['context']['request_id'] == logged_id
    assert request_lines[0]['context']['request_id'] == upload_id
    # Each request has its own id; none inherits the previous one's.
    assert len({r['context']['request_id']
                for r in request_lines}) == len(expected)

    warnings = [r for r in records if r['levelname'] == 'WARNING' and
                'did not match' in r['message']]
    assert len(warnings) == 1
    assert warnings[0]['name'] == 'glance_lite.image.upload'
    assert warnings[0]['context']['request_id'] == upload_id
    if flavor == 'trusted-auth':
        for record in (warnings[0], request_lines[0]):
            assert record['context']['user'] == 'logging-user'
            assert record['context']['project_id'] == 'logging-project'


def test_text_log_lines_of_a_request_carry_its_id(make_api):
    # The default format (log_file of the test defaults): oslo.log puts
    # the context's request id between brackets on each line.
    srv = make_api({'DEFAULT': {'server_threads': 1}})
    upload_id, last_id = _requests_in_turn(srv, 'noauth')
    _wait_for_request_lines(srv.log, (upload_id, last_id))
    srv.stop(remove=False)

    lines = srv.log().splitlines()
    warning = [line for line in lines if 'did not match' in line]
    assert len(warning) == 1
    assert ' WARNING glance_lite.image.upload [' in warning[0]
    assert ' %s ' % upload_id in warning[0]
    request_lines = [line for line in lines
                     if ' glance_lite.api.requests ' in line]
    if srv.kind == 'uwsgi':
        # As in _json_request_lines: the upload's and the 404's lines.
        request_lines = [line for line in request_lines
                         if upload_id in line or last_id in line]
        assert len(request_lines) == 2
    else:
        request_lines = _from_first(request_lines, upload_id)
        assert len(request_lines) == 3
    for line in request_lines:
        logged_id = REQUEST_ID.search(line).group(1)
        prefix = line.split(' glance_lite.api.requests ', 1)[1]
        assert prefix.startswith('[None %s ' % logged_id), line
    if srv.kind == 'uwsgi':
        # Two worker processes append to one file, each line once its
        # answer went out: the 404's line may come before the upload's.
        request_lines.sort(key=lambda line: last_id in line)
    assert upload_id in request_lines[0]
    assert last_id in request_lines[-1]
