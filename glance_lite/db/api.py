"""Catalogue queries. Every status change is a conditional update, so
concurrent requests cannot both win a transition (spec §16).

Functions take and return plain dicts: ``properties`` maps names to
values, ``locations`` lists the live store locations (never shown to
clients). Visibility rules are decided by the API layer, except for lists,
whose scoping must happen in SQL (``image_list``).
"""

import functools
import json
import threading

from oslo_config import cfg
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import exc_filters
from oslo_log import log as logging
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import orm

from glance_lite.common import exception
from glance_lite.common import status as image_status
from glance_lite.db import models

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

IMAGE_FIELDS = ('id', 'name', 'disk_format', 'container_format', 'size',
                'virtual_size', 'checksum', 'status', 'is_public',
                'protected', 'min_disk', 'min_ram', 'owner', 'created_at',
                'updated_at', 'deleted_at', 'deleted')
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

_facade_lock = threading.Lock()
_facade = None
# SQLite has one writer at a time; serialising writers inside the process
# avoids "database is locked" between our own threads (spec §18 Q27).
_sqlite_write_lock = threading.RLock()


def _get_facade(wait=False):
    global _facade
    with _facade_lock:
        if _facade is None:
            facade = enginefacade.transaction_context()
            # oslo.db tries the first connection [database] max_retries
            # times, retry_interval seconds apart: at start-up only. An
            # engine created for a request while the database is down fails
            # at once (503), instead of holding the request for minutes.
            facade.configure(sqlite_fk=True,
                             connection=CONF.database.connection,
                             max_retries=(CONF.database.max_retries if wait
                                          else 0))
            engine = facade.writer.get_engine()
            if engine.dialect.name == 'sqlite':
                event.listen(engine, 'connect', _tune_sqlite_connection)
                _pool_sqlite_connections(engine)
                engine.dispose()
            _facade = facade
        return _facade


def get_engine(wait=False):
    """The engine of ``[database] connection`` (created on first use).

    :param wait: when the engine is created now, wait for the database as
        [database] max_retries and retry_interval say (service start-up).
    """
    return _get_facade(wait).writer.get_engine()


def reset():
    """Forget the engine, so the next use reads the configuration again."""
    global _facade
    with _facade_lock:
        if _facade is not None:
            _facade.writer.get_engine().dispose()
        _facade = None


# oslo.db knows PostgreSQL's "could not connect to server" of libpq before
# 14; newer libpq says 'connection to server at "HOST", port N failed: ...'
# (or 'on socket "PATH"'). Without this, an unreachable PostgreSQL was a 500
# instead of the 503 of an unreachable database, and oslo.db's start-up
# retries did not apply to it.
@exc_filters.filters('postgresql', sa.exc.OperationalError,
                     r'.*connection to server (?:at|on socket) .* failed')
def _postgresql_connection_error(error, match, engine_name, is_disconnect):
    raise db_exc.DBConnectionError(error)


def _pool_sqlite_connections(engine):
    """Keep SQLite file connections open between requests.

    oslo.db gives a file-based SQLite engine no pool (NullPool, kept for
    its eventlet users), so every request opened the file, set it up and
    closed it again: about 30 % of the time of a HEAD request under load.
    glance_lite's threads share connections safely (each is used by one
    thread at a time; writers are serialised by _sqlite_write_lock), so a
    queue pool keeps up to [database] max_pool_size of them; more are
    opened when needed, never waited for.
    """
    if not isinstance(engine.pool, sa.pool.NullPool):
        return  # :memory: databases share one connection already
    # A connection is handed from thread to thread through the pool.
    event.listen(engine, 'do_connect',
                 lambda _dialect, _record, _args, params: params.update(
                     check_same_thread=False))
    old = engine.pool
    # SQLAlchemy's own Pool.recreate() carries the same three (the
    # connection factory, the listeners oslo.db and _get_facade
    # registered, the dialect) into a pool of the same class.
    engine.pool = sa.pool.QueuePool(
        old._creator, pool_size=CONF.database.max_pool_size or 5,
        max_overflow=-1, _dispatch=old.dispatch, dialect=old._dialect)


def _tune_sqlite_connection(dbapi_connection, _record):
    # WAL lets readers run beside the writer; the busy timeout makes other
    # processes sharing the file wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA busy_timeout = 30000')
    cursor.execute('PRAGMA journal_mode = WAL')
    cursor.close()


def _is_sqlite_busy(exc):
    return 'database is locked' in str(exc)


