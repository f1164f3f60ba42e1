"""The ``glance`` command line (python-glanceclient, Image API v1) against a
real glance-lite-api: run it as a user would, parse its tables, check the
values."""

import hashlib
import io
import os
import subprocess
import sys
import uuid

from glanceclient import Client
import pytest

GLANCE = os.path.join(os.path.dirname(sys.executable), 'glance')

DATA = os.urandom(2 * 65536 + 777)
DATA_MD5 = hashlib.md5(DATA).hexdigest()


@pytest.fixture(scope='module')
def client(api):
    """For setting up images quickly; what is tested goes through the CLI."""
    return Client(endpoint=api.url + '/v1', token='x', timeout=20)


def api_create(client, data=None, **kwargs):
    kwargs.setdefault('disk_format', 'raw')
    kwargs.setdefault('container_format', 'bare')
    if data is not None:
        kwargs['data'] = io.BytesIO(data)
    return client.images.create(**kwargs).id


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / 'disk.raw'
    path.write_bytes(DATA)
    return str(path)


@pytest.fixture
def tag():
    return uuid.uuid4().hex


def glance(api, *args, ok=True, text=True):
    """Run ``glance`` with explicit v1 endpoint flags; return the result,
    asserting success unless ``ok`` is False.

    stdin is a terminal, as for a user at a shell: when stdin is anything
    else, image-create and image-update (of a queued image) upload what it
    holds as the image data.
    """
    cmd = [GLANCE, '--os-image-api-version', '1', '--os-image-url', api.url,
           '--os-auth-token', 'x'] + list(args)
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    master, tty = os.openpty()
    try:
        result = subprocess.run(cmd, capture_output=True, text=text,
                                env=env, timeout=60, stdin=tty)
    finally:
        os.close(tty)
        os.close(master)
    if ok:
        assert result.returncode == 0, (cmd, result.stdout, result.stderr)
    return result


def _rows(output):
    return [[cell.strip() for cell in line.strip()[1:-1].split('|')]
            for line in output.splitlines() if line.startswith('|')]


def parse_show(output):
    """A Property/Value table (image-create, image-show, image-update)."""
    rows = _rows(output)
    assert rows[0] == ['Property', 'Value'], output
    info = {}
    key = None
    for name, value in rows[1:]:
        if name:
            key = name
            info[key] = value
        else:                       # a wrapped long value
            info[key] += value
    return info


def parse_list(output):
    """The image-list table, as a list of {column: value}."""
    rows = _rows(output)
    if not rows:
        return []
    header = rows[0]
    return [dict(zip(header, row)) for row in rows[1:]]


def create(api, *args):
    return parse_show(glance(api, 'image-create', '--disk-format', 'raw',
                             '--container-format', 'bare', *args).stdout)


def show(api, image_id):
    return parse_show(glance(api, 'image-show', image_id).stdout)


def test_image_create_with_file(api, image_file):
    info = create(api, '--name', 'cli-created', '--file', image_file)
    assert info['status'] == 'active'
    assert info['size'] == str(len(DATA))
    assert info['checksum'] == DATA_MD5
    assert info['name'] == 'cli-created'
    assert info['disk_format'] == 'raw'
    assert info['container_format'] == 'bare'
    assert info['is_public'] == 'False'
    assert info['protected'] == 'False'
    assert not any(key.startswith('Property ') for key in info)

    shown = show(api, info['id'])
    for key in ('id', 'name', 'status', 'size', 'checksum', 'disk_format',
                'container_format', 'is_public', 'created_at'):
        assert shown[key] == info[key], key


def test_image_create_with_properties(api, image_file):
    info = create(api, '--name', 'cli-props', '--file', image_file,
                  '--is-public', 'True', '--min-ram', '512', '--min-disk',
                  '3', '--property', 'os_distro=cirros', '--property',
                  'note=a=b c')
    assert info['is_public'] == 'True'
    assert (info['min_ram'], info['min_disk']) == ('512', '3')
    assert info["Property 'os_distro'"] == 'cirros'
    assert info["Property 'note'"] == 'a=b c'

    shown = show(api, info['id'])
    assert shown["Property 'os_distro'"] == 'cirros'
    assert shown["Property 'note'"] == 'a=b c'
    assert (shown['min_ram'], shown['min_disk']) == ('512', '3')
    assert shown['is_public'] == 'True'


