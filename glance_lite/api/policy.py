"""Policy: one rule set for both APIs, registered in code with its
defaults (v1 spec §4.5, v2 spec §4.4 decision P1), so no policy file is
needed; a file named by [oslo_policy] policy_file overrides them.

v1 checks most rules with an empty target; v2 passes the image (its owner
as ``project_id`` and ``owner``, its ``visibility``, the caller as
``member_id`` of a shared image it does not own, every core attribute and
additional property) so that Glance's own check strings can be loaded.
"""

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
    ('get_images', 'GET /v1/images, /v1/images/detail and /v1/; '
                   'GET /v2/images', _ANYONE),
    ('get_image', 'HEAD and GET /v1/images/{id}; GET /v2/images/{id}, and '
                  'every image of a v2 list', _ANYONE),
    ('download_image', 'GET /v1/images/{id}, GET /v2/images/{id}/file '
                       '(target: the image, core attributes and custom '
                       'properties flattened)', _ANYONE),
    ('add_image', 'POST /v1/images, POST /v2/images', _WRITER),
    ('modify_image', 'PUT /v1/images/{id}; PATCH /v2/images/{id} and v2 '
                     'tags', _WRITER),
    ('publicize_image', 'Making an image public: v1 x-image-meta-is_public '
                        'true, v2 visibility public', _ADMIN),
    ('communitize_image', 'v2 visibility community', _WRITER),
    ('copy_from', 'POST/PUT with x-glance-api-copy-from', _WRITER),
    ('upload_image', 'v1 POST/PUT with a body or a copy-from source; '
                     'PUT /v2/images/{id}/file', _WRITER),
    ('set_image_location', 'v1 x-image-meta-location; v2 PATCH adding or '
                           'replacing /locations', _WRITER),
    ('delete_image_location', 'v2 PATCH removing /locations/N', _ADMIN),
    ('get_image_location', 'Showing locations and direct_url in v2 views '
                           '(when the options show them)', _ANYONE),
    ('delete_image', 'DELETE /v1/images/{id}, DELETE /v2/images/{id}',
     _WRITER),
    ('deactivate', 'POST /v2/images/{id}/actions/deactivate', _WRITER),
    ('reactivate', 'POST /v2/images/{id}/actions/reactivate', _WRITER),
    ('get_members', 'GET /v1/images/{id}/members, GET '
                    '/v2/images/{id}/members', _ANYONE),
    ('get_member', 'GET /v2/images/{id}/members/{member}', _ANYONE),
    ('add_member', 'POST /v2/images/{id}/members', _WRITER),
    # The same name for two actors, as in Glance Queens: v1's sharer and
    # v2's member answering.
    ('modify_member', 'PUT /v1/images/{id}/members[/{member}] (the '
                      'sharer); PUT /v2/images/{id}/members/{member} (the '
                      'member\'s status)', _WRITER),
    ('delete_member', 'DELETE /v1/images/{id}/members/{member}, DELETE '
                      '/v2/images/{id}/members/{member}', _WRITER),
    ('copy_image', 'The copy-image import method (not offered)', _ADMIN),
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


def allows(context, action, target=None):
    """Whether the policy allows ``action`` to the caller."""
    return _enforce(action, target or {}, context)


def image_target(context, image):
    """The policy target of a v2 image rule (v2 spec §4.4)."""
    target = dict(image.get('properties', {}))
    target.update({key: value for key, value in image.items()
                   if key not in ('properties', 'locations', 'tags')})
    target['project_id'] = image.get('owner')
    shared_with_caller = (image.get('visibility') == 'shared'
                          and context.owner is not None
                          and context.owner != image.get('owner'))
    target['member_id'] = context.owner if shared_with_caller else None
    return target


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
