"""Tenancy in both authenticated flavors (spec §4, §10.3, §11, §15; §19
scenarios 40, 54, 55, 78, 93, 94, 104, 118, 119, 123-135, 137, 138, 141,
143, 144).

Every test runs twice: once against glance_lite in the ``trusted-auth``
flavor (identity sent as X-Identity-Status / X-Tenant-Id / X-User-Id /
X-Roles headers) and once in the ``keystone`` flavor, where the same
callers are real Keystone users with the same projects and roles and
send only an ``X-Auth-Token``. The ``env`` fixture hides the difference:
``env.call(method, who, path)`` calls as one of the accounts of
``ACCOUNTS``, ``env.project(alias)`` / ``env.user(alias)`` give the ids
the server sees (Keystone's ids in the keystone flavor).

Each flavor gets its own set of servers (``SERVERS``), started together
once per flavor: the list scenarios run on a server of their own, so the
counts are exact. The Keystone accounts this module needs beyond the
seeded ones (tenant3, tenant4, the roles role1 and superuser, system-
scoped callers) are created through Keystone's v3 API with the admin
token, idempotently.

Keystone expands implied roles (admin -> member -> reader): a Keystone
"member" token also carries "reader", an "admin" token also "manager",
"member" and "reader". The trusted headers name only the assigned role;
no assertion here depends on the implied ones.
"""

import hashlib
import html
import uuid

import pytest
import requests

from tests.functional import _parallel

pytestmark = pytest.mark.xdist_group('keystone')

FLAVORS = ['trusted-auth', 'keystone']

# alias -> (project alias or None, roles assigned on it). A None project
# is a caller without a tenant: trusted-auth sends no X-Tenant-Id, the
# keystone flavor uses a system-scoped token.
ACCOUNTS = {
    'admin': ('admin', ('admin',)),
    'sysadmin': (None, ('admin',)),
    'sysmember': (None, ('member',)),
    'user1': ('tenant1', ('member',)),
    'user1b': ('tenant1', ('member',)),
    'reader1': ('tenant1', ('reader',)),
    'role1user': ('tenant1', ('role1',)),
    'user2': ('tenant2', ('member',)),
    'user3': ('tenant3', ('member',)),
    'admin3': ('tenant3', ('admin',)),
    'user4': ('tenant4', ('member',)),
    'super4': ('tenant4', ('superuser',)),
}
# The Keystone user behind an alias, when it is not the alias itself.
KEYSTONE_USER = {'sysadmin': 'admin'}
# A caller with made-up identity headers (see Env.identity).
FORGED = 'forged'
# Created by this module (the others are seeded by tests/keystone.py).
EXTRA_PROJECTS = ('tenant3', 'tenant4')
EXTRA_ROLES = ('role1', 'superuser')
EXTRA_USERS = ('sysmember', 'user1b', 'role1user', 'user3', 'admin3',
               'user4', 'super4')

PROTECTION_RULES = """
[^x_owner_.*]
create = admin,member
read = admin,member
update = admin,member
delete = admin,member

[^x_readonly_.*]
create = admin
read = admin,member
update = admin
delete = admin

[^x_admin_.*]
create = admin
read = admin
update = admin
delete = admin

[^x_blind_.*]
create = @
read = admin
update = admin
delete = admin

[.*]
create = @
read = @
update = @
delete = @
"""

# name -> [DEFAULT] options of one server of each flavor.
SERVERS = {
    # Visibility, owners, members, protections, a property quota of 3
    # and a member quota of 3.
    'main': {'image_property_quota': 3, 'image_member_quota': 3},
    # The spec's quota scenarios with their own numbers.
    'tight': {'image_property_quota': 1, 'image_member_quota': 0},
    # user_storage_quota = 500 bytes; members unlimited.
    'storage': {'user_storage_quota': '500', 'image_member_quota': -1},
    # The list scenarios only (exact counts), with anonymous access.
    'lists': {'allow_anonymous_access': 'true'},
    # Owners are users; "superuser" is an admin role too.
    'by_user': {'owner_is_tenant': 'false', 'admin_role': 'superuser'},
    # Member policy rules overridden by MEMBER_POLICY (scenario 136).
    'member_policy': {},
}

# Scenario 136: nobody lists members, role1 may not change them, nobody
# may remove one.
MEMBER_POLICY = '''"get_members": "!"
"modify_member": "not role:role1"
"delete_member": "!"
'''

MINIMAL = {'x-image-meta-disk_format': 'raw',
           'x-image-meta-container_format': 'bare'}
DATA = b'tenancy image bytes' * 10
QUOTA_MEMBERS = ('The limit has been exceeded on the number of allowed '
                 'image members for this image. Attempted: %d, Maximum: %d')
QUOTA_PROPERTIES = ('The limit has been exceeded on the number of allowed '
                    'image properties. Attempted: %d, Maximum: %d')
NO_SHARE = 'No permission to share that image'


# -- Keystone accounts -----------------------------------------------------

class _KeystoneAdmin:
    """The Keystone v3 calls this module needs, with the admin token."""

    def __init__(self, keystone):
        self.keystone = keystone
        self.session = requests.Session()
        self.session.headers['X-Auth-Token'] = keystone.token('admin')

    def _call(self, method, path, expect_conflict=False, **kwargs):
        response = self.session.request(method, self.keystone.url + path,
                                        timeout=30, **kwargs)
        if expect_conflict and response.status_code == 409:
            return None
        assert response.status_code < 300, (
            '%s %s: %s %s\n%s' % (method, path, response.status_code,
                                  response.text, self.keystone.log()))
        return response.json() if response.content else None

    def ensure(self, collection, member, body, **query):
        """The id of the first match of query, created from body if none
        exists (or found again if another process just created it)."""
        found = self._call('GET', '/' + collection, params=query)
        if found[collection]:
            return found[collection][0]['id']
        created = self._call('POST', '/' + collection, expect_conflict=True,
                             json={member: body})
        if created is None:
            return self._call('GET', '/' + collection,
                              params=query)[collection][0]['id']
        return created[member]['id']

    def grant(self, path):
        self._call('PUT', path)


def _password(user):
    return '%s-tenancy-secret' % user


