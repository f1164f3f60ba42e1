"""Identity, request ids, error bodies and the request log (spec §1, §4.1,
§12, §19 scenarios 140-144; 139 needs a real Keystone and is not here)."""

import json
import re
import time
import uuid

import pytest
import requests

from tests.functional import _parallel

MINIMAL = {'Content-Type': 'application/octet-stream',
           'x-image-meta-name': 'Image1',
           'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'ovf',
           'x-image-meta-is_public': 'True'}
# Fixed, so that parametrized test ids are the same in every xdist worker.
UNKNOWN_ID = 'c0ffee00-1234-4abc-8def-0123456789ab'
REQUEST_ID = re.compile(r'^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-'
                        r'[0-9a-f]{4}-[0-9a-f]{12}$')


def _who(tenant=None, roles='', user=None):
    headers = {'X-Identity-Status': 'Confirmed', 'X-Roles': roles,
               'X-User-Id': user or 'user-of-%s' % tenant}
    if tenant is not None:
        headers['X-Tenant-Id'] = tenant
    return headers


@pytest.fixture(scope='module')
def servers():
    """Started together: noauth, trusted-auth, and trusted-auth with the
    non-default identity options of scenarios 141, 143 and 144 (anonymous
    read-only access, admin_role = superuser, owner_is_tenant = false)."""
    started = _parallel.start(
        None,
        {'paste_deploy': {'flavor': 'trusted-auth'}},
        {'paste_deploy': {'flavor': 'trusted-auth'},
         'DEFAULT': {'allow_anonymous_access': 'true',
                     'admin_role': 'superuser',
                     'owner_is_tenant': 'false'}})
    yield started
    _parallel.stop(*started)


@pytest.fixture(scope='module')
def api(servers):
    return servers[0]


@pytest.fixture(scope='module')
def trusted(servers):
    return servers[1]


@pytest.fixture(scope='module')
def variant(servers):
    return servers[2]


@pytest.fixture(scope='module')
def image_id(api):
    response = requests.post(api.url + '/v1/images', headers=MINIMAL,
                             data=b'*' * 100)
    assert response.status_code == 201, response.text
    return response.json()['image']['id']


# Scenario 140: every v1 response carries a request id ----------------------

V1_REQUESTS = [
    ('GET', '/v1/images', None, 200),
    ('GET', '/v1/images/detail', None, 200),
    ('GET', '/v1/', None, 200),
    ('HEAD', '/v1/images/{id}', None, 200),
    ('GET', '/v1/images/{id}', None, 200),
    ('GET', '/v1/images/{id}/members', None, 200),
    ('PUT', '/v1/images/{id}/members/m1', None, 204),
    ('GET', '/v1/shared-images/m1', None, 200),
    ('PUT', '/v1/images/{id}', {'x-image-meta-property-x': 'y'}, 200),
    ('POST', '/v1/images', {'x-image-meta-name': 'rid'}, 201),
    ('GET', '/v1', None, 302),
    ('GET', '/v1/images?limit=abc', None, 400),
    ('PUT', '/v1/images/{id}', {'x-image-meta-foo': 'bar'}, 400),
    ('DELETE', '/v1/images/{id}/members/nobody', None, 404),
    ('GET', '/v1/images/' + UNKNOWN_ID, None, 404),
    ('HEAD', '/v1/images/' + UNKNOWN_ID, None, 404),
    ('GET', '/v1/nothing', None, 404),
    ('HEAD', '/v1/images/detail', None, 405),
    ('POST', '/v1/images/{id}', None, 405),
    ('PROPFIND', '/v1/nothing', None, 501),
]


@pytest.mark.parametrize('method,path,headers,status', V1_REQUESTS)
def test_every_v1_response_has_a_request_id(api, image_id, method, path,
                                            headers, status):
    response = requests.request(method, api.url + path.format(id=image_id),
                                headers=headers, allow_redirects=False)
    assert response.status_code == status, response.text
    assert REQUEST_ID.match(response.headers['x-openstack-request-id'])


