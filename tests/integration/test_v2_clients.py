"""The Image API v2 through the clients the rest of a cloud uses, behind a
real Keystone (v2 spec §1–§15, §21): python-glanceclient's v2 bindings and
its ``glance`` command, python-openstackclient's ``openstack image`` and
openstacksdk's ``conn.image``. Each test is an image record's life cycle as
a user of that client would run it — create, show, list with filters,
update, tags, sharing with the member's answer, delete — and checks what
that user would: the image's fields and what the other project sees. The
image data tests upload and download through each client (v2 spec
§12: ``PUT``/``GET /v2/images/{id}/file``, ranges), deactivate and
reactivate (v2 spec §13), and move data between the v1 and v2 APIs
(v2 spec §21.8): sizes, MD5 and sha512 hashes, bytes and the HTTP answers
a user would see.

All tests are in the ``keystone`` xdist group: the catalog's image
endpoint is shared and points at this module's server.
"""

import hashlib
import io
import json
import os
import pty
import subprocess
import sys
import uuid

from glanceclient import Client
from glanceclient import exc as glance_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import openstack
import pytest
import requests

from tests import server as test_server

pytestmark = pytest.mark.xdist_group('keystone')

DATA = os.urandom(3 * 65536 + 4321)
MD5 = hashlib.md5(DATA).hexdigest()
SHA512 = hashlib.sha512(DATA).hexdigest()
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope='module')
def glance(keystone):
    account = keystone.glance
    srv = test_server.Server({
        'paste_deploy': {'flavor': 'keystone'},
        'keystone_authtoken': {
            'www_authenticate_uri': keystone.url,
            'auth_url': keystone.url,
            'auth_type': 'password',
            'username': account.username,
            'password': account.password,
            'project_name': account.project_name,
            'user_domain_name': 'Default',
            'project_domain_name': 'Default',
            'token_cache_time': -1,
        },
    }).start()
    # The unversioned endpoint, as deployments register it: clients find
    # v2 in the versions document.
    keystone.set_image_endpoint(srv.url)
    yield srv
    srv.stop()


def _session(keystone, name):
    account = keystone.users[name]
    return ks_session.Session(auth=v3.Password(
        auth_url=keystone.url, username=account.username,
        password=account.password, project_name=account.project_name,
        user_domain_name='Default', project_domain_name='Default'))


@pytest.fixture(scope='module')
def sessions(keystone, glance):
    return {name: _session(keystone, name)
            for name in ('admin', 'user1', 'user2', 'reader1')}


def _name():
    return 'v2-client-' + uuid.uuid4().hex[:12]


# -- python-glanceclient, v2 API ------------------------------------------

def test_glanceclient_v2_life_cycle(keystone, sessions):
    owner = Client('2', session=sessions['user1'])
    other = Client('2', session=sessions['user2'])
    tenant2 = keystone.projects['tenant2']
    name = _name()

    image = owner.images.create(name=name, disk_format='raw',
                                container_format='bare', os_distro='debian')
    assert image.status == 'queued'
    assert image.visibility == 'shared'
    assert image.owner == keystone.projects['tenant1']
    assert image.size is None
    assert owner.images.get(image.id).name == name

    assert [i.id for i in owner.images.list(filters={'name': name})] == [
        image.id]
    assert [i.id for i in owner.images.list(
        filters={'os_distro': 'debian', 'name': name})] == [image.id]

    image = owner.images.update(image.id, os_distro='ubuntu', min_ram=512,
                                extra='x')
    assert (image.os_distro, image.min_ram, image.extra) == (
        'ubuntu', 512, 'x')
    image = owner.images.update(image.id, remove_props=['extra'])
    assert 'extra' not in image

    owner.image_tags.update(image.id, 'lts')
    owner.image_tags.update(image.id, 'gold')
    assert owner.images.get(image.id).tags == ['lts', 'gold']
    owner.image_tags.delete(image.id, 'gold')
    assert owner.images.get(image.id).tags == ['lts']
    assert [i.id for i in owner.images.list(
        filters={'tag': ['lts'], 'name': name})] == [image.id]

    # Sharing: the member sees it by id at once, in its list once it
    # accepts.
    member = owner.image_members.create(image.id, tenant2)
    assert member.status == 'pending'
    assert other.images.get(image.id).id == image.id
    assert image.id not in [i.id for i in other.images.list()]
    other.image_members.update(image.id, tenant2, 'accepted')
    assert image.id in [i.id for i in other.images.list()]
    assert [m.member_id for m in owner.image_members.list(image.id)] == [
        tenant2]
    with pytest.raises(glance_exc.HTTPForbidden):
        other.images.update(image.id, name='not mine')

    owner.image_members.delete(image.id, tenant2)
    with pytest.raises(glance_exc.HTTPNotFound):
        other.images.get(image.id)
    owner.images.delete(image.id)
    with pytest.raises(glance_exc.HTTPNotFound):
        owner.images.get(image.id)