def _seed(keystone):
    """Projects, roles and users of ACCOUNTS that tests/keystone.py does
    not seed; returns (projects, users) as alias -> id."""
    admin = _KeystoneAdmin(keystone)
    domain = admin.ensure('domains', 'domain', {'name': 'Default'},
                          name='Default')
    projects = dict(keystone.projects)
    for name in EXTRA_PROJECTS:
        projects[name] = admin.ensure(
            'projects', 'project',
            {'name': name, 'domain_id': domain,
             'description': 'glance_lite tenancy tests'},
            name=name, domain_id=domain)
    roles = dict(keystone.roles)
    for name in EXTRA_ROLES:
        roles[name] = admin.ensure('roles', 'role', {'name': name},
                                   name=name)
    users = {name: creds.user_id for name, creds in keystone.users.items()}
    for name in EXTRA_USERS:
        project, assigned = ACCOUNTS[name]
        users[name] = admin.ensure(
            'users', 'user',
            {'name': name, 'domain_id': domain, 'enabled': True,
             'password': _password(name)},
            name=name, domain_id=domain)
        for role in assigned:
            if project is None:
                admin.grant('/system/users/%s/roles/%s'
                            % (users[name], roles[role]))
            else:
                admin.grant('/projects/%s/users/%s/roles/%s'
                            % (projects[project], users[name], roles[role]))
    return projects, users


