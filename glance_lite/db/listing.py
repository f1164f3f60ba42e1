"""Lists of images: one page in the order of spec §10.4, scoped by
visibility in SQL, with the dialect hints that keep a page's cost flat
whatever the catalogue's size (docs/performance.md)."""

import sqlalchemy as sa

from glance_lite.common import status as image_status
from glance_lite.db import engine
from glance_lite.db import records

SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
# Nullable sort columns compare as these when paging (spec §10.4).
_NULL_SORT_VALUES = {'name': '', 'disk_format': '', 'container_format': ''}

# Characters of a property value in the index of property filters
# (migration 0003; values themselves are unbounded).
PROPERTY_VALUE_PREFIX = 200
# On SQLite, a property filter matched by fewer rows than this is applied
# from the index (look the images up, sort them); a commoner one image by
# image along the sort order.
PROPERTY_PROBE_LIMIT = 1000

IMAGES = records.IMAGES
PROPERTIES = records.PROPERTIES
MEMBERS = records.MEMBERS


def _sort_expression(key):
    column = IMAGES.c[key]
    if key in _NULL_SORT_VALUES:
        return sa.func.coalesce(column, _NULL_SORT_VALUES[key])
    return column


def _sort_value(marker, key):
    value = marker[key]
    if value is None:
        return _NULL_SORT_VALUES.get(key, 0)
    return value


def _property_match(name, value):
    """Conditions on ``image_properties`` rows: property ``name`` is
    ``value``, through the (name, value prefix) index of migration 0003."""
    prop = PROPERTIES.c
    if engine.dialect_name() in ('mysql', 'mariadb'):
        return [prop.name == name, prop.value == value]  # a prefix index
    # The index's own expression, spelt as in the index: SQLite uses an
    # expression index only for the same text (unqualified column).
    prefix = sa.literal_column('substr(value, 1, %d)' % PROPERTY_VALUE_PREFIX)
    if len(value) < PROPERTY_VALUE_PREFIX:
        # Exact on its own (a longer value has a longer prefix), and one
        # condition keeps PostgreSQL's row estimate right: estimated as
        # independent, the prefix and the value made every value look rare.
        return [prop.name == name, prefix == value]
    return [prop.name == name, prefix == value[:PROPERTY_VALUE_PREFIX],
            prop.value == value]


def _is_selective(session, name, value):
    """Whether fewer than PROPERTY_PROBE_LIMIT properties match: one
    indexed look-up of at most that many entries (no COUNT)."""
    prop = PROPERTIES.c
    beyond = session.execute(
        sa.select(prop.id).where(*_property_match(name, value))
        .offset(PROPERTY_PROBE_LIMIT - 1).limit(1)).first()
    return beyond is None


def _property_clause(session, name, value):
    """The images having property ``name`` = ``value``.

    Two plans: look the few matching images up through the index and sort
    them, or check images one by one along the sort order (a page of a
    common value after a few hundred). PostgreSQL and MySQL/MariaDB pick
    one from their value statistics for a semi-join; SQLite has none and
    follows the form of the query, so for it a bounded look-up
    (``_is_selective``) chooses the form.
    """
    prop = PROPERTIES.c
    match = _property_match(name, value)
    if (engine.dialect_name() == 'sqlite'
            and _is_selective(session, name, value)):
        return IMAGES.c.id.in_(sa.select(prop.image_id).where(*match))
    return sa.select(prop.id).where(
        prop.image_id == IMAGES.c.id, *match).exists()


def _visibility_clause(scope, owner):
    """SQL for "which images this caller lists" (spec §10.3)."""
    if scope == 'all':
        return sa.true()
    if scope == 'private':
        return IMAGES.c.is_public.is_(False)
    if scope == 'public':
        return IMAGES.c.is_public.is_(True)
    members = sa.select(MEMBERS.c.id).where(
        MEMBERS.c.image_id == IMAGES.c.id,
        MEMBERS.c.deleted.is_(False))
    if owner is None:
        # Glance quirk Q12, kept: without an owner the membership test is
        # skipped, so every shared image is listed.
        if engine.dialect_name() == 'postgresql':
            # OFFSET 0 keeps PostgreSQL from turning this test into a hash
            # of every live membership, built for each page (80 ms with
            # 10^6 images): the page then probes the index per image.
            members = members.offset(0)
        return sa.or_(IMAGES.c.is_public.is_(True), members.exists())
    return sa.or_(IMAGES.c.is_public.is_(True),
                  IMAGES.c.owner == owner,
                  members.where(MEMBERS.c.member == owner).exists())


@engine.reader
def image_list(session, **kwargs):
    """One page of images, in the order of spec §10.4, see
    ``image_list_query`` for the arguments.

    Whatever the catalogue's size, it takes two statements (the page, then
    the properties of all its images), on SQLite plus one bounded look-up
    per property filter; never a COUNT or a statement per image.
    """
    images = [dict(zip(records.IMAGE_FIELDS, row)) for row in
              session.execute(image_list_query(session, **kwargs))]
    properties = records.properties_of(session,
                                       [image['id'] for image in images])
    for image in images:
        image['properties'] = properties[image['id']]
    return images


def image_list_query(session, filters=None, properties=None, scope='user',
                     owner=None, changes_since=None, marker=None, limit=25,
                     sort_key='created_at', sort_dir='desc'):
    """The SELECT of one page of images (``image_list``); ``session``
    looks up how selective each property filter is.

    :param filters: exact-match core filters; ``size_min``/``size_max`` are
        bounds.
    :param properties: custom property name -> value, all must match.
    :param scope: ``user`` (public, owned by ``owner`` or shared with it),
        ``public``, ``all`` or ``private`` (every non-public image).
    :param changes_since: only images updated after this time; deleted and
        killed images are then included.
    :param marker: the image (dict) after which the page starts.
    """
    image = IMAGES.c
    query = sa.select(*records.IMAGE_COLUMNS).where(
        _visibility_clause(scope, owner))
    if changes_since is None:
        query = query.where(image.deleted.is_(False),
                            image.status != image_status.KILLED)
    else:
        query = query.where(image.updated_at > changes_since)
    for key, value in (filters or {}).items():
        if key == 'size_min':
            query = query.where(image.size >= value)
        elif key == 'size_max':
            query = query.where(image.size <= value)
        else:
            query = query.where(image[key] == value)
    for name, value in (properties or {}).items():
        query = query.where(_property_clause(session, name, value))

    keys = [sort_key] + [k for k in ('created_at', 'id') if k != sort_key]
    ascending = sort_dir == 'asc'
    if marker is not None:
        alternatives = []
        for i, key in enumerate(keys):
            expr = _sort_expression(key)
            value = _sort_value(marker, key)
            clause = [_sort_expression(k) == _sort_value(marker, k)
                      for k in keys[:i]]
            clause.append(expr > value if ascending else expr < value)
            alternatives.append(sa.and_(*clause))
        # The first key's bound, redundant with the alternatives, is what
        # an index range scan can start from: without it a deep marker
        # made the engines walk the list from its beginning.
        first = _sort_expression(keys[0])
        first_value = _sort_value(marker, keys[0])
        query = query.where(first >= first_value if ascending
                            else first <= first_value)
        query = query.where(sa.or_(*alternatives))
    order = [(_sort_expression(k).asc() if ascending
              else _sort_expression(k).desc()) for k in keys]
    return query.order_by(*order).limit(limit)
