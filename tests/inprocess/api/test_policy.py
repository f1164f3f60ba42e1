"""Policy at the edge (spec §4.5): the defaults registered in code, and a
policy file whose rules override them, each denial a 403 that changes
nothing."""

import concurrent.futures
import os
import sys
import threading

import pytest

from glance_lite.api import context
from glance_lite.api import policy
from glance_lite.common import exception
from tests.inprocess import support

who = support.trusted


@pytest.fixture
def policy_app(make_app, tmp_path):
    """A noauth app whose policy file holds ``rules``; more ``config``
    merges over it."""
    def _make(rules, config=None):
        path = os.path.join(str(tmp_path), 'policy.yaml')
        with open(path, 'w') as f:
            for name, check in rules.items():
                f.write('"%s": "%s"\n' % (name, check))
        sections = {'oslo_policy': {'policy_file': path}}
        for section, options in (config or {}).items():
            sections.setdefault(section, {}).update(options)
        return make_app(sections)
    return _make


def stored_files(app):
    if not os.path.isdir(app.datadir):
        return []
    return os.listdir(app.datadir)


def test_every_v1_rule_has_a_default_in_code():
    names = {rule.name for rule in policy.list_rules()}
    assert {'get_images', 'get_image', 'download_image', 'add_image',
            'modify_image', 'publicize_image', 'copy_from', 'upload_image',
            'set_image_location', 'delete_image', 'get_members',
            'modify_member', 'delete_member', 'context_is_admin',
            'default'} <= names


def test_add_image_denied_creates_nothing(policy_app):
    app = policy_app({'add_image': '!'})
    response = app.request('POST', '/v1/images',
                           dict(support.MINIMAL, **support.OCTETS), b'x' * 10)
    assert response.status_int == 403
    assert app.request('GET', '/v1/images/detail?is_public=None').json == {
        'images': []}
    assert stored_files(app) == []


def test_publicize_denied_refuses_public_images_only(policy_app):
    app = policy_app({'publicize_image': '!'})
    response = app.request('POST', '/v1/images', dict(
        support.MINIMAL, **{'x-image-meta-is_public': 'true'}))
    assert response.status_int == 403
    image = app.create()
    response = app.request('PUT', '/v1/images/' + image['id'],
                           {'x-image-meta-is_public': 'true'})
    assert response.status_int == 403


@pytest.mark.parametrize('rule, headers', [
    ('copy_from', {'x-glance-api-copy-from': 'http://127.0.0.1:1/i'}),
    ('upload_image', {'x-glance-api-copy-from': 'http://127.0.0.1:1/i'}),
    ('set_image_location', {'x-image-meta-location':
                            'http://127.0.0.1:1/i'}),
])
def test_denied_sources_on_create_are_403(policy_app, rule, headers):
    app = policy_app({rule: '!'}, {'DEFAULT': {
        'external_source_allowed_networks': '127.0.0.0/8'}})
    response = app.request('POST', '/v1/images',
                           dict(support.MINIMAL, **headers))
    assert response.status_int == 403
    assert app.request('GET', '/v1/images/detail?is_public=None').json == {
        'images': []}


def test_upload_denied_refuses_a_body_and_leaves_the_image_queued(
        policy_app):
    app = policy_app({'upload_image': '!'})
    response = app.request('POST', '/v1/images',
                           dict(support.MINIMAL, **support.OCTETS), b'x')
    assert response.status_int == 403
    image = app.create()
    response = app.request('PUT', '/v1/images/' + image['id'],
                           support.OCTETS, b'data')
    assert response.status_int == 403
    head = app.request('HEAD', '/v1/images/' + image['id'])
    assert head.headers['x-image-meta-status'] == 'queued'
    assert stored_files(app) == []


def test_get_image_denied_refuses_head_and_get(policy_app):
    app = policy_app({'get_image': '!'})
    image = app.create(data=b'x')
    assert app.request('HEAD', '/v1/images/' + image['id']).status_int == 403
    assert app.request('GET', '/v1/images/' + image['id']).status_int == 403


def test_download_denied_refuses_get_not_head(policy_app):
    app = policy_app({'download_image': '!'})
    image = app.create(data=b'x')
    assert app.request('GET', '/v1/images/' + image['id']).status_int == 403
    assert app.request('HEAD', '/v1/images/' + image['id']).status_int == 200
    # Checked before "not found / not active".
    app.request('DELETE', '/v1/images/' + image['id'])
    assert app.request('GET', '/v1/images/' + image['id']).status_int == 403


def test_download_rule_matches_custom_properties(policy_app):
    app = policy_app({'download_image':
                      "not 'secret':%(classification)s"})
    secret = app.create(data=b's', properties={'classification': 'secret'})
    open_ = app.create(data=b'o', properties={'classification': 'open'})
    assert app.request('GET', '/v1/images/' + secret['id']).status_int == 403
    response = app.request('GET', '/v1/images/' + open_['id'])
    assert (response.status_int, response.body) == (200, b'o')


