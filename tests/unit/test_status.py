"""The image status state machine (spec §16)."""

import itertools

import pytest

from glance_lite.common import status

# Every transition §16 describes, with the event that causes it.
ALLOWED = [
    ('queued', 'saving'),            # POST/PUT with a body, copy-from
    ('queued', 'active'),            # location, or size 0 without data
    ('queued', 'deleted'),           # DELETE (no data, so never pending)
    ('saving', 'active'),            # upload finished
    ('saving', 'killed'),            # upload failed, mismatch, cap, quota
    ('saving', 'deleted'),           # DELETE during upload
    ('saving', 'pending_delete'),    # DELETE with delayed_delete
    ('active', 'deleted'),           # DELETE
    ('active', 'pending_delete'),    # DELETE with data and delayed_delete
    ('active', 'deactivated'),       # v2 deactivate
    ('deactivated', 'active'),       # v2 reactivate
    ('deactivated', 'deleted'),      # DELETE
    ('deactivated', 'pending_delete'),
    ('killed', 'deleted'),           # DELETE
    ('pending_delete', 'deleted'),   # the scrubber removed the data
]

REFUSED = [
    # Nothing goes back to queued or saving once data handling started.
    ('saving', 'queued'), ('active', 'queued'), ('active', 'saving'),
    ('killed', 'queued'), ('killed', 'saving'), ('killed', 'active'),
    ('deactivated', 'queued'), ('deactivated', 'saving'),
    # Only a failing upload kills an image.
    ('queued', 'killed'), ('active', 'killed'), ('deactivated', 'killed'),
    # Deactivation is for active images only.
    ('queued', 'deactivated'), ('saving', 'deactivated'),
    ('killed', 'deactivated'),
    # A queued or killed image has no data to scrub.
    ('queued', 'pending_delete'), ('killed', 'pending_delete'),
    # Deleted images stay deleted.
    ('deleted', 'queued'), ('deleted', 'saving'), ('deleted', 'active'),
    ('deleted', 'killed'), ('deleted', 'deactivated'),
    ('deleted', 'pending_delete'),
    ('pending_delete', 'queued'), ('pending_delete', 'saving'),
    ('pending_delete', 'active'), ('pending_delete', 'killed'),
    ('pending_delete', 'deactivated'),
]


def test_all_statuses():
    assert set(status.ALL) == {'queued', 'saving', 'active', 'killed',
                               'deactivated', 'pending_delete', 'deleted'}
    assert set(status.DELETED_STATUSES) == {'pending_delete', 'deleted'}


@pytest.mark.parametrize('from_status, to_status', ALLOWED)
def test_allowed(from_status, to_status):
    assert status.can_transition(from_status, to_status)


@pytest.mark.parametrize('from_status, to_status', REFUSED)
def test_refused(from_status, to_status):
    assert not status.can_transition(from_status, to_status)


@pytest.mark.parametrize('state', status.ALL)
def test_no_self_transition(state):
    # A second, racing queued->saving must lose (spec §16, Q14).
    assert not status.can_transition(state, state)


def test_table_is_complete():
    """Every pair of statuses is either allowed or refused above."""
    listed = set(ALLOWED) | set(REFUSED)
    assert not set(ALLOWED) & set(REFUSED)
    for pair in itertools.permutations(status.ALL, 2):
        assert pair in listed, pair
        assert status.can_transition(*pair) == (pair in ALLOWED)


@pytest.mark.parametrize('state', ['', 'available', 'QUEUED', None])
def test_unknown_statuses_never_transition(state):
    for other in status.ALL:
        assert not status.can_transition(state, other)
        assert not status.can_transition(other, state)


def test_sources_of():
    assert status.sources_of('saving') == ['queued']
    assert status.sources_of('killed') == ['saving']
    assert status.sources_of('active') == ['deactivated', 'queued', 'saving']
    assert status.sources_of('queued') == []
    assert status.sources_of('deleted') == sorted(
        ['queued', 'saving', 'active', 'deactivated', 'killed',
         'pending_delete'])