def test_each_request_gets_its_own_request_id(api):
    ids = {requests.get(api.url + '/v1/images').headers[
        'x-openstack-request-id'] for _ in range(5)}
    assert len(ids) == 5


def test_noauth_ignores_the_callers_request_id(api):
    response = requests.get(api.url + '/v1/images',
                            headers={'X-Openstack-Request-ID': 'abc'})
    assert REQUEST_ID.match(response.headers['x-openstack-request-id'])


def test_callers_request_id_is_returned_with_req_prefix(trusted):
    response = requests.get(trusted.url + '/v1/images', headers=dict(
        _who('t1'), **{'X-Openstack-Request-ID': 'abc'}))
    assert response.status_code == 200
    assert response.headers['x-openstack-request-id'] == 'req-abc'


def test_callers_request_id_keeps_an_existing_req_prefix(trusted):
    response = requests.get(trusted.url + '/v1/images/%s' % uuid.uuid4(),
                            headers=dict(_who('t1'), **{
                                'X-Openstack-Request-ID': 'req-xyz'}))
    assert response.status_code == 404
    assert response.headers['x-openstack-request-id'] == 'req-xyz'


def test_request_id_of_64_characters_is_accepted(trusted):
    sent = 'a' * 64
    response = requests.get(trusted.url + '/v1/images', headers=dict(
        _who('t1'), **{'X-Openstack-Request-ID': sent}))
    assert response.status_code == 200
    assert response.headers['x-openstack-request-id'] == 'req-' + sent


def test_request_id_of_65_characters_answers_431(trusted):
    response = requests.get(trusted.url + '/v1/images', headers=dict(
        _who('t1'), **{'X-Openstack-Request-ID': 'a' * 65}))
    assert response.status_code == 431
    assert 'x-openstack-request-id is too long, max size 64' in response.text


def test_trusted_flavor_generates_a_request_id_when_none_is_sent(trusted):
    response = requests.get(trusted.url + '/v1/images', headers=_who('t1'))
    assert REQUEST_ID.match(response.headers['x-openstack-request-id'])


# Responses made before the context middleware carry no request id --------

@pytest.mark.parametrize('path,status', [('/', 300), ('/versions', 200),
                                         ('/images', 300), ('/v3/', 300)])
def test_versions_documents_carry_no_request_id(api, path, status):
    response = requests.get(api.url + path)
    assert response.status_code == status
    assert 'x-openstack-request-id' not in response.headers


def test_healthcheck_carries_no_request_id(api):
    response = requests.get(api.url + '/healthcheck')
    assert response.status_code == 200
    assert response.text == 'OK'
    assert 'x-openstack-request-id' not in response.headers


def test_missing_identity_answers_401_without_request_id(trusted):
    response = requests.get(trusted.url + '/v1/images')
    assert response.status_code == 401
    assert 'x-openstack-request-id' not in response.headers


@pytest.mark.parametrize('status_header', ['Invalid', 'confirmed', ''])
def test_unconfirmed_identity_answers_401(trusted, status_header):
    response = requests.get(trusted.url + '/v1/images', headers={
        'X-Identity-Status': status_header, 'X-Tenant-Id': 't1'})
    assert response.status_code == 401


def test_versions_answer_without_identity_in_trusted_flavor(trusted):
    assert requests.get(trusted.url + '/').status_code == 300
    assert requests.get(trusted.url + '/versions').status_code == 200
    assert requests.get(trusted.url + '/healthcheck').status_code == 200


# Scenario 141: anonymous read-only access -----------------------------------

def test_anonymous_caller_lists_public_images(variant):
    public = requests.post(variant.url + '/v1/images', headers=dict(
        _who('t1', 'superuser', user='admin1'),
        **{'x-image-meta-name': 'pub', 'x-image-meta-is_public': 'True'}))
    assert public.status_code == 201, public.text
    private = requests.post(variant.url + '/v1/images', headers=dict(
        _who('t1', user='u1'), **{'x-image-meta-name': 'priv'}))
    assert private.status_code == 201, private.text
    response = requests.get(variant.url + '/v1/images')
    assert response.status_code == 200
    ids = [i['id'] for i in response.json()['images']]
    assert public.json()['image']['id'] in ids
    assert private.json()['image']['id'] not in ids


