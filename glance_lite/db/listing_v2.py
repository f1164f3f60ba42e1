"""Lists of images as v2 answers them (v2 spec §9): which images a caller
lists (v2 spec §9.3), the filters of v2 spec §9.2 and the order of
v2 spec §9.4, in one SELECT whose cost, like v1's, stays flat with the
catalogue's size (docs/performance.md): the page, then its properties
and tags.
"""

import datetime

import sqlalchemy as sa

from glance_lite.common import status as image_status
from glance_lite.db import engine
from glance_lite.db import list_clauses
from glance_lite.db import records

IMAGES = records.IMAGES
MEMBERS = records.MEMBERS

# Columns filtered by "any of these values" (v2 spec §9.2.1).
MATCH_COLUMNS = ('name', 'id', 'status', 'container_format', 'disk_format')
# Columns filtered by one exact value.
EXACT_COLUMNS = ('owner', 'checksum', 'os_hash_value', 'min_ram',
                 'min_disk', 'virtual_size', 'size', 'protected')
TIME_COLUMNS = ('created_at', 'updated_at')
DEFAULT_SORT = (('created_at', 'desc'), ('id', 'desc'))
PUBLIC_VISIBILITIES = ('public', 'community')
_SECOND = datetime.timedelta(seconds=1)


@engine.reader
def image_list_v2(session, with_locations=False, **kwargs):
    """One page of a v2 list, see ``image_list_v2_query`` for the
    arguments; image dicts with their properties and tags (and, with
    ``with_locations``, their live locations).

    Three statements whatever the catalogue's size (four with locations;
    on SQLite plus one bounded look-up per property or tag filter), never
    a COUNT or a statement per image.
    """
    images = [records.image_dict(row) for row in
              session.execute(image_list_v2_query(session, **kwargs))]
    return list_clauses.attach_details(session, images, with_locations)


def image_list_v2_query(session, owner=None, is_admin=False,
                        member_status='accepted', visibility=None,
                        os_hidden=False, matches=None, exact=None,
                        times=None, size_min=None, size_max=None,
                        properties=(), tags=(), sort=DEFAULT_SORT,
                        marker=None, limit=25):
    """The SELECT of one page of a v2 list (``image_list_v2``);
    ``session`` looks up how selective property and tag filters are.

    :param owner: the caller's owner (None: anonymous, unless admin).
    :param is_admin: the caller is admin: every owner's images.
    :param member_status: ``accepted``, ``pending``, ``rejected`` or
        ``all``: which of the caller's memberships list a shared image.
    :param visibility: None (the default rule of v2 spec §9.3), ``all``, or the
        one visibility to list.
    :param os_hidden: list only hidden images (True) or only others.
    :param matches: {column of MATCH_COLUMNS: values}: one of them.
    :param exact: {column of EXACT_COLUMNS: value}.
    :param times: {column of TIME_COLUMNS: ((operator, moment), ...)}:
        the column truncated to whole seconds compares so with the moment
        (an aware or naive UTC datetime in whole seconds); operators gt,
        gte, lt, lte, eq, neq.
    :param size_min, size_max: bounds of ``size`` (a null size never
        matches).
    :param properties: (name, value) pairs the image must all have.
    :param tags: tags the image must all have.
    :param sort: (key, 'asc' | 'desc') pairs ending with a unique key.
    :param marker: the image (dict) after which the page starts.
    """
    image = IMAGES.c
    query = sa.select(*records.IMAGE_COLUMNS).where(
        _listed(owner, is_admin, member_status, visibility),
        image.deleted.is_(False),
        image.status != image_status.KILLED,
        image.os_hidden.is_(bool(os_hidden)))
    for column, values in (matches or {}).items():
        query = query.where(_one_of(image[column], values))
    for column, value in (exact or {}).items():
        query = query.where(image[column] == value)
    for column, comparisons in (times or {}).items():
        for operator, moment in comparisons:
            query = query.where(_compare_seconds(image[column], operator,
                                                 moment))
    if size_min is not None:
        query = query.where(image.size >= size_min)
    if size_max is not None:
        query = query.where(image.size <= size_max)
    for name, value in properties:
        query = query.where(list_clauses.property_clause(session, name,
                                                         value))
    for tag in tags:
        query = query.where(list_clauses.tag_clause(session, tag))
    sort = list(sort)
    if marker is not None:
        query = query.where(list_clauses.after_marker(sort, marker))
    return query.order_by(*list_clauses.order_by(sort)).limit(limit)


