"""Catalogue benchmark: list latency with 10^3 to 10^6 images.

Usage (from the repository root, with the project's venv)::

    .venv/bin/python bench/catalogue.py [--sizes 1e3,1e5,1e6]
        [--engines sqlite,postgresql] [--requests 100] [--seconds 10]
        [--explain] [--reseed] [--no-report]

For each engine and catalogue size it makes (or reuses) a catalogue
database of that many images, starts a real glance-lite-api on it
(trusted-auth flavor, one process as ``glance-lite-api`` runs by default)
and times sequential HTTP requests, one at a time, of ``GET /v1/images``
and ``GET /v1/images/detail``: limits 25 and 1000, name, status and
property filters, other sort keys, a marker deep in the list, as an admin
and as a project. Each case runs ``--requests`` requests or ``--seconds``
seconds, whichever ends first (after 3 untimed warm-up requests), and
reports p50 and p99 in milliseconds and the number of images returned.

Seeding: the catalogue is created by ``glance-lite-manage db sync`` and
filled with bulk inserts (SQLite) or COPY (PostgreSQL), not through the
API, which would take hours for 10^6 images. Rows are varied and
reproducible (a fixed random seed per size): names from a few hundred
stems, 8 statuses (about 5 % deleted), 1000 owners, 20 % public,
sizes, formats, three years of creation times, 3 to 5 custom properties
per image, 2 % of the images shared with other projects. A few probe
rows (a rare name, a rare property value, the deep marker) are recorded
in the cache so every run asks for the same things. Seeded databases are
kept under ``.bench/catalogue`` (SQLite files; PostgreSQL databases named
``glance_lite_bench_<size>``, recorded there) and reused by later runs,
which only run ``db sync`` on them (so a new migration is applied to the
big catalogue, and its time printed). ``--reseed`` starts again.

PostgreSQL is reached through GLANCE_LITE_TEST_PG_URL (default
postgresql+psycopg2://postgres@127.0.0.1:5432/test, as the tests).
After seeding, PostgreSQL gets its statistics from ``VACUUM ANALYZE``
(as autovacuum would), SQLite from ``glance-lite-manage db sync`` (as an
operator's would; glance_lite refreshes them at each db sync and start).

``--explain`` prints the query plans of the default list, a deep marker
and a property filter on the largest catalogue (EXPLAIN QUERY PLAN on
SQLite, EXPLAIN ANALYZE on PostgreSQL). The table is printed as Markdown
and written into the ``catalogue`` section of docs/performance.md (unless
``--no-report``).

This is a benchmark, not a test: pytest never collects it.
"""

import argparse
import datetime
import io
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid

import requests
import sqlalchemy as sa
from sqlalchemy import orm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import report  # noqa: E402
from tests import databases  # noqa: E402
from tests import server as test_server  # noqa: E402

CACHE_DIR = os.path.join(ROOT, '.bench', 'catalogue')
# Bumped when the generated rows change, so old caches are not reused.
SEED_VERSION = 1
CHUNK = 50000
WARMUP = 3

STEMS = ['ubuntu', 'debian', 'centos', 'rhel', 'fedora', 'cirros', 'windows',
         'alpine', 'rocky', 'alma', 'opensuse', 'arch', 'freebsd', 'coreos']
STATUSES = ([('active', False)] * 85 + [('queued', False)] * 4 +
            [('saving', False)] * 1 + [('killed', False)] * 2 +
            [('deactivated', False)] * 1 + [('pending_delete', True)] * 2 +
            [('deleted', True)] * 5)
DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'iso', 'vhd', 'ami']
DISTROS = ['ubuntu', 'debian', 'centos', 'fedora', 'cirros', 'windows']
OWNERS = ['project-%04d' % i for i in range(1000)]
PROBE_PROJECT = 'project-0007'
PROBE_NAME = 'bench-probe-image'
PROBE_PROPERTY = ('bench_tag', 'rare')
EPOCH = datetime.datetime(2023, 1, 1)
SPAN_SECONDS = 3 * 365 * 86400


def _log(message):
    print(message, flush=True)


# -- seeding -----------------------------------------------------------------