def test_anonymous_caller_does_not_list_shared_private_images(variant):
    shared = requests.post(variant.url + '/v1/images', headers=dict(
        _who('t1', user='u1'), **{'x-image-meta-name': 'shared'}))
    assert shared.status_code == 201, shared.text
    image_id = shared.json()['image']['id']
    added = requests.put(variant.url + '/v1/images/%s/members/t2' % image_id,
                         headers=_who('t1', user='u1'))
    assert added.status_code == 204
    ids = [i['id'] for i in
           requests.get(variant.url + '/v1/images').json()['images']]
    assert image_id not in ids
    assert requests.head(variant.url + '/v1/images/' +
                         image_id).status_code == 404


def test_anonymous_create_answers_403_read_only(variant):
    response = requests.post(variant.url + '/v1/images', headers=MINIMAL,
                             data=b'x')
    assert response.status_code == 403
    assert 'Read-only access' in response.text


def test_anonymous_member_change_answers_403_read_only(variant):
    created = requests.post(variant.url + '/v1/images', headers=dict(
        _who('t1', user='u1'), **{'x-image-meta-name': 'mine'}))
    image_id = created.json()['image']['id']
    response = requests.put('%s/v1/images/%s/members/x'
                            % (variant.url, image_id))
    assert response.status_code == 403
    assert 'Read-only access' in response.text


# Scenario 142: error bodies follow the Accept header -----------------------

def test_json_accept_gets_json_404(api):
    image = str(uuid.uuid4())
    response = requests.get(api.url + '/v1/images/' + image,
                            headers={'Accept': 'application/json'})
    assert response.status_code == 404
    assert response.headers['Content-Type'].startswith('application/json')
    body = response.json()
    assert 'not found' in body['message']
    assert image in body['message']
    assert body['code'] == '404 Not Found'
    assert body['title'] == 'Not Found'


def test_no_accept_gets_plain_text_404(api):
    response = requests.get(api.url + '/v1/images/%s' % uuid.uuid4(),
                            headers={'Accept': None})
    assert response.status_code == 404
    assert response.headers['Content-Type'].startswith('text/plain')
    assert response.text.startswith('404 Not Found')
    assert 'not found' in response.text


def test_any_accept_gets_html_404(api):
    response = requests.get(api.url + '/v1/images/%s' % uuid.uuid4(),
                            headers={'Accept': '*/*'})
    assert response.status_code == 404
    assert response.headers['Content-Type'].startswith('text/html')
    assert '<title>404 Not Found</title>' in response.text
    assert 'not found' in response.text


@pytest.mark.parametrize('accept,content_type', [
    ('application/json', 'application/json'), (None, 'text/plain'),
    ('text/html', 'text/html')])
def test_specific_400_message_is_in_every_representation(api, accept,
                                                         content_type):
    response = requests.get(api.url + '/v1/images', params={'size_min': '-1'},
                            headers={'Accept': accept})
    assert response.status_code == 400
    assert response.headers['Content-Type'].startswith(content_type)
    assert 'Bad value passed to filter size_min got -1' in response.text
    if content_type == 'application/json':
        assert response.json()['code'] == '400 Bad Request'


def test_head_error_has_no_body(api):
    response = requests.head(api.url + '/v1/images/%s' % uuid.uuid4())
    assert response.status_code == 404
    assert response.content == b''


def test_405_error_has_the_standard_page(api):
    response = requests.post(api.url + '/v1/images/detail',
                             headers={'Accept': 'application/json'})
    assert response.status_code == 405
    assert response.json()['code'] == '405 Method Not Allowed'


@pytest.mark.parametrize('path', ['/v1/images/%E9', '/%E9',
                                  '/v1/images/%E9/members',
                                  '/v1/shared-images/%FF', '/healthcheck%E9'])
