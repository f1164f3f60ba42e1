"""The scrubber's decisions (glance_lite.image.scrub) over a catalogue
and a store that are small fakes here, so that claims can be lost and
removals fail on cue; the real catalogue is tested in
tests/db/test_scrub_queries.py and the whole command in
tests/functional/test_scrubber.py."""

import datetime
import threading

from oslo_config import cfg
import pytest

from glance_lite.common import exception
from glance_lite import conf  # noqa: F401 - registers the options
from glance_lite.db import scrub as db_scrub
from glance_lite.image import scrub

T0 = datetime.datetime(2026, 1, 1)


class Catalogue:
    """The scrub queries of db.api, over a dict of pending images."""

    def __init__(self, images, lose_claims=()):
        self.images = {image.id: image for image in images}
        self.lose_claims = set(lose_claims)
        self.scrubbed_urls = []
        self.finished = []
        self.released = []

    def image_list_scrubbable(self, deleted_before, expired_before,
                              after=None, limit=1000):
        page = sorted(self.images.values(),
                      key=lambda p: (p.deleted_at, p.id))
        if after is not None:
            page = [p for p in page if (p.deleted_at, p.id) > after]
        return page[:limit]

    def image_claim_for_scrub(self, image_id, updated_at):
        if image_id in self.lose_claims:
            return None
        return T0 + datetime.timedelta(hours=1)

    def image_location_scrubbed(self, image_id, url):
        self.scrubbed_urls.append(url)

    def image_finish_scrub(self, image_id, claim):
        self.finished.append(image_id)
        return True

    def image_release_scrub(self, image_id, claim):
        self.released.append(image_id)


def _pending(name, urls):
    return db_scrub.Pending(name, T0, T0, urls)


@pytest.fixture
def catalogue(monkeypatch):
    def install(*images, **kwargs):
        fake = Catalogue(images, **kwargs)
        for name in ('image_list_scrubbable', 'image_claim_for_scrub',
                     'image_location_scrubbed', 'image_finish_scrub',
                     'image_release_scrub'):
            monkeypatch.setattr(scrub.db_api, name, getattr(fake, name))
        return fake
    return install


@pytest.fixture
def deletes(monkeypatch):
    """The URLs the store was asked to delete; a URL in ``failing``
    fails as an unreachable store does."""
    asked = Deletes()
    monkeypatch.setattr(scrub.store, 'delete', asked.delete)
    return asked


class Deletes(list):
    def __init__(self):
        super().__init__()
        self.failing = set()

    def delete(self, url):
        self.append(url)
        if url in self.failing:
            raise exception.StoreUnavailable('store down')


def test_every_location_is_removed_before_the_image_is_finished(
        catalogue, deletes):
    fake = catalogue(_pending('a', ['u1', 'u2']))

    results = scrub.scrub()

    assert results == [scrub.Scrubbed('a', scrub.SCRUBBED, None)]
    assert deletes == ['u1', 'u2']
    assert fake.scrubbed_urls == ['u1', 'u2']
    assert fake.finished == ['a']


def test_a_failed_removal_releases_the_image_and_keeps_its_location(
        catalogue, deletes):
    fake = catalogue(_pending('a', ['u1', 'u2']), _pending('b', ['u3']))
    deletes.failing.add('u2')

    results = scrub.scrub()

    assert results == [scrub.Scrubbed('a', scrub.FAILED, 'store down'),
                       scrub.Scrubbed('b', scrub.SCRUBBED, None)]
    # u1 is gone and recorded; u2 stays pending_delete for the next run.
    assert fake.scrubbed_urls == ['u1', 'u3']
    assert fake.released == ['a']
    assert fake.finished == ['b']


def test_an_image_claimed_elsewhere_is_left_alone(catalogue, deletes):
    fake = catalogue(_pending('a', ['u1']), lose_claims={'a'})

    results = scrub.scrub()

    assert results == [scrub.Scrubbed('a', scrub.SKIPPED, None)]
    assert deletes == []
    assert fake.finished == []


def test_a_stopped_run_starts_no_further_image(catalogue, deletes):
    catalogue(_pending('a', ['u1']))
    stopping = threading.Event()
    stopping.set()

    assert scrub.scrub(stopping) == []
    assert deletes == []


def test_pages_are_followed_to_the_end(catalogue, deletes, monkeypatch):
    images = [_pending('i%04d' % n, ['u%d' % n]) for n in range(25)]
    fake = catalogue(*images)
    listed = fake.image_list_scrubbable
    monkeypatch.setattr(scrub.db_api, 'image_list_scrubbable',
                        lambda *a, **kw: listed(*a, **dict(kw, limit=10)))

    results = scrub.scrub()

    assert [r.image_id for r in results] == [p.id for p in images]


def test_the_pool_scrubs_images_in_parallel(catalogue, monkeypatch):
    cfg.CONF.set_override('scrub_pool_size', 3)
    try:
        catalogue(*[_pending(str(n), ['u%d' % n]) for n in range(3)])
        # Each removal waits until all three are under way.
        all_started = threading.Barrier(3, timeout=10)
        monkeypatch.setattr(scrub.store, 'delete',
                            lambda url: all_started.wait())

        results = scrub.scrub()
    finally:
        cfg.CONF.clear_override('scrub_pool_size')

    assert [r.outcome for r in results] == [scrub.SCRUBBED] * 3


def test_the_daemon_runs_until_stopped_without_overlapping(catalogue,
                                                           deletes):
    catalogue(_pending('a', ['u1']))
    stopping = threading.Event()
    runs = []

    def report(results):
        runs.append(results)
        if len(runs) == 3:
            stopping.set()

    assert scrub.run_daemon(stopping, 0, report)
    assert len(runs) == 3
