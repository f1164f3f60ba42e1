"""SQL that both image lists (v1's listing, v2's listing_v2) build their
pages from: sort expressions with the null sort values, the marker's
bound, and "the image has this property / tag" conditions with the plans
that keep a page's cost flat (docs/performance.md)."""

import sqlalchemy as sa

from glance_lite.db import engine
from glance_lite.db import records

# Nullable sort columns compare as these, in the order and at the marker
# (v1 spec §10.4, v2 spec §9.4).
NULL_SORT_VALUES = {'name': '', 'disk_format': '', 'container_format': '',
                    'size': 0}

# Characters of a property value in the index of property filters
# (migration 0003; values themselves are unbounded).
PROPERTY_VALUE_PREFIX = 200
# On SQLite, a property or tag filter matched by fewer rows than this is
# applied from the index (look the images up, sort them); a commoner one
# image by image along the sort order.
PROBE_LIMIT = 1000

IMAGES = records.IMAGES
PROPERTIES = records.PROPERTIES
TAGS = records.TAGS


def sort_expression(key):
    """The ORDER BY expression of sort key ``key``."""
    column = IMAGES.c[key]
    if key in NULL_SORT_VALUES:
        return sa.func.coalesce(column, NULL_SORT_VALUES[key])
    return column


def sort_value(marker, key):
    """The marker image's value of ``key`` as ``sort_expression`` sees
    it."""
    value = marker[key]
    if value is None:
        return NULL_SORT_VALUES.get(key, 0)
    return value


def order_by(sort):
    """ORDER BY clauses of ``sort``, (key, 'asc' | 'desc') pairs."""
    return [sort_expression(key).asc() if direction == 'asc'
            else sort_expression(key).desc() for key, direction in sort]


def after_marker(sort, marker):
    """The condition "strictly after ``marker`` (an image dict) in the
    order ``sort``" ((key, direction) pairs ending with a unique key)."""
    def beyond(key, direction, value):
        expr = sort_expression(key)
        return expr > value if direction == 'asc' else expr < value

    alternatives = []
    for i, (key, direction) in enumerate(sort):
        clause = [sort_expression(k) == sort_value(marker, k)
                  for k, _direction in sort[:i]]
        clause.append(beyond(key, direction, sort_value(marker, key)))
        alternatives.append(sa.and_(*clause))
    # The first key's bound, redundant with the alternatives, is what an
    # index range scan can start from: without it a deep marker made the
    # engines walk the list from its beginning.
    first_key, first_direction = sort[0]
    first = sort_expression(first_key)
    first_value = sort_value(marker, first_key)
    bound = (first >= first_value if first_direction == 'asc'
             else first <= first_value)
    return sa.and_(bound, sa.or_(*alternatives))


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


def _is_selective(session, table, match):
    """Whether fewer than PROBE_LIMIT rows of ``table`` satisfy ``match``:
    one indexed look-up of at most that many entries (no COUNT)."""
    beyond = session.execute(
        sa.select(table.c.id).where(*match)
        .offset(PROBE_LIMIT - 1).limit(1)).first()
    return beyond is None


def _having(session, table, match):
    """The images with a row of ``table`` (by its ``image_id``) that
    satisfies ``match``.

    Two plans: look the few matching images up through the index and sort
    them, or check images one by one along the sort order (a page of a
    common value after a few hundred). PostgreSQL and MySQL/MariaDB pick
    one from their value statistics for a semi-join; SQLite has none and
    follows the form of the query, so for it a bounded look-up
    (``_is_selective``) chooses the form.
    """
    if (engine.dialect_name() == 'sqlite'
            and _is_selective(session, table, match)):
        return IMAGES.c.id.in_(sa.select(table.c.image_id).where(*match))
    return sa.select(table.c.id).where(
        table.c.image_id == IMAGES.c.id, *match).exists()


def property_clause(session, name, value):
    """The images having property ``name`` = ``value`` (exactly)."""
    return _having(session, PROPERTIES, _property_match(name, value))


def tag_clause(session, tag):
    """The images tagged ``tag`` (exactly), through ix_image_tags_value or
    the unique (image_id, value) index."""
    return _having(session, TAGS, [TAGS.c.value == tag])


def attach_details(session, images, locations=False):
    """Give each image dict of a page its ``properties`` and ``tags`` (and
    with ``locations`` its live locations): one statement each for the
    whole page."""
    image_ids = [image['id'] for image in images]
    properties = records.properties_of(session, image_ids)
    tags = records.tags_of(session, image_ids)
    found = records.locations_of(session, image_ids) if locations else {}
    for image in images:
        image['properties'] = properties[image['id']]
        image['tags'] = tags[image['id']]
        if locations:
            image['locations'] = found[image['id']]
    return images