def test_undecodable_path_never_answers_500(api, path):
    # spec §18 Q25: 400 (or 404), never 500.
    response = requests.get(api.url + path)
    assert response.status_code in (400, 404), response.text


# Scenario 143: who is an admin ---------------------------------------------

@pytest.mark.parametrize('role', ['admin', 'Admin', 'ADMIN', ' aDmIn '])
def test_admin_role_in_any_case_makes_an_admin(trusted, role):
    # Only admins may set another owner (spec §5.1).
    response = requests.post(trusted.url + '/v1/images', headers=dict(
        _who('t1', 'member,%s' % role),
        **{'x-image-meta-owner': 'someone-else'}))
    assert response.status_code == 201, response.text
    assert response.json()['image']['owner'] == 'someone-else'


def test_non_admin_cannot_set_another_owner(trusted):
    response = requests.post(trusted.url + '/v1/images', headers=dict(
        _who('t1', 'member'), **{'x-image-meta-owner': 'someone-else'}))
    assert response.status_code == 201
    assert response.json()['image']['owner'] == 't1'


def test_configured_admin_role_makes_an_admin(variant):
    response = requests.post(variant.url + '/v1/images', headers=dict(
        _who('t1', 'SuperUser', user='u9'),
        **{'x-image-meta-owner': 'someone-else'}))
    assert response.status_code == 201, response.text
    assert response.json()['image']['owner'] == 'someone-else'


def test_other_roles_are_not_admin_with_configured_admin_role(variant):
    response = requests.post(variant.url + '/v1/images', headers=dict(
        _who('t1', 'member', user='u9'),
        **{'x-image-meta-owner': 'someone-else'}))
    assert response.status_code == 201, response.text
    assert response.json()['image']['owner'] == 'u9'


def test_admin_lists_every_image_with_is_public_none(trusted):
    created = requests.post(trusted.url + '/v1/images', headers=dict(
        _who('hidden-tenant'), **{'x-image-meta-name': 'secret'}))
    image_id = created.json()['image']['id']
    response = requests.get(trusted.url + '/v1/images',
                            params={'is_public': 'none', 'limit': '1000'},
                            headers=_who('t1', 'Admin'))
    assert image_id in [i['id'] for i in response.json()['images']]


# Scenario 144: owner_is_tenant = false --------------------------------------

def test_owner_is_the_user_when_owner_is_not_tenant(variant):
    response = requests.post(variant.url + '/v1/images', headers=dict(
        _who('t1', user='u1'), **{'x-image-meta-name': 'of-u1'}))
    assert response.status_code == 201
    assert response.json()['image']['owner'] == 'u1'


def test_other_user_of_the_tenant_cannot_see_private_image(variant):
    created = requests.post(variant.url + '/v1/images', headers=dict(
        _who('t1', user='u1'), **{'x-image-meta-name': 'of-u1'}))
    url = variant.url + '/v1/images/' + created.json()['image']['id']
    assert requests.head(url, headers=_who('t1', user='u1')).status_code == (
        200)
    assert requests.head(url, headers=_who('t1', user='u2')).status_code == (
        404)


# The request log -----------------------------------------------------------

def _log_lines(srv, request_id, want=1):
    """The log lines naming this request id (the line is written when the
    response has been sent, so wait for it briefly)."""
    deadline = time.monotonic() + 5
    while True:
        lines = [line for line in srv.log().splitlines()
                 if 'glance_lite.api.requests' in line and
                 request_id in line]
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_request_log_has_one_line_per_request_with_its_details(api):
    body = b'x' * 123
    response = requests.post(api.url + '/v1/images', data=body, headers=dict(
        MINIMAL, **{'x-image-meta-name': 'logged'}))
    assert response.status_code == 201
    request_id = response.headers['x-openstack-request-id']
    time.sleep(0.3)
    lines = _log_lines(api, request_id)
    assert len(lines) == 1, lines
    line = lines[0]
    assert 'POST /v1/images ' in line
    assert 'status 201' in line
    assert 'in 123 B' in line
    assert 'out %d B' % len(response.content) in line
    assert re.search(r' [\d.]+ ms ', line)
    assert line.endswith('request_id ' + request_id)


