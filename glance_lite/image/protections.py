"""Property protections (spec §15.1): which roles or policy rules may
create, read, update and delete which custom properties.

Enabled by ``[DEFAULT] property_protection_file``: an INI file whose
sections are regular expressions over property names, tried in file order;
the first that matches a name governs it, and a name no section matches is
denied every operation.

Rules of the ``policies`` format name oslo.policy rules; the API layer,
which owns the policy enforcer, hands :func:`load` the function that
checks one (the domain does not know how policy is enforced).
"""

import configparser
import re

from oslo_config import cfg

from glance_lite.common import exception

CONF = cfg.CONF
OPERATIONS = ('create', 'read', 'update', 'delete')
EVERYONE = '@'
NOBODY = '!'

# What v1 answers for a protected property (spec §15.1); v2 has its own
# wording (v2 spec §5.4).
V1_MESSAGE = "Property '%s' is protected"

_rules = None


class ProtectionRules:
    """The parsed rules file.

    :raises ValueError: a section is not a valid regular expression or
        lacks one of the four operations (the service then refuses to start).
    """

    def __init__(self, path, rule_format, check_rule=None):
        parser = configparser.ConfigParser(interpolation=None)
        if not parser.read(path):
            raise ValueError('Property protection file %s cannot be read'
                             % path)
        self.rule_format = rule_format
        self.check_rule = check_rule
        self.sections = []
        for section in parser.sections():
            try:
                pattern = re.compile(section)
            except re.error as e:
                raise ValueError('Invalid regular expression %r in %s: %s'
                                 % (section, path, e))
            permissions = {}
            for operation in OPERATIONS:
                if not parser.has_option(section, operation):
                    raise ValueError('Section %r of %s has no %r rule'
                                     % (section, path, operation))
                value = parser.get(section, operation).strip()
                if rule_format == 'roles':
                    permissions[operation] = [
                        role.strip().lower() for role in value.split(',')
                        if role.strip()]
                else:
                    permissions[operation] = value
            self.sections.append((pattern, permissions))

    def allows(self, context, name, operation):
        for pattern, permissions in self.sections:
            if pattern.search(name):
                allowed = permissions[operation]
                if self.rule_format == 'roles':
                    if EVERYONE in allowed:
                        return True
                    if NOBODY in allowed:
                        return False
                    return bool(set(allowed) & set(context.roles))
                if allowed == EVERYONE:
                    return True
                if allowed == NOBODY:
                    return False
                return self.check_rule(context, allowed)
        return False


def load(check_rule):
    """Read the rules file named in the configuration (None: no file).

    :param check_rule: ``check_rule(context, rule)`` is True when the
        policy rule named ``rule`` holds for the caller (``policies``
        format).
    """
    global _rules
    path = CONF.property_protection_file
    _rules = (ProtectionRules(path, CONF.property_protection_rule_format,
                              check_rule)
              if path else None)
    return _rules


def _allows(context, name, operation):
    return _rules is None or _rules.allows(context, name, operation)


def readable(context, image):
    """The image with the properties this caller may not read removed."""
    if _rules is None:
        return image
    return dict(image, properties={
        name: value for name, value in image['properties'].items()
        if _rules.allows(context, name, 'read')})


def check_create(context, properties, message=V1_MESSAGE):
    """Raise Forbidden unless every property may be created.

    :param message: the refusal's text, with %s for the name (each API
        words it).
    """
    for name in properties:
        if not _allows(context, name, 'create'):
            raise exception.Forbidden(message % name)


def check_changes(context, created, updated, removed, message):
    """Check the property changes of a v2 PATCH (v2 spec §10.3): a new
    name may be written by those who may create or update it, an existing
    one by those who may update it, a removed one by those who may delete
    it.

    :param message: the refusal's text, with %s for the name.
    :raises Forbidden: the caller may not make one of the changes.
    """
    for name in created:
        if not (_allows(context, name, 'create')
                or _allows(context, name, 'update')):
            raise exception.Forbidden(message % name)
    for name in updated:
        if not _allows(context, name, 'update'):
            raise exception.Forbidden(message % name)
    for name in removed:
        if not _allows(context, name, 'delete'):
            raise exception.Forbidden(message % name)


def check_update(context, existing, requested, purge):
    """Check a PUT's property changes (spec §7.2 step 13).

    :returns: the properties to store: ``requested`` plus, when purging,
        the existing ones the caller cannot read (they are kept silently).
    :raises Forbidden: a protected property would be created, changed or
        removed.
    """
    if _rules is None:
        return requested
    for name, value in requested.items():
        if name not in existing:
            allowed = _allows(context, name, 'create')
        else:
            allowed = _allows(context, name, 'read') and (
                existing[name] == value or _allows(context, name, 'update'))
        if not allowed:
            raise exception.Forbidden(V1_MESSAGE % name)
    if not purge:
        return requested
    kept = dict(requested)
    for name, value in existing.items():
        if name in requested:
            continue
        if not _allows(context, name, 'read'):
            kept[name] = value
        elif not _allows(context, name, 'delete'):
            raise exception.Forbidden(V1_MESSAGE % name)
    return kept