def test_glanceclient_v2_reader_may_read_not_write(sessions):
    owner = Client('2', session=sessions['user1'])
    reader = Client('2', session=sessions['reader1'])
    image = owner.images.create(name=_name(), disk_format='raw',
                                container_format='bare')
    try:
        assert reader.images.get(image.id).id == image.id
        with pytest.raises(glance_exc.HTTPForbidden):
            reader.images.update(image.id, name='x')
        with pytest.raises(glance_exc.HTTPForbidden):
            reader.images.create(name=_name())
    finally:
        owner.images.delete(image.id)


def _assert_holds_data(shown):
    """``shown`` (a glanceclient image) is active and holds DATA."""
    assert (shown.status, shown.size, shown.checksum, shown.os_hash_algo,
            shown.os_hash_value) == ('active', len(DATA), MD5, 'sha512',
                                     SHA512)


def _file_url(glance, image_id):
    return '%s/v2/images/%s/file' % (glance.url, image_id)


def test_glanceclient_v2_image_data(glance, sessions):
    owner = Client('2', session=sessions['user1'])
    reader = Client('2', session=sessions['reader1'])
    admin = Client('2', session=sessions['admin'])
    image = owner.images.create(name=_name(), disk_format='raw',
                                container_format='bare')
    try:
        # A file-like body: glanceclient streams it chunked.
        owner.images.upload(image.id, io.BytesIO(DATA))
        shown = owner.images.get(image.id)
        _assert_holds_data(shown)
        # glanceclient checks os_hash_value while it reads.
        assert b''.join(owner.images.data(image.id)) == DATA
        assert b''.join(reader.images.data(image.id)) == DATA

        ranged = sessions['user1'].get(
            _file_url(glance, image.id), headers={'Range': 'bytes=10-99'},
            raise_exc=False)
        assert ranged.status_code == 206
        assert ranged.content == DATA[10:100]
        assert ranged.headers['Content-Range'] == 'bytes 10-99/%d' % len(
            DATA)
        assert ranged.headers['Content-Length'] == '90'
        # The checksum of the whole image, also on 206.
        assert ranged.headers['Content-MD5'] == MD5

        with pytest.raises(glance_exc.HTTPConflict):
            owner.images.upload(image.id, io.BytesIO(b'other data'))
        assert b''.join(owner.images.data(image.id)) == DATA

        with pytest.raises(glance_exc.HTTPForbidden):
            reader.images.deactivate(image.id)
        admin.images.deactivate(image.id)
        assert owner.images.get(image.id).status == 'deactivated'
        with pytest.raises(glance_exc.HTTPForbidden):
            owner.images.data(image.id)
        with pytest.raises(glance_exc.HTTPForbidden):
            reader.images.data(image.id)
        # Admins may still download a deactivated image through v2.
        assert b''.join(admin.images.data(image.id)) == DATA
        admin.images.reactivate(image.id)
        assert owner.images.get(image.id).status == 'active'
        assert b''.join(owner.images.data(image.id)) == DATA
    finally:
        owner.images.delete(image.id)
    with pytest.raises(glance_exc.HTTPNotFound):
        owner.images.get(image.id)