def test_request_log_records_errors_with_their_status(api):
    image = str(uuid.uuid4())
    response = requests.get(api.url + '/v1/images/' + image)
    assert response.status_code == 404
    request_id = response.headers['x-openstack-request-id']
    lines = _log_lines(api, request_id)
    assert len(lines) == 1, lines
    assert 'GET /v1/images/%s status 404' % image in lines[0]
    assert 'out %d B' % len(response.content) in lines[0]


def test_request_log_records_the_callers_request_id(trusted):
    sent = 'logged-%s' % uuid.uuid4().hex
    response = requests.get(trusted.url + '/v1/images', headers=dict(
        _who('t1'), **{'X-Openstack-Request-ID': sent}))
    lines = _log_lines(trusted, 'req-' + sent)
    assert len(lines) == 1, lines
    assert 'GET /v1/images status 200' in lines[0]
    assert response.headers['x-openstack-request-id'] == 'req-' + sent


def test_request_log_records_requests_answered_before_v1(api):
    marker = uuid.uuid4().hex
    requests.get(api.url + '/versions/' + marker)
    requests.get(api.url + '/nothing-' + marker)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in api.log().splitlines()
                 if marker in line and 'glance_lite.api.requests' in line]
        if len(lines) == 2:
            break
        time.sleep(0.05)
    assert len(lines) == 2, lines
    # Each line is written once its answer is sent, by the thread that
    # served it: the second request's line may come first.
    versions, nothing = sorted(lines, key=lambda line: '/nothing-' in line)
    assert 'GET /versions/%s status 200' % marker in versions
    assert 'GET /nothing-%s status 300' % marker in nothing
    for line in lines:
        assert re.search(r'request_id req-[0-9a-f-]{36}$', line), line


def test_request_log_counts_streamed_response_bytes(api, image_id):
    response = requests.get(api.url + '/v1/images/' + image_id)
    assert response.status_code == 200
    lines = _log_lines(api, response.headers['x-openstack-request-id'])
    assert len(lines) == 1
    assert 'in 0 B out 100 B' in lines[0]


def test_every_request_is_logged_exactly_once(api):
    ids = []
    for method, path in (('GET', '/v1/images'), ('HEAD', '/v1/images'),
                         ('DELETE', '/v1/images/%s' % uuid.uuid4()),
                         ('PUT', '/v1/images/%s/members' % uuid.uuid4())):
        response = requests.request(method, api.url + path,
                                    data=json.dumps({'memberships': []}))
        ids.append(response.headers['x-openstack-request-id'])
    for request_id in ids:
        assert len(_log_lines(api, request_id)) == 1


# Identity headers (spec §4.1) ----------------------------------------------

def test_project_id_header_wins_over_tenant_id(trusted):
    response = requests.post(trusted.url + '/v1/images', headers={
        'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u1',
        'X-Project-Id': 'project-p', 'X-Tenant-Id': 'tenant-t'})
    assert response.status_code == 201, response.text
    assert response.json()['image']['owner'] == 'project-p'


def test_tenant_id_header_alone_gives_the_owner(trusted):
    response = requests.post(trusted.url + '/v1/images', headers={
        'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u1',
        'X-Tenant-Id': 'tenant-t'})
    assert response.status_code == 201, response.text
    assert response.json()['image']['owner'] == 'tenant-t'


def test_x_role_is_read_when_x_roles_is_absent(trusted):
    response = requests.post(trusted.url + '/v1/images', headers={
        'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u1',
        'X-Tenant-Id': 'tenant-t', 'X-Role': 'admin',
        'x-image-meta-owner': 'someone-else'})
    assert response.status_code == 201, response.text
    assert response.json()['image']['owner'] == 'someone-else'
