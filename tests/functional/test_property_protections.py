"""Property protections (spec §15.1) in the trusted-auth flavor, with both
rule formats: roles and policies."""

import pytest
import requests

ROLES_RULES = """
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

[.*]
create = @
read = @
update = @
delete = @
"""

POLICIES_RULES = """
[^x_admin_.*]
create = glance_admin
read = glance_admin
update = glance_admin
delete = glance_admin

[.*]
create = @
read = @
update = @
delete = @
"""


def _headers(roles, **extra):
    headers = {'X-Identity-Status': 'Confirmed', 'X-Tenant-Id': 'tenant1',
               'X-User-Id': 'user1', 'X-Roles': roles}
    headers.update(extra)
    return headers


@pytest.fixture
def protected_api(make_api, tmp_path):
    def _make(rules, rule_format='roles', policy=None):
        rules_path = tmp_path / 'property-protections.conf'
        rules_path.write_text(rules)
        config = {'paste_deploy': {'flavor': 'trusted-auth'},
                  'DEFAULT': {'property_protection_file': str(rules_path),
                              'property_protection_rule_format':
                                  rule_format}}
        if policy:
            policy_path = tmp_path / 'policy.yaml'
            policy_path.write_text(policy)
            config['oslo_policy'] = {'policy_file': str(policy_path)}
        return make_api(config)
    return _make


def _reserve(api, roles, **properties):
    headers = _headers(roles, **{'x-image-meta-name': 'img'})
    for key, value in properties.items():
        headers['x-image-meta-property-' + key] = value
    return requests.post(api.url + '/v1/images', headers=headers)


def test_member_cannot_create_an_admin_only_property(protected_api):
    api = protected_api(ROLES_RULES)
    response = _reserve(api, 'member', x_admin_secret='1')
    assert response.status_code == 403
    assert response.headers['Content-Type'].startswith('text/html')
    assert 'Property &#x27;x_admin_secret&#x27; is protected' in (
        response.text)


def test_unreadable_properties_are_hidden_from_every_answer(protected_api):
    api = protected_api(ROLES_RULES)
    created = _reserve(api, 'admin', x_admin_secret='1', x_owner_note='n')
    assert created.status_code == 201
    image_id = created.json()['image']['id']
    url = api.url + '/v1/images/' + image_id

    head = requests.head(url, headers=_headers('member'))
    assert 'x-image-meta-property-x_admin_secret' not in head.headers
    assert head.headers['x-image-meta-property-x_owner_note'] == 'n'
    detail = requests.get(api.url + '/v1/images/detail',
                          headers=_headers('member')).json()
    assert detail['images'][0]['properties'] == {'x_owner_note': 'n'}
    updated = requests.put(url, headers=_headers(
        'member', **{'x-image-meta-name': 'renamed',
                     'x-glance-registry-purge-props': 'false'}))
    assert updated.status_code == 200
    assert updated.json()['image']['properties'] == {'x_owner_note': 'n'}
    admin_head = requests.head(url, headers=_headers('admin'))
    assert admin_head.headers['x-image-meta-property-x_admin_secret'] == '1'


def test_read_only_property_cannot_be_changed_but_can_be_resent(
        protected_api):
    api = protected_api(ROLES_RULES)
    image_id = _reserve(api, 'admin', x_readonly_a='1').json()['image']['id']
    url = api.url + '/v1/images/' + image_id
    purge_off = {'x-glance-registry-purge-props': 'false'}

    changed = requests.put(url, headers=_headers(
        'member', **{'x-image-meta-property-x_readonly_a': '2'},
        **purge_off))
    assert changed.status_code == 403
    same = requests.put(url, headers=_headers(
        'member', **{'x-image-meta-property-x_readonly_a': '1'},
        **purge_off))
    assert same.status_code == 200
    assert requests.head(url, headers=_headers('admin')).headers[
        'x-image-meta-property-x_readonly_a'] == '1'


def test_purge_keeps_unreadable_and_refuses_undeletable(protected_api):
    api = protected_api(ROLES_RULES)
    image_id = _reserve(api, 'admin', x_admin_secret='s',
                        other='o').json()['image']['id']
    url = api.url + '/v1/images/' + image_id

    # The member cannot read x_admin_secret: purging silently keeps it.
    purged = requests.put(url, headers=_headers(
        'member', **{'x-image-meta-property-new': 'n'}))
    assert purged.status_code == 200
    admin_view = requests.head(url, headers=_headers('admin')).headers
    assert admin_view['x-image-meta-property-x_admin_secret'] == 's'
    assert admin_view['x-image-meta-property-new'] == 'n'
    assert 'x-image-meta-property-other' not in admin_view

    readonly_id = _reserve(api, 'admin',
                           x_readonly_b='1').json()['image']['id']
    refused = requests.put(api.url + '/v1/images/' + readonly_id,
                           headers=_headers('member', **{
                               'x-image-meta-name': 'x'}))
    assert refused.status_code == 403
    assert requests.head(api.url + '/v1/images/' + readonly_id,
                         headers=_headers('admin')).headers[
        'x-image-meta-property-x_readonly_b'] == '1'


def test_policies_format_uses_policy_rules(protected_api):
    api = protected_api(POLICIES_RULES, rule_format='policies',
                        policy='"glance_admin": "role:admin"\n')
    assert _reserve(api, 'member', x_admin_k='1').status_code == 403
    created = _reserve(api, 'admin', x_admin_k='1', free='f')
    assert created.status_code == 201
    head = requests.head(api.url + '/v1/images/' +
                         created.json()['image']['id'],
                         headers=_headers('member'))
    assert 'x-image-meta-property-x_admin_k' not in head.headers
    assert head.headers['x-image-meta-property-free'] == 'f'


def test_invalid_rules_file_refuses_to_start(make_api, tmp_path):
    rules_path = tmp_path / 'bad.conf'
    rules_path.write_text('[(unclosed]\ncreate = @\nread = @\n'
                          'update = @\ndelete = @\n')
    with pytest.raises(RuntimeError):
        make_api({'DEFAULT': {'property_protection_file': str(rules_path)}})
