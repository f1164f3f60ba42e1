"""Policy: every v1 rule registered in code with its default (spec §4.5),
so no policy file is needed; a file named by [oslo_policy] policy_file
overrides them."""

import threading

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
    # Glance's default is role:admin, which denies the admin contexts of
    # its no-auth flavor (no roles): context_is_admin lets them in too.
    ('manage_image_cache', '/v1/cached_images and /v1/queued_images '
                           '(cachemanagement flavors)', _ADMIN),
]
RULES += [policy.RuleDefault(name, check, description)
          for name, description, check in _ACTIONS]

_ENFORCER = None
# The API serves requests on many threads (cheroot, mod_wsgi, uWSGI) and an
# oslo.policy Enforcer is not safe to share between them while it loads its
# rules: a policy file read anew (on its first use, or after it changed)
# replaces every rule before the defaults are put back, and a check made
# in between finds its rule missing and is denied. Checks are short, so
# each runs whole under this lock.
_LOCK = threading.RLock()


def get_enforcer():
    """The process's enforcer, with every rule registered before any
    thread can use it (also the oslo.policy.enforcer entry point)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            enforcer = policy.Enforcer(CONF)
            enforcer.register_defaults(RULES)
            _ENFORCER = enforcer
        return _ENFORCER


def reset():
    global _ENFORCER
    with _LOCK:
        _ENFORCER = None


def list_rules():
    return RULES


def authorize(context, action, target=None):
    """Raise Forbidden unless the policy allows ``action`` to the caller."""
    if not _enforce(action, target or {}, context):
        raise exception.Forbidden()


def _enforce(rule, target, context):
    with _LOCK:
        return get_enforcer().enforce(rule, target,
                                      context.to_policy_values())


def check_rule(context, rule):
    """Whether the policy rule ``rule`` (a name or a check string) holds
    for the caller, with no target: what property protections of the
    ``policies`` format ask."""
    return _enforce(rule, {}, context)


def check_is_admin(context):
    """Whether the context_is_admin rule holds for the caller's roles."""
    return _enforce('context_is_admin', {}, context)
