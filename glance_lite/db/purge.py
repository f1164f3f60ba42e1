"""Catalogue queries behind ``glance-lite-manage db purge`` (spec §22.7
rule 5): hard-delete the history rows deleted images leave, oldest
first, in bounded batches.

Image rows themselves are never purged: an id stays taken for ever
(OSSN-0075). The rules are generic over the tables the schema has, so a
table added later is covered by the rule its columns call for:

- a row with its own ``deleted`` / ``deleted_at`` (memberships) goes once
  it was soft-deleted before the cut-off;
- a row of an image without those columns (properties, locations) goes
  once its image is ``deleted`` (the data removed, scrubbed or not
  delayed) since before the cut-off; a row with a ``status`` of its own
  (locations) only when that status is ``deleted`` too.

Nothing of a ``pending_delete`` image is touched: its locations are the
scrubber's queue and the rest is what a restore brings back.
"""

import sqlalchemy as sa

from glance_lite.common import status as image_status
from glance_lite.db import engine
from glance_lite.db import models

IMAGES = models.Image.__table__
# Bound parameters per statement (some engines limit them).
_CHUNK = 500


def history_tables():
    """Names of the tables ``purge_table`` may remove rows from,
    children before the tables they refer to."""
    names = []
    for table in reversed(models.Base.metadata.sorted_tables):
        if table is not IMAGES and _rule(table) is not None:
            names.append(table.name)
    return names


def _image_column(table):
    for fk in table.foreign_keys:
        if fk.column is IMAGES.c.id:
            return fk.parent
    return None


def _rule(table):
    """(condition for a cut-off, oldest-first order key) of the rows of
    ``table`` that may be purged, or None when it holds no image
    history. ``condition`` is a function of the cut-off."""
    image_id = _image_column(table)
    columns = table.c
    if 'deleted' in columns and 'deleted_at' in columns:
        def condition(cutoff):
            clause = sa.and_(columns.deleted.is_(True),
                             columns.deleted_at < cutoff)
            if image_id is not None:
                clause = sa.and_(clause, image_id.notin_(
                    sa.select(IMAGES.c.id).where(
                        IMAGES.c.status == image_status.PENDING_DELETE)))
            return clause
        return condition, columns.deleted_at
    if image_id is None:
        return None

    def condition(cutoff):
        clause = image_id.in_(sa.select(IMAGES.c.id).where(
            IMAGES.c.status == image_status.DELETED,
            IMAGES.c.deleted_at < cutoff))
        if 'status' in columns:
            clause = sa.and_(
                clause, columns.status == image_status.LOCATION_DELETED)
        return clause
    return condition, None


@engine.writer
def purge_table(session, name, cutoff, max_rows):
    """Hard-delete at most ``max_rows`` purgeable rows of table ``name``
    whose deletion is older than ``cutoff``, oldest first.

    :returns: the number of rows removed.
    """
    table = models.Base.metadata.tables[name]
    condition, deleted_at = _rule(table)
    (key,) = table.primary_key.columns
    query = sa.select(key).where(condition(cutoff))
    if deleted_at is not None:
        query = query.order_by(deleted_at, key)
    else:
        image_id = _image_column(table)
        query = (query.join(IMAGES, image_id == IMAGES.c.id)
                 .order_by(IMAGES.c.deleted_at, key))
    keys = list(session.scalars(query.limit(max_rows)))
    removed = 0
    for start in range(0, len(keys), _CHUNK):
        # The condition again: a row revived meanwhile (a member added
        # back) is kept.
        removed += session.execute(
            sa.delete(table).where(key.in_(keys[start:start + _CHUNK]),
                                   condition(cutoff))).rowcount
    return removed