def _timestamp(value):
    return value.strftime('%Y-%m-%d %H:%M:%S.%f')


def _generate(size, rng, meta):
    """Yield (images, properties, members) row chunks for ``size`` images,
    oldest first. Rows are tuples in the column order of _COLUMNS."""
    probe_marker = size // 10  # old, so deep in the newest-first list
    rare = set(rng.sample(range(size), min(10, size)))
    named = set(rng.sample(range(size), min(5, size)))
    step = SPAN_SECONDS / size
    images, properties, members = [], [], []
    for i in range(size):
        image_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        # Images made in batches of three share a creation time (the id
        # then breaks the tie in the sort).
        base = i - i % 3 if i % 50 < 3 else i
        created = EPOCH + datetime.timedelta(seconds=base * step)
        updated = created + datetime.timedelta(seconds=rng.random() * 3600)
        status, deleted = rng.choice(STATUSES)
        is_public = rng.random() < 0.2
        owner = rng.choice(OWNERS)
        stem = rng.choice(STEMS)
        name = '%s-%d.%d-%s' % (stem, rng.randint(5, 24), rng.randint(0, 9),
                                rng.choice(('server', 'cloud', 'minimal')))
        if i in named:
            name = PROBE_NAME
        if i == probe_marker:
            status, deleted, is_public = 'active', False, True
            meta['deep_marker'] = image_id
        disk = rng.choice(DISK_FORMATS)
        container = 'ami' if disk == 'ami' else 'bare'
        image_size = rng.randint(10 ** 6, 10 ** 10) if status != 'queued' \
            else 0
        checksum = '%032x' % rng.getrandbits(128) if image_size else None
        images.append((
            image_id, name, disk, container, image_size, None, checksum,
            status, is_public, False, rng.choice((0, 0, 10, 20)),
            rng.choice((0, 0, 512, 2048)), owner, created, updated,
            updated if deleted else None, deleted))
        props = [('os_distro', rng.choice(DISTROS)),
                 ('architecture', rng.choice(('x86_64', 'x86_64', 'aarch64'))),
                 ('build_id', '%08x' % rng.getrandbits(32))]
        extra = rng.randint(0, 2)
        if extra:
            props.append(('hw_disk_bus', rng.choice(('virtio', 'scsi'))))
        if extra == 2:
            props.append(('description', 'Built by the image pipeline, '
                          'run %d' % rng.randint(1, 10 ** 6)))
        if i in rare:
            props.append(PROBE_PROPERTY)
        for prop_name, value in props:
            properties.append((image_id, prop_name, value))
        if rng.random() < 0.02:
            for member in rng.sample(OWNERS, rng.randint(1, 3)):
                if member != owner:
                    members.append((image_id, member, False, created,
                                    created, None, False))
        if len(images) >= CHUNK:
            yield images, properties, members
            images, properties, members = [], [], []
    if images:
        yield images, properties, members


_COLUMNS = {
    'images': ('id', 'name', 'disk_format', 'container_format', 'size',
               'virtual_size', 'checksum', 'status', 'is_public', 'protected',
               'min_disk', 'min_ram', 'owner', 'created_at', 'updated_at',
               'deleted_at', 'deleted'),
    'image_properties': ('image_id', 'name', 'value'),
    'image_members': ('image_id', 'member', 'can_share', 'created_at',
                      'updated_at', 'deleted_at', 'deleted'),
}


