"""The image status state machine (spec §16, v2 spec §18)."""

import itertools

import pytest

from glance_lite.common import exception
from glance_lite.common import status

# Every transition §16 describes, with the event that causes it.
ALLOWED = [
    ('queued', 'saving'),            # POST/PUT with a body, copy-from
    ('queued', 'active'),            # location, or size 0 without data
    ('queued', 'deleted'),           # DELETE (no data, so never pending)
    ('saving', 'active'),            # upload finished
    ('saving', 'killed'),            # upload failed, mismatch, cap, quota
    ('saving', 'queued'),            # a v2 upload failed (v2 spec §18)
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
    # Nothing goes back to queued or saving once data was stored.
    ('active', 'queued'), ('active', 'saving'),
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
    assert status.sources_of('queued') == ['saving']
    assert status.sources_of('deleted') == sorted(
        ['queued', 'saving', 'active', 'deactivated', 'killed',
         'pending_delete'])


# The moves only a named repair or undo makes, with the reason asked for.
REPAIRS = [
    # A dead upload ends as its API ends a failed one: v1 kills, v2
    # queues again (v2 spec §18).
    ('saving', 'killed', status.REPAIR_STALE_UPLOAD),
    ('saving', 'queued', status.REPAIR_STALE_UPLOAD),
    ('active', 'killed', status.REPAIR_MISSING_DATA),
    ('deactivated', 'killed', status.REPAIR_MISSING_DATA),
    # A delete whose data could not be removed is taken back.
    ('deleted', 'queued', status.UNDO_DELETE),
    ('deleted', 'saving', status.UNDO_DELETE),
    ('deleted', 'active', status.UNDO_DELETE),
    ('deleted', 'deactivated', status.UNDO_DELETE),
    ('deleted', 'killed', status.UNDO_DELETE),
    ('pending_delete', 'saving', status.UNDO_DELETE),
    ('pending_delete', 'active', status.UNDO_DELETE),
    ('pending_delete', 'deactivated', status.UNDO_DELETE),
]


@pytest.mark.parametrize('from_status, to_status, reason', REPAIRS)
def test_repairs_are_allowed_with_their_reason_only(from_status, to_status,
                                                    reason):
    assert status.can_transition(from_status, to_status, reason)
    for other in set(status.REPAIRS) - {reason}:
        assert not status.can_transition(from_status, to_status, other)


def test_repair_table_is_complete():
    listed = {(f, t, r) for f, t, r in REPAIRS}
    for reason, moves in status.REPAIRS.items():
        assert {(f, t, reason) for f, t in moves} <= listed, reason
    assert {r for _f, _t, r in REPAIRS} == set(status.REPAIRS)


@pytest.mark.parametrize('from_status, to_status', REFUSED)
def test_refused_moves_stay_refused_without_a_repair(from_status, to_status):
    assert not status.can_transition(from_status, to_status, None)
    repaired = {(f, t) for f, t, _r in REPAIRS}
    if (from_status, to_status) not in repaired:
        for reason in status.REPAIRS:
            assert not status.can_transition(from_status, to_status, reason)


@pytest.mark.parametrize('reason', ['', 'repair', 'UNDO_DELETE'])
def test_unknown_reasons_allow_nothing(reason):
    for pair in itertools.permutations(status.ALL, 2):
        assert not status.can_transition(*pair, reason=reason)


def test_a_reason_allows_only_its_own_moves():
    # Not the ordinary moves too: a repair that asks for one is refused.
    assert status.can_transition('queued', 'saving')
    for reason in status.REPAIRS:
        assert not status.can_transition('queued', 'saving', reason)


def test_check_transition_raises_a_conflict():
    status.check_transition('x', 'saving', 'killed')
    status.check_transition('x', 'active', 'killed',
                            status.REPAIR_MISSING_DATA)
    with pytest.raises(exception.InvalidTransition) as raised:
        status.check_transition('x', 'active', 'killed')
    error = raised.value
    assert isinstance(error, exception.Conflict)
    assert (error.image_id, error.from_status, error.to_status,
            error.reason) == ('x', 'active', 'killed', None)
    # Shown to a client as any conflict.
    assert error.msg == exception.Conflict.message


def test_location_statuses():
    assert (status.LOCATION_ACTIVE, status.LOCATION_PENDING_DELETE,
            status.LOCATION_DELETED) == ('active', 'pending_delete',
                                         'deleted')
    assert set(status.LOCATION_KEPT_STATUSES) == {'active', 'pending_delete'}
