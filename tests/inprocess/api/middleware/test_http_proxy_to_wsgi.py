"""http_proxy_to_wsgi: the scheme and host a proxy received make the URLs
the service generates (versions links, Location), once the operator says
a proxy is in front ([oslo_middleware] enable_proxy_headers_parsing)."""

import pytest

from tests.inprocess import support

FORWARDED = {'X-Forwarded-Proto': 'https',
             'X-Forwarded-Host': 'images.example.com:8443'}


@pytest.fixture
def app(make_app):
    return make_app({'oslo_middleware': {
        'enable_proxy_headers_parsing': 'true'}})


def test_forwarded_proto_and_host_make_the_versions_links(app):
    response = app.request('GET', '/versions', {
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'images.example.com:8443'})
    hrefs = {link['href'] for version in response.json['versions']
             for link in version['links']}
    assert hrefs == {'https://images.example.com:8443/v1/',
                     'https://images.example.com:8443/v2/'}


def test_forwarded_rfc7239_header_is_honoured(app):
    response = app.request('GET', '/versions', {
        'Forwarded': 'proto=https;host=images.example.com'})
    hrefs = {link['href'] for version in response.json['versions']
             for link in version['links']}
    assert hrefs == {'https://images.example.com/v1/',
                     'https://images.example.com/v2/'}


def test_forwarded_host_makes_the_location_header(app):
    image = app.create()
    response = app.request('PUT', '/v1/images/' + image['id'],
                           dict(support.OCTETS, **{
                               'X-Forwarded-Proto': 'https',
                               'X-Forwarded-Host': 'images.example.com'}),
                           b'data')
    assert response.status_int == 200, response.text
    assert response.location == (
        'https://images.example.com/v1/images/' + image['id'])


def test_without_forwarding_headers_the_request_host_is_used(app):
    response = app.request('GET', '/versions')
    assert response.json['versions'][-1]['links'][0]['href'] == (
        'http://localhost/v1/')


def test_forwarding_headers_are_ignored_unless_enabled(make_app):
    app = make_app()
    response = app.request('GET', '/versions', FORWARDED)
    assert response.json['versions'][-1]['links'][0]['href'] == (
        'http://localhost/v1/')