def _sqlite_value(value):
    if isinstance(value, datetime.datetime):
        return _timestamp(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _insert_sqlite(path, chunks):
    connection = sqlite3.connect(path)
    connection.execute('PRAGMA synchronous = OFF')
    statements = {
        table: 'INSERT INTO %s (%s) VALUES (%s)' % (
            table, ', '.join(columns), ', '.join('?' * len(columns)))
        for table, columns in _COLUMNS.items()}
    for chunk in chunks:
        for table, rows in zip(('images', 'image_properties',
                                'image_members'), chunk):
            connection.executemany(
                statements[table],
                ([_sqlite_value(v) for v in row] for row in rows))
        connection.commit()
    connection.close()


def _copy_value(value):
    if value is None:
        return '\\N'
    if isinstance(value, datetime.datetime):
        return _timestamp(value)
    if isinstance(value, bool):
        return 't' if value else 'f'
    return str(value)


def _insert_postgresql(url, chunks):
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        cursor = connection.cursor()
        for chunk in chunks:
            for table, rows in zip(('images', 'image_properties',
                                    'image_members'), chunk):
                # Generated values hold no tabs, newlines or backslashes.
                data = io.StringIO(''.join(
                    '\t'.join(_copy_value(v) for v in row) + '\n'
                    for row in rows))
                cursor.copy_expert('COPY %s (%s) FROM STDIN' % (
                    table, ', '.join(_COLUMNS[table])), data)
            connection.commit()
        connection.autocommit = True
        cursor.execute('VACUUM ANALYZE')
    finally:
        pooled.close()
        engine.dispose()


def _manage_sync(url):
    config = os.path.join(CACHE_DIR, 'manage-%d.conf' % os.getpid())
    with open(config, 'w') as f:
        f.write('[database]\nconnection = %s\n' % url)
    try:
        started = time.monotonic()
        done = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable),
                          'glance-lite-manage'), '--config-file', config,
             'db', 'sync'], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError('db sync failed: %s%s' % (done.stdout,
                                                         done.stderr))
        return time.monotonic() - started
    finally:
        os.remove(config)


def _postgresql_url(name):
    admin = sa.engine.make_url(databases.ADMIN_URLS['postgresql'])
    return admin.set(database=name).render_as_string(hide_password=False)


def _postgresql_admin(statement):
    engine = sa.create_engine(databases.ADMIN_URLS['postgresql'],
                              isolation_level='AUTOCOMMIT',
                              poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(statement).fetchall() \
                if statement.startswith('SELECT') else \
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _fresh_database(engine, size):
    """(url, remove) of a new, empty database for a catalogue of ``size``."""
    if engine == 'sqlite':
        path = os.path.join(CACHE_DIR, 'sqlite-%d.db' % size)
        for suffix in ('', '-wal', '-shm'):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return 'sqlite:///' + path
    name = 'glance_lite_bench_%d' % size
    _postgresql_admin('DROP DATABASE IF EXISTS %s' % name)
    _postgresql_admin("CREATE DATABASE %s ENCODING 'UTF8'" % name)
    return _postgresql_url(name)


def _exists(engine, url):
    if engine == 'sqlite':
        return os.path.exists(sa.engine.make_url(url).database)
    name = sa.engine.make_url(url).database
    return bool(_postgresql_admin(
        "SELECT 1 FROM pg_database WHERE datname = '%s'" % name))


def seeded_catalogue(engine, size, reseed=False):
    """(url, meta) of a catalogue of ``size`` images on ``engine``, seeded
    now or reused from an earlier run; ``meta`` holds the probe rows and
    the seeding and sync times."""
    os.makedirs(CACHE_DIR, exist_ok=True)
    record = os.path.join(CACHE_DIR, '%s-%d.json' % (engine, size))
    if not reseed and os.path.exists(record):
        with open(record) as f:
            meta = json.load(f)
        if meta.get('seed_version') == SEED_VERSION and _exists(
                engine, meta['url']):
            meta['sync_seconds'] = _manage_sync(meta['url'])
            meta['reused'] = True
            return meta['url'], meta
    url = _fresh_database(engine, size)
    meta = {'seed_version': SEED_VERSION, 'url': url, 'size': size,
            'engine': engine}
    _manage_sync(url)
    _log('seeding %d images on %s...' % (size, engine))
    started = time.monotonic()
    chunks = _generate(size, random.Random(size), meta)
    if engine == 'sqlite':
        _insert_sqlite(sa.engine.make_url(url).database, chunks)
    else:
        _insert_postgresql(url, chunks)
    # SQLite's statistics, as glance_lite gathers them (at db sync and
    # start-up); PostgreSQL's were taken by VACUUM ANALYZE above.
    meta['sync_seconds'] = _manage_sync(url)
    meta['seed_seconds'] = round(time.monotonic() - started, 1)
    with open(record, 'w') as f:
        json.dump(meta, f)
    meta['reused'] = False
    return url, meta


# -- timing ------------------------------------------------------------------

ADMIN = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin',
         'X-Project-Id': 'admin-project', 'X-User-Id': 'bench-admin'}
