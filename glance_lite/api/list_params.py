"""Query parameters of the image lists (spec §10.2-§10.3), parsed and
validated into the arguments of ``db.api.image_list``."""

from oslo_config import cfg
from oslo_utils import timeutils
from oslo_utils import uuidutils

from glance_lite.api import image_headers
from glance_lite.common import exception
from glance_lite.db import api as db_api
from glance_lite.image import access

CONF = cfg.CONF

EXACT_FILTERS = ('name', 'status', 'disk_format', 'container_format')
BOOLEAN_WORDS = {'true': True, '1': True, 'false': False, '0': False}


def _non_negative(name, value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise exception.Invalid("Bad value passed to filter %s got %s"
                                % (name, value))
    if number > image_headers.MAX_INT64:
        raise exception.Invalid("Value of filter %s is out of range: %s"
                                % (name, value))
    return number


def _limit(params):
    if 'limit' not in params:
        return CONF.limit_param_default
    try:
        limit = int(params['limit'])
    except ValueError:
        raise exception.Invalid("limit param must be an integer")
    if limit < 0:
        raise exception.Invalid("limit param must be positive")
    return min(limit, CONF.api_limit_max)


def _scope(params, context):
    """(scope, owner) of the list for this caller (spec §10.3)."""
    owner = context.owner
    if 'is_public' in params:
        word = params['is_public'].lower()
        if word not in ('true', '1', 'false', '0', 'none'):
            raise exception.Invalid("Bad value passed to filter is_public "
                                    "got %s" % params['is_public'])
        if context.is_admin:
            if word == 'none':
                return 'all', owner
            if word in ('false', '0'):
                return 'private', owner
    if owner is None and not context.is_admin:
        # An anonymous caller lists public images only; Glance's quirk of
        # also listing every shared image (Q12) is kept for admins only.
        return 'public', owner
    return 'user', owner


def parse(params, context):
    """Keyword arguments for ``image_list`` from a request's query.

    :raises Invalid: a parameter with a bad value (400).
    """
    filters = {}
    for name in EXACT_FILTERS:
        if name in params:
            filters[name] = params[name]
    for name in ('size_min', 'size_max'):
        if name in params:
            filters[name] = _non_negative(name, params[name])
    for name in ('min_ram', 'min_disk'):
        if name in params:
            filters[name] = _non_negative(name, params[name])
    if 'protected' in params:
        word = params['protected'].lower()
        if word not in BOOLEAN_WORDS:
            raise exception.Invalid("Bad value passed to filter protected "
                                    "got %s" % params['protected'])
        filters['protected'] = BOOLEAN_WORDS[word]
    properties = {key[len('property-'):]: value
                  for key, value in params.items()
                  if key.startswith('property-')}

    changes_since = None
    if 'changes-since' in params:
        try:
            changes_since = timeutils.normalize_time(
                timeutils.parse_isotime(params['changes-since']))
        except (ValueError, TypeError, OverflowError):
            raise exception.Invalid("Unrecognized changes-since value")

    sort_key = params.get('sort_key', 'created_at')
    if sort_key not in db_api.SORT_KEYS:
        raise exception.Invalid(
            "Unsupported sort_key. Acceptable values: %s"
            % ', '.join(db_api.SORT_KEYS))
    sort_dir = params.get('sort_dir', 'desc')
    if sort_dir not in ('asc', 'desc'):
        raise exception.Invalid(
            "Unsupported sort_dir. Acceptable values: asc, desc")

    limit = _limit(params)
    scope, owner = _scope(params, context)

    marker = None
    if 'marker' in params:
        if not uuidutils.is_uuid_like(params['marker']):
            raise exception.Invalid("Invalid marker format")
        try:
            marker = db_api.image_get(params['marker'])
        except exception.ImageNotFound:
            marker = None
        # A deleted marker: admins always, others only with changes-since
        # (spec §10.4); otherwise the usual visibility rules (§4.4).
        if marker is None or not access.is_visible(
                context, dict(marker, deleted=False)) or (
                marker['deleted'] and not context.is_admin
                and changes_since is None):
            raise exception.Invalid(
                "Invalid marker. Image could not be found.")

    return {'filters': filters, 'properties': properties, 'scope': scope,
            'owner': owner, 'changes_since': changes_since, 'marker': marker,
            'limit': limit, 'sort_key': sort_key, 'sort_dir': sort_dir}