# -- python-openstackclient -----------------------------------------------

def _os_env(keystone, name):
    account = keystone.users[name]
    env = dict(os.environ)
    env.update({
        'OS_AUTH_URL': keystone.url, 'OS_USERNAME': account.username,
        'OS_PASSWORD': account.password,
        'OS_PROJECT_NAME': account.project_name,
        'OS_USER_DOMAIN_NAME': 'Default',
        'OS_PROJECT_DOMAIN_NAME': 'Default', 'OS_IDENTITY_API_VERSION': '3',
        'OS_IMAGE_API_VERSION': '2', 'OS_INTERFACE': 'public'})
    for key in ('OS_CLOUD', 'OS_TOKEN', 'OS_IMAGE_URL'):
        env.pop(key, None)
    return env


def _cli(program, env, *args, ok=True):
    # Standard input is a terminal, as in a shell: "image create" without
    # --file uploads whatever a non-terminal standard input holds.
    terminal, stdin = pty.openpty()
    try:
        result = subprocess.run(
            [os.path.join(BIN, program)] + list(args), env=env,
            stdin=stdin, capture_output=True, text=True, timeout=120)
    finally:
        os.close(terminal)
        os.close(stdin)
    if ok:
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def _openstack(env, *args, ok=True):
    return _cli('openstack', env, *args, ok=ok)


def _openstack_json(env, *args):
    return json.loads(_openstack(env, *args, '-f', 'json').stdout)


def test_openstackclient_life_cycle(keystone, glance):
    env = _os_env(keystone, 'user1')
    env2 = _os_env(keystone, 'user2')
    tenant2 = keystone.projects['tenant2']
    name = _name()

    image = _openstack_json(
        env, 'image', 'create', '--disk-format', 'raw',
        '--container-format', 'bare', '--property', 'os_distro=debian',
        '--tag', 'osc', '--shared', name)
    image_id = image['id']
    assert image['status'] == 'queued'
    assert image['visibility'] == 'shared'

    listed = _openstack_json(env, 'image', 'list', '--name', name)
    assert [i['ID'] for i in listed] == [image_id]
    listed = _openstack_json(env, 'image', 'list', '--tag', 'osc',
                             '--property', 'os_distro=debian')
    assert image_id in [i['ID'] for i in listed]

    _openstack(env, 'image', 'set', '--property', 'os_version=12',
               '--min-disk', '2', image_id)
    shown = _openstack_json(env, 'image', 'show', image_id)
    assert shown['min_disk'] == 2
    assert shown['properties']['os_version'] == '12'
    _openstack(env, 'image', 'unset', '--property', 'os_version', image_id)
    shown = _openstack_json(env, 'image', 'show', image_id)
    assert 'os_version' not in shown['properties']

    _openstack(env, 'image', 'add', 'project', image_id, tenant2)
    assert image_id not in [i['ID'] for i in _openstack_json(
        env2, 'image', 'list')]
    _openstack(env2, 'image', 'set', '--accept', image_id)
    assert image_id in [i['ID'] for i in _openstack_json(
        env2, 'image', 'list')]
    _openstack(env, 'image', 'remove', 'project', image_id, tenant2)
    assert _openstack(env2, 'image', 'show', image_id,
                      ok=False).returncode != 0

    _openstack(env, 'image', 'delete', image_id)
    assert _openstack(env, 'image', 'show', image_id,
                      ok=False).returncode != 0


def _glance_table(stdout):
    # glance's "Property | Value" table; a long value (os_hash_value)
    # goes on in the next rows, under an empty property.
    rows = {}
    key = None
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if not line.startswith('|') or len(cells) != 2:
            continue
        if cells[0]:
            key = cells[0]
            rows[key] = cells[1]
        elif key is not None:
            rows[key] += cells[1]
    return rows


def _glance(env, *args, ok=True):
    return _cli('glance', env, '--os-image-api-version', '2', *args, ok=ok)