PROJECT = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'member',
           'X-Project-Id': PROBE_PROJECT, 'X-User-Id': 'bench-user'}


def cases(meta):
    """(label, path, headers) of the timed requests."""
    marker = meta['deep_marker']
    every = {'is_public': 'none'}
    return [
        ('index, limit 25', '/v1/images', ADMIN, {}),
        ('detail, limit 25', '/v1/images/detail', ADMIN, {}),
        ('index, limit 1000, all images', '/v1/images', ADMIN,
         dict(every, limit=1000)),
        ('detail, limit 1000, all images', '/v1/images/detail', ADMIN,
         dict(every, limit=1000)),
        ('detail, all images (is_public=none)', '/v1/images/detail', ADMIN,
         every),
        ('detail, as a project', '/v1/images/detail', PROJECT, {}),
        ('detail, name= (5 images)', '/v1/images/detail', ADMIN,
         dict(every, name=PROBE_NAME)),
        ('detail, status=queued (4 %)', '/v1/images/detail', ADMIN,
         dict(every, status='queued')),
        ('detail, property-os_distro=cirros (1/6)', '/v1/images/detail',
         ADMIN, dict(every, **{'property-os_distro': 'cirros'})),
        ('detail, property-bench_tag=rare (10 images)',
         '/v1/images/detail', ADMIN,
         dict(every, **{'property-%s' % PROBE_PROPERTY[0]:
                        PROBE_PROPERTY[1]})),
        ('detail, sort_key=name asc', '/v1/images/detail', ADMIN,
         dict(every, sort_key='name', sort_dir='asc')),
        ('detail, sort_key=size desc', '/v1/images/detail', ADMIN,
         dict(every, sort_key='size')),
        ('detail, marker 90 % deep', '/v1/images/detail', ADMIN,
         dict(every, marker=marker)),
        ('detail, marker 90 % deep, as a project', '/v1/images/detail',
         PROJECT, {'marker': marker}),
    ]


def _percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return ordered[index]


def time_case(session, url, headers, params, count, seconds):
    """(p50 ms, p99 ms, requests, images in the answer)."""
    target = url + '?' + urllib.parse.urlencode(params) if params else url
    for _ in range(WARMUP):
        answer = session.get(target, headers=headers, timeout=600)
        answer.raise_for_status()
    returned = len(answer.json()['images'])
    samples = []
    deadline = time.monotonic() + seconds
    while len(samples) < count and (len(samples) < 5 or
                                    time.monotonic() < deadline):
        started = time.perf_counter()
        answer = session.get(target, headers=headers, timeout=600)
        samples.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return (statistics.median(samples), _percentile(samples, 0.99),
            len(samples), returned)


def run_engine_size(engine, size, args):
    url, meta = seeded_catalogue(engine, size, args.reseed)
    if meta['reused']:
        _log('%s, %d images: reused the cached catalogue (seeded in %.0f s '
             'earlier; db sync now %.1f s)' % (engine, size,
                                               meta['seed_seconds'],
                                               meta['sync_seconds']))
    else:
        _log('%s, %d images: seeded in %.1f s'
             % (engine, size, meta['seed_seconds']))
    server = test_server.Server(config={
        'database': {'connection': url},
        'paste_deploy': {'flavor': 'trusted-auth'}})
    server.start()
    rows = []
    try:
        with requests.Session() as session:
            for label, path, headers, params in cases(meta):
                p50, p99, count, returned = time_case(
                    session, server.url + path, headers, params,
                    args.requests, args.seconds)
                rows.append({'engine': engine, 'size': size, 'case': label,
                             'p50_ms': round(p50, 1), 'p99_ms': round(p99, 1),
                             'requests': count, 'returned': returned})
                _log('  %-46s p50 %8.1f ms  p99 %8.1f ms  (%d requests, '
                     '%d images)' % (label, p50, p99, count, returned))
    finally:
        server.stop()
    return rows, meta


# -- query plans -------------------------------------------------------------

