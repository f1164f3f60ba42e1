"""Point ``[database] connection`` at a fresh database for one test."""

from glance_lite import conf
from glance_lite.db import api as db_api
from tests.databases import Database


def empty_catalogue(kind):
    """Generator for fixtures: an empty database of engine ``kind``
    configured as the catalogue, forgotten and dropped afterwards."""
    database = Database(kind)
    conf.CONF.set_override('connection', database.url, group='database')
    db_api.reset()
    try:
        yield database
    finally:
        db_api.reset()
        conf.CONF.clear_override('connection', group='database')
        database.drop()
