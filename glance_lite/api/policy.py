"""Policy: every v1 rule registered in code with its default (spec §4.5),
so no policy file is needed; a file named by [oslo_policy] policy_file
overrides them."""

from oslo_config import cfg
from oslo_policy import policy

from glance_lite.common import exception

CONF = cfg.CONF

_ANYONE = ''
# Admin-only rules also pass for contexts already flagged admin (the noauth
# flavor's callers, and holders of [DEFAULT] admin_role).
_ADMIN = 'rule:context_is_admin'
_WRITER = 'rule:image_writer'

RULES = [
    policy.RuleDefault('context_is_admin', 'role:admin or is_admin:True',
                       'Who is an admin (besides [DEFAULT] admin_role).'),
    policy.RuleDefault('default', _ADMIN, 'Any rule not defined here.'),
    # Glance's v1 defaults let anyone write. Keystone now gives read-only
    # users the "reader" role alone; they stay read-only here. Any other
    # role (member, or a deployment's own) may write, as in Glance.
    policy.RuleDefault('image_writer',
                       'not role:reader or role:member or '
                       'rule:context_is_admin',
                       'Who may change images and memberships: everyone '
                       'except callers whose only role is reader.'),
]
_ACTIONS = [
    ('get_images', 'GET /v1/images, /v1/images/detail and /v1/', _ANYONE),
    ('get_image', 'HEAD and GET /v1/images/{id}', _ANYONE),
    ('download_image', 'GET /v1/images/{id} (target: the image, core '
                       'attributes and custom properties flattened)', _ANYONE),
    ('add_image', 'POST /v1/images', _WRITER),
    ('modify_image', 'PUT /v1/images/{id}', _WRITER),
    ('publicize_image', 'POST/PUT with x-image-meta-is_public true', _ADMIN),
    ('copy_from', 'POST/PUT with x-glance-api-copy-from', _WRITER),
    ('upload_image', 'POST/PUT with a body or a copy-from source', _WRITER),
    ('set_image_location', 'POST/PUT with x-image-meta-location', _WRITER),
    ('delete_image', 'DELETE /v1/images/{id}', _WRITER),
    ('get_members', 'GET /v1/images/{id}/members', _ANYONE),
    ('modify_member', 'PUT /v1/images/{id}/members[/{member}]', _WRITER),
    ('delete_member', 'DELETE /v1/images/{id}/members/{member}', _WRITER),
]
RULES += [policy.RuleDefault(name, check, description)
          for name, description, check in _ACTIONS]

_ENFORCER = None


def get_enforcer():
    """The process's enforcer (also the oslo.policy.enforcer entry point)."""
    global _ENFORCER
    if _ENFORCER is None:
        _ENFORCER = policy.Enforcer(CONF)
        _ENFORCER.register_defaults(RULES)
    return _ENFORCER


def reset():
    global _ENFORCER
    _ENFORCER = None


def list_rules():
    return RULES


def authorize(context, action, target=None):
    """Raise Forbidden unless the policy allows ``action`` to the caller."""
    credentials = context.to_policy_values()
    if not get_enforcer().enforce(action, target or {}, credentials):
        raise exception.Forbidden()


def check_is_admin(context):
    """Whether the context_is_admin rule holds for the caller's roles."""
    return get_enforcer().enforce('context_is_admin', {},
                                  context.to_policy_values())