def test_delete_denied_keeps_the_image(policy_app):
    app = policy_app({'delete_image': '!'})
    image = app.create(data=b'x')
    assert app.request('DELETE',
                       '/v1/images/' + image['id']).status_int == 403
    head = app.request('HEAD', '/v1/images/' + image['id'])
    assert head.headers['x-image-meta-status'] == 'active'


@pytest.mark.parametrize('path', ['/v1/images', '/v1/images/detail', '/v1/'])
def test_get_images_denied_refuses_lists(policy_app, path):
    app = policy_app({'get_images': '!'})
    assert app.request('GET', path).status_int == 403


def test_modify_image_denied_keeps_the_metadata(policy_app):
    app = policy_app({'modify_image': '!'})
    image = app.create()
    response = app.request('PUT', '/v1/images/' + image['id'],
                           {'x-image-meta-name': 'renamed'})
    assert response.status_int == 403
    head = app.request('HEAD', '/v1/images/' + image['id'])
    assert head.headers['x-image-meta-name'] == 'cirros'


@pytest.mark.parametrize('rule, method, path, body', [
    ('get_members', 'GET', '', None),
    ('modify_member', 'PUT', '', {'memberships': []}),
    ('modify_member', 'PUT', '/m', None),
    ('delete_member', 'DELETE', '/m', None)])
def test_member_rules(policy_app, rule, method, path, body):
    app = policy_app({rule: '!'})
    image = app.create()
    app.request('PUT', '/v1/images/%s/members/m' % image['id'])
    response = app.request(method, '/v1/images/%s/members%s'
                           % (image['id'], path), None, body)
    assert response.status_int == 403


def test_shared_images_has_no_policy_check(policy_app):
    app = policy_app({'get_members': '!', 'get_images': '!',
                      'default': '!'})
    assert app.request('GET', '/v1/shared-images/m').status_int == 200


def test_reader_role_is_read_only_by_default(trusted_app):
    reader = who('t1', roles='reader')
    assert trusted_app.request('GET', '/v1/images', reader).status_int == 200
    response = trusted_app.request('POST', '/v1/images',
                                   dict(support.MINIMAL, **reader))
    assert response.status_int == 403
    both = who('t1', roles='reader,member')
    assert trusted_app.request('POST', '/v1/images', dict(
        support.MINIMAL, **both)).status_int == 201


def test_publicize_is_admin_only_by_default(trusted_app):
    response = trusted_app.request('POST', '/v1/images', dict(
        support.MINIMAL, **who('t1', **{'x-image-meta-is_public': 'true'})))
    assert response.status_int == 403
    response = trusted_app.request('POST', '/v1/images', dict(
        support.MINIMAL, **dict(support.ADMIN,
                                **{'x-image-meta-is_public': 'true'})))
    assert response.status_int == 201


def test_policy_file_can_make_a_role_admin(policy_app):
    app = policy_app({'context_is_admin': 'role:cloud-admin'},
                     {'paste_deploy': {'flavor': 'trusted-auth'}})
    private = app.create(headers=who('t1'))
    response = app.request('HEAD', '/v1/images/' + private['id'],
                           who('t2', roles='cloud-admin'))
    assert response.status_int == 200


def _member():
    return context.RequestContext(user_id='u', project_id='p',
                                  roles=['member'])


def test_checks_on_first_use_wait_for_every_default(app, monkeypatch):
    """The first requests of a process arrive together: none of them may
    see an enforcer whose defaults are still being registered."""
    policy.reset()
    registering = threading.Event()
    release = threading.Event()
    register = policy.policy.Enforcer.register_defaults

    def slow_register(enforcer, defaults):
        registering.set()
        release.wait(5)
        register(enforcer, defaults)

    monkeypatch.setattr(policy.policy.Enforcer, 'register_defaults',
                        slow_register)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(policy.authorize, _member(), 'add_image')
        assert registering.wait(5)
        second = pool.submit(policy.authorize, _member(), 'add_image')
        release.set()
        first.result(5)
        second.result(5)  # raised Forbidden when it saw the half-made one


def test_checks_while_the_policy_file_changes_are_never_denied(policy_app,
                                                               tmp_path):
    """Rewriting the policy file under a busy process: each check sees the
    old rules or the new ones, never a rule set without its defaults."""
    policy_app({'get_images': ''})
    path = os.path.join(str(tmp_path), 'policy.yaml')
    done = threading.Event()

    def rewrite():
        for count in range(1, 301):
            with open(path, 'w') as f:
                f.write('"get_images": ""\n"x%d": "role:x"\n' % count)
            # oslo.policy notices a change by the file's mtime.
            os.utime(path, ns=(count * 10 ** 9, count * 10 ** 9))
            policy.authorize(_member(), 'get_images')  # reloads it
        done.set()

    def check():
        denied = 0
        while not done.is_set():
            try:
                policy.authorize(_member(), 'add_image')
            except exception.Forbidden:
                denied += 1
        return denied

    # Switch threads as often as the interpreter can, so that a check
    # lands inside a reload if the code lets it.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            checkers = [pool.submit(check) for _ in range(4)]
            pool.submit(rewrite).result(60)
            denials = [c.result(60) for c in checkers]
    finally:
        sys.setswitchinterval(interval)
    assert denials == [0] * 4