def test_glance_cli_v2_image_data(keystone, glance, tmp_path):
    env = _os_env(keystone, 'user1')
    source = tmp_path / 'image.raw'
    source.write_bytes(DATA)
    out = tmp_path / 'downloaded.raw'
    name = _name()

    created = _glance_table(_glance(
        env, 'image-create', '--name', name, '--disk-format', 'raw',
        '--container-format', 'bare').stdout)
    image_id = created['id']
    assert created['status'] == 'queued'

    _glance(env, 'image-upload', '--file', str(source), image_id)
    shown = _glance_table(_glance(env, 'image-show', image_id).stdout)
    assert (shown['status'], shown['size'], shown['checksum']) == (
        'active', str(len(DATA)), MD5)
    assert (shown['os_hash_algo'], shown['os_hash_value']) == (
        'sha512', SHA512)

    _glance(env, 'image-download', '--file', str(out), image_id)
    assert out.read_bytes() == DATA

    # A second upload to the active image is refused; the data stays.
    again = _glance(env, 'image-upload', '--file', str(source), image_id,
                    ok=False)
    assert again.returncode != 0
    assert '409' in again.stdout + again.stderr

    _glance(env, 'image-delete', image_id)
    assert _glance(env, 'image-show', image_id, ok=False).returncode != 0


def test_openstackclient_image_data(keystone, glance, tmp_path):
    env = _os_env(keystone, 'user1')
    source = tmp_path / 'image.raw'
    source.write_bytes(DATA)
    out = tmp_path / 'saved.raw'
    name = _name()

    image = _openstack_json(
        env, 'image', 'create', '--disk-format', 'raw',
        '--container-format', 'bare', '--file', str(source), name)
    assert (image['status'], image['size'], image['checksum']) == (
        'active', len(DATA), MD5)

    _openstack(env, 'image', 'save', '--file', str(out), name)
    assert out.read_bytes() == DATA

    _openstack(env, 'image', 'delete', image['id'])
    assert _openstack(env, 'image', 'show', image['id'],
                      ok=False).returncode != 0


# -- openstacksdk ----------------------------------------------------------

def test_openstacksdk_life_cycle(keystone, sessions):
    conn = openstack.connection.Connection(session=sessions['user1'])
    other = openstack.connection.Connection(session=sessions['user2'])
    tenant2 = keystone.projects['tenant2']
    name = _name()

    image = conn.image.create_image(
        name=name, disk_format='raw', container_format='bare',
        visibility='shared', allow_duplicates=True)
    image = conn.image.get_image(image.id)
    assert (image.status, image.visibility) == ('queued', 'shared')
    assert [i.id for i in conn.image.images(name=name)] == [image.id]

    image = conn.image.update_image(image, min_ram=128, name=name + '-2')
    assert (image.min_ram, image.name) == (128, name + '-2')
    conn.image.add_tag(image, 'sdk')
    assert conn.image.get_image(image.id).tags == ['sdk']
    conn.image.remove_tag(image, 'sdk')
    assert conn.image.get_image(image.id).tags == []

    member = conn.image.add_member(image, member_id=tenant2)
    assert member.status == 'pending'
    other.image.update_member(member, image, status='accepted')
    assert image.id in [i.id for i in other.image.images()]
    assert [m.member_id for m in conn.image.members(image)] == [tenant2]

    conn.image.remove_member(tenant2, image)
    conn.image.delete_image(image)
    assert conn.image.find_image(image.id) is None


def test_openstacksdk_image_data(sessions):
    conn = openstack.connection.Connection(session=sessions['user1'])
    name = _name()

    # The plain upload (PUT /file), not the import or tasks paths; the
    # sdk compares the server's checksum with its own.
    image = conn.image.create_image(
        name=name, data=DATA, disk_format='raw', container_format='bare',
        allow_duplicates=True, use_import=False, validate_checksum=True)
    image = conn.image.get_image(image.id)
    assert (image.status, image.size, image.checksum) == (
        'active', len(DATA), MD5)
    assert (image.hash_algo, image.hash_value) == ('sha512', SHA512)

    # Both download paths check the hash.
    assert conn.image.download_image(image).content == DATA
    out = io.BytesIO()
    conn.image.download_image(image, output=out)
    assert out.getvalue() == DATA

    conn.image.delete_image(image)
    assert conn.image.find_image(image.id) is None