def test_image_update_metadata(api):
    # Without --file (and stdin a terminal) image-create only reserves.
    info = create(api, '--name', 'cli-upd', '--property', 'a=1')
    assert info['status'] == 'queued'
    assert info['size'] == '0'
    assert info['checksum'] == 'None'
    image_id = info['id']

    info = parse_show(glance(api, 'image-update', '--name', 'cli-renamed',
                             '--property', 'b=2', image_id).stdout)
    assert info['name'] == 'cli-renamed'
    assert info["Property 'a'"] == '1'
    assert info["Property 'b'"] == '2'
    assert info['status'] == 'queued'

    info = parse_show(glance(api, 'image-update', '--property', 'a=9',
                             '--min-ram', '64', image_id).stdout)
    assert info["Property 'a'"] == '9'
    assert info["Property 'b'"] == '2'
    assert info['min_ram'] == '64'
    assert info['name'] == 'cli-renamed'

    info = parse_show(glance(api, 'image-update', '--purge-props',
                             '--property', 'c=3', image_id).stdout)
    props = {k: v for k, v in info.items() if k.startswith('Property ')}
    assert props == {"Property 'c'": '3'}
    shown = show(api, image_id)
    assert {k: v for k, v in shown.items()
            if k.startswith('Property ')} == {"Property 'c'": '3'}
    assert (shown['name'], shown['min_ram'], shown['status']) == (
        'cli-renamed', '64', 'queued')


def test_image_update_with_file_on_reserved_image(api, client, image_file):
    image_id = api_create(client, name='cli-upload-later',
                          properties={'keep': 'me'})
    info = parse_show(glance(api, 'image-update', '--file', image_file,
                             '--property', 'new=prop', image_id).stdout)
    assert info['status'] == 'active'
    assert info['size'] == str(len(DATA))
    assert info['checksum'] == DATA_MD5
    assert info["Property 'keep'"] == 'me'
    assert info["Property 'new'"] == 'prop'

    shown = show(api, image_id)
    assert (shown['status'], shown['size'], shown['checksum']) == (
        'active', str(len(DATA)), DATA_MD5)


def test_image_download(api, client, tmp_path):
    image_id = api_create(client, DATA, name='cli-download')
    out = tmp_path / 'out.raw'
    glance(api, 'image-download', '--file', str(out), image_id)
    assert out.read_bytes() == DATA
    assert hashlib.md5(out.read_bytes()).hexdigest() == DATA_MD5

    # Redirected stdout receives the data too.
    result = glance(api, 'image-download', image_id, text=False)
    assert hashlib.md5(result.stdout).hexdigest() == DATA_MD5


def test_image_download_of_reserved_image_fails(api, client, tmp_path):
    image_id = api_create(client, name='cli-nothing-to-download')
    out = tmp_path / 'out.raw'
    result = glance(api, 'image-download', '--file', str(out), image_id,
                    ok=False)
    assert result.returncode != 0
    assert 'not active' in result.stderr


def test_image_list(api, client, tag):
    prop = 'tag=%s' % tag
    small = api_create(client, DATA, name='cli-list-b', is_public=True,
                       properties={'tag': tag})
    reserved = api_create(client, name='cli-list-a', is_public=True,
                          properties={'tag': tag})
    private = api_create(client, name='cli-list-c', properties={'tag': tag})

    rows = parse_list(glance(api, 'image-list', '--property-filter',
                             prop).stdout)
    # Sorted by name (the CLI's default); the private image is left out of
    # the no-auth caller's default scope (spec §10.3).
    assert [r['ID'] for r in rows] == [reserved, small]
    assert rows[1] == {'ID': small, 'Name': 'cli-list-b',
                       'Disk Format': 'raw', 'Container Format': 'bare',
                       'Size': str(len(DATA)), 'Status': 'active'}
    assert rows[0]['Status'] == 'queued'
    assert rows[0]['Size'] == ''        # the CLI prints a size of 0 as blank

    # --all-tenants adds the private one; sorted and paged one at a time.
    rows = parse_list(glance(api, 'image-list', '--property-filter', prop,
                             '--all-tenants', '--sort-key', 'name',
                             '--sort-dir', 'desc', '--page-size',
                             '1').stdout)
    assert [r['ID'] for r in rows] == [private, small, reserved]

    rows = parse_list(glance(api, 'image-list', '--property-filter', prop,
                             '--status', 'active').stdout)
    assert [r['ID'] for r in rows] == [small]

    rows = parse_list(glance(api, 'image-list', '--property-filter', prop,
                             '--name', 'cli-list-a').stdout)
    assert [r['ID'] for r in rows] == [reserved]