def _unstorable(value):
    if isinstance(value, str):
        if '\x00' in value:
            return True
        try:
            value.encode('utf-8')
        except UnicodeEncodeError:  # an unpaired surrogate (from JSON)
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v)
                   for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_unstorable(v) for v in value)
    return False


def _reject_unstorable(args, kwargs):
    """No engine can store or compare text holding an unpaired surrogate,
    and PostgreSQL none holding NUL characters; refuse such text on every
    engine alike (400, never a database error)."""
    if _unstorable(args) or _unstorable(kwargs):
        raise exception.Invalid("Text can't contain NUL characters or "
                                "unpaired surrogates.")


def _writer(func):
    """Run ``func(session, ...)`` in one write transaction, retried on
    deadlocks and lock timeouts."""
    @functools.wraps(func)
    @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True,
                               exception_checker=_is_sqlite_busy)
    def wrapper(*args, **kwargs):
        _reject_unstorable(args, kwargs)
        engine = get_engine()
        lock = (_sqlite_write_lock if engine.dialect.name == 'sqlite'
                else _NO_LOCK)
        with lock:
            with orm.Session(engine, expire_on_commit=False) as session:
                with session.begin():
                    return func(session, *args, **kwargs)
    return wrapper


def _reader(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _reject_unstorable(args, kwargs)
        with orm.Session(get_engine()) as session:
            with session.begin():
                return func(session, *args, **kwargs)
    return wrapper


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NO_LOCK = _NoLock()


def _to_dict(image):
    result = {field: getattr(image, field) for field in IMAGE_FIELDS}
    result['properties'] = {p.name: p.value for p in image.properties}
    result['locations'] = [
        {'url': loc.url, 'metadata': json.loads(loc.meta_data or '{}'),
         'status': loc.status}
        for loc in image.locations if loc.status != 'deleted']
    return result


def _load(session, image_id, lock=False):
    query = sa.select(models.Image).where(models.Image.id == image_id)
    if lock:
        query = query.with_for_update()
    image = session.scalars(query).first()
    if image is None:
        raise exception.ImageNotFound(image_id=image_id)
    return image


# Reads that answer requests (HEAD, GET, lists, markers) are Core
# statements on the tables, their rows made into dicts: the ORM's
# instance loading and statement annotations were most of a HEAD
# request's CPU time (py-spy, bench/request_rate.py).
IMAGES = models.Image.__table__
PROPERTIES = models.ImageProperty.__table__
LOCATIONS = models.ImageLocation.__table__
MEMBERS = models.ImageMember.__table__
_IMAGE_COLUMNS = [IMAGES.c[field] for field in IMAGE_FIELDS]


def _properties_of(session, image_ids):
    """{image id: {name: value}} of these images, in one statement."""
    prop = PROPERTIES.c
    found = {image_id: {} for image_id in image_ids}
    if image_ids:
        for image_id, name, value in session.execute(
                sa.select(prop.image_id, prop.name, prop.value)
                .where(prop.image_id.in_(image_ids)).order_by(prop.id)):
            found[image_id][name] = value
    return found


@_reader
def image_get(session, image_id):
    """The image with this id, deleted or not.

    :raises ImageNotFound: no such id.
    """
    row = session.execute(sa.select(*_IMAGE_COLUMNS).where(
        IMAGES.c.id == image_id)).first()
    if row is None:
        raise exception.ImageNotFound(image_id=image_id)
    image = dict(zip(IMAGE_FIELDS, row))
    image['properties'] = _properties_of(session, [image_id])[image_id]
    loc = LOCATIONS.c
    image['locations'] = [
        {'url': url, 'metadata': json.loads(meta_data or '{}'),
         'status': status}
        for url, meta_data, status in session.execute(
            sa.select(loc.url, loc.meta_data, loc.status)
            .where(loc.image_id == image_id, loc.status != 'deleted')
            .order_by(loc.id))]
    return image


@_writer
def image_create(session, values, properties=None):
    """Store a new image record.

    :param values: core attributes; ``id`` and ``status`` are required.
    :raises Duplicate: the id is taken, by a live or a deleted image.
    """
    now = timeutils.utcnow()
    row = models.Image(size=0, is_public=False, protected=False, min_disk=0,
                       min_ram=0, deleted=False, created_at=now,
                       updated_at=now)
    for key, value in values.items():
        setattr(row, key, value)
    for name, value in (properties or {}).items():
        row.properties.append(models.ImageProperty(name=name, value=value))
    session.add(row)
    try:
        session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate(image_id=values['id'])
    return _to_dict(row)


def _apply_properties(session, row, properties, purge):
    existing = {p.name: p for p in row.properties}
    for name, value in properties.items():
        if name in existing:
            existing[name].value = value
        else:
            row.properties.append(models.ImageProperty(name=name, value=value))
    if purge:
        for name, prop in existing.items():
            if name not in properties:
                row.properties.remove(prop)


@_writer
def image_update(session, image_id, values, properties=None, purge=False,
                 expected_statuses=None):
    """Change an image's metadata in one transaction.

    :param values: core attributes to set.
    :param properties: custom properties to set (None: leave them alone).
    :param purge: delete the properties not named in ``properties``.
    :param expected_statuses: apply only while the image is in one of these.
    :raises ImageNotFound: no such image, or it was deleted meanwhile.
    :raises Conflict: its status is no longer one of ``expected_statuses``.
    """
    row = _load(session, image_id, lock=True)
    if row.deleted:
        raise exception.ImageNotFound(image_id=image_id)
    if expected_statuses and row.status not in expected_statuses:
        raise exception.Conflict()
    for key, value in values.items():
        setattr(row, key, value)
    if properties is not None:
        _apply_properties(session, row, properties, purge)
    row.updated_at = timeutils.utcnow()
    session.flush()
    return _to_dict(row)


@_writer
def image_transition(session, image_id, to_status, values=None,
                     location=None):
    """Move an image to ``to_status`` if the state machine allows it from
    the status it is in *now* (checked under a row lock).

    :param values: other core attributes to set in the same update.
    :param location: (url, metadata) of data to record with the change.
    :raises ImageNotFound: the image was deleted meanwhile (or never was).
    :raises Conflict: the transition is not allowed from its current status.
    """
    row = _load(session, image_id, lock=True)
    if row.deleted:
        raise exception.ImageNotFound(image_id=image_id)
    if not image_status.can_transition(row.status, to_status):
        raise exception.Conflict()
    row.status = to_status
    for key, value in (values or {}).items():
        setattr(row, key, value)
    if location is not None:
        url, metadata = location
        row.locations.append(models.ImageLocation(
            url=url, meta_data=json.dumps(metadata or {}), status='active',
            created_at=timeutils.utcnow()))
    row.updated_at = timeutils.utcnow()
    session.flush()
    return _to_dict(row)


@_writer
def image_kill(session, image_id):
    """Mark a failed upload ``killed`` (only from ``saving``); a no-op when
    the image has moved on (deleted meanwhile, for example)."""
    row = _load(session, image_id, lock=True)
    if row.deleted or row.status != image_status.SAVING:
        return False
    row.status = image_status.KILLED
    row.updated_at = timeutils.utcnow()
    return True


@_writer
def image_destroy(session, image_id, to_status, expected_status):
    """Soft-delete an image whose status is still ``expected_status``.

    Its locations become ``pending_delete`` (kept for a scrubber) or
    ``deleted``; its memberships are soft-deleted.

    :returns: the image as it was before deletion, locations included.
    :raises ImageNotFound: already deleted.
    :raises Conflict: its status changed since the caller looked.
    """
    row = _load(session, image_id, lock=True)
    if row.deleted:
        raise exception.ImageNotFound(image_id=image_id)
    if row.status != expected_status:
        raise exception.Conflict()
    before = _to_dict(row)
    now = timeutils.utcnow()
    row.status = to_status
    row.deleted = True
    row.deleted_at = now
    row.updated_at = now
    location_status = ('pending_delete'
                       if to_status == image_status.PENDING_DELETE
                       else 'deleted')
    for loc in row.locations:
        if loc.status == 'active':
            loc.status = location_status
    session.execute(
        sa.update(models.ImageMember)
        .where(models.ImageMember.image_id == image_id,
               models.ImageMember.deleted.is_(False))
        .values(deleted=True, deleted_at=now, updated_at=now))
    return before


@_writer
def image_restore_status(session, image_id, status):
    """Undo a soft-delete whose data could not be removed from the store."""
    row = _load(session, image_id, lock=True)
    row.status = status
    row.deleted = False
    row.deleted_at = None
    for loc in row.locations:
        if loc.status in ('pending_delete', 'deleted'):
            loc.status = 'active'


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
    if get_engine().dialect.name in ('mysql', 'mariadb'):
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
    if (session.get_bind().dialect.name == 'sqlite'
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
        if get_engine().dialect.name == 'postgresql':
            # OFFSET 0 keeps PostgreSQL from turning this test into a hash
            # of every live membership, built for each page (80 ms with
            # 10^6 images): the page then probes the index per image.
            members = members.offset(0)
        return sa.or_(IMAGES.c.is_public.is_(True), members.exists())
    return sa.or_(IMAGES.c.is_public.is_(True),
                  IMAGES.c.owner == owner,
                  members.where(MEMBERS.c.member == owner).exists())


@_reader
def image_list(session, **kwargs):
    """One page of images, in the order of spec §10.4, see
    ``image_list_query`` for the arguments.

    Whatever the catalogue's size, it takes two statements (the page, then
    the properties of all its images), on SQLite plus one bounded look-up
    per property filter; never a COUNT or a statement per image.
    """
    images = [dict(zip(IMAGE_FIELDS, row)) for row in
              session.execute(image_list_query(session, **kwargs))]
    properties = _properties_of(session, [image['id'] for image in images])
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
    query = sa.select(*_IMAGE_COLUMNS).where(_visibility_clause(scope,
                                                                owner))
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


def _member_dict(row):
    return {'image_id': row.image_id, 'member_id': row.member,
            'can_share': row.can_share}


def _live_membership(session, image_id, member):
    return session.scalars(sa.select(models.ImageMember).where(
        models.ImageMember.image_id == image_id,
        models.ImageMember.member == member,
        models.ImageMember.deleted.is_(False))).first()


@_reader
def member_find(session, image_id, member):
    """The live membership of ``member`` in the image, or None."""
    row = _live_membership(session, image_id, member)
    return _member_dict(row) if row else None


@_reader
def member_list(session, image_id=None, member=None):
    """Live memberships of an image, or of a member, in creation order."""
    query = sa.select(models.ImageMember).where(
        models.ImageMember.deleted.is_(False))
    if image_id is not None:
        query = query.where(models.ImageMember.image_id == image_id)
    if member is not None:
        query = query.where(models.ImageMember.member == member)
    return [_member_dict(row) for row in
            session.scalars(query.order_by(models.ImageMember.id))]


def _member_upsert(session, image_id, member, can_share):
    now = timeutils.utcnow()
    row = session.scalars(sa.select(models.ImageMember).where(
        models.ImageMember.image_id == image_id,
        models.ImageMember.member == member)).first()
    if row is None:
        session.add(models.ImageMember(
            image_id=image_id, member=member, created_at=now,
            updated_at=now, deleted=False,
            can_share=bool(can_share) if can_share is not None else False))
        return
    if row.deleted:
        # A removed member comes back as the same record (spec §18 Q7).
        row.deleted, row.deleted_at, row.created_at = False, None, now
        row.can_share = bool(can_share)
    elif can_share is not None:
        row.can_share = bool(can_share)
    row.updated_at = now


@_writer
def member_set(session, image_id, member, can_share=None):
    """Add or update one membership (can_share None: keep / default)."""
    _member_upsert(session, image_id, member, can_share)


@_writer
def member_replace_all(session, image_id, memberships):
    """Make the image's live memberships exactly ``memberships``
    (a list of (member, can_share)); a can_share of None keeps an existing
    member's value and makes new or revived members false (spec §11.3)."""
    wanted = dict(memberships)
    now = timeutils.utcnow()
    for row in session.scalars(sa.select(models.ImageMember).where(
            models.ImageMember.image_id == image_id,
            models.ImageMember.deleted.is_(False))):
        if row.member not in wanted:
            row.deleted, row.deleted_at, row.updated_at = True, now, now
    session.flush()
    for member, can_share in memberships:
        _member_upsert(session, image_id, member, can_share)


@_writer
def member_delete(session, image_id, member):
    """Soft-delete a live membership; False when there was none."""
    row = _live_membership(session, image_id, member)
    if row is None:
        return False
    now = timeutils.utcnow()
    row.deleted, row.deleted_at, row.updated_at = True, now, now
    return True


@_reader
def storage_usage(session, owner, exclude_image_id=None):
    """Bytes of image data an owner holds (spec §15.3): size times live
    locations, over images that are neither killed nor deleted."""
    image, location = models.Image, models.ImageLocation
    live_locations = sa.select(sa.func.count(location.id)).where(
        location.image_id == image.id,
        location.status != 'deleted').scalar_subquery()
    query = sa.select(sa.func.coalesce(sa.func.sum(
        image.size * live_locations), 0)).where(
        image.owner == owner,
        image.status.notin_([image_status.KILLED, image_status.DELETED]),
        image.size > 0)
    if exclude_image_id is not None:
        query = query.where(image.id != exclude_image_id)
    return int(session.scalar(query))


@_writer
def image_heartbeat(session, image_id):
    """Show that an upload is alive: refresh ``updated_at`` of an image
    that is still ``saving`` (and not deleted).

    :returns: False when the image is no longer saving (killed by a
        stale-upload cleanup, or deleted): the upload should stop.
    """
    changed = session.execute(
        sa.update(models.Image)
        .where(models.Image.id == image_id,
               models.Image.status == image_status.SAVING,
               models.Image.deleted.is_(False))
        .values(updated_at=timeutils.utcnow())
        .execution_options(synchronize_session=False))
    return changed.rowcount == 1


@_reader
def image_list_stale_saving(session, updated_before):
    """Images still ``saving`` whose last sign of life (``updated_at``,
    refreshed by the upload's heartbeat) is older than ``updated_before``.

    :returns: [{'id', 'updated_at', 'owner'}], oldest first.
    """
    image = models.Image
    rows = session.execute(
        sa.select(image.id, image.updated_at, image.owner)
        .where(image.status == image_status.SAVING,
               image.deleted.is_(False),
               image.updated_at < updated_before)
        .order_by(image.updated_at, image.id))
    return [{'id': row.id, 'updated_at': row.updated_at, 'owner': row.owner}
            for row in rows]


@_writer
def image_kill_if_unchanged(session, image_id, updated_at):
    """Kill a ``saving`` image only if its ``updated_at`` is still the
    value the caller read: a heartbeat of a live upload in between wins.

    :returns: True if the image is now killed by this call.
    """
    changed = session.execute(
        sa.update(models.Image)
        .where(models.Image.id == image_id,
               models.Image.status == image_status.SAVING,
               models.Image.deleted.is_(False),
               models.Image.updated_at == updated_at)
        .values(status=image_status.KILLED, updated_at=timeutils.utcnow())
        .execution_options(synchronize_session=False))
    return changed.rowcount == 1


@_reader
def image_data_records(session, image_ids):
    """What the catalogue says about the data of these images, for a
    store consistency check.

    :returns: {image_id: {'status', 'deleted', 'urls'}} for the ids that
        exist; ``urls`` are the locations whose data must be kept (live
        ones, and those waiting for a scrubber).
    """
    result = {}
    ids = list(image_ids)
    # Bounded IN lists: some engines limit the number of bound parameters.
    for start in range(0, len(ids), 500):
        rows = session.scalars(sa.select(models.Image).where(
            models.Image.id.in_(ids[start:start + 500])))
        for row in rows:
            result[row.id] = {
                'status': row.status, 'deleted': row.deleted,
                'urls': {loc.url for loc in row.locations
                         if loc.status in ('active', 'pending_delete')}}
    return result


@_reader
def image_list_with_data(session, statuses, after_id=None, limit=500):
    """One page (by id) of the live images in ``statuses`` with their live
    locations, for a store consistency check:
    [{'id', 'size', 'status', 'urls'}]; pass the last id as ``after_id``
    for the next page."""
    query = (sa.select(models.Image)
             .where(models.Image.status.in_(statuses),
                    models.Image.deleted.is_(False))
             .order_by(models.Image.id).limit(limit))
    if after_id is not None:
        query = query.where(models.Image.id > after_id)
    rows = session.scalars(query)
    return [{'id': row.id, 'size': row.size, 'status': row.status,
             'urls': [loc.url for loc in row.locations
                      if loc.status == 'active']}
            for row in rows]


@_writer
def image_drop_missing_location(session, image_id, url, expected_status):
    """Forget a location whose data is gone from the store. An image left
    with no live location is marked ``killed``: it can no longer be
    served.

    :returns: the image's status afterwards, or None when the image
        changed meanwhile (status, or deleted) and nothing was done.
    """
    row = _load(session, image_id, lock=True)
    if row.deleted or row.status != expected_status:
        return None
    now = timeutils.utcnow()
    for loc in row.locations:
        if loc.url == url and loc.status == 'active':
            loc.status = 'deleted'
    if not any(loc.status == 'active' for loc in row.locations):
        row.status = image_status.KILLED
    row.updated_at = now
    return row.status
