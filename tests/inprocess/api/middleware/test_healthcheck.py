"""/healthcheck (oslo.middleware's app in front of the pipeline): 200 OK,
503 while the disable file exists, no identity needed, no request id."""

import pytest

from tests.inprocess import support


@pytest.mark.parametrize('path', ['/healthcheck', '/healthcheck/'])
def test_healthcheck_answers_200_ok(app, path):
    response = app.request('GET', path)
    assert response.status_int == 200
    assert response.text == 'OK'
    assert 'x-openstack-request-id' not in response.headers


def test_healthcheck_needs_no_identity(trusted_app):
    assert trusted_app.request('GET', '/healthcheck').status_int == 200


def test_disable_file_makes_it_503_while_it_exists(make_app, tmp_path):
    disable = tmp_path / 'healthcheck_disable'
    app = make_app({'healthcheck': {'disable_by_file_path': str(disable)}})
    assert app.request('GET', '/healthcheck').status_int == 200
    disable.write_text('maintenance')
    response = app.request('GET', '/healthcheck')
    assert response.status_int == 503
    assert 'x-openstack-request-id' not in response.headers
    # The API itself still serves.
    assert app.request('GET', '/v1/images').status_int == 200
    disable.unlink()
    assert app.request('GET', '/healthcheck').status_int == 200


def test_other_paths_pass_through(app):
    response = app.request('GET', '/healthchecks')
    assert response.status_int == 300
    response = app.request('POST', '/v1/images', support.MINIMAL)
    assert response.status_int == 201