def _system_token(keystone, user, password):
    auth = {'identity': {'methods': ['password'], 'password': {'user': {
        'name': user, 'domain': {'name': 'Default'},
        'password': password}}}, 'scope': {'system': {'all': True}}}
    response = requests.post(keystone.url + '/auth/tokens',
                             json={'auth': auth}, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers['X-Subject-Token']


def _keystone_options(keystone, delay_auth_decision):
    glance = keystone.glance
    options = {
        'www_authenticate_uri': keystone.url,
        'auth_url': keystone.url,
        'auth_type': 'password',
        'username': glance.username,
        'password': glance.password,
        'project_name': glance.project_name,
        'user_domain_name': 'Default',
        'project_domain_name': 'Default',
    }
    if delay_auth_decision:
        # No (or a bad) token reaches glance_lite as an anonymous caller.
        options['delay_auth_decision'] = 'true'
    return options


# -- the two flavors -------------------------------------------------------

class Env:
    """One flavor's servers and callers.

    ``call(method, who, path, server='main', headers=None, **kwargs)``:
    a request as account ``who`` (None: no identity at all).
    """

    def __init__(self, flavor, servers, projects, users, keystone=None):
        self.flavor = flavor
        self.servers = servers
        self._projects = projects
        self._users = users
        self._keystone = keystone
        self._tokens = {}
        self.session = requests.Session()

    def project(self, alias):
        return self._projects[alias]

    def user(self, alias):
        return self._users[alias]

    def identity(self, who):
        if who is None:
            return {}
        if who == FORGED:
            # Admin identity headers a client made up: trusted-auth does
            # not trust them without X-Identity-Status: Confirmed, and
            # keystonemiddleware replaces them after refusing the token.
            forged = {'X-Identity-Status': 'Invalid',
                      'X-Tenant-Id': self.project('tenant1'),
                      'X-User-Id': self.user('admin'), 'X-Roles': 'admin'}
            if self.flavor == 'keystone':
                forged.update({'X-Identity-Status': 'Confirmed',
                               'X-Auth-Token': 'not-a-token'})
            return forged
        if self.flavor == 'keystone':
            return {'X-Auth-Token': self._token(who)}
        project, roles = ACCOUNTS[who]
        headers = {'X-Identity-Status': 'Confirmed',
                   'X-User-Id': self.user(who),
                   'X-Roles': ','.join(roles)}
        if project is not None:
            headers['X-Tenant-Id'] = self.project(project)
        return headers

    def _token(self, who):
        if who not in self._tokens:
            ks = self._keystone
            name = KEYSTONE_USER.get(who, who)
            seeded = ks.users.get(name)
            password = seeded.password if seeded else _password(name)
            project = ACCOUNTS[who][0]
            if project is None:
                token = _system_token(ks, name, password)
            else:
                token = ks.token(name, password, project)
            self._tokens[who] = token
        return self._tokens[who]

    def url(self, server='main'):
        return self.servers[server].url

    def call(self, method, who, path, server='main', headers=None,
             **kwargs):
        all_headers = self.identity(who)
        all_headers.update(headers or {})
        return self.session.request(method, self.url(server) + path,
                                    headers=all_headers, timeout=60,
                                    **kwargs)


@pytest.fixture(scope='module', params=FLAVORS)
def env(request, tmp_path_factory):
    flavor = request.param
    rules = tmp_path_factory.mktemp('tenancy') / 'protections.conf'
    rules.write_text(PROTECTION_RULES)
    member_policy = rules.parent / 'member-policy.yaml'
    member_policy.write_text(MEMBER_POLICY)
    keystone = None
    if flavor == 'keystone':
        keystone = request.getfixturevalue('keystone')
        projects, users = _seed(keystone)
    else:
        projects = {name: name for name, _roles in ACCOUNTS.values()
                    if name is not None}
        projects.update({name: name for name in EXTRA_PROJECTS})
        users = {alias: KEYSTONE_USER.get(alias, alias)
                 for alias in ACCOUNTS}
    configs = []
    for name, options in SERVERS.items():
        config = {'paste_deploy': {'flavor': flavor},
                  'DEFAULT': dict(options)}
        if name == 'main':
            config['DEFAULT'].update({
                'property_protection_file': str(rules),
                'property_protection_rule_format': 'roles'})
        if name == 'member_policy':
            config['oslo_policy'] = {'policy_file': str(member_policy)}
        if keystone is not None:
            config['keystone_authtoken'] = _keystone_options(
                keystone, options.get('allow_anonymous_access') == 'true')
        configs.append(config)
    started = _parallel.start(*configs)
    try:
        yield Env(flavor, dict(zip(SERVERS, started)), projects, users,
                  keystone)
    finally:
        _parallel.stop(*started)


# -- helpers ---------------------------------------------------------------

def _text(response):
    """The answer's text with HTML entities decoded (error pages)."""
    return html.unescape(response.text)


def _create(env, who, server='main', public=False, data=None, name=None,
            expect=201, **meta):
    """POST an image as ``who``: reserved (no data) or uploaded.

    ``meta``: ``x-image-meta-<key>`` headers, ``property_<k>`` keys
    becoming ``x-image-meta-property-<k>``.
    """
    headers = {'x-image-meta-name': name or 'tenancy-%s' % uuid.uuid4(),
               'x-image-meta-is_public': str(public)}
    if data is not None:
        headers.update(MINIMAL)
        headers['Content-Type'] = 'application/octet-stream'
    for key, value in meta.items():
        if key.startswith('property_'):
            key = 'property-' + key[len('property_'):]
        headers['x-image-meta-' + key] = str(value)
    response = env.call('POST', who, '/v1/images', server, headers,
                        data=data)
    assert response.status_code == expect, response.text
    return response.json()['image'] if expect == 201 else response


def _path(image_id, member=None):
    path = '/v1/images/' + image_id
    if member is not None:
        path += '/members' + ('' if member == '' else '/' + member)
    return path


def _head(env, who, image_id, server='main'):
    return env.call('HEAD', who, _path(image_id), server)


def _meta(env, who, image_id, server='main'):
    """The x-image-meta-* headers of a HEAD that must succeed."""
    response = _head(env, who, image_id, server)
    assert response.status_code == 200, (who, response.status_code)
    return {key.lower(): value for key, value in response.headers.items()
            if key.lower().startswith('x-image-meta-')}


def _properties(meta):
    prefix = 'x-image-meta-property-'
    return {key[len(prefix):]: value for key, value in meta.items()
            if key.startswith(prefix)}


def _listed(env, who, server='main', query='', detail=False):
    path = '/v1/images/detail' if detail else '/v1/images'
    response = env.call('GET', who, path + query, server)
    assert response.status_code == 200, response.text
    return [image['id'] for image in response.json()['images']]


def _members(env, who, image_id, server='main'):
    response = env.call('GET', who, _path(image_id, ''), server)
    assert response.status_code == 200, response.text
    return response.json()['members']


def _add_member(env, who, image_id, member, server='main', can_share=None):
    body = None
    if can_share is not None:
        body = {'member': {'can_share': can_share}}
    return env.call('PUT', who, _path(image_id, member), server, json=body)


def _replace_members(env, who, image_id, members, server='main'):
    return env.call('PUT', who, _path(image_id, ''), server, json={
        'memberships': [{'member_id': m} for m in members]})


def _shared(env, who, member, server='main'):
    """GET /v1/shared-images/{member} as image id -> can_share; each
    image listed once."""
    response = env.call('GET', who, '/v1/shared-images/' + member, server)
    assert response.status_code == 200, response.text
    entries = response.json()['shared_images']
    shared = {entry['image_id']: entry['can_share'] for entry in entries}
    assert len(shared) == len(entries)
    return shared


def _put(env, who, image_id, server='main', **headers):
    return env.call('PUT', who, _path(image_id), server, headers={
        'x-image-meta-' + k.replace('property_', 'property-'): str(v)
        for k, v in headers.items()})


# -- visibility and mutability (§4.4) ------------------------------------

def test_private_image_is_invisible_to_other_tenants(env):
    image = _create(env, 'user1', data=DATA)
    path = _path(image['id'])
    tenant3 = env.project('tenant3')

    for who in ('user2', 'user3'):
        assert _head(env, who, image['id']).status_code == 404
        assert env.call('GET', who, path).status_code == 404
        assert _put(env, who, image['id'], name='stolen').status_code == 404
        assert env.call('DELETE', who, path).status_code == 404
        assert env.call('GET', who, path + '/members').status_code == 404
        assert _add_member(env, who, image['id'],
                           tenant3).status_code == 404
        assert env.call('DELETE', who,
                        path + '/members/' + tenant3).status_code == 404
        assert _replace_members(env, who, image['id'],
                                [tenant3]).status_code == 404
        assert image['id'] not in _listed(env, who)
        assert image['id'] not in _listed(env, who, detail=True,
                                          query='?is_public=none')

    # Nothing changed, and the owner's tenant still sees all of it.
    meta = _meta(env, 'user1', image['id'])
    assert meta['x-image-meta-name'] == image['name']
    assert meta['x-image-meta-owner'] == env.project('tenant1')
    assert meta['x-image-meta-status'] == 'active'
    assert _members(env, 'user1', image['id']) == []
    download = env.call('GET', 'user1b', path)
    assert download.status_code == 200
    assert download.content == DATA


def test_public_image_is_readable_but_not_mutable_by_others(env):
    """Scenario 104 (the reader is a member of another tenant)."""
    data = b'*' * 19
    image = _create(env, 'admin', public=True, data=data)
    path = _path(image['id'])

    first = env.call('GET', 'user2', path)
    assert first.status_code == 200
    assert first.content == data
    assert image['id'] in _listed(env, 'user2')
    refused = env.call('DELETE', 'user2', path)
    assert refused.status_code == 403
    assert 'Forbidden to delete image' in _text(refused)
    refused = _put(env, 'user2', image['id'], name='mine now')
    assert refused.status_code == 403
    assert 'Forbidden to update image' in _text(refused)
    # Not a sharer of the image: the member list is not theirs to change.
    refused = _add_member(env, 'user2', image['id'], env.project('tenant3'))
    assert refused.status_code == 404
    assert NO_SHARE in _text(refused)

    again = env.call('GET', 'user2', path)
    assert again.status_code == 200
    assert again.content == data
    meta = _meta(env, 'user2', image['id'])
    assert meta['x-image-meta-name'] == image['name']
    assert meta['x-image-meta-is_public'] == 'True'
    assert _members(env, 'admin', image['id']) == []


def test_only_admins_publicize(env):
    """publicize_image is admin-only (§4.5): on create and on update."""
    refused = _create(env, 'user1', public=True, expect=403)
    assert refused.status_code == 403
    image = _create(env, 'user1')
    assert _put(env, 'user1', image['id'],
                is_public='True').status_code == 403
    assert _meta(env, 'user1', image['id'])[
        'x-image-meta-is_public'] == 'False'
    assert _put(env, 'admin', image['id'],
                is_public='True').status_code == 200
    assert _meta(env, 'user2', image['id'])[
        'x-image-meta-is_public'] == 'True'


def test_owner_tenant_changes_and_deletes_its_image(env):
    image = _create(env, 'user1', data=DATA)

    # Any user of the owning tenant may change it.
    updated = _put(env, 'user1b', image['id'], name='renamed',
                   property_distro='ubuntu', min_ram=512)
    assert updated.status_code == 200, updated.text
    assert updated.json()['image']['name'] == 'renamed'
    meta = _meta(env, 'user1', image['id'])
    assert meta['x-image-meta-name'] == 'renamed'
    assert meta['x-image-meta-min_ram'] == '512'
    assert meta['x-image-meta-property-distro'] == 'ubuntu'

    deleted = env.call('DELETE', 'user1', _path(image['id']))
    assert deleted.status_code == 200
    # A deleted image is visible to admins only.
    assert _head(env, 'user1', image['id']).status_code == 404
    assert env.call('GET', 'user1', _path(image['id'])).status_code == 404
    assert image['id'] not in _listed(env, 'user1')
    assert _put(env, 'user1', image['id'], name='x').status_code == 404
    assert env.call('DELETE', 'user1', _path(image['id'])).status_code == (
        404)
    admin_view = _meta(env, 'admin', image['id'])
    assert admin_view['x-image-meta-status'] == 'deleted'
    assert admin_view['x-image-meta-deleted'] == 'True'
    refused = _put(env, 'admin', image['id'], name='x')
    assert refused.status_code == 403
    assert 'Forbidden to update deleted image.' in _text(refused)
    # With changes-since a deleted image is listed to its tenant only.
    since = '?changes-since=2000-01-01T00:00:00&name=renamed'
    response = env.call('GET', 'user1b', '/v1/images/detail' + since)
    assert [(i['id'], i['status'], i['deleted'])
            for i in response.json()['images']
            if i['id'] == image['id']] == [(image['id'], 'deleted', True)]
    assert image['id'] not in _listed(env, 'user2', query=since)


def test_admin_sees_and_changes_everything(env):
    image = _create(env, 'user1', data=DATA)
    path = _path(image['id'])

    # An admin of another tenant (admin3) and of the admin project alike.
    for admin in ('admin', 'admin3'):
        assert _head(env, admin, image['id']).status_code == 200
        assert env.call('GET', admin, path).content == DATA
        assert image['id'] in _listed(env, admin, query='?is_public=none')
        assert image['id'] not in _listed(env, admin)
    renamed = _put(env, 'admin3', image['id'], name='by admin3',
                   protected='True')
    assert renamed.status_code == 200, renamed.text
    meta = _meta(env, 'user1', image['id'])
    assert meta['x-image-meta-name'] == 'by admin3'
    assert meta['x-image-meta-protected'] == 'True'
    assert meta['x-image-meta-owner'] == env.project('tenant1')
    # Sharing someone else's image.
    tenant2 = env.project('tenant2')
    assert _add_member(env, 'admin', image['id'],
                       tenant2).status_code == 204
    assert _members(env, 'admin', image['id']) == [
        {'member_id': tenant2, 'can_share': False}]
    assert _head(env, 'user2', image['id']).status_code == 200
    # Deleting it once unprotected.
    assert _put(env, 'admin', image['id'],
                protected='False').status_code == 200
    assert env.call('DELETE', 'admin', path).status_code == 200
    assert _head(env, 'user1', image['id']).status_code == 404
    assert _head(env, 'user2', image['id']).status_code == 404


def test_size_and_checksum_of_an_active_image(env):
    """Scenario 78: the owner may not change them, an admin may."""
    image = _create(env, 'user1', data=DATA)
    checksum = hashlib.md5(DATA).hexdigest()
    assert image['checksum'] == checksum

    refused = _put(env, 'user1', image['id'], checksum='1234')
    assert refused.status_code == 403
    assert "Forbidden to modify 'checksum' of active image" in (
        _text(refused))
    refused = _put(env, 'user1', image['id'], size='12345')
    assert refused.status_code == 403
    assert "Forbidden to modify 'size' of active image" in _text(refused)
    meta = _meta(env, 'user1', image['id'])
    assert meta['x-image-meta-checksum'] == checksum
    assert meta['x-image-meta-size'] == str(len(DATA))

    assert _put(env, 'admin', image['id'], checksum='1234',
                size='12345').status_code == 200
    meta = _meta(env, 'user1', image['id'])
    assert meta['x-image-meta-checksum'] == '1234'
    assert meta['x-image-meta-size'] == '12345'


def test_owner_header_on_create(env):
    """Scenario 55 (the admin is admin3, admin of tenant3)."""
    tenant2 = env.project('tenant2')
    by_admin = _create(env, 'admin3', owner=tenant2)
    assert by_admin['owner'] == tenant2
    assert _meta(env, 'admin3', by_admin['id'])[
        'x-image-meta-owner'] == tenant2
    # It is tenant2's now: private to it, and changeable by it.
    assert _head(env, 'user3', by_admin['id']).status_code == 404
    assert _put(env, 'user2', by_admin['id'],
                name='ours').status_code == 200

    by_role1 = _create(env, 'role1user', owner=tenant2)
    assert by_role1['owner'] == env.project('tenant1')
    assert _meta(env, 'role1user', by_role1['id'])[
        'x-image-meta-owner'] == env.project('tenant1')
    assert _head(env, 'user2', by_role1['id']).status_code == 404


def test_owner_header_on_update(env):
    """Scenario 93."""
    tenant1, tenant2 = env.project('tenant1'), env.project('tenant2')
    image = _create(env, 'role1user')
    assert image['owner'] == tenant1

    kept = _put(env, 'role1user', image['id'], owner=tenant2)
    assert kept.status_code == 200
    assert kept.json()['image']['owner'] == tenant1
    assert _meta(env, 'role1user', image['id'])[
        'x-image-meta-owner'] == tenant1

    moved = _put(env, 'admin3', image['id'], owner=tenant2)
    assert moved.status_code == 200
    assert moved.json()['image']['owner'] == tenant2
    assert _meta(env, 'user2', image['id'])['x-image-meta-owner'] == tenant2
    assert _head(env, 'role1user', image['id']).status_code == 404
    assert _put(env, 'user2', image['id'], name='moved').status_code == 200


def test_reader_reads_but_cannot_write(env):
    """Keystone's reader-only callers are read-only (docs/behaviour.md);
    reader1 is in tenant1, the image's tenant."""
    image = _create(env, 'user1', data=DATA, property_a='1')
    path = _path(image['id'])
    tenant2 = env.project('tenant2')
    assert _add_member(env, 'user1', image['id'],
                       tenant2).status_code == 204

    assert env.call('GET', 'reader1', path).content == DATA
    assert _meta(env, 'reader1', image['id'])['x-image-meta-name'] == (
        image['name'])
    assert image['id'] in _listed(env, 'reader1')
    assert _members(env, 'reader1', image['id']) == [
        {'member_id': tenant2, 'can_share': False}]

    refusals = [
        _create(env, 'reader1', expect=403),
        _create(env, 'reader1', data=DATA, expect=403),
        _put(env, 'reader1', image['id'], name='x'),
        env.call('DELETE', 'reader1', path),
        _add_member(env, 'reader1', image['id'], env.project('tenant3')),
        _replace_members(env, 'reader1', image['id'], []),
        env.call('DELETE', 'reader1', path + '/members/' + tenant2),
    ]
    assert [r.status_code for r in refusals] == [403] * len(refusals)

    meta = _meta(env, 'user1', image['id'])
    assert meta['x-image-meta-name'] == image['name']
    assert meta['x-image-meta-status'] == 'active'
    assert _properties(meta) == {'a': '1'}
    assert _members(env, 'user1', image['id']) == [
        {'member_id': tenant2, 'can_share': False}]


# -- lists (§10.3) ---------------------------------------------------------

def test_lists_are_scoped_by_caller(env):
    """Scenarios 118, 119 and 141 on a server of their own: eight images,
    owners admin, tenant1, tenant2 and none, each public and private."""
    owners = {'admin': env.project('admin'),
              'tenant1': env.project('tenant1'),
              'tenant2': env.project('tenant2')}
    images = {}
    for public in (True, False):
        kind = 'public' if public else 'private'
        for alias, owner in owners.items():
            images[alias, kind] = _create(env, 'admin', 'lists', public,
                                          owner=owner)['id']
        # An admin without a tenant creates images without an owner.
        none = _create(env, 'sysadmin', 'lists', public)
        assert none['owner'] is None
        images['none', kind] = none['id']
    public = {images[o, 'public'] for o in ('admin', 'tenant1', 'tenant2',
                                            'none')}
    private = {images[o, 'private'] for o in ('admin', 'tenant1', 'tenant2',
                                              'none')}

    def listed(who, query=''):
        ids = _listed(env, who, 'lists', query)
        assert sorted(ids) == sorted(_listed(env, who, 'lists', query,
                                             detail=True))
        assert len(ids) == len(set(ids))
        return set(ids)

    # Non-admins: public, own, shared; is_public is ignored (119).
    tenant1_view = public | {images['tenant1', 'private']}
    for query in ('', '?is_public=False', '?is_public=none',
                  '?is_public=true'):
        assert listed('user1', query) == tenant1_view
    assert listed('user4') == public
    assert listed('user4', '?is_public=none') == public
    # An admin without a tenant.
    assert listed('sysadmin') == public
    assert listed('sysadmin', '?is_public=none') == public | private
    assert listed('sysadmin', '?is_public=true') == public
    assert listed('sysadmin', '?is_public=false') == private
    # An admin of the admin tenant.
    admin_view = public | {images['admin', 'private']}
    assert listed('admin') == admin_view
    assert listed('admin', '?is_public=none') == public | private
    assert listed('admin', '?is_public=true') == admin_view
    assert listed('admin', '?is_public=false') == private

    # An image without an owner is visible to everyone by id (§4.4), yet
    # only listed when public.
    assert _head(env, 'user4', images['none', 'private'],
                 'lists').status_code == 200
    assert _head(env, 'user4', images['tenant1', 'private'],
                 'lists').status_code == 404

    # Scenario 141: without identity, read-only access to public images.
    assert listed(None) == public
    assert _head(env, None, images['tenant1', 'public'],
                 'lists').status_code == 200
    assert _head(env, None, images['tenant1', 'private'],
                 'lists').status_code == 404
    refused = _create(env, None, 'lists', expect=403)
    assert 'Read-only access' in _text(refused)
    refused = env.call('DELETE', None, _path(images['none', 'public']),
                       'lists')
    assert refused.status_code == 403
    assert 'Read-only access' in _text(refused)
    refused = _add_member(env, None, images['none', 'public'], 'x',
                          'lists')
    assert refused.status_code == 403
    assert 'Read-only access' in _text(refused)
    # Made-up identity headers count for nothing.
    assert listed(FORGED) == public
    assert _head(env, FORGED, images['tenant1', 'private'],
                 'lists').status_code == 404
    refused = _create(env, FORGED, 'lists', expect=403)
    assert 'Read-only access' in _text(refused)

    # Visible is not mutable: the image without an owner is nobody's.
    refused = _put(env, 'user4', images['none', 'private'], 'lists',
                   name='mine')
    assert refused.status_code == 403
    assert 'Forbidden to update image' in _text(refused)
    refused = env.call('DELETE', 'user4', _path(images['none', 'private']),
                       'lists')
    assert refused.status_code == 403
    refused = _add_member(env, 'user4', images['none', 'private'],
                          env.project('tenant4'), 'lists')
    assert refused.status_code == 404
    assert NO_SHARE in _text(refused)
    assert listed('sysadmin', '?is_public=none') == public | private
    assert _meta(env, 'admin', images['none', 'private'], 'lists')[
        'x-image-meta-name'] != 'mine'

    # An admin lists as a user of its tenant: shared images included.
    shared = images['tenant2', 'private']
    assert _add_member(env, 'user2', shared, env.project('admin'),
                       'lists').status_code == 204
    assert listed('admin') == admin_view | {shared}
    assert listed('admin', '?is_public=true') == admin_view | {shared}
    assert listed('user1') == tenant1_view
    # docs/behaviour.md (Q12): a caller without an owner also lists every
    # image that has a member.
    assert listed('sysadmin') == public | {shared}


# -- members and sharing (§11) -----------------------------------------

def test_members_flow_between_tenants(env):
    """Scenarios 123, 124, 133, 134, 135, 137 and the can_share false half
    of 138."""
    tenant2, tenant3 = env.project('tenant2'), env.project('tenant3')
    image = _create(env, 'user1', data=DATA)
    path = _path(image['id'])

    assert image['id'] not in _shared(env, 'user2', tenant2)
    assert _add_member(env, 'user1', image['id'], tenant2).status_code == (
        204)

    # tenant2 reads it and finds it in its lists...
    assert image['id'] in _listed(env, 'user2')
    assert image['id'] in _listed(env, 'user2', detail=True)
    assert _meta(env, 'user2', image['id'])['x-image-meta-owner'] == (
        env.project('tenant1'))
    assert env.call('GET', 'user2', path).content == DATA
    assert _members(env, 'user2', image['id']) == [
        {'member_id': tenant2, 'can_share': False}]
    assert _shared(env, 'user2', tenant2)[image['id']] is False
    # ...but cannot change it (Q1) or its members.
    refused = _put(env, 'user2', image['id'], name='x')
    assert refused.status_code == 403
    assert 'Forbidden to update image' in _text(refused)
    refused = env.call('DELETE', 'user2', path)
    assert refused.status_code == 403
    assert 'Forbidden to delete image' in _text(refused)
    for refused in (_add_member(env, 'user2', image['id'], tenant3),
                    env.call('DELETE', 'user2',
                             path + '/members/' + tenant2),
                    _replace_members(env, 'user2', image['id'], [])):
        assert refused.status_code == 404
        assert NO_SHARE in _text(refused)
    # tenant3 is not a member.
    assert _head(env, 'user3', image['id']).status_code == 404
    assert env.call('GET', 'user3', path).status_code == 404
    assert env.call('GET', 'user3', path + '/members').status_code == 404
    assert image['id'] not in _listed(env, 'user3')

    # A second member: the owner lists both, in order; each member itself.
    assert _add_member(env, 'user1', image['id'], tenant3).status_code == (
        204)
    assert _members(env, 'user1', image['id']) == [
        {'member_id': tenant2, 'can_share': False},
        {'member_id': tenant3, 'can_share': False}]
    assert _members(env, 'user2', image['id']) == [
        {'member_id': tenant2, 'can_share': False}]
    assert _members(env, 'user3', image['id']) == [
        {'member_id': tenant3, 'can_share': False}]
    # Other members' memberships are not shown to tenant3; the owner's
    # are.
    assert image['id'] not in _shared(env, 'user3', tenant2)
    assert _shared(env, 'user3', tenant3)[image['id']] is False
    assert _shared(env, 'user1', tenant2)[image['id']] is False
    assert _shared(env, 'admin', tenant3)[image['id']] is False

    assert env.call('DELETE', 'user1',
                    path + '/members/' + tenant3).status_code == 204
    again = env.call('DELETE', 'user1', path + '/members/' + tenant3)
    assert again.status_code == 404
    assert 'Membership could not be found.' in _text(again)
    assert _head(env, 'user3', image['id']).status_code == 404

    assert env.call('DELETE', 'user1',
                    path + '/members/' + tenant2).status_code == 204
    assert _head(env, 'user2', image['id']).status_code == 404
    assert env.call('GET', 'user2', path).status_code == 404
    assert image['id'] not in _listed(env, 'user2')
    assert image['id'] not in _shared(env, 'user2', tenant2)
    assert image['id'] not in _shared(env, 'user1', tenant2)
    assert _members(env, 'user1', image['id']) == []


def test_can_share_delegates_member_management(env):
    """Scenarios 129 and 138."""
    tenant2, tenant3 = env.project('tenant2'), env.project('tenant3')
    tenant4 = env.project('tenant4')
    image = _create(env, 'user1')
    path = _path(image['id'])

    assert _add_member(env, 'user1', image['id'], tenant2,
                       can_share=True).status_code == 204
    assert _members(env, 'user1', image['id']) == [
        {'member_id': tenant2, 'can_share': True}]
    assert _add_member(env, 'user2', image['id'], tenant3).status_code == (
        204)
    assert _meta(env, 'user3', image['id'])['x-image-meta-id'] == (
        image['id'])
    assert _members(env, 'user1', image['id']) == [
        {'member_id': tenant2, 'can_share': True},
        {'member_id': tenant3, 'can_share': False}]

    # tenant3 may not share further (two members: under the quota of 3).
    refused = _add_member(env, 'user3', image['id'], tenant4)
    assert refused.status_code == 404
    assert NO_SHARE in _text(refused)
    assert _head(env, 'user4', image['id']).status_code == 404
    # Sharing is not ownership.
    assert _put(env, 'user2', image['id'], name='x').status_code == 403
    assert env.call('DELETE', 'user2', path).status_code == 403

    # A sharing member still sees only its own membership.
    assert _members(env, 'user2', image['id']) == [
        {'member_id': tenant2, 'can_share': True}]
    assert _shared(env, 'user2', tenant2)[image['id']] is True

    assert env.call('DELETE', 'user2',
                    path + '/members/' + tenant3).status_code == 204
    assert _head(env, 'user3', image['id']).status_code == 404
    assert _members(env, 'user1', image['id']) == [
        {'member_id': tenant2, 'can_share': True}]

    # Re-adding without a body keeps can_share; the owner can revoke it.
    assert _add_member(env, 'user1', image['id'], tenant2).status_code == (
        204)
    assert _members(env, 'user1', image['id']) == [
        {'member_id': tenant2, 'can_share': True}]
    assert _add_member(env, 'user1', image['id'], tenant2,
                       can_share=False).status_code == 204
    refused = _add_member(env, 'user2', image['id'], tenant3)
    assert refused.status_code == 404
    assert NO_SHARE in _text(refused)
    assert _head(env, 'user3', image['id']).status_code == 404


def test_members_of_deleted_and_unknown_images(env):
    """Scenarios 126, 127, 128 and 131."""
    tenant2 = env.project('tenant2')
    image = _create(env, 'user1')
    path = _path(image['id'])
    assert _add_member(env, 'user1', image['id'], tenant2).status_code == (
        204)

    # 131: a body without "memberships".
    bad = env.call('PUT', 'user1', path + '/members', json={
        'image_memberships': {'member_id': tenant2}})
    assert bad.status_code == 400
    # 127: a non-admin caller without a tenant.
    for response in (_add_member(env, 'sysmember', image['id'], 'x'),
                     _replace_members(env, 'sysmember', image['id'], ['x']),
                     env.call('DELETE', 'sysmember',
                              path + '/members/' + tenant2)):
        assert response.status_code == 401
        assert 'No authenticated user' in _text(response)

    assert env.call('DELETE', 'admin', path).status_code == 200
    gone = 'Image with identifier %s has been deleted.' % image['id']
    for response in (
            env.call('GET', 'admin', path + '/members'),
            env.call('PUT', 'admin', path + '/members', json={
                'memberships': [{'member_id': tenant2,
                                 'can_share': 'false'}]}),
            _add_member(env, 'admin', image['id'], 'chickenpattie'),
            env.call('DELETE', 'admin', path + '/members/' + tenant2)):
        assert response.status_code == 404
        assert gone in _text(response)
    # The owner and the member no longer see it at all.
    assert env.call('GET', 'user1', path + '/members').status_code == 404
    assert env.call('GET', 'user2', path + '/members').status_code == 404

    unknown = str(uuid.uuid4())
    for response in (
            _add_member(env, 'admin', unknown, 'x'),
            _replace_members(env, 'admin', unknown, ['x']),
            env.call('DELETE', 'admin', _path(unknown, 'x')),
            env.call('GET', 'admin', _path(unknown, ''))):
        assert response.status_code == 404


def test_member_quota(env):
    """Scenarios 125 and 132 with a quota of 3, 130 with 0 and -1."""
    members = ['%s-m%d' % (env.flavor, i) for i in range(4)]
    image = _create(env, 'user1')

    over = _replace_members(env, 'user1', image['id'], members)
    assert over.status_code == 413
    assert QUOTA_MEMBERS % (4, 3) in _text(over)
    assert _members(env, 'user1', image['id']) == []
    assert _replace_members(env, 'user1', image['id'],
                            members[:3]).status_code == 204
    over = _add_member(env, 'user1', image['id'], members[3])
    assert over.status_code == 413
    assert QUOTA_MEMBERS % (4, 3) in _text(over)
    # Updating an existing member never trips the quota (docs, Q8).
    assert _add_member(env, 'user1', image['id'], members[0],
                       can_share=True).status_code == 204
    over = _replace_members(env, 'user1', image['id'], members[1:] + ['x'])
    assert over.status_code == 413
    assert _members(env, 'user1', image['id']) == [
        {'member_id': members[0], 'can_share': True},
        {'member_id': members[1], 'can_share': False},
        {'member_id': members[2], 'can_share': False}]

    none_allowed = _create(env, 'user1', 'tight')
    over = _add_member(env, 'user1', none_allowed['id'], members[0],
                       'tight')
    assert over.status_code == 413
    assert QUOTA_MEMBERS % (1, 0) in _text(over)
    assert _members(env, 'user1', none_allowed['id'], 'tight') == []

    unlimited = _create(env, 'user1', 'storage')
    assert _add_member(env, 'user1', unlimited['id'], members[0],
                       'storage').status_code == 204
    assert _replace_members(env, 'user1', unlimited['id'],
                            ['foo1', 'foo2'], 'storage').status_code == 204
    assert _members(env, 'user1', unlimited['id'], 'storage') == [
        {'member_id': 'foo1', 'can_share': False},
        {'member_id': 'foo2', 'can_share': False}]


def test_member_policy_rules(env):
    """Scenario 136: get_members, modify_member and delete_member each
    refused by the policy file; the other calls still work."""
    server = 'member_policy'
    image = _create(env, 'user1', server)

    listed = env.call('GET', 'user1', _path(image['id'], ''), server)
    assert listed.status_code == 403
    assert _add_member(env, 'role1user', image['id'], 'x',
                       server).status_code == 403
    assert _replace_members(env, 'role1user', image['id'], ['x'],
                            server).status_code == 403
    assert _add_member(env, 'user1', image['id'], 'kept',
                       server).status_code == 204
    removed = env.call('DELETE', 'user1', _path(image['id'], 'kept'),
                       server)
    assert removed.status_code == 403
    assert _shared(env, 'user1', 'kept', server) == {image['id']: False}


# -- property quota (§15.2) --------------------------------------------

def test_property_quota(env):
    """Scenarios 54 and 94 (quota 1), 94's second half with a quota of
    3 instead of 2."""
    name = 'quota-%s' % uuid.uuid4()
    over = _create(env, 'user1', 'tight', name=name, property_a='1',
                   property_b='2', expect=413)
    assert QUOTA_PROPERTIES % (2, 1) in _text(over)
    assert _listed(env, 'user1', 'tight', '?name=' + name) == []

    image = _create(env, 'user1', 'tight', property_a='1')
    over = env.call('PUT', 'user1', _path(image['id']), 'tight', headers={
        'x-image-meta-property-b': '2',
        'x-glance-registry-purge-props': 'False'})
    assert over.status_code == 413
    assert QUOTA_PROPERTIES % (2, 1) in _text(over)
    over = _put(env, 'user1', image['id'], 'tight', property_b='2',
                property_c='3')
    assert over.status_code == 413
    assert QUOTA_PROPERTIES % (2, 1) in _text(over)
    assert _properties(_meta(env, 'user1', image['id'], 'tight')) == {
        'a': '1'}

    image = _create(env, 'user1', property_x_all_permitted_create='1',
                    property_y='1')
    kept = env.call('PUT', 'user1', _path(image['id']), headers={
        'x-image-meta-property-x_all_permitted_create': '3',
        'x-image-meta-property-x_all_permitted': '1',
        'x-glance-registry-purge-props': 'False'})
    assert kept.status_code == 200, kept.text
    expected = {'x_all_permitted_create': '3', 'x_all_permitted': '1',
                'y': '1'}
    assert kept.json()['image']['properties'] == expected
    over = env.call('PUT', 'user1', _path(image['id']), headers={
        'x-image-meta-property-z': '1',
        'x-glance-registry-purge-props': 'False'})
    assert over.status_code == 413
    assert QUOTA_PROPERTIES % (4, 3) in _text(over)
    assert _properties(_meta(env, 'user1', image['id'])) == expected


# -- storage quota (§15.3) ---------------------------------------------

def _killed(env, who, name):
    """Statuses of the images named ``name`` that ``who`` can list,
    killed ones included."""
    response = env.call('GET', who, '/v1/images/detail?changes-since='
                        '2000-01-01T00:00:00&name=' + name, 'storage')
    assert response.status_code == 200
    return [image['status'] for image in response.json()['images']]


def test_storage_quota_is_per_owner(env):
    """Scenario 40: user_storage_quota = 500 bytes, counted per owner
    (tenant)."""
    srv = env.servers['storage']
    stored = len(srv.stored_files())

    name = 'over-%s' % uuid.uuid4()
    over = _create(env, 'user1', 'storage', name=name, data=b'x' * 501,
                   expect=413)
    assert over.status_code == 413
    assert _killed(env, 'user1', name) == ['killed']
    name = 'declared-%s' % uuid.uuid4()
    over = _create(env, 'user1', 'storage', name=name, data=b'x' * 501,
                   size=501, expect=413)
    assert 'exceeds the quota' in _text(over)
    assert _killed(env, 'user1', name) == ['killed']
    assert len(srv.stored_files()) == stored

    first = _create(env, 'user1', 'storage', data=b'a' * 300)
    assert first['status'] == 'active'
    # 200 bytes remain for tenant1, whoever of it uploads.
    name = 'remainder-%s' % uuid.uuid4()
    over = _create(env, 'user1b', 'storage', name=name, data=b'b' * 201,
                   size=201, expect=413)
    assert 'exceeds the quota' in _text(over)
    assert _killed(env, 'user1', name) == ['killed']
    queued = _create(env, 'user1', 'storage')
    over = env.call('PUT', 'user1', _path(queued['id']), 'storage',
                    headers=dict(MINIMAL, **{
                        'Content-Type': 'application/octet-stream'}),
                    data=b'c' * 201)
    assert over.status_code == 413
    assert _meta(env, 'user1', queued['id'], 'storage')[
        'x-image-meta-status'] == 'killed'
    exact = _create(env, 'user1b', 'storage', data=b'd' * 200)
    assert exact['status'] == 'active'
    assert exact['size'] == 200
    _create(env, 'user1', 'storage', data=b'e', expect=413)

    # Another tenant has its own 500 bytes.
    other = _create(env, 'user2', 'storage', data=b'f' * 500)
    assert other['status'] == 'active'
    assert env.call('GET', 'user2', _path(other['id']),
                    'storage').content == b'f' * 500

    # Deleting frees the space again.
    assert env.call('DELETE', 'user1', _path(first['id']),
                    'storage').status_code == 200
    again = _create(env, 'user1', 'storage', data=b'g' * 300)
    assert again['status'] == 'active'
    assert len(srv.stored_files()) == stored + 3


def test_storage_quota_without_an_owner(env):
    """An admin without a tenant (the no-auth flavor's caller, scenario 40's
    setting) is held to the quota too; such a caller has no usage
    (§15.3)."""
    name = 'ownerless-%s' % uuid.uuid4()
    over = _create(env, 'sysadmin', 'storage', name=name, data=b'x' * 501,
                   expect=413)
    assert over.status_code == 413
    response = env.call('GET', 'sysadmin', '/v1/images/detail?is_public=none'
                        '&changes-since=2000-01-01T00:00:00&name=' + name,
                        'storage')
    assert [i['status'] for i in response.json()['images']] == ['killed']
    for _attempt in range(2):
        image = _create(env, 'sysadmin', 'storage', data=b'y' * 500)
        assert image['owner'] is None
        assert image['status'] == 'active'


# -- property protections (§15.1) --------------------------------------

def test_property_protections_by_role(env):
    """Roles come from the headers, or from Keystone."""
    refused = _create(env, 'user1', property_x_admin_secret='1',
                      expect=403)
    assert "Property 'x_admin_secret' is protected" in _text(refused)

    image = _create(env, 'admin', owner=env.project('tenant1'), data=DATA,
                    property_x_admin_secret='s', property_x_owner_note='n',
                    property_free='f')
    image_id = image['id']

    # Unreadable properties are hidden from HEAD, GET and the detail list.
    assert _properties(_meta(env, 'user1', image_id)) == {
        'x_owner_note': 'n', 'free': 'f'}
    download = env.call('GET', 'user1', _path(image_id))
    assert download.content == DATA
    assert _properties({k.lower(): v for k, v in download.headers.items()}
                       ) == {'x_owner_note': 'n', 'free': 'f'}
    assert _properties(_meta(env, 'role1user', image_id)) == {'free': 'f'}
    detail = env.call('GET', 'user1', '/v1/images/detail').json()['images']
    assert [i['properties'] for i in detail if i['id'] == image_id] == [
        {'x_owner_note': 'n', 'free': 'f'}]

    # An unreadable property can be neither changed nor created over.
    refused = env.call('PUT', 'user1', _path(image_id), headers={
        'x-image-meta-property-x_admin_secret': 't',
        'x-glance-registry-purge-props': 'False'})
    assert refused.status_code == 403
    assert "Property 'x_admin_secret' is protected" in _text(refused)

    # Purging (the default) keeps the unreadable property, removes the
    # readable deletable one; the answer hides what the caller can't read.
    purged = _put(env, 'user1', image_id, name='renamed',
                  property_x_owner_note='n2')
    assert purged.status_code == 200, purged.text
    assert purged.json()['image']['properties'] == {'x_owner_note': 'n2'}
    assert _properties(_meta(env, 'admin', image_id)) == {
        'x_admin_secret': 's', 'x_owner_note': 'n2'}
    # role1 reads neither: its purge keeps both.
    purged = _put(env, 'role1user', image_id, property_free='again')
    assert purged.status_code == 200, purged.text
    assert purged.json()['image']['properties'] == {'free': 'again'}
    assert _properties(_meta(env, 'admin', image_id)) == {
        'x_admin_secret': 's', 'x_owner_note': 'n2', 'free': 'again'}


def test_property_created_but_not_readable(env):
    """The POST answer is filtered too (§15.1 SHOULD)."""
    image = _create(env, 'user1', property_x_blind_b='b', property_free='f')
    assert image['properties'] == {'free': 'f'}
    assert _properties(_meta(env, 'user1', image['id'])) == {'free': 'f'}
    assert _properties(_meta(env, 'admin', image['id'])) == {
        'x_blind_b': 'b', 'free': 'f'}
    # Resending it is an update of an unreadable property.
    refused = env.call('PUT', 'user1', _path(image['id']), headers={
        'x-image-meta-property-x_blind_b': 'b',
        'x-glance-registry-purge-props': 'False'})
    assert refused.status_code == 403


def test_read_only_property(env):
    image = _create(env, 'admin', owner=env.project('tenant1'),
                    property_x_readonly_a='1')
    image_id = image['id']
    purge_off = {'x-glance-registry-purge-props': 'False'}

    changed = env.call('PUT', 'user1', _path(image_id), headers=dict(
        purge_off, **{'x-image-meta-property-x_readonly_a': '2'}))
    assert changed.status_code == 403
    same = env.call('PUT', 'user1', _path(image_id), headers=dict(
        purge_off, **{'x-image-meta-property-x_readonly_a': '1'}))
    assert same.status_code == 200
    # Purging it away needs "delete".
    removed = _put(env, 'user1', image_id, name='x')
    assert removed.status_code == 403
    assert _properties(_meta(env, 'user1', image_id)) == {
        'x_readonly_a': '1'}
    assert _put(env, 'admin', image_id, property_x_readonly_a='3'
                ).status_code == 200
    assert _properties(_meta(env, 'user1', image_id)) == {
        'x_readonly_a': '3'}


# -- owner_is_tenant = false, admin_role (§4.2, §4.1) ---------------------

def test_owner_is_the_user_when_owner_is_tenant_is_false(env):
    """Scenario 144, and 143's admin_role = superuser."""
    image = _create(env, 'user1', 'by_user', data=DATA)
    assert image['owner'] == env.user('user1')
    path = _path(image['id'])

    # Another user of the same tenant is a stranger.
    assert _head(env, 'user1b', image['id'], 'by_user').status_code == 404
    assert env.call('GET', 'user1b', path, 'by_user').status_code == 404
    assert _put(env, 'user1b', image['id'], 'by_user',
                name='x').status_code == 404
    assert image['id'] not in _listed(env, 'user1b', 'by_user')
    assert image['id'] in _listed(env, 'user1', 'by_user')
    assert env.call('GET', 'user1', path, 'by_user').content == DATA

    # Members are users too.
    assert _add_member(env, 'user1', image['id'], env.user('user1b'),
                       'by_user').status_code == 204
    assert env.call('GET', 'user1b', path, 'by_user').content == DATA
    assert image['id'] in _listed(env, 'user1b', 'by_user')
    assert _put(env, 'user1b', image['id'], 'by_user',
                name='x').status_code == 403

    # admin_role = superuser makes super4 an admin on this server only.
    assert _put(env, 'super4', image['id'], 'by_user',
                name='by superuser').status_code == 200
    assert _meta(env, 'user1', image['id'], 'by_user')[
        'x-image-meta-name'] == 'by superuser'
    elsewhere = _create(env, 'user1')
    assert _head(env, 'super4', elsewhere['id']).status_code == 404
