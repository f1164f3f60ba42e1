"""Error answers (spec §12.1, §12.3): WebOb's error pages, their body chosen
by Accept, the specific message in every form; each domain exception maps
to its status in one place (glance_lite.api.faults)."""

from oslo_db import exception as db_exc
import pytest
import webob

from glance_lite.api import faults
from glance_lite.common import exception

UNKNOWN_ID = 'c0ffee00-1234-4abc-8def-0123456789ab'
MESSAGE = 'Image with identifier %s not found' % UNKNOWN_ID


def test_json_error_body(app):
    response = app.request('GET', '/v1/images/' + UNKNOWN_ID,
                           {'Accept': 'application/json'})
    assert response.status == '404 Not Found'
    assert response.content_type == 'application/json'
    assert response.json == {'message': MESSAGE, 'code': '404 Not Found',
                             'title': 'Not Found'}


@pytest.mark.parametrize('accept', ['text/html', '*/*'])
def test_html_error_body(app, accept):
    response = app.request('GET', '/v1/images/' + UNKNOWN_ID,
                           {'Accept': accept})
    assert response.status_int == 404
    assert response.content_type == 'text/html'
    assert '<title>404 Not Found</title>' in response.text
    assert MESSAGE in response.text


@pytest.mark.parametrize('accept', [None, 'application/octet-stream'])
def test_plain_text_error_body(app, accept):
    response = app.request('GET', '/v1/images/' + UNKNOWN_ID,
                           {'Accept': accept})
    assert response.status_int == 404
    assert response.content_type == 'text/plain'
    assert response.text.startswith('404 Not Found\n\n')
    assert MESSAGE in response.text


def test_head_error_has_no_body(app):
    response = app.request('HEAD', '/v1/images/' + UNKNOWN_ID)
    assert response.status_int == 404
    assert response.body == b''


@pytest.mark.parametrize('headers, status, fragment', [
    ({'x-image-meta-disk_format': 'floppy'}, 400, 'Invalid disk format'),
    ({'x-image-meta-size': 'abc'}, 400, 'Cannot convert image size'),
    ({'x-image-meta-min_ram': '-1'}, 400, 'Cannot be a negative value'),
    ({'x-image-meta-created_at': 'yesterday'}, 400,
     'Invalid time format for created_at'),
])
def test_create_validation_errors_name_the_problem(app, headers, status,
                                                   fragment):
    response = app.request('POST', '/v1/images', dict(
        {'x-image-meta-name': 'n', 'x-image-meta-disk_format': 'raw',
         'x-image-meta-container_format': 'bare'}, **headers))
    assert response.status_int == status, response.text
    assert fragment in response.text


def test_duplicate_id_is_409(app):
    headers = {'x-image-meta-id': UNKNOWN_ID}
    app.create(headers=headers)
    response = app.request('POST', '/v1/images', headers)
    assert response.status_int == 409


def test_list_parameter_error_is_400(app):
    response = app.request('GET', '/v1/images?limit=abc')
    assert response.status_int == 400
    assert 'x-openstack-request-id' in response.headers


@pytest.mark.parametrize('error, status', [
    (exception.ImageDeletedDuringUpload(image_id='x'), 412),
    (exception.LimitExceeded('too big'), 413),
    (exception.StoreAddDisabled(), 410),
    (exception.StoreUnavailable(), 503),
    (exception.DatabaseUnavailable(), 503),
    (exception.ClientDisconnected(), 400),
    (exception.Invalid('bad'), 400),
    (exception.Forbidden(), 403),
    (exception.ImageNotFound(image_id='x'), 404),
    (exception.Duplicate(image_id='x'), 409),
    (exception.Conflict(), 409),
    (exception.StoreError(), 500),
    (db_exc.DBConnectionError('gone'), 503),
    (RuntimeError('bug'), 500),
    (webob.exc.HTTPUnauthorized(), 401),
])
def test_each_error_maps_to_its_status(error, status):
    assert faults.to_http_error(error).status_int == status


def test_specific_message_is_the_explanation():
    response = faults.to_http_error(exception.LimitExceeded('Too big: 9'))
    req = webob.Request.blank('/', headers={'Accept': 'application/json'})
    answer = req.get_response(response)
    assert answer.json['message'] == 'Too big: 9'


def test_unexpected_error_does_not_leak_its_text(caplog):
    response = faults.to_http_error(RuntimeError('secret detail'))
    answer = webob.Request.blank('/').get_response(response)
    assert answer.status_int == 500
    assert 'secret detail' not in answer.text
    assert 'erred or is incapable' in answer.text
