"""Property tests against a real glance-lite-api: whatever a client sends,
the answer is never a 5xx, and a refused (4xx) POST, PUT or DELETE leaves
the catalogue exactly as it was (spec §12.3, §18 Q3).

The server runs on the embedded defaults (noauth: every caller is an admin
without an owner), so the whole catalogue is visible to the checks.
"""

import http.client
import json
import string
import urllib.parse

from hypothesis import example
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
import pytest
import requests

from glance_lite.api import image_headers

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TIMEOUT = 30
CATALOGUE = ('/v1/images/detail?is_public=None&changes-since=2000-01-01'
             '&limit=1000')
MUTATING = ('POST', 'PUT', 'DELETE')
METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']
UNKNOWN_ID = '7b0b7a5e-1f0e-4c53-a7f5-2f3c1f9c0d11'

# Printable latin-1: what a header value can carry on the wire.
LATIN1_PRINTABLE = ''.join(
    chr(c) for c in list(range(0x20, 0x7f)) + list(range(0xa0, 0x100)))
# Characters of an HTTP header name (RFC 9110 token).
TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
# Anything http.client sends in a header name: no ':' and no whitespace.
NAME_CHARS = ''.join(c for c in LATIN1_PRINTABLE if c not in ': ')
# Characters a path segment may carry unencoded (RFC 3986 pchar, plus %).
PATH_CHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%"


class _RawResponse:

    def __init__(self, response):
        self.status_code = response.status
        self.content = response.read()
        self.text = self.content.decode('utf-8', 'replace')