# -- both APIs on the same images (v2 spec §21) ---------------------------

def test_v1_and_v2_clients_share_images(keystone, sessions, glance):
    v1 = Client('1', session=sessions['user1'], endpoint=glance.url)
    v2 = Client('2', session=sessions['user1'])
    name = _name()
    through_v1 = v1.images.create(name=name, disk_format='raw',
                                  container_format='bare',
                                  data=io.BytesIO(DATA),
                                  properties={'from': 'v1'})
    shown = v2.images.get(through_v1.id)
    assert shown.visibility == 'private'
    assert shown['from'] == 'v1'
    assert (shown.status, shown.size, shown.checksum) == (
        'active', len(DATA), MD5)

    through_v2 = v2.images.create(name=name + '-v2', disk_format='raw',
                                  container_format='bare',
                                  visibility='private', mark='v2')
    head = requests.head(glance.url + '/v1/images/' + through_v2.id,
                         headers={'X-Auth-Token':
                                  sessions['user1'].get_token()},
                         timeout=30)
    assert head.status_code == 200
    assert head.headers['x-image-meta-status'] == 'queued'
    assert head.headers['x-image-meta-size'] == '0'
    assert head.headers['x-image-meta-property-mark'] == 'v2'
    # A v1 client uploads into the queued v2 image.
    v1.images.update(through_v2.id, data=io.BytesIO(DATA))
    shown = v2.images.get(through_v2.id)
    assert (shown.status, shown.checksum) == ('active', MD5)

    v2.images.delete(through_v1.id)
    v1.images.delete(through_v2.id)
    for image_id in (through_v1.id, through_v2.id):
        with pytest.raises(glance_exc.HTTPNotFound):
            v2.images.get(image_id)


def test_v1_and_v2_clients_share_image_data(sessions, glance):
    v1 = Client('1', session=sessions['user1'], endpoint=glance.url)
    v2 = Client('2', session=sessions['user1'])
    admin_v1 = Client('1', session=sessions['admin'], endpoint=glance.url)
    admin_v2 = Client('2', session=sessions['admin'])
    name = _name()

    through_v2 = v2.images.create(name=name + '-v2', disk_format='raw',
                                  container_format='bare')
    through_v1 = None
    try:
        v2.images.upload(through_v2.id, io.BytesIO(DATA))
        meta = v1.images.get(through_v2.id)
        assert (meta.status, meta.size, meta.checksum) == (
            'active', len(DATA), MD5)
        # glanceclient v1 checks the MD5 while it reads.
        assert b''.join(v1.images.data(through_v2.id)) == DATA

        # v1 honours a v2 deactivation, for admins too.
        admin_v2.images.deactivate(through_v2.id)
        with pytest.raises(glance_exc.HTTPForbidden):
            v1.images.data(through_v2.id)
        with pytest.raises(glance_exc.HTTPForbidden):
            admin_v1.images.data(through_v2.id)
        admin_v2.images.reactivate(through_v2.id)
        assert b''.join(v1.images.data(through_v2.id)) == DATA

        through_v1 = v1.images.create(name=name + '-v1', disk_format='raw',
                                      container_format='bare',
                                      data=io.BytesIO(DATA))
        shown = v2.images.get(through_v1.id)
        # v1 uploads compute the v2 multihash too.
        _assert_holds_data(shown)
        assert b''.join(v2.images.data(through_v1.id)) == DATA
        with pytest.raises(glance_exc.HTTPConflict):
            v2.images.upload(through_v1.id, io.BytesIO(DATA))
    finally:
        v2.images.delete(through_v2.id)
        if through_v1 is not None:
            v1.images.delete(through_v1.id)