def explain(engine, url, meta):
    """The plans of the main list queries, as the API issues them."""
    from glance_lite import conf
    from glance_lite.db import api as db_api

    conf.CONF([], project='glance-lite', default_config_files=[])
    conf.CONF.set_override('connection', url, group='database')
    db_api.reset()
    marker = db_api.image_get(meta['deep_marker'])
    queries = {
        'default list (admin)': {},
        'deep marker': {'marker': marker, 'scope': 'all'},
        'property filter (rare)': {
            'properties': dict([PROBE_PROPERTY]), 'scope': 'all'},
        'property filter (common)': {
            'properties': {'os_distro': 'cirros'}, 'scope': 'all'},
        'status=queued': {'filters': {'status': 'queued'}, 'scope': 'all'},
        'project list': {'owner': PROBE_PROJECT},
    }
    db_engine = db_api.get_engine()
    prefix = ('EXPLAIN QUERY PLAN ' if engine == 'sqlite'
              else 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ')
    for label, kwargs in queries.items():
        with orm.Session(db_api.get_engine()) as session:
            statement = db_api.image_list_query(session, **kwargs)
        sql = str(statement.compile(db_engine,
                                    compile_kwargs={'literal_binds': True}))
        with db_engine.connect() as connection:
            plan = connection.exec_driver_sql(prefix + sql).fetchall()
        _log('--- %s, %s' % (engine, label))
        for row in plan:
            _log('    ' + ' '.join(str(c) for c in row[-1:]))
    db_api.reset()


# -- report ------------------------------------------------------------------

def markdown(rows, metas, args, load):
    sizes = sorted({r['size'] for r in rows})
    lines = report.run_header('bench/catalogue.py', load)
    lines += [
        '- glance-lite-api (cheroot), 1 process, trusted-auth flavor; '
        'requests one at a time; p50 / p99 in ms over %d requests or %.0f s '
        'per case' % (args.requests, args.seconds),
        '- seeding (bulk insert / COPY, then statistics): ' + ', '.join(
            '%s %s images %s s%s' % (
                m['engine'], format(m['size'], ','), m['seed_seconds'],
                ' (cached; db sync %.1f s)' % m['sync_seconds']
                if m['reused'] else '') for m in metas),
        '']
    for engine in [e for e in args.engines.split(',')]:
        header = '| %s: p50 / p99 ms |' % engine + ''.join(
            ' %s images |' % format(s, ',') for s in sizes)
        lines += [header, '|---|' + '---:|' * len(sizes)]
        labels = [r['case'] for r in rows
                  if r['engine'] == engine and r['size'] == sizes[0]]
        for label in labels:
            cells = []
            for size in sizes:
                match = [r for r in rows if r['engine'] == engine and
                         r['size'] == size and r['case'] == label]
                cells.append(' %.1f / %.1f |' % (match[0]['p50_ms'],
                                                 match[0]['p99_ms'])
                             if match else ' - |')
            lines.append('| %s |%s' % (label, ''.join(cells)))
        lines.append('')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', default='1e3,1e5,1e6')
    parser.add_argument('--engines', default='sqlite,postgresql')
    parser.add_argument('--requests', type=int, default=100)
    parser.add_argument('--seconds', type=float, default=10.0)
    parser.add_argument('--reseed', action='store_true')
    parser.add_argument('--explain', action='store_true')
    parser.add_argument('--no-report', action='store_true')
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(',')]
    rows, metas = [], []
    load = [os.getloadavg()[0]]
    for engine in args.engines.split(','):
        for size in sizes:
            engine_rows, meta = run_engine_size(engine, size, args)
            rows += engine_rows
            metas.append(meta)
            if args.explain and size == max(sizes):
                explain(engine, meta['url'], meta)
    load.append(os.getloadavg()[0])
    section = markdown(rows, metas, args, load)
    print()
    print(section)
    results = os.path.join(ROOT, '.bench', 'catalogue.json')
    with open(results, 'w') as f:
        json.dump({'rows': rows, 'machine': report.machine()}, f, indent=1)
    if not args.no_report:
        report.replace_section('catalogue', section)


if __name__ == '__main__':
    main()