def _raw_request(base, method, path, headers, data):
    """One request through http.client, which can send header names that
    are not ASCII (as latin-1 bytes)."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port,
                                            timeout=TIMEOUT)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name.encode('latin-1'),
                                 value.encode('latin-1'))
        connection.putheader('Content-Length', str(len(data or b'')))
        connection.endheaders(data or None)
        return _RawResponse(connection.getresponse())
    finally:
        connection.close()


# Any code point, unpaired surrogates included (JSON can carry them).
any_text = st.text(alphabet=st.characters(
    categories=['L', 'M', 'N', 'P', 'S', 'Z', 'C']), max_size=20)
EDGE_TEXT = ['', ' ', '\x00', '\ud800', 'a\udfff', '\U0001F600',
             '\u00e9', '%00', '%FF', 'x' * 256]
edge_text = st.one_of(st.sampled_from(EDGE_TEXT), any_text)


# -- the server and its catalogue -------------------------------------------

@pytest.fixture(scope='module')
def client(api):
    session = requests.Session()
    base = api.url

    def _create(headers, data=None):
        if data is not None:
            headers = dict(headers, **{
                'Content-Type': 'application/octet-stream'})
        response = session.post(base + '/v1/images', headers=headers,
                                data=data, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        return response.json()['image']['id']

    seeded = {
        'queued': _create({'x-image-meta-name': 'queued',
                           'x-image-meta-property-a': '1'}),
        'active': _create({'x-image-meta-name': 'active',
                           'x-image-meta-disk_format': 'raw',
                           'x-image-meta-container_format': 'bare',
                           'x-image-meta-is_public': 'true'},
                          data=b'12345'),
        'protected': _create({'x-image-meta-name': 'protected',
                              'x-image-meta-protected': 'true',
                              'x-image-meta-property-os_distro': 'x'}),
        'shared': _create({'x-image-meta-name': 'shared'}),
    }
    response = session.put(
        base + '/v1/images/%s/members' % seeded['shared'],
        data=json.dumps({'memberships': [
            {'member_id': 'tenant-a', 'can_share': True},
            {'member_id': 'tenant-b'}]}), timeout=TIMEOUT)
    assert response.status_code == 204, response.text
    deleted = _create({'x-image-meta-name': 'deleted'})
    assert session.delete(base + '/v1/images/' + deleted,
                          timeout=TIMEOUT).status_code == 200
    seeded['deleted'] = deleted

    class Client:
        url = base
        ids = seeded
        known = None

        def request(self, method, path, headers=None, **kwargs):
            headers = headers or {}
            if not all(name.isascii() for name in headers):
                # requests sends header names as ASCII only.
                return _raw_request(base, method, path, headers,
                                    kwargs.get('data'))
            kwargs.setdefault('timeout', TIMEOUT)
            return session.request(method, base + path, headers=headers,
                                   **kwargs)

        def catalogue(self):
            """Every image, deleted ones included, and the members of the
            images the member routes are aimed at."""
            response = self.request('GET', CATALOGUE)
            assert response.status_code == 200, response.text
            members = {}
            for image_id in self.ids.values():
                answer = self.request('GET',
                                      '/v1/images/%s/members' % image_id)
                members[image_id] = (answer.status_code,
                                     answer.json() if answer.ok else None)
            return response.json()['images'], members

    yield Client()
    session.close()


def check(client, method, path, **kwargs):
    """Send one request; never a 5xx; a refused change changes nothing."""
    before = None
    if method in MUTATING:
        # The catalogue as last verified, unless something may have
        # changed it since.
        before = client.known or client.catalogue()
    if method not in ('GET', 'HEAD'):
        client.known = None
    try:
        response = client.request(method, path, **kwargs)
    except requests.exceptions.InvalidHeader:
        # requests refuses to send it: nothing reached the server.
        client.known = before
        return None
    assert response.status_code < 500, (
        method, path, kwargs, response.status_code, response.text)
    if method in MUTATING and 400 <= response.status_code < 500:
        after = client.catalogue()
        assert after == before, (method, path, kwargs, response.status_code,
                                 response.text)
        client.known = after
    return response


def image_path(client, draw_key):
    if draw_key in client.ids:
        return '/v1/images/' + client.ids[draw_key]
    return '/v1/images/' + UNKNOWN_ID


IMAGE_KEYS = st.sampled_from(['queued', 'active', 'protected', 'shared',
                              'deleted', 'unknown'])


# -- x-image-meta-* headers -------------------------------------------------

latin1_text = st.text(alphabet=LATIN1_PRINTABLE, max_size=40).map(
    str.lstrip)
header_suffix = st.one_of(
    st.sampled_from(sorted(image_headers.ACCEPTED_FIELDS)),
    st.sampled_from(['Disk-Format', 'IS_PUBLIC', 'Min-Ram', 'property-',
                     'properties', 'foo', 'location', 'property-OS-Distro']),
    st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=20).map(
        lambda s: 'property-' + s),
    st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=20),
    st.text(alphabet=NAME_CHARS, min_size=1, max_size=20),
    st.text(alphabet=NAME_CHARS, min_size=1, max_size=20).map(
        lambda s: 'property-' + s),
)
header_value = st.one_of(
    latin1_text,
    st.sampled_from(['', '0', '-1', '2147483648', '9' * 25, 'None', 'true',
                     'aki', 'ari', 'ami', 'raw', 'bare', 'queued', 'active',
                     '2012-01-01', '-42', '%zz', '%FF', 'a%20b%20%C3%A9',
                     '%F0%9F%98%80', '%00', 'n' * 256, 'c' * 33,
                     'file:///etc/passwd', 'swift://x/y', 'bogus://x',
                     UNKNOWN_ID]),
    st.integers(min_value=-2 ** 70, max_value=2 ** 70).map(str),
)
meta_headers = st.dictionaries(
    header_suffix.map(lambda s: 'x-image-meta-' + s), header_value,
    max_size=6)


@given(headers=meta_headers,
       purge=st.sampled_from([None, 'true', 'false', 'banana']),
       target=st.sampled_from(['create'] + ['queued', 'active', 'protected',
                                            'shared', 'deleted', 'unknown']),
       body=st.one_of(st.none(), st.binary(max_size=64)))
@SETTINGS
def test_image_meta_headers(client, headers, purge, target, body):
    headers = dict(headers)
    if purge is not None:
        headers['x-glance-registry-purge-props'] = purge
    if body is not None:
        headers['Content-Type'] = 'application/octet-stream'
    if target == 'create':
        method, path = 'POST', '/v1/images'
    else:
        method, path = 'PUT', image_path(client, target)
    check(client, method, path, headers=headers, data=body)


# -- list query strings -----------------------------------------------------

query_key = st.one_of(
    st.sampled_from(['name', 'status', 'disk_format', 'container_format',
                     'size_min', 'size_max', 'min_ram', 'min_disk',
                     'protected', 'is_public', 'changes-since', 'limit',
                     'marker', 'sort_key', 'sort_dir', 'property-a',
                     'property-os_distro', 'owner', 'deleted']),
    edge_text)
query_value = st.one_of(
    edge_text,
    st.sampled_from(['', 'None', 'none', 'true', 'FALSE', '0', '1', '-1',
                     '9' * 30, str(2 ** 63), 'in:a,b', 'eq:x', 'foo:bar',
                     'name', 'size', 'asc', 'desc', 'up', UNKNOWN_ID,
                     '2000-01-01', '2000-01-01T00:00:00+02:00', 'queued',
                     'killed', 'deleted', '1e3', '%zz', '\x00', '\ud800']),
    st.integers(min_value=-2 ** 70, max_value=2 ** 70).map(str))


@given(params=st.lists(st.tuples(query_key, query_value), max_size=6),
       raw=st.one_of(st.none(), st.text(
           alphabet=string.printable.replace('#', '').replace(' ', '')
           .replace('\t', '').replace('\n', '').replace('\r', '')
           .replace('\x0b', '').replace('\x0c', ''), max_size=60)),
       detail=st.booleans(), marker=st.one_of(st.none(), IMAGE_KEYS))
@example(params=[('\ud800', '')], raw=None, detail=False, marker=None)
@example(params=[], raw='%FF', detail=True, marker=None)
@example(params=[('name', 'a')], raw='b=1;%FF', detail=False, marker=None)
@example(params=[('name', '\x00')], raw=None, detail=True, marker=None)
@SETTINGS
def test_list_query_strings(client, params, raw, detail, marker):
    if marker is not None:
        params = params + [('marker', client.ids.get(marker, UNKNOWN_ID))]
    query = urllib.parse.urlencode(
        [(k.encode('utf-8', 'surrogatepass'),
          v.encode('utf-8', 'surrogatepass')) for k, v in params])
    if raw:
        query = raw if not query else query + '&' + raw
    path = '/v1/images/detail' if detail else '/v1/images'
    response = check(client, 'GET', path + '?' + query)
    if response is not None and response.status_code == 200:
        body = response.json()
        assert isinstance(body['images'], list)


# -- member routes ----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(
        allow_nan=False) | edge_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        edge_text, children, max_size=3),
    max_leaves=8)
member_ids = st.one_of(st.sampled_from(['tenant-a', 'tenant-b', 'tenant-c']),
                       edge_text)
can_share = st.one_of(st.booleans(), st.none(), st.sampled_from(
    ['true', 'false', 'banana']), st.integers(), json_values)
member_bodies = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda s: s.encode('utf-8', 'surrogatepass')),
    json_values.map(json.dumps),
    st.fixed_dictionaries({'member': st.fixed_dictionaries(
        {'can_share': can_share})}).map(json.dumps),
    st.fixed_dictionaries({'memberships': st.lists(
        st.fixed_dictionaries({'member_id': member_ids},
                              optional={'can_share': can_share}),
        max_size=4)}).map(json.dumps),
    st.fixed_dictionaries({'memberships': json_values}).map(json.dumps),
)


@given(method=st.sampled_from(METHODS), target=IMAGE_KEYS,
       member=st.one_of(st.none(), member_ids), body=member_bodies,
       shared_images=st.booleans(),
       content_type=st.sampled_from([None, 'application/json',
                                     'text/plain']))
@example(method='PUT', target='shared', member=None, shared_images=False,
         body=json.dumps({'memberships': [{'member_id': '\ud800'}]}),
         content_type='application/json')
@example(method='PUT', target='queued', member='\x00', shared_images=False,
         body=None, content_type=None)
@SETTINGS
def test_member_routes(client, method, target, member, body, shared_images,
                       content_type):
    quoted = urllib.parse.quote(
        (member or '').encode('utf-8', 'surrogatepass'), safe='')
    if shared_images:
        path = '/v1/shared-images/' + (quoted or 'tenant-a')
    else:
        path = image_path(client, target) + '/members'
        if member is not None:
            path += '/' + quoted
    headers = {'Content-Type': content_type} if content_type else {}
    if isinstance(body, str):
        body = body.encode('utf-8')
    check(client, method, path, data=body, headers=headers)


# -- any path under /v1 -----------------------------------------------------

segment = st.one_of(
    st.sampled_from(['images', 'detail', 'members', 'shared-images', '',
                     '.', '..', '%2F', '%E9', '%zz', '%00', UNKNOWN_ID]),
    st.builds(lambda key: key, IMAGE_KEYS),
    edge_text.map(lambda s: urllib.parse.quote(
        s.encode('utf-8', 'surrogatepass'), safe='')),
    st.text(alphabet=PATH_CHARS, max_size=12))


@given(method=st.sampled_from(METHODS),
       segments=st.lists(segment, min_size=0, max_size=5),
       trailing_slash=st.booleans(),
       body=st.one_of(st.none(), st.binary(max_size=32)))
@SETTINGS
def test_any_path_under_v1(client, method, segments, trailing_slash, body):
    parts = [client.ids.get(s, s) if s in ('queued', 'active', 'protected',
                                           'shared', 'deleted') else s
             for s in segments]
    path = '/v1/' + '/'.join(parts) + ('/' if trailing_slash else '')
    check(client, method, path, data=body)