def test_image_show_and_update_by_name(api, client, tag):
    name = 'cli-by-name-' + tag
    image_id = api_create(client, name=name, is_public=True)
    assert show(api, name)['id'] == image_id
    info = parse_show(glance(api, 'image-update', '--property', 'k=v',
                             name).stdout)
    assert info['id'] == image_id
    assert info["Property 'k'"] == 'v'


def test_image_delete(api, client, tag):
    prop = 'tag=%s' % tag
    image_id = api_create(client, DATA, name='cli-delete', is_public=True,
                          properties={'tag': tag})
    other_id = api_create(client, name='cli-delete-2',
                          properties={'tag': tag})

    result = glance(api, 'image-delete', image_id, other_id)
    assert result.stderr == ''

    # No-auth callers are admins: the deleted record is still shown.
    shown = show(api, image_id)
    assert shown['status'] == 'deleted'
    assert shown['deleted'] == 'True'
    assert shown['deleted_at'] not in ('', 'None')

    assert parse_list(glance(api, 'image-list', '--property-filter', prop,
                             '--all-tenants').stdout) == []

    result = glance(api, 'image-delete', image_id, ok=False)
    assert result.returncode != 0


def test_image_show_missing(api):
    missing = str(uuid.uuid4())
    result = glance(api, 'image-show', missing, ok=False)
    assert result.returncode != 0
    assert missing in result.stderr


def test_environment_variables_instead_of_flags(api, image_file):
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.update(OS_IMAGE_API_VERSION='1', OS_IMAGE_URL=api.url,
               OS_AUTH_TOKEN='x')
    result = subprocess.run(
        [GLANCE, 'image-create', '--name', 'cli-env', '--disk-format', 'raw',
         '--container-format', 'bare', '--file', image_file],
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    info = parse_show(result.stdout)
    assert (info['status'], info['checksum']) == ('active', DATA_MD5)


# -- non-ASCII ----------------------------------------------------------------

def test_non_ascii_name_and_property(api, image_file, tag):
    info = create(api, '--name', 'Ubuntu 22.04 é', '--is-public', 'True',
                  '--property', 'prop_é=ça marche', '--property',
                  'tag=' + tag, '--file', image_file)
    assert info['name'] == 'Ubuntu 22.04 é'
    assert info["Property 'prop_é'"] == 'ça marche'
    assert info['checksum'] == DATA_MD5

    rows = parse_list(glance(api, 'image-list', '--property-filter',
                             'tag=' + tag).stdout)
    assert [(r['ID'], r['Name']) for r in rows] == [
        (info['id'], 'Ubuntu 22.04 é')]
    updated = parse_show(glance(api, 'image-update', '--name', 'Débian ü',
                                '--property', 'prop_é=ça change',
                                info['id']).stdout)
    assert updated['name'] == 'Débian ü'
    assert updated["Property 'prop_é'"] == 'ça change'


@pytest.mark.xfail(strict=True, reason=(
    "image-show reads the HEAD answer's headers through http.client, which "
    "decodes the UTF-8 the service sends (spec §5.3) as latin-1 and drops "
    "non-ASCII-named headers; image-create/update/list show JSON and are "
    "exact."))
def test_non_ascii_image_show(api, client):
    image_id = api_create(client, name='Ubuntu 22.04 é',
                          properties={'prop_é': 'ça marche'})
    shown = show(api, image_id)
    assert shown['name'] == 'Ubuntu 22.04 é'
    assert shown["Property 'prop_é'"] == 'ça marche'