def _listed(owner, is_admin, member_status, visibility):
    """SQL for "the caller lists this image": its candidate set
    (v2 spec §9.3) as the ``visibility`` parameter narrows it, written per
    case so that each is one simple condition."""
    vis = IMAGES.c.visibility
    if is_admin:
        if visibility == 'all':
            return sa.true()
        if visibility is not None:
            return vis == visibility
        # Everything but other owners' community images.
        if owner is None:
            return vis != 'community'
        return sa.or_(vis != 'community', IMAGES.c.owner == owner)
    if owner is None:
        # Anonymous: public and community images only (V11), not even
        # ownerless private ones, which are readable by id.
        shown = {None: ('public',), 'all': PUBLIC_VISIBILITIES}.get(
            visibility, (visibility,))
        shown = [v for v in shown if v in PUBLIC_VISIBILITIES]
        return vis.in_(shown) if shown else sa.false()
    own = IMAGES.c.owner == owner
    shared_with_caller = sa.and_(vis == 'shared',
                                 _membership(owner, member_status))
    if visibility is None:
        # Community images only the caller's own, which ``own`` covers.
        return sa.or_(vis == 'public', own, shared_with_caller)
    if visibility == 'all':
        return sa.or_(vis.in_(PUBLIC_VISIBILITIES), own, shared_with_caller)
    if visibility in PUBLIC_VISIBILITIES:
        return vis == visibility
    if visibility == 'private':
        return sa.and_(vis == 'private', own)
    return sa.or_(sa.and_(vis == 'shared', own), shared_with_caller)


def _membership(member, member_status):
    """The image has ``member`` as a live member in ``member_status``
    (any status for ``all``): probed per image through the unique
    (image_id, member) index."""
    members = MEMBERS.c
    query = sa.select(members.id).where(
        members.image_id == IMAGES.c.id, members.member == member,
        members.deleted.is_(False))
    if member_status != 'all':
        query = query.where(members.status == member_status)
    return query.exists()


def _one_of(column, values):
    values = list(values)
    if len(values) == 1:
        return column == values[0]
    return column.in_(values)


def _compare_seconds(column, operator, moment):
    """``column`` truncated to whole seconds <operator> ``moment`` (whole
    seconds), written as bounds on the column itself: the second
    [moment, moment + 1 s) holds every value that truncates to moment.
    Engine-neutral, no truncation function, and an index on the column
    still serves it."""
    if moment.tzinfo is not None:
        # The catalogue stores naive UTC times.
        moment = moment.astimezone(datetime.timezone.utc).replace(
            tzinfo=None)
    start = moment
    try:
        end = moment + _SECOND
    except OverflowError:
        # The last representable second: nothing lies beyond it.
        end = None
    if end is None:
        return {'eq': column >= start, 'neq': column < start,
                'gt': sa.false(), 'gte': column >= start,
                'lt': column < start, 'lte': sa.true()}[operator]
    if operator == 'eq':
        return sa.and_(column >= start, column < end)
    if operator == 'neq':
        return sa.or_(column < start, column >= end)
    if operator == 'gt':
        return column >= end
    if operator == 'gte':
        return column >= start
    if operator == 'lt':
        return column < start
    if operator == 'lte':
        return column < end
    raise ValueError('Unknown time operator %r' % operator)
