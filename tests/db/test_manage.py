"""glance-lite-manage db sync / db version, run as an operator runs them:
the installed command, a config file naming the database, on an empty
database of every engine."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from glance_lite.db import migration
from tests.databases import Database
from tests.databases import ENGINES

MANAGE = os.path.join(os.path.dirname(sys.executable), 'glance-lite-manage')
TABLES = {'images', 'image_properties', 'image_locations', 'image_members'}


@pytest.fixture(params=ENGINES)
def config_file(request, tmp_path):
    """A config file whose [database] connection is an empty database."""
    database = Database(request.param)
    path = tmp_path / 'glance-lite.conf'
    path.write_text('[DEFAULT]\nstate_path = %s\n\n[database]\n'
                    'connection = %s\n' % (tmp_path / 'state', database.url))
    yield str(path), database
    database.drop()


def manage(config_file, *args):
    return subprocess.run([MANAGE, '--config-file', config_file] + list(args),
                          capture_output=True, text=True, timeout=120)


def tables(url):
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def version(config_file):
    result = manage(config_file, 'db', 'version')
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_sync_an_empty_database_then_version_prints_the_head(config_file):
    path, database = config_file
    head = migration.head_version()
    assert version(path) == 'None (empty database)'
    assert tables(database.url) == set()  # asking creates nothing

    synced = manage(path, 'db', 'sync')

    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.strip() == 'Database is at revision %s' % head
    # Nothing alarming on the way: in particular no error lines about
    # glance_store drivers glance_lite does not offer (cinder).
    assert synced.stderr == ''
    assert TABLES <= tables(database.url)
    assert version(path) == head
    # Syncing again (every upgrade of the code runs it) changes nothing.
    again = manage(path, 'db', 'sync')
    assert again.returncode == 0, again.stderr
    assert version(path) == head


def test_sync_to_a_revision_then_to_head(config_file):
    path, database = config_file
    first = manage(path, 'db', 'sync', '0001')
    assert first.returncode == 0, first.stderr
    assert version(path) == '0001'

    rest = manage(path, 'db', 'sync')

    assert rest.returncode == 0, rest.stderr
    assert version(path) == migration.head_version()


API = os.path.join(os.path.dirname(sys.executable), 'glance-lite-api')


def start_api(config_file, timeout=60):
    """Run glance-lite-api on config_file until it listens (then stop it)
    or exits; returns (listening, its output)."""
    with open(config_file, 'a') as f:
        f.write('\n[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = 0\n'
                'use_stderr = true\n')
    process = subprocess.Popen([API, '--config-file', config_file],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        for line in process.stdout:
            output.append(line)
            if line.startswith('glance-lite-api listening on'):
                return True, ''.join(output)
        process.wait(timeout=timeout)
        return False, ''.join(output)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        process.stdout.close()


@pytest.mark.parametrize('config_file', ['postgresql', 'mysql'],
                         indirect=True)
def test_api_refuses_a_database_that_db_sync_has_not_brought_up(
        config_file):
    # Only the embedded SQLite catalogue migrates itself; a server database
    # behind this code would fail every request while /healthcheck says OK.
    path, database = config_file
    listening, output = start_api(path)
    assert not listening
    assert ('The catalogue database is at revision None (empty), this '
            'glance_lite needs %s' % migration.head_version()) in output
    assert 'db sync' in output

    assert manage(path, 'db', 'sync', '0001').returncode == 0
    listening, output = start_api(path)
    assert not listening
    assert 'The catalogue database is at revision 0001' in output

    assert manage(path, 'db', 'sync').returncode == 0
    listening, output = start_api(path)
    assert listening, output


@pytest.mark.parametrize('config_file', ['postgresql', 'mysql'],
                         indirect=True)
def test_api_serves_a_database_a_newer_release_migrated(config_file):
    # Rolling upgrades: a node of the previous release still starts after
    # a newer one has run db sync.
    path, database = config_file
    assert manage(path, 'db', 'sync').returncode == 0
    engine = sa.create_engine(database.url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    listening, output = start_api(path)
    assert listening, output
    assert 'at revision 9999, which this glance_lite' in output


@pytest.mark.parametrize('program', [MANAGE, API])
def test_a_missing_or_broken_config_file_is_one_clear_line(tmp_path, program):
    broken = tmp_path / 'broken.conf'
    broken.write_text('[DEFAULT\nstate_path = x\n')
    for path in (str(tmp_path / 'missing.conf'), str(broken)):
        args = [program, '--config-file', path]
        if program == MANAGE:
            args += ['db', 'version']
        result = subprocess.run(args, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 2
        assert 'Traceback' not in result.stderr
        assert path in result.stderr
        assert os.path.basename(program) + ': ' in result.stderr
