"""The settler: one thread per process finishes, once the database is
back, the work of every request that lost it. The database is a function
here, so that an outage can begin and end on cue."""

import threading

from oslo_db import exception as db_exc

from glance_lite.common import exception
from glance_lite.image import settle

IMAGE_A = '6f1a0f86-1b43-4b7e-9f55-0e6d2c1a7b3e'
IMAGE_B = '0b7e4e0c-54b7-4f3b-9e1b-2f1e9d4c8a11'


class Database:
    """Answers image reads after ``outage`` failed attempts."""

    def __init__(self, outage=0, missing=()):
        self.outage = outage
        self.missing = set(missing)
        self.reads = []

    def read(self, image_id):
        self.reads.append(image_id)
        if self.outage:
            self.outage -= 1
            raise db_exc.DBConnectionError('server closed the connection')
        if image_id in self.missing:
            raise exception.ImageNotFound(image_id=image_id)
        return {'id': image_id}


def _settler(database, **kwargs):
    sleeps = []
    return settle.Settler(database.read, sleep=sleeps.append,
                          **kwargs), sleeps


def test_work_runs_once_the_database_answers_with_a_doubling_backoff():
    database = Database(outage=3)
    settler, sleeps = _settler(database)
    finished = []

    assert settler.add(IMAGE_A, finished.append, 'The upload')
    assert settler.wait(IMAGE_A, 10)

    assert finished == [{'id': IMAGE_A}]
    assert sleeps == [1, 2, 4, 8]
    assert settler.pending() == []


def test_backoff_stops_doubling_at_the_maximum():
    database = Database(outage=8)
    settler, sleeps = _settler(database)

    settler.add(IMAGE_A, lambda image: None, 'The upload')
    assert settler.wait(IMAGE_A, 10)

    assert max(sleeps) == settle.MAX_DELAY
    assert sleeps[-2:] == [settle.MAX_DELAY, settle.MAX_DELAY]


def test_a_missing_image_is_settled_with_none():
    settler, _sleeps = _settler(Database(missing=[IMAGE_A]))
    finished = []

    settler.add(IMAGE_A, finished.append, 'A delete')
    assert settler.wait(IMAGE_A, 10)

    assert finished == [None]


def test_work_about_one_image_is_done_together_in_order():
    gate = threading.Event()
    database = Database()
    settler = settle.Settler(database.read,
                             sleep=lambda _delay: gate.wait(10))
    done = []

    settler.add(IMAGE_A, lambda image: done.append('first'), 'The upload')
    settler.add(IMAGE_A, lambda image: done.append('second'), 'A delete')
    assert settler.pending() == [IMAGE_A]
    gate.set()
    assert settler.wait(IMAGE_A, 10)

    assert done == ['first', 'second']
    assert database.reads == [IMAGE_A]


def test_many_interrupted_requests_share_one_thread():
    gate = threading.Event()
    settler = settle.Settler(Database().read,
                             sleep=lambda _delay: gate.wait(10))
    before = threading.active_count()

    for index in range(50):
        settler.add('%08d-0000-0000-0000-000000000000' % index,
                    lambda image: None, 'The upload')

    assert threading.active_count() == before + 1
    gate.set()
    assert settler.wait('00000049-0000-0000-0000-000000000000', 10)
    assert settler.pending() == []


def test_a_full_queue_drops_new_images_and_keeps_the_queued_ones():
    gate = threading.Event()
    settler = settle.Settler(Database().read,
                             sleep=lambda _delay: gate.wait(10),
                             max_pending=1)
    finished = []

    assert settler.add(IMAGE_A, finished.append, 'The upload')
    assert not settler.add(IMAGE_B, finished.append, 'The upload')
    # More work about an image already queued still fits.
    assert settler.add(IMAGE_A, finished.append, 'A delete')
    gate.set()
    assert settler.wait(IMAGE_A, 10)

    assert finished == [{'id': IMAGE_A}, {'id': IMAGE_A}]
    assert settler.pending() == []


def test_a_failing_finish_does_not_stop_the_worker():
    settler, _sleeps = _settler(Database())
    finished = []

    def broken(image):
        raise RuntimeError('bug')

    settler.add(IMAGE_A, broken, 'The upload')
    assert settler.wait(IMAGE_A, 10)
    settler.add(IMAGE_B, finished.append, 'The upload')
    assert settler.wait(IMAGE_B, 10)

    assert finished == [{'id': IMAGE_B}]
